"""Benchmark: rate 100,000 enterprises beyond feature building, vs raw LightGBM.

Features of every enterprise of a large lake are built first (not timed; that
is bench_features' job). Then, side by side and alternating, for ``--repeat``
rounds:

* baseline: the champion's raw LightGBM ``Booster.predict`` on the same rows
  (the floor of what scoring can cost);
* rating: the engine's whole rating after features: calibrated PD, score,
  grade, SHAP reasons, statutory facts from the lake, overrides, decisions by
  policy and precedence, and one transaction into the operational store.

Usage::

    python benchmarks/bench_rating.py --lake-home /tmp/b100k/home \
        --model-home .credit-engine --as-of 2026-06-30

``--lake-home`` is an engine home with a lake (e.g. from bench_simulate_ingest
at 100,000 enterprises); ``--model-home`` one with promoted champions (e.g.
after ``make demo``). The store is a fresh SQLite file per round.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from credit_engine.config import Settings
from credit_engine.features import LakeSources, load_definitions
from credit_engine.rating import RatingEngine
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore


def _features(engine: RatingEngine, as_of: dt.date, cache: Path) -> pd.DataFrame:
    if cache.exists():
        return pd.read_parquet(cache)
    start = time.perf_counter()
    frame = engine.features(as_of)
    print(f"features: {len(frame):,} rows in {time.perf_counter() - start:.0f} s")
    cache.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(cache)
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lake-home", type=Path, default=Path("/tmp/b100k/home"))
    parser.add_argument("--model-home", type=Path, default=Path(".credit-engine"))
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 6, 30)
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=100_000)
    args = parser.parse_args()

    model_settings = Settings(home=args.model_home)
    tmp = Path(tempfile.mkdtemp(prefix="bench_rating_"))
    settings = Settings(
        home=args.lake_home,
        mlflow_tracking_uri=model_settings.mlflow_tracking_uri,
        database_url=f"sqlite:///{tmp / 'warmup.db'}",
    )
    engine = RatingEngine(settings)
    cache = args.lake_home / "features" / f"bench_rating_{args.as_of}.parquet"
    features = (
        _features(engine, args.as_of, cache).head(args.limit).reset_index(drop=True)
    )
    n = len(features)
    print(f"rows: {n:,}; model {engine.loaded.name} v{engine.loaded.version}")

    estimator = engine.loaded.model.estimator
    columns = engine.loaded.model.features
    booster = estimator.booster_
    definitions = load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    rulebook = RuleBook.load(settings.definitions_dir)

    base, full, parts = [], [], []
    for round_ in range(args.repeat):
        start = time.perf_counter()
        booster.predict(features[columns].astype(float))
        base.append(time.perf_counter() - start)

        engine.store = OperationalStore(f"sqlite:///{tmp / f'round{round_}.db'}")
        engine.store.create_schema()
        timings: dict[str, float] = {}
        start = time.perf_counter()
        started_at = dt.datetime.now(dt.UTC)
        decisions = engine.decide(features, args.as_of, timings=timings)
        t0 = time.perf_counter()
        engine.record(args.as_of, decisions, actor="bench", started_at=started_at)
        timings["store"] = time.perf_counter() - t0
        full.append(time.perf_counter() - start)
        parts.append(timings)
        print(
            f"round {round_ + 1}: raw predict {base[-1]:.2f} s, "
            f"rating {full[-1]:.1f} s: "
            + ", ".join(f"{k} {v:.1f}" for k, v in timings.items())
        )

    start = time.perf_counter()
    facts = statutory_facts(sources, args.as_of, rulebook=rulebook)
    facts_seconds = time.perf_counter() - start
    result = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores",
        "rows": n,
        "as_of": args.as_of.isoformat(),
        "raw_predict_s": round(statistics.median(base), 2),
        "rating_s": round(statistics.median(full), 1),
        "ratio": round(statistics.median(full) / statistics.median(base), 1),
        "steps_median_s": {
            k: round(statistics.median(p[k] for p in parts), 1) for k in parts[0]
        },
        "facts_rows": len(facts),
        "facts_alone_s": round(facts_seconds, 1),
        "tiers": dict(
            pd.Series([d.tier for d in decisions]).value_counts().sort_index()
        ),
    }
    print(json.dumps(result, indent=2, default=int))


if __name__ == "__main__":
    main()
