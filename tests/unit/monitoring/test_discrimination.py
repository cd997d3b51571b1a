from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import norm

from credit_engine.monitoring import auc_change_test, delong_auc, expected_auc
from credit_engine.validation import ValidationPolicy, roc_auc


def _brute_delong(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) straight from the definition: O(m n) kernel."""
    pos, neg = s[y == 1], s[y == 0]
    kernel = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10 = kernel.mean(axis=1)
    v01 = kernel.mean(axis=0)
    return float(kernel.mean()), v10.var(ddof=1) / pos.size + v01.var(ddof=1) / neg.size


def _brute_expected_auc(p: np.ndarray, s: np.ndarray) -> float:
    num = den = 0.0
    for i, j in itertools.permutations(range(p.size), 2):
        w = p[i] * (1 - p[j])
        den += w
        num += w * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
    return num / den


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_delong_matches_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 150
    s = np.round(rng.normal(size=n), 1)  # many ties
    y = (rng.random(n) < 1 / (1 + np.exp(-s))).astype(int)
    auc, var = delong_auc(y, s)
    auc_b, var_b = _brute_delong(y, s)
    assert auc == pytest.approx(auc_b, abs=1e-12)
    assert var == pytest.approx(var_b, rel=1e-10)
    assert auc == pytest.approx(roc_auc(y, s), abs=1e-12)


def test_delong_refuses_a_single_class():
    with pytest.raises(ValueError, match="needs defaults and non-defaults"):
        delong_auc([0, 0, 0], [0.1, 0.2, 0.3])


def test_auc_change_test_is_the_ecb_one_sided_z_test():
    rng = np.random.default_rng(3)
    s = rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * s))).astype(int)
    policy = ValidationPolicy()
    auc, var = delong_auc(y, s)
    test = auc_change_test(0.9, y, s, policy)
    assert test.std_error == pytest.approx(math.sqrt(var))
    assert test.z == pytest.approx((0.9 - auc) / math.sqrt(var))
    assert test.p_value == pytest.approx(1 - norm.cdf(test.z))
    assert test.light == (
        "red" if test.p_value < 0.01 else "amber" if test.p_value < 0.05 else "green"
    )
    # an initial AUC below the current one is no evidence of a fall
    assert auc_change_test(auc - 0.05, y, s, policy).p_value > 0.5
    assert (test.n, test.defaults) == (400, int(y.sum()))


@pytest.mark.parametrize("seed", [0, 1])
def test_expected_auc_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    p = rng.beta(1, 8, size=60)
    p[:10] = p[10:20]  # ties on the PD
    assert expected_auc(p) == pytest.approx(_brute_expected_auc(p, p), rel=1e-12)
    s = np.round(rng.normal(size=60), 1)  # another score, with ties
    assert expected_auc(p, s) == pytest.approx(_brute_expected_auc(p, s), rel=1e-12)


def test_expected_auc_is_the_mean_auc_of_calibrated_outcomes():
    rng = np.random.default_rng(7)
    p = rng.beta(1, 10, size=2000)
    draws = [roc_auc((rng.random(p.size) < p).astype(int), p) for _ in range(200)]
    assert expected_auc(p) == pytest.approx(np.mean(draws), abs=0.004)


def test_expected_auc_degenerate_cases():
    assert expected_auc([0.3]) != expected_auc([0.3])  # NaN: no pair
    assert expected_auc([0.1, 0.1, 0.1]) == 0.5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        expected_auc([0.5, 1.5])
