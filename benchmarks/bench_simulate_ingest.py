"""Benchmark: simulate a zone and ingest it, at several sizes.

Each stage runs in its own process (the CLI, as a user runs it); wall time and
peak resident memory are taken from ``os.wait4``. Next to ingestion, the same
batch is copied with plain pyarrow (read every Parquet file, write it again with
the same compression): the I/O floor, run side by side, so that the ratio
ingest / copy is meaningful on a shared, noisy machine.

Usage::

    .venv/bin/python benchmarks/bench_simulate_ingest.py --sizes 2500 10000 100000

Results are printed as JSON and as a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from _proc import ROOT, measure

CLI = [sys.executable, "-m", "credit_engine.cli"]
COPY = """
import sys, pathlib, pyarrow.parquet as pq
src, dst = map(pathlib.Path, sys.argv[1:3])
dst.mkdir(parents=True, exist_ok=True)
for f in sorted(src.glob("*.parquet")):
    pq.write_table(pq.read_table(f), dst / f.name, compression="zstd")
"""


def bench_size(n: int, work: Path, seed: int) -> dict[str, Any]:
    """Simulate ``n`` enterprises, copy the batch (baseline), ingest it."""
    base = work / f"zone-{n}"
    shutil.rmtree(base, ignore_errors=True)
    records = base / "records"
    simulate = measure(
        [
            *CLI,
            "simulate",
            "--enterprises",
            str(n),
            "--seed",
            str(seed),
            "--out",
            str(records),
            "--home",
            str(base / "home"),
        ]
    )
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in records.glob("*.parquet"))
    size_mib = sum(f.stat().st_size for f in records.glob("*.parquet")) / 2**20
    copy = measure([sys.executable, "-c", COPY, str(records), str(base / "copy")])
    report = base / "ingest.json"
    ingest = measure(
        [
            *CLI,
            "ingest",
            str(records),
            "--home",
            str(base / "home"),
            "--report-json",
            str(report),
        ]
    )
    tables = json.loads(report.read_text())["tables"]
    balanced = all(
        t["rows_in"] == t["loaded"] + t["quarantined"] + t["duplicates"]
        for t in tables.values()
    )
    shutil.rmtree(base)
    return {
        "enterprises": n,
        "rows": rows,
        "parquet_mib": round(size_mib),
        "simulate": simulate,
        "copy_baseline": copy,
        "ingest": ingest,
        "ingest_over_copy": round(ingest["seconds"] / copy["seconds"], 1),
        "ingest_rows_per_s": round(rows / ingest["seconds"]),
        "all_tables_balance": balanced,
    }


def markdown(results: list[dict[str, Any]]) -> str:
    """Render the results as the table of docs/benchmarks.md."""
    lines = [
        "| enterprises | rows | simulate s | simulate peak MiB | copy (baseline) s "
        "| ingest s | ingest peak MiB | ingest / copy | ingest rows/s | µs per row "
        "simulate / ingest |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        sim, cp, ing = r["simulate"], r["copy_baseline"], r["ingest"]
        rows = r["rows"]
        lines.append(
            f"| {r['enterprises']:,} | {rows:,} | {sim['seconds']} | "
            f"{sim['peak_rss_mib']:,} | {cp['seconds']} | {ing['seconds']} | "
            f"{ing['peak_rss_mib']:,} | {r['ingest_over_copy']} | "
            f"{r['ingest_rows_per_s']:,} | {1e6 * sim['seconds'] / rows:.1f} / "
            f"{1e6 * ing['seconds'] / rows:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_500, 10_000])
    parser.add_argument("--seed", type=int, default=20260401)
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / ".out")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in args.sizes:
        results.append(bench_size(n, args.work, args.seed))
        print(json.dumps(results[-1]), flush=True)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps({"meta": meta, "results": results}, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
