"""The worst items of a monitoring report, in words, worst first."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.monitoring import build_report, monitor_model, monitor_overrides
from credit_engine.watch import Finding, findings
from tests.unit.monitoring.synthetic import (
    make_reference,
    simulate_zone,
    thresholds,
)


@pytest.fixture(scope="module")
def setting():
    reference = make_reference()
    return reference, thresholds()


def _monitor(zone, reference, limits, role="champion"):
    return monitor_model(
        zone.decisions, reference.reference, observation_end=zone.observation_end,
        thresholds=limits, seed=3, outcomes=zone.outcomes, features=zone.features,
        role=role,
    )  # fmt: skip


def test_a_calibrated_zone_has_no_finding(setting):
    reference, limits = setting
    zone = simulate_zone(reference)
    report = build_report(
        zone.as_ofs[-1], {"m": _monitor(zone, reference, limits)}, thresholds=limits
    )
    assert report.status == "green"
    assert findings(report) == []


def test_findings_say_what_moved_worst_first(setting):
    reference, limits = setting
    bad = simulate_zone(
        reference, dr_multiplier=2.0, multiplier_from=dt.date(2023, 6, 30),
        override_rate=0.12,
    )  # fmt: skip
    shifted = simulate_zone(reference, shift=0.6, shift_from=dt.date(2024, 10, 31))
    models = {
        "bad": _monitor(bad, reference, limits),
        "shifted@challenger": _monitor(shifted, reference, limits, "challenger"),
    }
    overrides = monitor_overrides(
        bad.decisions, thresholds=limits, observation_end=bad.observation_end,
        horizon_days=365, outcomes=bad.outcomes,
    )  # fmt: skip
    report = build_report(
        bad.as_ofs[-1], models, thresholds=limits, overrides=overrides,
        data={"customs_declaration": {"status": "amber", "age_days": 40}},
    )  # fmt: skip
    items = findings(report)
    assert all(isinstance(i, Finding) for i in items)
    lights = [i.light for i in items]
    assert lights == sorted(lights, key=["red", "amber"].index)  # red first
    parts = {(i.subject, i.part) for i in items}
    assert ("bad", "backtest") in parts
    assert ("overrides", "rate") in parts
    assert ("data", "customs_declaration") in parts
    assert ("shifted@challenger", "score_psi") in parts
    backtest = next(i for i in items if i.part == "backtest")
    assert "red grades" in backtest.text
    assert "observed" in backtest.text
    psi = next(i for i in items if i.part == "score_psi")
    assert psi.text.startswith("PSI of the PD ")
    over = next(i for i in items if i.subject == "overrides" and i.part == "rate")
    assert "of decisions overridden" in over.text
    assert str(backtest).startswith(f"{backtest.light}: bad backtest: ")
    assert findings(report, limit=2) == items[:2]
    # Champions before challengers among items of the same colour.
    reds = [i.subject for i in items if i.light == "red" and i.subject != "data"]
    if "shifted@challenger" in reds and "bad" in reds:
        assert reds.index("bad") < reds.index("shifted@challenger")
