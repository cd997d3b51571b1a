from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from scipy import stats

from credit_engine.monitoring import (
    backtest_cohort,
    concentration_change,
    hhi_change_test,
)
from tests.unit.monitoring.synthetic import thresholds

AS_OF = dt.date(2024, 3, 31)


def _cohort(rows_defaults: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    codes, y = [], []
    for k, (n, d) in enumerate(rows_defaults):
        codes += [k] * n
        y += [1] * d + [0] * (n - d)
    return np.array(codes), np.array(y)


def test_grade_p_values_are_scipy_binomial_and_jeffreys():
    codes, y = _cohort([(400, 3), (300, 12), (0, 0), (100, 30)])
    bt = backtest_cohort(
        codes,
        y,
        grades=["G1", "G2", "G3", "G4"],
        grade_pd=[0.01, 0.03, 0.08, 0.2],
        thresholds=thresholds(),
        as_of=AS_OF,
    )
    g1, g2, g3, g4 = bt.grades
    assert g1.binomial_p == pytest.approx(stats.binom.sf(3 - 1, 400, 0.01))
    assert g1.jeffreys_p == pytest.approx(stats.beta.cdf(0.01, 3.5, 397.5))
    assert g2.jeffreys_p == pytest.approx(stats.beta.cdf(0.03, 12.5, 288.5))
    assert g4.binomial_p == pytest.approx(stats.binom.sf(29, 100, 0.2))
    assert g3.light == "empty"
    assert g3.observed_rate is None
    low, high = stats.beta.ppf([0.025, 0.975], 12.5, 288.5)
    assert (g2.jeffreys_lower, g2.jeffreys_upper) == pytest.approx((low, high))
    assert bt.n == 800
    assert bt.defaults == 45
    mean_pd = (400 * 0.01 + 300 * 0.03 + 100 * 0.2) / 800
    assert bt.mean_grade_pd == pytest.approx(mean_pd)
    assert bt.portfolio_p == pytest.approx(stats.binom.sf(44, 800, mean_pd))


def test_grade_colour_is_the_worse_test_and_cohort_rule_counts_grades():
    t = thresholds()
    # one clearly red grade -> amber cohort (red needs two), portfolio fine
    codes, y = _cohort([(2000, 10), (2000, 40), (200, 14)])
    bt = backtest_cohort(
        codes,
        y,
        grades=["G1", "G2", "G3"],
        grade_pd=[0.01, 0.03, 0.03],
        thresholds=t,
        as_of=AS_OF,
    )
    assert bt.red_grades == ("G3",)
    assert bt.portfolio_light == "green"
    assert bt.light == "amber"
    # two red grades -> red
    codes, y = _cohort([(2000, 40), (2000, 40), (200, 14)])
    bt = backtest_cohort(
        codes,
        y,
        grades=["G1", "G2", "G3"],
        grade_pd=[0.01, 0.03, 0.03],
        thresholds=t,
        as_of=AS_OF,
    )
    assert set(bt.red_grades) == {"G1", "G3"}
    assert bt.light == "red"


def test_calibrated_cohort_is_green():
    rng = np.random.default_rng(0)
    pds = np.array([0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.3])
    codes = rng.integers(0, 7, size=20_000)
    y = (rng.random(codes.size) < pds[codes]).astype(int)
    bt = backtest_cohort(
        codes,
        y,
        grades=[f"G{i}" for i in range(1, 8)],
        grade_pd=pds,
        thresholds=thresholds(),
        as_of=AS_OF,
    )
    assert bt.light == "green"


def test_hhi_change_test_follows_the_ecb_formula():
    k = 7
    shares0 = np.array([0.12, 0.2, 0.21, 0.19, 0.14, 0.08, 0.06])
    shares1 = np.array([0.05, 0.1, 0.5, 0.15, 0.1, 0.05, 0.05])
    h0, h1 = float(np.sum(shares0**2)), float(np.sum(shares1**2))
    cv0 = math.sqrt(k * np.sum((shares0 - 1 / k) ** 2))
    cv1 = math.sqrt(k * np.sum((shares1 - 1 / k) ** 2))
    got = hhi_change_test(h0, h1, k)
    assert got[0] == pytest.approx(cv0)
    assert got[1] == pytest.approx(cv1)
    z = math.sqrt(k - 1) * (cv1 - cv0) / math.sqrt(cv1**2 * (0.5 + cv1**2))
    assert got[2] == pytest.approx(1 - stats.norm.cdf(z))
    assert hhi_change_test(1 / k, 1 / k, k)[2] == 1.0


def test_concentration_change_lights_on_relative_increase():
    t = thresholds()
    even = [100] * 7
    assert concentration_change(even, 1 / 7, t, as_of=AS_OF).light == "green"
    counts = np.array([50, 100, 400, 250, 100, 60, 40])
    current = float(np.sum((counts / counts.sum()) ** 2))
    lights = {}
    for ratio in (1.1, 1.25, 1.6):
        change = concentration_change(counts, current / ratio, t, as_of=AS_OF)
        assert change.current == pytest.approx(current)
        assert change.relative_change == pytest.approx(ratio - 1)
        assert change.p_value > t.tests.alpha_amber  # the ECB test alone stays green
        lights[ratio] = change.light
    assert lights == {1.1: "green", 1.25: "amber", 1.6: "red"}
    heavy = concentration_change([10, 10, 500, 10, 10, 10, 10], 1 / 7, t, as_of=AS_OF)
    assert heavy.light == "red"  # from the HHI increase: the ECB test is weak when
    assert heavy.p_value > t.tests.alpha_amber  # the current CV is large
