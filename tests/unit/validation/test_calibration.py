from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from credit_engine.validation import (
    binomial_test,
    hosmer_lemeshow,
    jeffreys_interval,
    jeffreys_test,
)

CASES = [(1000, 10, 0.01), (1000, 25, 0.01), (250, 0, 0.02), (40, 40, 0.3), (1, 1, 0.5)]


@pytest.mark.parametrize(("n", "d", "pd_"), CASES)
def test_binomial_p_is_the_upper_tail(n, d, pd_):
    p = binomial_test(n, d, pd_)
    assert p == pytest.approx(stats.binom.sf(d - 1, n, pd_), rel=1e-12)
    tail = stats.binom.pmf(np.arange(d, n + 1), n, pd_).sum()
    assert p == pytest.approx(tail, rel=1e-9)


@pytest.mark.parametrize(("n", "d", "pd_"), CASES)
def test_jeffreys_p_is_the_posterior_cdf_at_the_pd(n, d, pd_):
    assert jeffreys_test(n, d, pd_) == pytest.approx(
        stats.beta(d + 0.5, n - d + 0.5).cdf(pd_), rel=1e-12
    )


def test_too_many_defaults_give_small_p_values():
    assert binomial_test(1000, 40, 0.01) < 1e-6
    assert jeffreys_test(1000, 40, 0.01) < 1e-6
    assert binomial_test(1000, 10, 0.01) > 0.4


def test_tests_reject_inconsistent_counts():
    with pytest.raises(ValueError, match=r"defaults=5 is outside \[0, n=3\]"):
        binomial_test(3, 5, 0.1)
    with pytest.raises(ValueError, match=r"pd_=1.5 is outside \[0, 1\]"):
        jeffreys_test(3, 1, 1.5)


def test_jeffreys_interval_is_the_beta_quantiles():
    low, high = jeffreys_interval(200, 7)
    beta = stats.beta(7.5, 193.5)
    assert (low, high) == pytest.approx((beta.ppf(0.025), beta.ppf(0.975)))
    assert jeffreys_interval(200, 0)[0] == 0.0


def test_hosmer_lemeshow_matches_hand_computation_and_skips_empty_grades():
    n = np.array([500, 800, 0, 300])
    d = np.array([8, 30, 0, 40])
    pds = np.array([0.01, 0.03, 0.06, 0.10])
    used = n > 0
    by_hand = np.sum(
        (d[used] - n[used] * pds[used]) ** 2 / (n[used] * pds[used] * (1 - pds[used]))
    )
    statistic, p_value = hosmer_lemeshow(n, d, pds)
    assert statistic == pytest.approx(by_hand)
    assert p_value == pytest.approx(stats.chi2.sf(by_hand, 3))


def test_hosmer_lemeshow_rejects_pd_of_zero():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        hosmer_lemeshow([10], [1], [0.0])
