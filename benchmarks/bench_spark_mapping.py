"""A source-mapped batch ingested on DuckDB and on Spark local mode (issue 16).

The 1,099,441 real invoices of CUMCM 2020 C, as shipped (four gzip CSVs)
through ``data/cumcm2020c/mapping.yaml``: pseudo-USCCs, file-name values, a
value map with a conditional case, local dates, invoice numbers' repeats
numbered in file order. Each round ingests the batch into a fresh home with
DuckDB, then with Spark (the session started once beforehand, its start-up
timed apart), and checks the two homes hold the same lake, quarantine and
duplicate rows and the same report (the report's ``mapping`` section
included). Times are wall and CPU seconds (this process and its children:
Spark's JVM and Python workers included).

On Spark the mapping's one (source, table) part is one task: the read, the
mapping and the cast of all four files run on one core; what follows
(validation, classification, writes) is spread as for any batch.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_spark_mapping.py \
        [--rounds 2] [--driver-memory 2g] [--tmp /tmp] [--out result.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_spark_features import cpu_seconds, start_local_spark
from credit_engine.config import Settings
from credit_engine.data import ingest_batch, ingest_batch_spark
from credit_engine.engines import spark_session, stop_spark_session
from tests.engine_parity import assert_same_lakes, report_tables

REPO = Path(__file__).resolve().parents[1]
CUMCM = REPO / "data" / "cumcm2020c"
MAPPING = CUMCM / "mapping.yaml"


def timed(run: Any) -> tuple[Any, float, float]:
    """Run ``run()``; return its result, wall seconds and CPU seconds."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    result = run()
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def main() -> None:
    """Run the rounds and print (and write) the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import great_expectations  # noqa: F401  -- imported before any timing

    config, startup = start_local_spark(args.cores, args.driver_memory)
    spark = spark_session(config)
    runs: list[dict[str, Any]] = []
    try:
        for k in range(args.rounds):
            root = Path(tempfile.mkdtemp(prefix="bench-spark-mapping-", dir=args.tmp))
            try:
                duck, on_spark = Settings(home=root / "d"), Settings(home=root / "s")
                report_d, wall_d, cpu_d = timed(
                    lambda d=duck: ingest_batch(CUMCM, d, mapping=MAPPING)
                )
                report_s, wall_s, cpu_s = timed(
                    lambda s=on_spark: ingest_batch_spark(
                        CUMCM, s, spark, mapping=MAPPING
                    )
                )
                same = (
                    report_tables(report_d) == report_tables(report_s)
                    and report_d.mapping == report_s.mapping
                )
                _, rows = assert_same_lakes(duck, on_spark)
                runs.append(
                    {
                        "round": k + 1,
                        "rows_in": report_d.tables["vat_invoice"].rows_in,
                        "duckdb": {"seconds": round(wall_d, 2), "cpu": round(cpu_d, 1)},
                        "spark": {"seconds": round(wall_s, 2), "cpu": round(cpu_s, 1)},
                        "spark_over_duckdb": round(wall_s / wall_d, 2),
                        "same_reports": same,
                        "rows_compared": rows,
                    }
                )
                print(json.dumps(runs[-1]), flush=True)
            finally:
                shutil.rmtree(root, ignore_errors=True)
    finally:
        stop_spark_session()
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {os.cpu_count()} cores",
        "spark_startup_seconds": startup,
        "master": config.master,
        "driver_memory": args.driver_memory,
        "runs": runs,
    }
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    if not all(r["same_reports"] for r in runs):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
