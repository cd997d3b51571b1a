from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from credit_engine.monitoring import estimate_performance
from credit_engine.validation import roc_auc

LEVEL = 0.95


def test_default_rate_interval_is_the_poisson_binomial_normal_approximation():
    p = np.array([0.01, 0.02, 0.1, 0.3] * 250)
    est = estimate_performance(p, level=LEVEL, n_draws=50, seed=1)
    sd = np.sqrt(np.sum(p * (1 - p))) / p.size
    assert est.expected_default_rate == pytest.approx(p.mean())
    assert est.default_rate_lower == pytest.approx(p.mean() - 1.959964 * sd, rel=1e-5)
    assert est.default_rate_upper == pytest.approx(p.mean() + 1.959964 * sd, rel=1e-5)
    assert est.matured is False
    assert est.realised_default_rate is None


def test_same_seed_same_interval_and_another_seed_differs():
    p = np.random.default_rng(0).beta(1, 10, size=800)
    a = estimate_performance(p, level=LEVEL, n_draws=100, seed=5)
    b = estimate_performance(p, level=LEVEL, n_draws=100, seed=5)
    c = estimate_performance(p, level=LEVEL, n_draws=100, seed=6)
    assert a == b
    assert (a.auc_lower, a.auc_upper) != (c.auc_lower, c.auc_upper)


def test_realised_figures_sit_beside_the_estimate():
    rng = np.random.default_rng(1)
    p = rng.beta(1, 8, size=1000)
    y = (rng.random(p.size) < p).astype(int)
    est = estimate_performance(
        p,
        level=LEVEL,
        n_draws=100,
        seed=1,
        y=y,
        as_of=dt.date(2024, 1, 31),
        default_rate_initial=0.1,
    )
    assert est.matured
    assert est.as_of == dt.date(2024, 1, 31)
    assert est.realised_default_rate == pytest.approx(y.mean())
    assert est.realised_auc == pytest.approx(roc_auc(y, p))
    assert est.default_rate_ratio == pytest.approx(p.mean() / 0.1)
    assert est.default_rate_covered is not None
    assert est.auc_covered is not None


def test_intervals_cover_the_truth_near_the_nominal_level():
    """200 cohorts whose outcomes are drawn from the PDs: ~95 % inside each interval."""
    rng = np.random.default_rng(2026)
    p = rng.beta(1.2, 12, size=400)
    dr_in = auc_in = 0
    reps = 200
    est = estimate_performance(p, level=LEVEL, n_draws=400, seed=99)
    for _ in range(reps):
        y = (rng.random(p.size) < p).astype(int)
        dr_in += est.default_rate_lower <= y.mean() <= est.default_rate_upper
        auc_in += est.auc_lower <= roc_auc(y, p) <= est.auc_upper
    # binomial sd of the coverage over 200 replications is 1.5 points
    assert 0.90 <= dr_in / reps <= 0.99
    assert 0.90 <= auc_in / reps <= 0.99


def test_each_cohort_gets_fresh_pds_and_coverage_holds_across_them():
    rng = np.random.default_rng(11)
    covered = 0
    reps = 120
    for i in range(reps):
        p = rng.beta(1.2, 12, size=300)
        y = (rng.random(p.size) < p).astype(int)
        est = estimate_performance(p, level=LEVEL, n_draws=200, seed=i, y=y)
        covered += bool(est.auc_covered)
    assert 0.88 <= covered / reps <= 1.0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="non-empty vector of PDs"):
        estimate_performance([], level=LEVEL, n_draws=20, seed=1)
    with pytest.raises(ValueError, match="outside"):
        estimate_performance([0.2, 1.2], level=LEVEL, n_draws=20, seed=1)
    with pytest.raises(ValueError, match="one 0/1 outcome per PD"):
        estimate_performance([0.2, 0.3], level=LEVEL, n_draws=20, seed=1, y=[1])


def test_single_class_draws_give_no_auc_interval():
    est = estimate_performance([0.0, 0.0, 0.0], level=LEVEL, n_draws=20, seed=1)
    assert np.isnan(est.auc_lower)
    assert np.isnan(est.expected_auc)
