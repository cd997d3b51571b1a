"""Benchmark: the zone statistics report (``credit-engine report zone``) of a home.

Times (wall clock, and the process's CPU time over all threads, the steadier
figure on a shared machine), over ``--repeat`` rounds, the computation of the
report (:func:`credit_engine.zone_statistics.zone_report_from_settings`: the lake
sections, one DuckDB query each, and the decisions of every rating date in the
range) per step, and the writing of its HTML (with charts), JSON and CSV files.

With ``--monthly-ratings`` the home's store first gets a rating run at every
month end of the range that has none (not timed): the decisions of each
enterprise known to the lake there, tiers drawn from a hash of the USCC and the
date, so that the decision sections read twelve monthly runs as in production.
That writes into the home's store: run it on a copy, e.g.::

    cp -a /tmp/baseline/.credit-engine /tmp/zone-home
    python benchmarks/bench_zone_report.py --home /tmp/zone-home \
        --from 2025-10-01 --to 2026-09-30 --monthly-ratings
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import tempfile
import time
import zlib
from pathlib import Path

import pandas as pd

from credit_engine.config import Settings
from credit_engine.data import Lake
from credit_engine.store import OperationalStore, RatingRun
from credit_engine.vocabulary import Tier
from credit_engine.zone_statistics import (
    BUILD_STEPS,
    load_reference,
    write_zone_report,
    zone_report_from_settings,
)


def _month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    out = []
    day = start.replace(day=1)
    while day <= end:
        following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        last = following - dt.timedelta(days=1)
        if start <= last <= end:
            out.append(last)
        day = following
    return out


def _decision(uscc: str, as_of: dt.date) -> dict[str, object]:
    tier = Tier.values()[zlib.crc32(f"{uscc}{as_of}".encode()) % 4]
    punished = tier == "D" and zlib.crc32(uscc.encode()) % 5 == 0
    return {
        "uscc": uscc, "tier": tier, "grade": "G3", "pd": 0.02, "score": 600.0,
        "in_default": False, "green_channel": tier == "A",
        "decided_by": "STATUTORY" if punished else "MODEL", "model_tier": tier,
        "inspection_rate_factor": 1.0, "joint_punishment": punished,
        "joint_incentive": False,
        "measures": ["ZS-03", "JP-02"] if punished else ["ZS-01"],
        "reasons": [], "facts": [],
    }  # fmt: skip


def add_monthly_ratings(settings: Settings, start: dt.date, end: dt.date) -> int:
    """Record a synthetic run at every month end of the range without one."""
    files = Lake(settings.lake_dir).table_files("samr_registration")
    frame = pd.concat(
        pd.read_parquet(f, columns=["uscc", "effective_from", "ingested_at"])
        for f in files
    )
    added = 0
    with OperationalStore.from_settings(settings) as store:
        have = set(store.rating_dates())
        for as_of in _month_ends(start, end):
            if as_of in have:
                continue
            cutoff = pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")
            known = frame[
                (frame["ingested_at"] < cutoff) & (frame["effective_from"] < cutoff)
            ]
            usccs = sorted(set(known["uscc"]))
            finished = dt.datetime.combine(
                as_of + dt.timedelta(days=1), dt.time(2), dt.UTC
            )
            run = RatingRun(
                as_of=as_of, started_at=finished - dt.timedelta(minutes=5),
                finished_at=finished, actor="bench_zone_report", model_name="bench",
                model_version="0", policy_name="zone", policy_version=2,
                rule_sets={}, lake_state="bench",
            )  # fmt: skip
            store.record_run(run, pd.DataFrame([_decision(u, as_of) for u in usccs]))
            added += 1
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat,
                        default=dt.date(2025, 10, 1))  # fmt: skip
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat,
                        default=dt.date(2026, 9, 30))  # fmt: skip
    parser.add_argument("--period", default="month", choices=["month", "quarter"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--monthly-ratings", action="store_true")
    parser.add_argument("--json", type=Path, help="Write the results here.")
    args = parser.parse_args()

    settings = Settings(home=args.home)
    if args.monthly_ratings:
        started = time.perf_counter()
        added = add_monthly_ratings(settings, args.start, args.end)
        spent = time.perf_counter() - started
        print(f"monthly ratings: {added} runs added in {spent:.1f} s")
    reference = load_reference(settings.definitions_dir)
    builds, writes, cpu_builds, cpu_writes = [], [], [], []
    steps: dict[str, list[float]] = {s: [] for s in BUILD_STEPS}
    report = None
    for round_ in range(args.repeat):
        marks: list[tuple[str, float]] = []

        def mark(step: str, marks: list[tuple[str, float]] = marks) -> None:
            marks.append((step, time.perf_counter()))

        started, cpu_started = time.perf_counter(), time.process_time()
        report = zone_report_from_settings(
            settings, start=args.start, end=args.end, period=args.period,
            progress=mark,
        )  # fmt: skip
        built, cpu_built = time.perf_counter(), time.process_time()
        previous = started
        for step, moment in marks:
            steps[step].append(moment - previous)
            previous = moment
        with tempfile.TemporaryDirectory(prefix="bench_zone_") as folder:
            write_zone_report(report, folder, reference=reference)
        written, cpu_written = time.perf_counter(), time.process_time()
        builds.append(built - started)
        writes.append(written - built)
        cpu_builds.append(cpu_built - cpu_started)
        cpu_writes.append(cpu_written - cpu_built)
        print(
            f"round {round_ + 1}: build {builds[-1]:.1f} s "
            f"(CPU {cpu_builds[-1]:.1f} s), write {writes[-1]:.1f} s "
            f"(CPU {cpu_writes[-1]:.1f} s)"
        )
    assert report is not None
    enterprises = report.table("enterprises").frame
    declarations = report.table("declarations").frame
    rated = report.table("green_channel").frame
    result = {
        "home": str(args.home),
        "from": args.start.isoformat(),
        "to": args.end.isoformat(),
        "period": args.period,
        "periods": len(report.periods),
        "registered_last_period": int(enterprises["registered"].iloc[-1]),
        "declarations": int(declarations["declarations"].sum()),
        "rating_dates": len(report.rating_dates),
        "decisions_in_periods": int(rated["rated"].sum()),
        "build_median_s": round(statistics.median(builds), 2),
        "write_median_s": round(statistics.median(writes), 2),
        "build_cpu_median_s": round(statistics.median(cpu_builds), 2),
        "write_cpu_median_s": round(statistics.median(cpu_writes), 2),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "steps_median_s": {
            s: round(statistics.median(v), 2) for s, v in steps.items() if v
        },
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
