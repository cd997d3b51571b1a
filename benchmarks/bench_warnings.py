"""Benchmark: ``credit-engine warnings --as-of D`` on zones of several sizes.

Each home is evaluated in its own process, end to end (start-up, the feature
query, the statutory facts, the stored ratings, ranking, and storing the
warnings with their audit entry), ``--repeat`` times. The home's operational
store is copied to a temporary file first, so the benchmark never writes into
it; the stored rating runs there feed the grade-jump signal.

Usage::

    python benchmarks/bench_warnings.py --home /tmp/b10k/home --home /tmp/b100k/home \
        --as-of 2026-06-30

Target (issue 12): 100,000 enterprises in 60 s or less.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from _proc import ROOT, measure  # type: ignore[import-not-found]

from credit_engine.config import Settings
from credit_engine.store import OperationalStore


def _store_copy(home: Path, tmp: Path) -> str:
    settings = Settings(home=home)
    source = Path(settings.database_url.removeprefix("sqlite:///"))
    target = tmp / "store.db"
    if source.is_file():
        shutil.copy(source, target)
    return f"sqlite:///{target}"


def run(home: Path, as_of: dt.date, repeat: int) -> dict[str, object]:
    """Time the command on one home; return the figures of the median round."""
    rounds = []
    for _ in range(repeat):
        tmp = Path(tempfile.mkdtemp(prefix="bench_warnings_"))
        try:
            url = _store_copy(home, tmp)
            report = tmp / "report.json"
            os.environ["CREDIT_ENGINE_DATABASE_URL"] = url
            cmd = [sys.executable, "-m", "credit_engine.cli", "warnings",
                   "--as-of", as_of.isoformat(), "--home", str(home), "--top", "0",
                   "--report-json", str(report)]  # fmt: skip
            measured = measure(cmd)
            figures = json.loads(report.read_text())
            with OperationalStore(url) as store:
                stored = store.count_warnings()
            rounds.append({**measured, "report": figures, "stored": stored})
        finally:
            os.environ.pop("CREDIT_ENGINE_DATABASE_URL", None)
            shutil.rmtree(tmp, ignore_errors=True)
    median = statistics.median(r["seconds"] for r in rounds)
    chosen = min(rounds, key=lambda r: abs(r["seconds"] - median))
    report = chosen["report"]
    return {
        "home": str(home),
        "enterprises": report["enterprises"],
        "warnings": report["warnings"],
        "enterprises_warned": report["enterprises_warned"],
        "by_signal": report["by_signal"],
        "not_evaluated": report["not_evaluated"],
        "wall_seconds": [r["seconds"] for r in rounds],
        "median_wall_seconds": median,
        "peak_rss_mib": chosen["peak_rss_mib"],
        "steps_seconds": report["seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, action="append", required=True)
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 6, 30)
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    results = [run(home, args.as_of, args.repeat) for home in args.home]
    for r in results:
        per = r["median_wall_seconds"] / max(int(r["enterprises"]), 1) * 1e6
        print(
            f"{r['enterprises']:>8,} enterprises: {r['median_wall_seconds']:.1f} s "
            f"(rounds {r['wall_seconds']}), {per:.0f} µs per enterprise, peak "
            f"{r['peak_rss_mib']:,} MiB, {r['warnings']:,} warnings; steps "
            f"{r['steps_seconds']}"
        )
    payload = {
        "as_of": args.as_of.isoformat(),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "results": results,
        "root": str(ROOT),
    }  # fmt: skip
    if args.out is not None:
        args.out.write_text(json.dumps(payload, indent=2))
        print(f"report: {args.out}")


if __name__ == "__main__":
    main()
