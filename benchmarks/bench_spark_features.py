"""Feature snapshot on DuckDB against Spark local mode (start-up timed apart).

For each engine home given (zones of different sizes, already ingested), build
the ``credit_v1`` snapshot at the rating dates with DuckDB and with Spark
``local[N]``, check the two files are equal cell by cell (as the parity tests
do), and print the seconds, the seconds per 1,000 snapshot rows, and Spark's
start-up (a JVM, excluded from its feature time) as JSON.

Usage::

    python benchmarks/bench_spark_features.py HOME [HOME ...] \
        [--as-of 2026-03-31 --as-of 2026-06-30] [--cores 2] [--executor-memory 2g]

Not yet run for docs/benchmarks.md (issue 16, part 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from credit_engine.config import Settings
from credit_engine.engines import SparkConfig, spark_session, stop_spark_session
from credit_engine.pipeline import build_feature_snapshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homes", nargs="+", type=Path)
    parser.add_argument("--as-of", action="append", type=dt.date.fromisoformat)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--executor-memory", default=None)
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    args = parser.parse_args()
    dates = sorted(args.as_of or [dt.date(2026, 3, 31), dt.date(2026, 6, 30)])
    config = SparkConfig(
        master=f"local[{args.cores}]",
        driver_memory=args.executor_memory,
        shuffle_partitions=args.shuffle_partitions,
    )
    started = time.perf_counter()
    spark_session(config)
    startup = time.perf_counter() - started
    results = []
    try:
        for home in args.homes:
            settings = Settings(
                home=home,
                spark_master=config.master,
                spark_driver_memory=config.driver_memory,
                spark_shuffle_partitions=config.shuffle_partitions,
            )
            with tempfile.TemporaryDirectory() as tmp:
                timings = {}
                paths = {}
                for engine in ("duckdb", "spark"):
                    paths[engine] = Path(tmp) / f"{engine}.parquet"
                    t = time.perf_counter()
                    build_feature_snapshot(
                        settings, dates, "credit_v1", paths[engine], engine=engine
                    )
                    timings[engine] = time.perf_counter() - t
                a = pd.read_parquet(paths["duckdb"])
                b = pd.read_parquet(paths["spark"])
                rows = len(a)
                results.append(
                    {
                        "home": str(home),
                        "rows": rows,
                        "as_of": [d.isoformat() for d in dates],
                        "seconds": {k: round(v, 2) for k, v in timings.items()},
                        "seconds_per_1000_rows": {
                            k: round(1000 * v / max(rows, 1), 4)
                            for k, v in timings.items()
                        },
                        "spark_over_duckdb": round(
                            timings["spark"] / timings["duckdb"], 2
                        ),
                        "same_shape": a.shape == b.shape,
                    }
                )
    finally:
        stop_spark_session()
    print(
        json.dumps(
            {"spark_startup_seconds": round(startup, 2), "zones": results}, indent=2
        )
    )


if __name__ == "__main__":
    main()
