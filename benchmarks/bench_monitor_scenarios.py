"""Benchmark: false alarms of monthly monitoring on a healthy zone, and a shock.

Builds (or reuses) an engine home: a simulated zone of ``--enterprises``
ingested, a risk champion trained on Feb-Sep 2025 and promoted, and the zone
rated at every month end from ``--rate-from`` to 2026-09-30 (one command,
``rate_dates``). Then:

* **baseline**: the monitoring report as of every month end from
  ``--monitor-from`` to 2026-09-30 (``monitor_series``); the false-alarm rate is
  the share of amber or red reports, overall and per part;
* **shock**: the same store copied, a hand-made sector shock applied from
  ``--shock-start`` (``tests/monitoring_scenarios.apply_pd_shock``: a share of
  enterprises has its PDs multiplied, grades and tiers following), and the same
  monthly reports; the delay is the months from the shock's start to the first
  amber or red report.

When the simulator's ``sector_shock`` scenario is available, pass
``--shock-records DIR`` (a zone simulated with it) to rate and monitor that zone
instead of the hand-made shock.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_monitor_scenarios.py \
        --work /tmp/scenarios [--enterprises 2000] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from credit_engine.config import Settings  # noqa: E402
from credit_engine.data import ingest_batch, load_contracts  # noqa: E402
from credit_engine.pipeline import rate_dates  # noqa: E402
from credit_engine.simulation import SimulationConfig, simulate_zone  # noqa: E402
from credit_engine.watch import (  # noqa: E402
    SeriesPoint,
    alarm_rate,
    first_alarm,
    monitor_series,
)
from tests.monitoring_scenarios import (  # noqa: E402
    RISK_MODEL,
    apply_pd_shock,
    build_home,
    copy_home,
    month_ends,
)

END = dt.date(2026, 9, 30)


def _zone(work: Path, enterprises: int, seed: int, records: Path | None) -> Settings:
    lake = Settings(home=work / "lake_home")
    if not (lake.lake_dir / "_commits").is_dir():
        if records is None:
            records = work / "zone" / "records"
            config = SimulationConfig(enterprises=enterprises, seed=seed)
            simulate_zone(config, load_contracts(lake.sources_dir), records,
                          work / "zone" / "truth")  # fmt: skip
        ingest_batch(records, lake)
    return lake


def _rated(work: Path, lake: Settings, rate_from: dt.date) -> Settings:
    home = work / "home"
    if (home / "credit_engine.db").is_file():
        return Settings(home=home)
    start = time.perf_counter()
    settings = build_home(lake, home)
    print(f"champion trained in {time.perf_counter() - start:.0f} s")
    start = time.perf_counter()
    dates = month_ends(rate_from, END)
    rate_dates(settings, dates, actor="scenario")
    print(f"rated {len(dates)} month ends in {time.perf_counter() - start:.0f} s")
    return settings


def _parts(points: list[SeriesPoint]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for point in points:
        for key, lights in point.lights.items():
            for part, light in lights.items():
                if light != "green":
                    counts[f"{key}.{part}={light}"] += 1
        if point.overrides not in (None, "green"):
            counts[f"overrides={point.overrides}"] += 1
    return dict(sorted(counts.items()))


def _summary(points: list[SeriesPoint]) -> dict[str, object]:
    return {
        "runs": len(points),
        "alarm_rate": alarm_rate(points),
        "model_alarm_rate": alarm_rate(points, RISK_MODEL),
        "statuses": {p.as_of.isoformat(): p.status for p in points},
        "alarming_parts": _parts(points),
        "seconds_per_run": sum(p.seconds for p in points) / max(len(points), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/monitor-scenarios"))
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-from", type=dt.date.fromisoformat,
                        default=dt.date(2025, 1, 1))  # fmt: skip
    parser.add_argument("--monitor-from", type=dt.date.fromisoformat,
                        default=dt.date(2025, 10, 1))  # fmt: skip
    parser.add_argument("--shock-start", type=dt.date.fromisoformat,
                        default=dt.date(2026, 3, 31))  # fmt: skip
    parser.add_argument("--shock-share", type=float, default=0.3)
    parser.add_argument("--shock-factor", type=float, default=2.5)
    parser.add_argument(
        "--records",
        type=Path,
        default=None,
        help="Ingest these records instead of simulating.",
    )
    parser.add_argument(
        "--shock-records",
        type=Path,
        default=None,
        help="A zone simulated with a shock scenario (not yet used).",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    if args.shock_records is not None:
        raise SystemExit(
            "--shock-records needs the simulator's scenarios (branch i12-scenarios): "
            "rate that zone with the same champion and run monitor_series on it."
        )
    args.work.mkdir(parents=True, exist_ok=True)
    lake = _zone(args.work, args.enterprises, args.seed, args.records)
    home = _rated(args.work, lake, args.rate_from)
    months = month_ends(args.monitor_from, END)
    baseline = monitor_series(home, months, out=args.work / "reports" / "baseline")
    shocked = copy_home(home, args.work / "shock")
    changed = apply_pd_shock(
        shocked, start=args.shock_start, share=args.shock_share,
        factor=args.shock_factor,
    )  # fmt: skip
    shock = monitor_series(shocked, months, out=args.work / "reports" / "shock")
    alarm = first_alarm(shock, args.shock_start)
    result = {
        "enterprises": args.enterprises,
        "months": [m.isoformat() for m in months],
        "baseline": _summary(baseline),
        "shock": {
            **_summary(shock),
            "start": args.shock_start.isoformat(),
            "share": args.shock_share,
            "factor": args.shock_factor,
            "decisions_changed": changed,
            "first_alarm": None if alarm is None else alarm.isoformat(),
            "months_to_alarm": (
                None
                if alarm is None
                else (alarm.year - args.shock_start.year) * 12
                + alarm.month
                - args.shock_start.month
            ),
        },
    }
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
