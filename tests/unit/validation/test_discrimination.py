from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from credit_engine.validation import information_value, ks_statistic, roc_auc


def test_ks_equals_scipy_two_sample_statistic(dev_data):
    s = dev_data.sample
    expected = stats.ks_2samp(s.proba[s.y == 1], s.proba[s.y == 0]).statistic
    assert ks_statistic(s.y, s.proba) == pytest.approx(expected, abs=1e-12)


def test_ks_handles_tied_scores_like_scipy():
    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.2).astype(int)
    proba = np.round(0.2 + 0.1 * y + rng.normal(scale=0.1, size=3000), 1).clip(0, 1)
    expected = stats.ks_2samp(proba[y == 1], proba[y == 0]).statistic
    assert ks_statistic(y, proba) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_equals_sklearn(dev_data):
    s = dev_data.sample
    assert roc_auc(s.y, s.proba) == pytest.approx(roc_auc_score(s.y, s.proba))


def test_single_class_is_rejected():
    with pytest.raises(ValueError, match="holds only non-defaults .* undefined"):
        ks_statistic([0, 0, 0], [0.1, 0.2, 0.3])


def test_iv_of_a_predictive_feature_exceeds_iv_of_noise(dev_data):
    y = dev_data.sample.y
    strong = information_value(dev_data.features["strong"].to_numpy(), y)
    noise = information_value(dev_data.features["noise"].to_numpy(), y)
    sector = information_value(dev_data.features["sector"].to_numpy(), y)
    assert strong > 0.5
    assert noise < 0.05
    assert sector < 0.05
    assert strong > 10 * noise


def test_iv_matches_hand_computed_smoothed_woe():
    # Bin 1 (x < 2.5): 3 non-events, 1 event; bin 2: 1 non-event, 3 events;
    # missing bin: 1 non-event, 1 event. Each count gets +0.5.
    x = np.array([1, 1, 2, 2, 3, 3, 4, 4, np.nan, np.nan])
    y = np.array([0, 0, 0, 1, 0, 1, 1, 1, 0, 1])
    good = np.array([3.5, 1.5, 1.5])
    bad = np.array([1.5, 3.5, 1.5])
    g, b = good / good.sum(), bad / bad.sum()
    by_hand = float(np.sum((g - b) * np.log(g / b)))
    assert information_value(x, y, n_bins=2) == pytest.approx(by_hand)


def test_iv_of_labels_uses_one_bin_per_category():
    x = np.array(["a", "a", "b", "b", None, None], dtype=object)
    y = np.array([0, 0, 1, 1, 0, 1])
    good = np.array([2.5, 0.5, 1.5])
    bad = np.array([0.5, 2.5, 1.5])
    g, b = good / good.sum(), bad / bad.sum()
    assert information_value(x, y) == pytest.approx(np.sum((g - b) * np.log(g / b)))


def test_iv_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="one value per outcome; got shape"):
        information_value([1.0, 2.0], [0, 1, 0])
