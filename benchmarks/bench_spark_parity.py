"""Spark and DuckDB parity on a zone of 1,000+ enterprises (issue 16, item 3).

The CI parity tests (``tests/integration/test_spark_*.py``) compare the two
engines on a 120-enterprise zone; this runs the same comparisons
(``tests/engine_parity.py``) at the size the issue names, and times each step
on each engine:

1. simulate a zone (``--enterprises``, ``--seed``; the simulator's window,
   three years by default: at least two);
2. ingest it, then a batch of bad rows (every quarantine reason, duplicates and
   key conflicts), with DuckDB into one home and with Spark into another;
   compare the ingestion reports (per table: counts, rows per reason, samples)
   and the lake, quarantine and duplicate rows of the two homes;
3. build the ``credit_v1`` snapshot at the quarter ends of the window's last
   year, each engine from its own lake; compare every cell (exact; the cells
   computed through ``ln`` to 4 ulps, as the tests);
4. statutory facts at dates under both customs regimes (one with the
   freshness check's watermarks), each engine on its own lake;
5. train the risk model once on the DuckDB lake, promote it, rate the rating
   date with DuckDB then with Spark into the same store; compare the run
   summaries and every stored decision (tier, grade, PD, score, measures,
   reasons, facts...).

Prints a Rich table, writes JSON, exits 1 naming every difference (table,
column, rows) when the engines disagree, 0 when everything is identical.

Usage::

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python benchmarks/bench_spark_parity.py \
        --enterprises 1000 --seed 11 --json /tmp/parity.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from credit_engine.config import Settings  # noqa: E402
from credit_engine.data import (  # noqa: E402
    Lake,
    ingest_batch,
    ingest_batch_spark,
    load_contracts,  # noqa: E402
)
from credit_engine.engines import (  # noqa: E402
    SparkConfig,
    spark_session,
    stop_spark_session,
)
from credit_engine.features import LakeSources, load_definitions  # noqa: E402
from credit_engine.freshness import source_watermarks  # noqa: E402
from credit_engine.pipeline import build_feature_snapshot  # noqa: E402
from credit_engine.rating import RatingEngine, rate_spark  # noqa: E402
from credit_engine.rules import (  # noqa: E402
    RuleBook,
    facts_frame,
    statutory_facts,
    statutory_facts_spark,
)
from credit_engine.simulation import SimulationConfig, simulate_zone  # noqa: E402
from credit_engine.store import DECISION_COLUMNS, OperationalStore  # noqa: E402
from tests.engine_parity import (  # noqa: E402
    bad_batch,
    frame_differences,
    home_with_champion,
    lake_rows,
    lake_schema,
    natural_log_features,
    report_tables,
)

T = TypeVar("T")
console = Console()


def _quarter_ends(end: dt.date) -> list[dt.date]:
    """The four quarter ends of the year that ends at or before ``end``."""
    out = []
    year, month = end.year, end.month - end.month % 3
    if month == 0:
        year, month = year - 1, 12
    for _ in range(4):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        year, month = (year - 1, 12) if month == 3 else (year, month - 3)
    return sorted(out)


class Run:
    """Timings, counts and differences of one parity run."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.differences: list[str] = []

    def timed(self, step: str, engine: str, work: Callable[[], T]) -> T:
        console.log(f"{step} on {engine}...")
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        console.log(f"{step} on {engine}: {seconds:.1f} s")
        self.step(step)[engine] = round(seconds, 2)
        return result

    def step(self, step: str) -> dict[str, Any]:
        for row in self.steps:
            if row["step"] == step:
                return row
        row = {"step": step}
        self.steps.append(row)
        return row

    def compare(self, step: str, differences: list[str], **counts: int) -> None:
        row = self.step(step)
        row.update(counts)
        row["identical"] = not differences
        row["differences"] = len(differences)
        self.differences.extend(differences)
        for line in differences[:20]:
            console.log(f"[red]{line}")


def _compare_reports(name: str, duck: Any, spark: Any) -> list[str]:
    out = []
    if (duck.batch_id, duck.commit_seq) != (spark.batch_id, spark.commit_seq):
        out.append(
            f"{name}: batch/commit differ: DuckDB {duck.batch_id}/{duck.commit_seq}, "
            f"Spark {spark.batch_id}/{spark.commit_seq}"
        )
    a, b = report_tables(duck), report_tables(spark)
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table), b.get(table)
        if left == right:
            continue
        if left is None or right is None:
            out.append(f"{name}.{table}: reported by one engine only")
            continue
        assert isinstance(left, dict)
        assert isinstance(right, dict)
        for key in sorted(set(left) | set(right)):
            if left.get(key) != right.get(key):
                out.append(
                    f"{name}.{table}.{key}: DuckDB {left.get(key)!r} "
                    f"vs Spark {right.get(key)!r}"
                )
    return out


def _compare_lakes(duck: Settings, spark: Settings) -> tuple[list[str], int]:
    a = Lake(duck.lake_dir, duck.quarantine_dir)
    b = Lake(spark.lake_dir, spark.quarantine_dir)
    tables = sorted({t for m in a.committed_batches() for t in m.tables})
    other = sorted({t for m in b.committed_batches() for t in m.tables})
    out = [] if tables == other else [f"lake tables differ: {tables} vs {other}"]
    con = duckdb.connect()
    compared = 0
    for table in tables:
        for listing in ("table_files", "quarantine_files", "duplicate_files"):
            fa, fb = getattr(a, listing)(table), getattr(b, listing)(table)
            if lake_schema(fa) != lake_schema(fb):
                out.append(f"lake {table} {listing}: schemas differ")
                continue
            left, right = lake_rows(con, fa), lake_rows(con, fb)
            out += frame_differences(f"lake {table} {listing}", left, right)
            compared += len(left)
    return out, compared


def main() -> int:  # noqa: PLR0915 -- the steps, in order
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=1_000)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--end", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--rate-as-of", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--shuffle-partitions", type=int, default=2)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the homes")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()

    window = {k: v for k, v in (("start", args.start), ("end", args.end)) if v}
    config = SimulationConfig(enterprises=args.enterprises, seed=args.seed, **window)
    years = (config.end - config.start).days / 365.25
    if years < 2 - 1e-9:
        parser.error(f"the window is {years:.2f} years; issue 16 asks for at least 2")
    dates = _quarter_ends(config.end)
    rated = args.rate_as_of or dates[-2]
    fact_dates = sorted({dt.date(2026, 3, 31), rated} & set(pd.date_range(
        config.start, config.end).date)) or [rated]  # fmt: skip
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="spark-parity-"))
    work.mkdir(parents=True, exist_ok=True)
    spark_settings: dict[str, Any] = {
        "spark_master": f"local[{args.cores}]",
        "spark_driver_memory": args.driver_memory,
        "spark_shuffle_partitions": args.shuffle_partitions,
    }
    duck = Settings(home=work / "duckdb", **spark_settings)
    on_spark = Settings(home=work / "spark", **spark_settings)
    run = Run()
    meta: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cpus",
        "load_before": os.getloadavg(),
        "command": " ".join(sys.argv),
        "enterprises": args.enterprises,
        "seed": args.seed,
        "window": [config.start.isoformat(), config.end.isoformat()],
        "feature_dates": [d.isoformat() for d in dates],
        "fact_dates": [d.isoformat() for d in fact_dates],
        "rated": rated.isoformat(),
        "spark": spark_settings,
    }
    try:
        contracts = load_contracts(duck.sources_dir)
        zone = run.timed(
            "simulate",
            "duckdb",
            lambda: simulate_zone(config, contracts, work / "records", work / "truth"),
        )
        zone_dir = Path(zone.out_dir)
        spark = run.timed(
            "spark start-up",
            "spark",
            lambda: spark_session(SparkConfig.from_settings(on_spark)),
        )
        # 1. ingestion: the zone, then the bad batch
        written = bad_batch(zone_dir, work / "bad")
        for batch, folder in (("zone", zone_dir), ("bad rows", work / "bad")):
            step = f"ingest {batch}"
            a = run.timed(step, "duckdb", lambda f=folder: ingest_batch(f, duck))
            b = run.timed(
                step, "spark", lambda f=folder: ingest_batch_spark(f, on_spark, spark)
            )
            reasons = sum(sum(t.reasons.values()) for t in a.tables.values())
            run.compare(
                step,
                _compare_reports(step, a, b),
                rows=sum(t.rows_in for t in a.tables.values()),
                quarantined=sum(t.quarantined for t in a.tables.values()),
                duplicates=sum(t.duplicates for t in a.tables.values()),
                reason_rows=reasons,
            )
            run.step(step)["reasons"] = {
                name: dict(t.reasons) for name, t in a.tables.items() if t.reasons
            }
        run.step("ingest bad rows")["written"] = written
        lake_diff, lake_count = _compare_lakes(duck, on_spark)
        run.compare("lake, quarantine, duplicates", lake_diff, rows=lake_count)

        # 2. features, each engine from its own lake
        defs = load_definitions(duck.definitions_dir)
        ln = natural_log_features(defs, "credit_v1")
        snap_duck = run.timed(
            "features",
            "duckdb",
            lambda: build_feature_snapshot(
                duck, dates, "credit_v1", work / "duck.parquet", engine="duckdb"
            ),
        )
        snap_spark = run.timed(
            "features",
            "spark",
            lambda: build_feature_snapshot(
                on_spark, dates, "credit_v1", work / "spark.parquet", engine="spark"
            ),
        )
        fa, fb = pd.read_parquet(snap_duck.path), pd.read_parquet(snap_spark.path)
        run.compare(
            "features",
            frame_differences("features", fa, fb, keys=("uscc", "as_of"), ln=ln),
            rows=len(fa),
            columns=fa.shape[1],
            cells=int(fa.size),
            ln_columns=len(ln),
        )

        # 3. statutory facts, each engine on its own lake
        book = RuleBook.load(duck.definitions_dir)
        src_duck = LakeSources.from_settings(duck, defs.contracts)
        src_spark = LakeSources.from_settings(on_spark, defs.contracts)
        for i, as_of in enumerate(fact_dates):
            step = f"facts {as_of}" + (" (watermarks given)" if i == 0 else "")

            def marks(sources: LakeSources, d: dt.date = as_of, given: bool = i == 0):
                return source_watermarks(sources, d).instants() if given else None

            facts_d = run.timed(
                step,
                "duckdb",
                lambda d=as_of: statutory_facts(
                    src_duck, d, rulebook=book, watermarks=marks(src_duck)
                ),
            )
            facts_s = run.timed(
                step,
                "spark",
                lambda d=as_of: facts_frame(
                    statutory_facts_spark(
                        spark, src_spark, d, rulebook=book, watermarks=marks(src_spark)
                    ).toArrow()
                ),
            )
            run.compare(
                step,
                frame_differences(step, facts_d, facts_s, keys=("uscc", "code")),
                rows=len(facts_d),
                rule_sets=len(set(facts_d["rule_set"])),
            )

        # 4. rating: one champion, both engines, one store
        champion = run.timed(
            "train + promote champion",
            "duckdb",
            lambda: home_with_champion(
                duck, work / "champion", min_child_samples=40, **spark_settings
            ),
        )
        res_d = run.timed(
            f"rate {rated}",
            "duckdb",
            lambda: RatingEngine(champion).rate(rated, actor="bench"),
        )
        res_s = run.timed(
            f"rate {rated}",
            "spark",
            lambda: rate_spark(RatingEngine(champion), spark, rated, actor="bench"),
        )
        store = OperationalStore.from_settings(champion)
        by_d = store.run_decisions(res_d.run_id, columns=DECISION_COLUMNS)
        by_s = store.run_decisions(res_s.run_id, columns=DECISION_COLUMNS)
        ignore = ["decision_id", "run_id"]
        diffs = frame_differences(
            "decisions",
            by_d.drop(columns=ignore),
            by_s.drop(columns=ignore),
            keys=("uscc",),
        )
        if res_d.summary != res_s.summary:
            diffs.append(
                f"run summary: DuckDB {res_d.summary} vs Spark {res_s.summary}"
            )
        layers = by_d["decided_by"].value_counts().to_dict()
        run.compare(
            f"rate {rated}",
            diffs,
            rows=len(by_d),
            facts=int(by_d["facts"].map(len).sum()),
        )
        run.step(f"rate {rated}")["decided_by"] = layers
    finally:
        stop_spark_session()
        meta["load_after"] = os.getloadavg()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    table = Table(title=f"Spark vs DuckDB parity: {args.enterprises:,} enterprises")
    for column in ("step", "DuckDB s", "Spark s", "rows", "identical"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for row in run.steps:
        same = row.get("identical")
        table.add_row(
            row["step"],
            f"{row['duckdb']:.1f}" if "duckdb" in row else "",
            f"{row['spark']:.1f}" if "spark" in row else "",
            f"{row['rows']:,}" if "rows" in row else "",
            "" if same is None else ("[green]yes" if same else "[red]NO"),
        )
    console.print(table)
    result = {**meta, "steps": run.steps, "differences": run.differences}
    result["identical"] = not run.differences
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if run.differences:
        console.print(f"[red]{len(run.differences)} differences:")
        for line in run.differences:
            console.print(f"  {line}")
        return 1
    console.print("[green]identical on every artefact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
