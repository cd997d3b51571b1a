"""Early outcomes: events of immature cohorts against their PDs, zone and segments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from credit_engine.exceptions import ConfigurationError, DataContractError
from credit_engine.monitoring import (
    NO_EARLY_OUTCOMES,
    early_outcome_cohorts,
    early_outcomes,
    expected_by_now,
    monitor_model,
    parse_thresholds,
)
from tests.unit.monitoring.synthetic import (
    make_reference,
    month_ends,
    simulate_zone,
    thresholds,
)

HORIZON = 365
END = dt.date(2026, 3, 31)
COHORT_90 = dt.date(2025, 12, 31)
COHORT_180 = dt.date(2025, 9, 30)
SECTORS = ("F5132", "F5176", "F5137", "C1711")
SHARES = (0.18, 0.32, 0.30, 0.20)


def cohort_rows(
    seed: int,
    cohort: dt.date,
    *,
    n: int = 3000,
    hazard: dict[str, float] | None = None,
    zone_hazard: float = 1.0,
) -> pd.DataFrame:
    """Performing rows of one cohort whose events so far follow their PDs.

    ``hazard`` multiplies the true hazard of a sector (the PDs do not see it);
    ``zone_hazard`` that of every enterprise.
    """
    rng = np.random.default_rng(seed)
    pd_ = np.clip(rng.lognormal(np.log(0.04), 0.8, size=n), 0.001, 0.6)
    sector = rng.choice(SECTORS, size=n, p=SHARES)
    uscc = [f"91350203{i:09d}X" for i in range(n)]
    elapsed = (END - cohort).days
    multiplier = np.full(n, zone_hazard)
    for name, factor in (hazard or {}).items():
        multiplier[sector == name] *= factor
    # Constant hazard: -log(1 - pd) per horizon, scaled by the multiplier.
    rate = -np.log1p(-pd_) * multiplier * elapsed / HORIZON
    y = (rng.random(n) < 1.0 - np.exp(-rate)).astype(np.int64)
    return pd.DataFrame(
        {"uscc": uscc, "as_of": pd.Timestamp(cohort), "pd": pd_, "y": y,
         "industry": sector, "district": [u[2:8] for u in uscc]}
    )  # fmt: skip


def run(rows: dict[int, pd.DataFrame], t=None):
    return early_outcomes(
        rows, observation_end=END, horizon_days=HORIZON, thresholds=t or thresholds()
    )


def both_windows(seed: int, **kwargs) -> dict[int, pd.DataFrame]:
    return {
        90: cohort_rows(seed, COHORT_90, **kwargs),
        180: cohort_rows(seed + 10_000, COHORT_180, **kwargs),
    }


def test_expected_by_now_is_the_pd_over_the_horizon_and_zero_at_the_start():
    pds = np.array([0.0, 0.02, 0.3, 1.0])
    np.testing.assert_allclose(expected_by_now(pds, 365, 365), pds)
    np.testing.assert_allclose(expected_by_now(pds, 0, 365), 0.0)
    half = expected_by_now(pds, 182, 364)
    # Two halves of the horizon compose to the PD (constant hazard).
    np.testing.assert_allclose(1 - (1 - half) ** 2, pds)


def test_each_window_tests_the_latest_immature_cohort_old_enough():
    dates = month_ends(dt.date(2025, 1, 31), 15)  # Jan 2025 .. Mar 2026
    picked = early_outcome_cohorts(
        dates, observation_end=END, horizon_days=HORIZON,
        windows_days=[90, 180, 400], slack_days=10,
    )  # fmt: skip
    assert picked == {90: COHORT_90, 180: COHORT_180}
    # Quarterly ratings: the quarter-end 91 days back serves the 90-day window.
    quarters = [dt.date(2025, 9, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31)]
    got = early_outcome_cohorts(
        quarters, observation_end=dt.date(2026, 4, 1), horizon_days=HORIZON,
        windows_days=[90], slack_days=10,
    )  # fmt: skip
    assert got == {90: dt.date(2025, 12, 31)}


def test_a_calibrated_zone_stays_green_in_at_least_93_percent_of_seeded_reports():
    # Bonferroni keeps the family-wise false-alarm rate near alpha_amber = 5 %
    # whatever the number of segments (4 industries + 1 district, 2 windows).
    lights = [run(both_windows(seed)).light for seed in range(120)]
    alarms = sum(light != "green" for light in lights)
    assert alarms / len(lights) <= 0.07, alarms
    assert "red" not in lights


def test_a_shock_confined_to_one_sector_turns_that_sector_red_and_names_it():
    result = run(both_windows(3, hazard={"F5132": 2.5}))
    assert result.light == "red"
    worst = result.alarms()[0]
    assert (worst.dimension, worst.segment) == ("industry", "F5132")
    assert worst.ratio > 2.0
    assert worst.p_value < 0.01 / result.bonferroni["segments"]
    flagged = {(t.dimension, t.segment) for t in result.alarms()}
    assert {s for d, s in flagged if d == "industry"} == {"F5132"}


def test_a_zone_wide_rise_shows_on_the_zone_test_not_on_the_segments():
    result = run(both_windows(5, zone_hazard=2.5))
    zone = [t for t in result.tests if t.dimension == "zone"]
    assert {t.light for t in zone} == {"red"}
    assert all(t.light == "green" for t in result.tests if t.dimension != "zone")
    assert all(t.ratio > 2.0 for t in zone)


def test_a_segment_too_small_is_listed_untested_and_cannot_colour():
    rows = both_windows(7, hazard={"C1711": 4.0})
    for window, frame in rows.items():
        small = frame["industry"] == "C1711"
        rows[window] = frame.loc[~small | (small.cumsum() <= 60)]
    result = run(rows)
    tiny = [t for t in result.tests if t.segment == "C1711"]
    assert len(tiny) == 2
    assert all(not t.tested for t in tiny)
    assert all(t.light == "green" and np.isnan(t.p_value) for t in tiny)
    assert "fewer than 100 performing enterprises" in tiny[0].note


def test_unknown_outcomes_and_segments_are_left_out_and_said():
    rows = both_windows(9)
    rows[90].loc[rows[90].index[:40], "y"] = np.nan
    rows[90].loc[rows[90].index[40:70], "industry"] = None
    result = run(rows)
    zone_90 = next(
        t for t in result.tests if t.dimension == "zone" and t.window_days == 90
    )
    assert zone_90.rows == 3000 - 40
    assert any("30 enterprises of unknown industry" in n for n in result.notes)


def test_a_window_without_a_cohort_is_noted_not_failed():
    result = run({90: cohort_rows(1, COHORT_90)})
    assert {t.window_days for t in result.tests} == {90}
    assert any(n.startswith("window 180 days: no cohort") for n in result.notes)


def test_bad_rows_are_refused_with_what_to_fix():
    rows = both_windows(2)
    with pytest.raises(DataContractError, match=r"lack \['industry'\]"):
        run({90: rows[90].drop(columns="industry")})
    mixed = pd.concat([rows[90], rows[180]])
    with pytest.raises(DataContractError, match="2 cohort dates"):
        run({90: mixed})
    with pytest.raises(DataContractError, match="0 or 1"):
        run({90: rows[90].assign(y=2)})


def test_thresholds_refuse_windows_within_the_slack_and_repeated_segments():
    raw = thresholds().model_dump(mode="json")
    raw["early_outcomes"]["windows_days"] = [10, 90]
    with pytest.raises(ConfigurationError, match="longer than slack_days"):
        parse_thresholds(raw)
    raw["early_outcomes"]["windows_days"] = [90]
    raw["early_outcomes"]["segments"] = ["industry", "industry"]
    with pytest.raises(ConfigurationError, match="repeats a dimension"):
        parse_thresholds(raw)
    raw["early_outcomes"]["segments"] = ["province"]
    with pytest.raises(ConfigurationError, match="early_outcomes.segments"):
        parse_thresholds(raw)


def test_monitor_model_tests_early_outcomes_of_the_windows_cohorts():
    ref = make_reference()
    zone = simulate_zone(ref, seed=4, n=2500, months=15)  # Jan 2023 .. Mar 2024
    end = zone.observation_end
    cohorts = zone.decisions
    without = monitor_model(
        cohorts, ref.reference, observation_end=end, thresholds=thresholds(), seed=1
    )
    assert without.early_outcomes.notes == (NO_EARLY_OUTCOMES,)
    assert without.lights["early_outcomes"] == "green"
    windows = {dt.date(2023, 12, 31), dt.date(2023, 9, 30)}
    picked = cohorts.loc[pd.to_datetime(cohorts["as_of"]).dt.date.isin(windows)]
    labels = picked[["uscc", "as_of"]].assign(y=0)
    labels.loc[labels.index[:5], "y"] = 1
    industry = picked[["uscc", "as_of"]].assign(industry="F513299")
    result = monitor_model(
        cohorts, ref.reference, observation_end=end, thresholds=thresholds(), seed=1,
        early_labels=labels, segments=industry,
    )  # fmt: skip
    early = result.early_outcomes
    assert {t.cohort for t in early.tests} == windows
    zone_tests = [t for t in early.tests if t.dimension == "zone"]
    # Rows in default at the cohort date are not monitored.
    performing = picked.loc[~picked["in_default"]]
    assert sum(t.rows for t in zone_tests) == performing.shape[0]
    assert sum(t.observed for t in zone_tests) == int(
        labels.loc[~picked["in_default"], "y"].sum()
    )
    # industry_digits: 4 keeps the class (letter and four digits).
    assert {t.segment for t in early.tests if t.dimension == "industry"} == {"F5132"}
    assert "early_outcomes" in result.to_json_dict()
