from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from credit_engine.monitoring import (
    migration_counts,
    migration_matrix,
    migration_stability_test,
    migration_summary,
)
from credit_engine.validation import ValidationPolicy


def _z(p_near: float, p_far: float, n: float) -> float:
    var = (p_far * (1 - p_far) + p_near * (1 - p_near) + 2 * p_far * p_near) / n
    return (p_near - p_far) / math.sqrt(var)


def test_counts_pair_start_and_end_labels():
    counts = migration_counts(
        ["A", "B", "B", "C"], ["A", "A", "C", "C"], ["A", "B", "C"]
    )
    assert counts.tolist() == [[1, 0, 0], [1, 0, 1], [0, 0, 1]]
    with pytest.raises(ValueError, match=r"Labels \['Z'\] are not among"):
        migration_counts(["A"], ["Z"], ["A", "B"])


def test_stability_z_follows_the_ecb_formula_cell_by_cell():
    counts = np.array([[80, 15, 5, 0], [10, 70, 15, 5], [2, 8, 80, 10], [0, 5, 15, 80]])
    z, p = migration_stability_test(counts, min_row_count=1)
    shares = counts / counts.sum(axis=1, keepdims=True)
    for i in range(4):
        assert math.isnan(z[i, i])
        for j in range(4):
            if i == j:
                continue
            near = j + 1 if j < i else j - 1
            if shares[i, j] == 0 and shares[i, near] == 0:
                assert math.isnan(z[i, j])
                continue
            expected = _z(shares[i, near], shares[i, j], counts[i].sum())
            assert z[i, j] == pytest.approx(expected)
            assert p[i, j] == pytest.approx(norm.cdf(expected))


def test_a_far_cell_fuller_than_its_neighbour_is_rejected():
    counts = np.array([[900, 100, 0], [20, 900, 80], [5, 95, 900]])
    _, p = migration_stability_test(counts, min_row_count=1)
    assert np.nanmin(p) > 0.05  # monotone away from the diagonal
    counts[0] = [700, 50, 250]  # G1 -> G3 more often than G1 -> G2
    _, p = migration_stability_test(counts, min_row_count=1)
    assert p[0, 2] < 0.01


def test_thin_and_excluded_rows_are_not_tested():
    counts = np.array([[5, 1, 0], [10, 80, 10], [0, 0, 50]])
    z, _ = migration_stability_test(counts, min_row_count=30, exclude=[2])
    assert np.isnan(z[0]).all()  # 6 rows < 30
    assert np.isnan(z[2]).all()  # excluded row
    assert np.isnan(z[1, 2])  # excluded column
    assert not np.isnan(z[1, 0])


def test_summary_figures():
    counts = np.array([[8, 1, 1], [1, 6, 1], [0, 2, 0]])
    s = migration_summary(counts)
    assert s.n == 20
    assert s.diagonal_mass == pytest.approx(14 / 20)
    assert s.two_notch_share == pytest.approx(1 / 20)
    assert (s.upgrades, s.downgrades) == (3, 3)
    assert s.upgrade_downgrade_ratio == 1.0
    # MWB (ECB 2.5.5.1): upper = (1*1 + 2*1 + 1*1) / (max(|1-3|,0)*2 + max(1,1)*1) = 4/5
    assert s.mwb_upper == pytest.approx(4 / 5)
    # lower = (1*1 + 1*2) / (max(1,1)*1 + max(0,2)*2) = 3/5
    assert s.mwb_lower == pytest.approx(3 / 5)
    assert migration_summary(np.eye(3)).upgrade_downgrade_ratio is None


def test_migration_matrix_from_two_cohorts():
    before = pd.DataFrame(
        {"uscc": list("abcdef"), "as_of": dt.date(2024, 1, 31), "grade": list("AABBCC")}
    )
    after = pd.DataFrame(
        {"uscc": list("abcdeg"), "as_of": dt.date(2024, 2, 29), "grade": list("ABBCCC")}
    )
    m = migration_matrix(
        before,
        after,
        column="grade",
        labels=["A", "B", "C"],
        kind="grade",
        policy=ValidationPolicy(),
        min_row_count=1,
    )
    assert m.counts == (
        (1, 1, 0),
        (0, 1, 1),
        (0, 0, 1),
    )  # f left, g joined: not counted
    assert (m.from_as_of, m.to_as_of) == (dt.date(2024, 1, 31), dt.date(2024, 2, 29))
    assert m.summary.n == 5
    assert m.light in ("green", "amber", "red")
    assert m.z[0][0] is None
