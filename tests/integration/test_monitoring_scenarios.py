"""The monitor sees a sector shock within months; the healthy zone stays green.

Issue 12, item 6. One configuration (:data:`ZONE`: 1,500 enterprises, seed 7)
simulated twice: as it is, and with the simulator's ``sector_shock`` scenario
(``scenarios/sector_shock.yaml``: apparel, about 18 % of the zone) moved to
start on :data:`SHOCK_START` and made severe and lasting (:data:`SHOCK`). One
risk champion, trained on the healthy zone before the shock (the harness's
``build_home``, February to September 2025), rates both zones at the month
ends the report of :data:`REPORT` needs (:data:`RATED`: the cohorts of its
90- and 180-day early-outcome windows and the report date itself), and each
zone's monitoring report runs at :data:`REPORT`, three months after the start.
Every light comes from ``models/monitoring/thresholds.yaml``; the test states
what must happen:

* **detection**: in the shocked zone the early-outcome item is red and its
  worst test names the apparel industry (``F5132``), with the report's status
  red with it, three months after the start, while the whole-zone items
  (PSI, expected default rate) do not see the shock (docs/benchmarks.md,
  "Monitoring under a sector shock");
* **no false alarm**: in the healthy zone the early-outcome item is green at
  the same date. The false-alarm rate over twelve monthly reports is measured
  by ``benchmarks/bench_monitor_scenarios.py`` (docs/benchmarks.md).

Why 1,500 enterprises: apparel then has about 230 performing enterprises and
about 13 adverse events expected in 90 days, enough for a segment test; with
600 (the session's small zone) its expectation is under the five events the
thresholds ask for before testing a segment.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.pipeline import rate_dates
from credit_engine.simulation import SimulationConfig, load_scenario
from credit_engine.watch import monitor
from tests.monitoring_scenarios import (
    RISK_MODEL,
    build_home,
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
REPORT = dt.date(2026, 3, 31)
RATED = [dt.date(2025, 9, 30), dt.date(2025, 12, 31), REPORT]
"""The report date and the cohorts of its 90- and 180-day windows."""
APPAREL = "F5132"
"""The simulator's GB/T 4754 class of its apparel exporters."""


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """The report at :data:`REPORT` of the healthy zone and of the shocked one."""
    root = tmp_path_factory.mktemp("monitor_shock")
    healthy = build_home(simulated_lake(root / "healthy", ZONE), root / "champion")
    shocked_lake = simulated_lake(root / "shocked", ZONE, [SHOCK])
    homes = {
        "healthy": healthy,
        "shocked": sharing_champion(healthy, root / "shocked_home", lake=shocked_lake),
    }
    out = {}
    for name, home in homes.items():
        rate_dates(home, RATED, actor="scenario")
        outcome = monitor(home, REPORT, out=root / "reports" / name, log=False)
        out[name] = outcome
        early = outcome.report.models[RISK_MODEL].early_outcomes
        for t in early.tests:
            if t.tested:
                print(name, t.window_days, t.dimension, t.segment, t.rows,
                      t.observed, round(t.expected, 1), round(t.ratio, 2),
                      f"{t.p_value:.2g}", t.light)  # fmt: skip
    return out


def test_the_shock_turns_the_early_outcomes_red_and_names_the_sector(reports):
    point = reports["shocked"]
    model = point.report.models[RISK_MODEL]
    assert model.lights["early_outcomes"] == "red"
    worst = model.early_outcomes.alarms()[0]
    assert (worst.dimension, worst.segment) == ("industry", APPAREL)
    assert worst.cohort >= dt.date(2025, 12, 31)
    assert worst.ratio >= 2.0
    alarms = model.early_outcomes.alarms()
    assert {t.segment for t in alarms if t.dimension == "industry"} == {APPAREL}
    assert point.status == "red"


def test_the_healthy_zone_keeps_its_early_outcomes_green(reports):
    model = reports["healthy"].report.models[RISK_MODEL]
    early = model.early_outcomes
    assert early.light == "green"
    tested = [t for t in early.tests if t.tested and t.dimension == "industry"]
    # The segments were tested (not merely too small to test).
    assert APPAREL in {t.segment for t in tested}
    assert {t.window_days for t in early.tests} == {90, 180}
