from __future__ import annotations

import math

import numpy as np
import pytest

from credit_engine.validation import (
    PSI_FLOOR,
    freeze_bins,
    hhi,
    normalised_hhi,
    psi,
    psi_categorical,
)


def test_freeze_bins_gives_quantile_bins_with_open_outer_edges():
    values = np.random.default_rng(1).normal(size=10_000)
    values[:100] = np.nan
    edges = freeze_bins(values, n_bins=10)
    assert edges[0] == -np.inf
    assert edges[-1] == np.inf
    assert np.all(np.diff(edges) > 0)
    assert edges.size == 11
    counts, _ = np.histogram(values[~np.isnan(values)], bins=edges)
    assert counts.tolist() == [990] * 10  # 9,900 numbers, 10 equal bins


def test_freeze_bins_removes_duplicate_edges_and_keeps_discrete_values_whole():
    values = np.array([0.0] * 60 + [1.0] * 20 + [2.0] * 20)
    edges = freeze_bins(values, n_bins=10)
    assert np.all(np.diff(edges) > 0)
    assert edges.tolist() == [-np.inf, 1.0, 2.0, np.inf]


def test_freeze_bins_of_no_numbers_is_one_bin():
    assert freeze_bins(np.array([np.nan, np.nan])).tolist() == [-np.inf, np.inf]


def test_freeze_bins_rejects_zero_bins():
    with pytest.raises(ValueError, match="n_bins must be at least 1; got n_bins=0"):
        freeze_bins([1.0, 2.0], n_bins=0)


def test_psi_matches_hand_computation_with_nan_bin_and_floor():
    edges = np.array([-np.inf, 1.0, 2.0, np.inf])
    expected = np.array([0.5, 0.5, 1.5, 1.5, 2.5, 2.5, np.nan, np.nan])
    actual = np.array([0.5, 1.5, 1.5, 1.5, 2.5, 2.5, 2.5, 2.5])
    # Shares: expected (1/4, 1/4, 1/4, missing 1/4); actual (1/8, 3/8, 1/2, 0).
    e = [0.25, 0.25, 0.25, 0.25]
    a = [0.125, 0.375, 0.5, PSI_FLOOR]
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert psi(expected, actual, edges) == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(2.2658, abs=1e-4)


def test_psi_is_zero_for_identical_samples_and_symmetric():
    rng = np.random.default_rng(2)
    dev = rng.normal(size=2000)
    edges = freeze_bins(dev)
    assert psi(dev, dev.copy(), edges) == 0.0
    shifted = dev + 0.5
    assert psi(dev, shifted, edges) == pytest.approx(psi(shifted, dev, edges))


def test_psi_grows_with_the_shift():
    rng = np.random.default_rng(3)
    dev = rng.normal(size=5000)
    edges = freeze_bins(dev)
    small = psi(dev, rng.normal(0.1, size=5000), edges)
    large = psi(dev, rng.normal(1.0, size=5000), edges)
    assert small < 0.10 < 0.25 < large


def test_psi_counts_values_beyond_finite_edges_in_outer_bins():
    edges = np.array([0.0, 1.0, 2.0])
    assert psi([-5.0, 0.5, 1.5, 9.0], [0.1, 0.2, 1.1, 1.2], edges) == 0.0


def test_psi_rejects_unordered_edges():
    with pytest.raises(ValueError, match="strictly increasing numbers; got"):
        psi([1.0], [1.0], [0.0, 2.0, 1.0])


def test_psi_rejects_an_empty_sample():
    with pytest.raises(ValueError, match="The actual sample is empty"):
        psi([1.0, 2.0], [], [-np.inf, np.inf])


def test_psi_categorical_equals_psi_on_codes():
    rng = np.random.default_rng(4)
    grades = np.array(["G1", "G2", "G3"])
    dev = rng.choice(grades, 1000, p=[0.2, 0.5, 0.3])
    oot = rng.choice(grades, 800, p=[0.3, 0.4, 0.3])
    codes = {g: float(i) for i, g in enumerate(grades)}
    as_codes = psi(
        [codes[g] for g in dev],
        [codes[g] for g in oot],
        np.array([-np.inf, 0.5, 1.5, np.inf]),
    )
    assert psi_categorical(dev, oot, grades.tolist()) == pytest.approx(as_codes)
    assert psi_categorical(dev, dev, grades.tolist()) == 0.0


def test_psi_categorical_puts_unseen_and_missing_labels_in_one_bin():
    dev = ["a", "a", "b", "b"]
    oot = ["a", "a", "z", None]  # "z" and None share the 'other' bin
    e = [0.5, 0.5, PSI_FLOOR]
    a = [0.5, PSI_FLOOR, 0.5]
    by_hand = sum((ai - ei) * math.log(ai / ei) for ai, ei in zip(a, e, strict=True))
    assert psi_categorical(dev, oot, ["a", "b"]) == pytest.approx(by_hand)


def test_psi_categorical_rejects_repeated_categories():
    with pytest.raises(ValueError, match="categories must be unique"):
        psi_categorical(["a"], ["a"], ["a", "a"])


@pytest.mark.parametrize("k", [1, 2, 7, 20])
def test_hhi_of_equal_shares_is_one_over_k(k):
    assert hhi(np.full(k, 1.0 / k)) == pytest.approx(1.0 / k)
    assert normalised_hhi(np.full(k, 1.0 / k)) == pytest.approx(1.0 if k == 1 else 0.0)


def test_hhi_of_one_grade_is_one_and_counts_are_rescaled():
    assert hhi([0.0, 1.0, 0.0]) == 1.0
    assert normalised_hhi([0.0, 1.0, 0.0]) == 1.0
    assert hhi([20, 60, 20]) == pytest.approx(0.2**2 + 0.6**2 + 0.2**2)
    h = hhi([0.2, 0.6, 0.2])
    assert normalised_hhi([0.2, 0.6, 0.2]) == pytest.approx((h - 1 / 3) / (2 / 3))


def test_hhi_rejects_negative_shares():
    with pytest.raises(ValueError, match=r"non-negative numbers with a positive sum"):
        hhi([0.5, -0.1, 0.6])
