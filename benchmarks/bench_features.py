"""Benchmark: point-in-time feature snapshots from a lake, against plain pandas.

Runs in separate processes, side by side on the same lake:

* **engine, full set**: ``credit-engine features`` for one as_of and for 12
  monthly as_of dates (every feature of ``credit_v1``);
* **engine, 5 features** and **pandas, 5 features**: five representative
  features (a count and a sum over a window, a share, a current state level and
  a count over the latest versions of a versioned table) computed by the engine
  and by hand-written pandas; the results are compared value by value, and the
  ratio of the two times is reported.

Usage (the lake of a simulated zone, e.g. after ``credit-engine demo``)::

    .venv/bin/python benchmarks/bench_features.py --home .credit-engine
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from _proc import measure

HERE = Path(__file__).resolve().parent

FIVE = [
    "customs_declarations:count_365d",
    "customs_declarations:export_value_cny_365d",
    "fx_receipts:third_party_share_365d",
    "customs_level:level_ord",
    "tax_filings:late_count_365d",
]


def compare(engine: Path, pandas: Path) -> dict[str, int]:
    """Count value mismatches per feature (numbers compared to 1e-9 relative)."""
    a = pd.read_parquet(engine).set_index("uscc").sort_index()
    b = pd.read_parquet(pandas).set_index("uscc").sort_index()
    out = {}
    for col in b.columns:
        x, y = a[col].astype(float), b[col].astype(float)
        same = (x.isna() & y.isna()) | ((x - y).abs() <= 1e-9 * y.abs().clip(lower=1))
        out[col] = int((~same).sum())
    return out


def month_ends(last: dt.date, n: int) -> list[dt.date]:
    """The ``n`` month ends up to ``last`` (a month end)."""
    out = [last]
    while len(out) < n:
        out.append(out[-1].replace(day=1) - dt.timedelta(days=1))
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 9, 30)
    )
    args = parser.parse_args()
    py = sys.executable
    cli = [py, "-m", "credit_engine.cli"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one = work / "one.parquet"
        results["engine_full_one_as_of"] = measure(
            [
                *cli,
                "features",
                "--as-of",
                str(args.as_of),
                "--out",
                str(one),
                "--home",
                str(args.home),
            ]
        )
        dates = month_ends(args.as_of, 12)
        results["engine_full_12_as_of"] = measure(
            [
                *cli,
                "features",
                *[x for d in dates for x in ("--as-of", str(d))],
                "--out",
                str(work / "twelve.parquet"),
                "--home",
                str(args.home),
            ]
        )
        results["engine_5_features"] = measure(
            [
                py,
                str(HERE / "_features_engine5.py"),
                str(args.home),
                str(args.as_of),
                str(work / "e5.parquet"),
                *FIVE,
            ]
        )
        results["pandas_5_features"] = measure(
            [
                py,
                str(HERE / "_features_pandas5.py"),
                str(args.home),
                str(args.as_of),
                str(one),
                str(work / "p5.parquet"),
            ]
        )
        results["mismatches"] = compare(work / "e5.parquet", work / "p5.parquet")
        snapshot = pd.read_parquet(one)
        results["enterprises"] = len(snapshot)
        results["features"] = snapshot.shape[1] - 2
    results["engine_over_pandas_5"] = round(
        results["engine_5_features"]["seconds"]
        / results["pandas_5_features"]["seconds"],
        2,
    )
    results["meta"] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}",
        "home": str(args.home),
        "as_of": str(args.as_of),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
