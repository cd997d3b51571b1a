"""The monitor under a sector shock turns within months; the healthy zone stays green.

Issue 12, item 6. One configuration (:data:`ZONE`: 1,500 enterprises, seed 7)
simulated twice: as it is, and with the simulator's ``sector_shock`` scenario
(``scenarios/sector_shock.yaml``: apparel, about 18 % of the zone) moved to
start on :data:`SHOCK_START` and made severe and lasting (:data:`SHOCK`). One
risk champion, trained on the healthy zone before the shock (the harness's
``build_home``), rates both zones at every month end of :data:`MONTHS`;
``monitor_series`` then runs the monitoring report at each of them in each
zone. Every light comes from ``models/monitoring/thresholds.yaml``; the test
only states what must happen:

* **detection** (``xfail``, strict: not met yet, see its reason): in the
  shocked zone, one of :data:`SHOCK_ITEMS` (PD and grade distribution against
  development, the default rate expected from the PDs, the back-test of matured
  cohorts) is amber or red within :data:`MONTHS_TO_ALARM` months of the start,
  and the report's status with it;
* **no false alarm**: in the healthy zone the same items are green in every one
  of the twelve monthly reports; the false-alarm rate of the whole report
  (every part, overrides and data included) over those months is printed and at
  most :data:`MAX_FALSE_ALARM_RATE`.

Why 1,500 enterprises: with 600 (the session's small zone) the champion's PD
distribution drifts on its own as the healthy zone ages (grade PSI red, the
expected default rate half the initial one within months), so the healthy zone
is not green and the test would prove nothing. Why a severe shock: the shipped
one (health -0.8, odds x2, halving yearly) moves the model's PDs of the sector
less than the healthy zone's seasonal swing. Neither it nor this severe one is
seen by a whole-zone item within nine months (docs/benchmarks.md, "Monitoring
under a sector shock"), hence the strict ``xfail``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.pipeline import rate_dates
from credit_engine.simulation import SimulationConfig, load_scenario
from credit_engine.watch import alarm_rate, monitor_series
from tests.monitoring_scenarios import (
    RISK_MODEL,
    build_home,
    item_alarms,
    month_ends,
    months_after,
    sharing_champion,
    simulated_lake,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.xdist_group("monitor_shock"),
]

ZONE = SimulationConfig(enterprises=1_500, seed=7)
SHOCK_START = dt.date(2026, 1, 1)
"""Three months after the champion's last out-of-time date (2025-09-30): a
shock the model never saw."""
SHOCK = load_scenario("sector_shock").model_copy(
    update={
        "start": SHOCK_START,
        "health_drop": 2.0,
        "hazard_multiplier": 4.0,
        "half_life_months": None,
    }
)
"""The shipped scenario's sector and mechanism, severe and lasting: the
apparel exporters lose two spreads of latent health and quadruple their
adverse odds from the start, without decay."""
END = dt.date(2026, 9, 30)
MONTHS = month_ends(dt.date(2025, 10, 1), END)
"""Twelve monthly reports: three before the shock, nine after."""
SHOCK_ITEMS = ("score_psi", "grade_psi", "estimated", "backtest")
MONTHS_TO_ALARM = 3
"""The shock's month counts as month 0: amber or red by the end of April."""
MAX_FALSE_ALARM_RATE = 2 / 12
"""Of the healthy zone's twelve reports, at most two amber (the CSI of a
counted feature wandering in a small zone); none red."""


@pytest.fixture(scope="module")
def series(tmp_path_factory):
    """Monthly reports of the healthy zone and of the shocked one."""
    root = tmp_path_factory.mktemp("monitor_shock")
    healthy = build_home(simulated_lake(root / "healthy", ZONE), root / "champion")
    shocked_lake = simulated_lake(root / "shocked", ZONE, [SHOCK])
    homes = {
        "healthy": healthy,
        "shocked": sharing_champion(healthy, root / "shocked_home", lake=shocked_lake),
    }
    out = {}
    for name, home in homes.items():
        rate_dates(home, MONTHS, actor="scenario")
        out[name] = monitor_series(home, MONTHS, out=root / "reports" / name)
    for name, points in out.items():
        for p in points:
            lights = {k: v for k, v in p.lights[RISK_MODEL].items() if v != "green"}
            print(f"{name} {p.as_of} {p.status} {lights} overrides={p.overrides}")
    return out


def test_the_healthy_zone_stays_green_on_the_shock_items(series):
    healthy = series["healthy"]
    assert [p.as_of for p in healthy] == MONTHS
    assert item_alarms(healthy, RISK_MODEL, SHOCK_ITEMS) == []
    rate = alarm_rate(healthy)
    print(f"false-alarm rate over {len(healthy)} monthly reports: {rate:.3f}")
    assert rate <= MAX_FALSE_ALARM_RATE
    assert "red" not in {p.status for p in healthy}


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Not met (issue 12 stays open): the whole-zone items do not see a shock on "
        "one sector. Measured 2026-12-04 on this zone: the expected default rate "
        "rises to 1.13-1.31 times the initial one after the start (healthy zone "
        "0.82-1.22, amber at 1.5), score PSI at most 0.070 (amber at 0.10); the "
        "sector's worst enterprises default and leave the monitored rows. It "
        "needs a segment view (stability and expected default rate per sector or "
        "district). Strict: remove this marker when it passes."
    ),
)
def test_the_shock_turns_the_monitor_within_months(series):
    shocked = series["shocked"]
    before = [p for p in shocked if p.as_of < SHOCK_START]
    assert item_alarms(before, RISK_MODEL, SHOCK_ITEMS) == []
    alarms = item_alarms(shocked, RISK_MODEL, SHOCK_ITEMS)
    assert alarms, "the monitor never saw the shock"
    first = alarms[0]
    print(f"first alarm on {SHOCK_ITEMS}: {first}, "
          f"{months_after(SHOCK_START, first)} months after the start")  # fmt: skip
    assert months_after(SHOCK_START, first) <= MONTHS_TO_ALARM
    at_first = next(p for p in shocked if p.as_of == first)
    assert at_first.status in {"amber", "red"}
    # Once seen, the shock stays seen: most later reports keep an alarm.
    after = [p.as_of for p in shocked if p.as_of >= first]
    assert len(set(alarms) & set(after)) >= 0.75 * len(after)
