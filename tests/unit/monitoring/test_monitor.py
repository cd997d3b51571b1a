"""End to end on a synthetic zone: 24 monthly cohorts, the first 12 matured."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring import ModelMonitoring, monitor_model
from tests.unit.monitoring.conftest import DOUBLED_FROM, SHIFTED_FROM
from tests.unit.monitoring.synthetic import Reference, Zone


def test_cohorts_mature_after_the_horizon(
    calibrated: ModelMonitoring, calibrated_zone: Zone
):
    matured = [c.as_of for c in calibrated.cohorts if c.matured]
    assert len(calibrated.cohorts) == 24
    assert matured == calibrated_zone.as_ofs[:12]
    assert all(c.with_outcome == c.performing for c in calibrated.cohorts if c.matured)
    assert all(c.in_default > 0 for c in calibrated.cohorts)
    assert [b.as_of for b in calibrated.backtest.cohorts] == matured
    assert [t.as_of for t in calibrated.auc.by_cohort] == matured


def test_a_calibrated_model_stays_green(calibrated: ModelMonitoring):
    assert calibrated.status == "green", calibrated.lights
    assert set(calibrated.lights.values()) == {"green"}
    assert all(p.light == "green" for p in calibrated.score_psi.by_cohort)
    assert all(b.light == "green" for b in calibrated.backtest.cohorts[-3:])
    covered = [
        e.default_rate_covered for e in calibrated.estimated.by_cohort if e.matured
    ]
    assert sum(covered) >= 10  # ~95 % of 12
    assert calibrated.auc_current == calibrated.auc.by_cohort[-1].auc_current
    assert calibrated.auc_change_p == calibrated.auc.by_cohort[-1].p_value
    assert calibrated.csi.light == "green"
    assert len(calibrated.csi.features) == 3


def test_doubled_default_rates_show_in_the_backtest_not_in_the_estimate(
    calibrated: ModelMonitoring, doubled: ModelMonitoring
):
    assert doubled.lights["backtest"] == "red"
    assert doubled.status == "red"
    for bt in doubled.backtest.cohorts:
        assert bt.light == ("red" if bt.as_of >= DOUBLED_FROM else "green"), bt.as_of
    # the PDs did not move: the estimate cannot see it, and the PSI neither
    for before, after in zip(
        calibrated.estimated.by_cohort, doubled.estimated.by_cohort, strict=True
    ):
        assert after.expected_default_rate == before.expected_default_rate
    assert doubled.lights["estimated"] == "green"
    assert doubled.lights["score_psi"] == "green"
    # once matured, the realised rate leaves the estimate's interval
    late = [
        e for e in doubled.estimated.by_cohort if e.matured and e.as_of >= DOUBLED_FROM
    ]
    assert late
    assert not any(e.default_rate_covered for e in late)
    assert all(e.realised_default_rate > e.default_rate_upper for e in late)


def test_a_population_shift_shows_at_once_in_the_psi(shifted: ModelMonitoring):
    for point in shifted.score_psi.by_cohort:
        expected = "red" if point.as_of >= SHIFTED_FROM else "green"
        assert point.light == expected, point.as_of
    assert shifted.lights["score_psi"] == "red"
    assert shifted.lights["grade_psi"] == "red"
    assert shifted.status == "red"
    assert shifted.lights["backtest"] == "green"  # immature: outcomes unknown yet
    latest = shifted.estimated.by_cohort[-1]
    assert not latest.matured
    assert latest.default_rate_ratio > 1.5
    assert shifted.lights["estimated"] in ("amber", "red")
    assert "x_signal" in shifted.csi.red_features + shifted.csi.amber_features


def test_migration_between_the_last_two_cohorts(
    calibrated: ModelMonitoring, calibrated_zone: Zone
):
    grade = calibrated.migration.grade
    tier = calibrated.migration.tier
    assert grade is not None
    assert tier is not None
    assert (grade.from_as_of, grade.to_as_of) == tuple(calibrated_zone.as_ofs[-2:])
    assert grade.labels[-1] == "GD"
    assert tier.labels == ("A", "B", "C", "D")
    assert grade.summary.n == 3000
    assert 0.5 < grade.summary.diagonal_mass < 0.9
    assert grade.summary.two_notch_share < 0.1
    assert all(v is None for v in grade.z[-1])  # the default grade is not tested
    assert calibrated.migration.light == "green"


def test_migration_from_a_chosen_cohort(
    reference: Reference, calibrated_zone: Zone, calibrated: ModelMonitoring, limits
):
    start = calibrated_zone.as_ofs[-13]
    last_year = calibrated_zone.decisions["as_of"] >= start
    result = monitor_model(
        calibrated_zone.decisions.loc[last_year],
        reference.reference,
        observation_end=calibrated_zone.observation_end,
        thresholds=limits,
        seed=1,
        migration_from=start,
    )
    assert result.migration.grade.from_as_of == start
    yearly = result.migration.grade.summary.diagonal_mass
    monthly = calibrated.migration.grade.summary.diagonal_mass
    assert yearly < monthly  # a year moves more enterprises than a month
    assert result.backtest.cohorts == ()  # no outcomes given
    with pytest.raises(DataContractError, match="migration_from"):
        monitor_model(
            calibrated_zone.decisions,
            reference.reference,
            observation_end=calibrated_zone.observation_end,
            thresholds=limits,
            seed=1,
            migration_from=dt.date(2020, 1, 1),
        )


def test_bad_decisions_are_refused(reference: Reference, calibrated_zone: Zone, limits):
    decisions = calibrated_zone.decisions
    kwargs = {
        "observation_end": calibrated_zone.observation_end,
        "thresholds": limits,
        "seed": 1,
    }
    with pytest.raises(DataContractError, match=r"lacks columns \[grade\]"):
        monitor_model(decisions.drop(columns=["grade"]), reference.reference, **kwargs)
    with pytest.raises(DataContractError, match="repeat a \\(uscc, as_of\\) key"):
        monitor_model(decisions.head(10).iloc[[0, 0, 1]], reference.reference, **kwargs)
    off = decisions.head(100).copy()
    off.loc[~off["in_default"], "grade"] = "G9"
    with pytest.raises(DataContractError, match=r"grades \[G9\] that are not on"):
        monitor_model(off, reference.reference, **kwargs)
