"""Ingestion on Spark as the zone grows, with the heap capped below the data.

For each batch folder given (simulated zones of different sizes, e.g. 1,000
and 10,000 enterprises: ``credit-engine simulate --enterprises N --out DIR``),
ingest it with Spark ``local[N]`` into a fresh temporary home, with
``--driver-memory`` (in local mode the executor is the driver's JVM: this heap
holds every task) set well below the batch's decoded size, and report: rows
in, wall and CPU seconds (this process and its children), seconds per
1,000,000 records, and the peak resident memory of the Python driver, the JVM
and Spark's Python workers (sampled every 0.1 s). Optionally (``--duckdb``)
the same batch is ingested with DuckDB first, as a baseline, and the two
reports must agree table by table.

The decoded size is the Arrow size of the batch's tables (what the records
take in memory once read, each table read whole once before the runs): a
heap well below it shows memory is bounded by the partitioning, not by the
largest table.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_spark_ingest.py \
        ZONE_1K/records ZONE_10K/records --driver-memory 1g [--duckdb] \
        [--tmp /tmp] [--out result.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.bench_spark_features import GIB, measured, start_local_spark
from credit_engine.config import Settings
from credit_engine.data import ingest_batch, ingest_batch_spark
from credit_engine.engines import spark_session, stop_spark_session
from tests.engine_parity import report_tables


def decoded_gib(batch: Path) -> tuple[int, float]:
    """Return the records of a batch's Parquet tables and their Arrow size (GiB).

    Each table is read whole, one at a time (what it takes in memory decoded).
    """
    rows = size = 0
    for path in sorted(batch.glob("*.parquet")):
        table = pq.read_table(path)
        rows += table.num_rows
        size += table.nbytes
        del table
    return rows, round(size / GIB, 2)


def main() -> None:
    """Ingest each batch, print and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("batches", nargs="+", type=Path)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="1g")
    parser.add_argument("--duckdb", action="store_true")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import great_expectations  # noqa: F401  -- imported before any timing

    config, startup = start_local_spark(args.cores, args.driver_memory)
    spark = spark_session(config)
    results: list[dict[str, Any]] = []
    try:
        for batch in args.batches:
            records, size = decoded_gib(batch)
            entry: dict[str, Any] = {
                "batch": str(batch),
                "records": records,
                "decoded_gib": size,
                "parquet_gib": round(
                    sum(p.stat().st_size for p in batch.glob("*.parquet")) / GIB, 2
                ),
            }
            root = Path(tempfile.mkdtemp(prefix="bench-spark-ingest-", dir=args.tmp))
            try:
                if args.duckdb:
                    entry["duckdb"] = {}
                    with measured(entry["duckdb"]):
                        duck = ingest_batch(batch, Settings(home=root / "d"))
                entry["spark"] = {}
                with measured(entry["spark"]):
                    report = ingest_batch_spark(batch, Settings(home=root / "s"), spark)
                rows = sum(t.rows_in for t in report.tables.values())
                entry["rows_in"] = rows
                for engine in ("duckdb", "spark"):
                    if engine in entry:
                        seconds = entry[engine]["seconds"]
                        entry[engine]["seconds_per_million"] = round(
                            seconds / rows * 1e6, 1
                        )
                if args.duckdb:
                    entry["same_reports"] = report_tables(duck) == report_tables(report)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            results.append(entry)
            print(json.dumps(entry), flush=True)
    finally:
        stop_spark_session()
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "master": config.master,
        "driver_memory": args.driver_memory,
        "spark_startup_seconds": startup,
        "batches": results,
    }
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if not all(e.get("same_reports", True) for e in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
