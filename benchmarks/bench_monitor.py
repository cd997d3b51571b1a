"""Benchmark: ``credit-engine monitor`` for one date on a large zone.

Times ``credit_engine.watch.monitor`` (what ``credit-engine monitor --as-of D``
runs) on an engine home whose operational store holds rating runs, per step:
the versions in charge (MLflow), reading the cohorts from the store, the
development references, outcomes of matured cohorts from the lake, the feature
query for CSI at the latest cohort, the monitoring statistics, the HTML and
JSON report, and logging to MLflow. Target: at most 5 minutes for one date on
the 100,000-enterprise zone.

With ``--rate D ...`` the cohorts are rated first (served runs and shadow runs
of every model's other versions, ``rate_dates``: one feature query per batch of
dates), timed separately: that is how a zone gets its monthly cohorts.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_monitor.py --home HOME \
        --as-of 2026-09-30 [--rate 2025-07-31 2025-08-31 ...] [--rounds 1] \
        [--json out.json]

``HOME`` needs a lake, promoted champions in its MLflow store (e.g. ``make
demo``'s) and, unless ``--rate`` is given, rating runs up to ``--as-of``.
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

from credit_engine.config import Settings
from credit_engine.pipeline import rate_dates
from credit_engine.store import OperationalStore
from credit_engine.watch import monitor


def _rate(settings: Settings, dates: list[dt.date]) -> dict[str, object]:
    start = time.perf_counter()
    results = rate_dates(settings, dates, shadow=True, actor="bench")
    seconds = time.perf_counter() - start
    steps: dict[str, float] = {}
    for result in results:
        for run in (result, *result.shadow):
            for step, value in run.timings.items():
                steps[step] = steps.get(step, 0.0) + value
    return {
        "dates": [d.isoformat() for d in dates],
        "enterprises": [r.summary["rated"] for r in results],
        "shadow_runs": sum(len(r.shadow) for r in results),
        "seconds": round(seconds, 1),
        "seconds_per_date": round(seconds / len(dates), 1),
        "steps": {k: round(v, 1) for k, v in sorted(steps.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--rate", type=dt.date.fromisoformat, nargs="*", default=[])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-log", action="store_true", help="Skip MLflow logging.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = Settings(home=args.home)
    result: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "as_of": args.as_of.isoformat(),
    }
    if args.rate:
        result["rating"] = _rate(settings, sorted(args.rate))
        print(json.dumps(result["rating"], indent=2))
    store = OperationalStore.from_settings(settings)
    runs = store.runs()
    result["runs"] = {
        role: int((runs["role"] == role).sum()) for role in ("served", "shadow")
    }
    result["rows_in_store"] = int(runs["n_rated"].sum())
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            outcome = monitor(settings, args.as_of, out=Path(out), log=not args.no_log)
            total = time.perf_counter() - start
        rounds.append({"total": total, **outcome.timings})
        cohorts = {
            key: [c.n for c in m.cohorts] for key, m in outcome.report.models.items()
        }
        print(
            f"monitor {args.as_of}: {total:.1f} s, status {outcome.status}; "
            + ", ".join(f"{k} {v:.1f}" for k, v in outcome.timings.items())
        )
    result["cohorts"] = cohorts
    result["status"] = outcome.status
    result["monitor_seconds"] = {
        key: round(statistics.median(r.get(key, 0.0) for r in rounds), 1)
        for key in rounds[0]
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
