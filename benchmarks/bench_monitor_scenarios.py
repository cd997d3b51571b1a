"""Benchmark: false alarms of monthly monitoring on a healthy zone, and a shock.

Builds (or reuses) under ``--work``: a zone of ``--enterprises`` simulated and
ingested; a risk champion trained on it (Feb-Sep 2025, before any shock) and
promoted; the zone rated at every month end from ``--rate-from`` to 2026-09-30
(``rate_dates``). Then:

* **baseline**: the monitoring report as of every month end from
  ``--monitor-from`` to 2026-09-30 (``monitor_series``); the false-alarm rate is
  the share of amber or red reports, overall and per part;
* **shock** (``--shock scenario``, the default): the same configuration
  simulated again with the simulator's ``sector_shock`` scenario
  (``scenarios/sector_shock.yaml``; ``--shock-start``, ``--health-drop``,
  ``--hazard-multiplier`` override its start and strength), rated by the same
  champion and monitored at the same month ends; the delay is the months from
  the shock's start to the first amber or red report, overall and on the
  distribution, calibration and early-outcome items (``score_psi``,
  ``grade_psi``, ``estimated``, ``backtest``, ``early_outcomes``);
* ``--shock hand``: instead, the baseline store copied and a hand-made PD
  shock applied from ``--shock-start`` (``apply_pd_shock``: ``--shock-share``
  of the enterprises get their PDs multiplied by ``--shock-factor``).

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_monitor_scenarios.py \
        --work /tmp/scenarios [--enterprises 1500] [--json out.json]
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
from credit_engine.pipeline import rate_dates  # noqa: E402
from credit_engine.simulation import Scenario, SimulationConfig, load_scenario  # noqa: E402
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
    item_alarms,
    month_ends,
    months_after,
    sharing_champion,
    simulated_lake,
)

END = dt.date(2026, 9, 30)
SHOCK_ITEMS = ("score_psi", "grade_psi", "estimated", "backtest", "early_outcomes")


def _lake(root: Path, config: SimulationConfig, scenarios: list[Scenario]) -> Settings:
    lake = Settings(home=root / "home")
    if (lake.lake_dir / "_commits").is_dir():
        return lake
    start = time.perf_counter()
    lake = simulated_lake(root, config, scenarios)
    print(f"{root.name}: simulated and ingested in {time.perf_counter() - start:.0f} s")
    return lake


def _rated(settings: Settings, dates: list[dt.date]) -> Settings:
    from credit_engine.store import OperationalStore

    if (settings.home / "credit_engine.db").is_file():
        if OperationalStore.from_settings(settings).rating_dates():
            return settings
    start = time.perf_counter()
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


def _summary(points: list[SeriesPoint], start: dt.date | None) -> dict[str, object]:
    items = item_alarms(points, RISK_MODEL, SHOCK_ITEMS)
    out: dict[str, object] = {
        "runs": len(points),
        "alarm_rate": alarm_rate(points),
        "model_alarm_rate": alarm_rate(points, RISK_MODEL),
        "shock_items_alarm_rate": len(items) / max(len(points), 1),
        "statuses": {p.as_of.isoformat(): p.status for p in points},
        "alarming_parts": _parts(points),
        "seconds_per_run": sum(p.seconds for p in points) / max(len(points), 1),
    }
    if start is not None:
        alarm = first_alarm(points, start)
        later = [d for d in items if d >= start]
        out["first_alarm"] = None if alarm is None else alarm.isoformat()
        out["months_to_alarm"] = None if alarm is None else months_after(start, alarm)
        out["first_item_alarm"] = later[0].isoformat() if later else None
        out["months_to_item_alarm"] = months_after(start, later[0]) if later else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/monitor-scenarios"))
    parser.add_argument("--enterprises", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate-from", type=dt.date.fromisoformat,
                        default=dt.date(2025, 9, 1))  # fmt: skip
    parser.add_argument("--monitor-from", type=dt.date.fromisoformat,
                        default=dt.date(2025, 10, 1))  # fmt: skip
    parser.add_argument("--shock", choices=("scenario", "hand"), default="scenario")
    parser.add_argument("--shock-start", type=dt.date.fromisoformat,
                        default=dt.date(2026, 1, 1))  # fmt: skip
    parser.add_argument("--health-drop", type=float, default=None)
    parser.add_argument("--hazard-multiplier", type=float, default=None)
    parser.add_argument("--shock-share", type=float, default=0.3)
    parser.add_argument("--shock-factor", type=float, default=2.5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    config = SimulationConfig(enterprises=args.enterprises, seed=args.seed)
    dates = month_ends(args.rate_from, END)
    months = month_ends(args.monitor_from, END)
    lake = _lake(args.work / "healthy", config, [])
    champion = Settings(home=args.work / "champion")
    if not (champion.home / "mlflow").exists():
        start = time.perf_counter()
        build_home(lake, champion.home)
        print(f"champion trained in {time.perf_counter() - start:.0f} s")
    home = _rated(sharing_champion(champion, args.work / "healthy_home"), dates)
    baseline = monitor_series(home, months, out=args.work / "reports" / "baseline")
    result: dict[str, object] = {
        "enterprises": args.enterprises,
        "seed": args.seed,
        "months": [m.isoformat() for m in months],
        "baseline": _summary(baseline, None),
    }
    if args.shock == "hand":
        shocked = copy_home(home, args.work / "hand_shock")
        changed = apply_pd_shock(
            shocked, start=args.shock_start, share=args.shock_share,
            factor=args.shock_factor,
        )  # fmt: skip
        how: dict[str, object] = {
            "kind": "hand", "share": args.shock_share, "factor": args.shock_factor,
            "decisions_changed": changed,
        }  # fmt: skip
    else:
        update: dict[str, object] = {"start": args.shock_start}
        if args.health_drop is not None:
            update["health_drop"] = args.health_drop
        if args.hazard_multiplier is not None:
            update["hazard_multiplier"] = args.hazard_multiplier
        scenario = load_scenario("sector_shock").model_copy(update=update)
        tag = f"shock_{scenario.health_drop:g}_{scenario.hazard_multiplier:g}"
        shocked_lake = _lake(args.work / tag, config, [scenario])
        shocked = _rated(
            sharing_champion(champion, args.work / f"{tag}_home", lake=shocked_lake),
            dates,
        )
        how = {"kind": "sector_shock", **scenario.model_dump(mode="json")}
    shock = monitor_series(shocked, months, out=args.work / "reports" / "shock")
    result["shock"] = {**_summary(shock, args.shock_start), "scenario": how}
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
