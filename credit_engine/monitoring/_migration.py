"""Grade and tier migration between two cohorts, and the ECB stability test.

Rows are enterprises rated in both cohorts (matched on ``uscc``); labels are
ordered best first, so a move to a lower index is an upgrade.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from credit_engine.monitoring._lights import worst_light
from credit_engine.validation import Light, ValidationPolicy, traffic_light

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MigrationMatrix",
    "MigrationSummary",
    "migration_counts",
    "migration_matrix",
    "migration_stability_test",
    "migration_summary",
]


@dataclass(frozen=True)
class MigrationSummary:
    """Summary figures of a migration matrix.

    Attributes
    ----------
    n : int
        Enterprises in both cohorts.
    diagonal_mass : float
        Share that kept its label.
    two_notch_share : float
        Share that moved two or more notches.
    upgrades, downgrades : int
        Enterprises that moved to a better / worse label.
    upgrade_downgrade_ratio : float or None
        ``upgrades / downgrades``; ``None`` without downgrades.
    mwb_upper, mwb_lower : float or None
        Matrix weighted bandwidth above (downgrades) and below (upgrades) the
        diagonal, ECB instructions 2.5.5.1, over the labels that are tested;
        ``None`` when no enterprise moved that way.
    """

    n: int
    diagonal_mass: float
    two_notch_share: float
    upgrades: int
    downgrades: int
    upgrade_downgrade_ratio: float | None
    mwb_upper: float | None
    mwb_lower: float | None


@dataclass(frozen=True)
class MigrationMatrix:
    """Migration between two cohorts with the ECB stability test.

    Attributes
    ----------
    kind : {"grade", "tier"}
        What migrates.
    from_as_of, to_as_of : datetime.date
        The two cohorts.
    labels : tuple of str
        Row (start) and column (end) labels, best first.
    counts : tuple of tuple of int
        ``counts[i][j]``: enterprises from ``labels[i]`` to ``labels[j]``.
    z, p_value : tuple of tuple of float or None
        Per cell, :func:`migration_stability_test`; ``None`` where not tested
        (diagonal, thin rows, excluded labels, zero variance).
    rejected : tuple of tuple of (str, str, float)
        ``(from, to, p)`` of cells whose p-value is below ``alpha_amber``.
    summary : MigrationSummary
        Diagonal mass, two-notch share, upgrade/downgrade ratio, MWB.
    light : {"green", "amber", "red"}
        Worst traffic light over the tested cells.
    """

    kind: Literal["grade", "tier"]
    from_as_of: dt.date
    to_as_of: dt.date
    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    z: tuple[tuple[float | None, ...], ...]
    p_value: tuple[tuple[float | None, ...], ...]
    rejected: tuple[tuple[str, str, float], ...]
    summary: MigrationSummary
    light: Light


def migration_counts(
    start: npt.ArrayLike, end: npt.ArrayLike, labels: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Count moves from ``start`` labels to ``end`` labels (paired rows).

    Raises
    ------
    ValueError
        If the arrays differ in length or hold labels outside ``labels``.

    Examples
    --------
    >>> migration_counts(["A", "A", "B"], ["A", "B", "B"], ["A", "B"]).tolist()
    [[1, 1], [0, 1]]
    """
    import pandas as pd

    a = np.asarray(start, dtype=object)
    b = np.asarray(end, dtype=object)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"start and end need one label per enterprise; got shapes {a.shape} and "
            f"{b.shape}."
        )
    k = len(labels)
    index = pd.Index([str(x) for x in labels])
    i = index.get_indexer(pd.Index(a.astype(str)))
    j = index.get_indexer(pd.Index(b.astype(str)))
    if (i < 0).any() or (j < 0).any():
        unknown = sorted({str(v) for v in np.concatenate([a[i < 0], b[j < 0]])})
        raise ValueError(
            f"Labels {unknown[:5]} are not among {list(labels)}; pass every label "
            "of the scale, best first."
        )
    flat = np.bincount(i.astype(np.int64) * k + j, minlength=k * k)
    out: npt.NDArray[np.int64] = flat.reshape(k, k).astype(np.int64)
    return out


def migration_stability_test(
    counts: npt.ArrayLike,
    *,
    min_row_count: int,
    exclude: Sequence[int] = (),
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """ECB migration-matrix stability test: nearer cells hold more mass.

    ECB, Instructions for reporting the validation results of internal models
    (2019), section 2.5.5.2. With ``p_ij = N_ij / N_i`` the row shares, each
    off-diagonal cell is compared with its neighbour one step nearer the
    diagonal (``j + 1`` below it, ``j - 1`` above it)::

        z_ij = (p_near - p_ij) / sqrt((p_ij (1 - p_ij) + p_near (1 - p_near)
                                       + 2 p_ij p_near) / N_i)

    (the variance of a difference of two multinomial shares of one row), and
    the p-value is ``Phi(z_ij)``: H0 says the nearer cell holds at least as much
    mass, so a small p-value means a cell further from the diagonal is
    significantly fuller than its nearer neighbour.

    Parameters
    ----------
    counts : array-like of int, shape (K, K)
        Migration counts, labels best first on both axes.
    min_row_count : int
        Rows with fewer enterprises are not tested (normal approximation).
    exclude : sequence of int, default=()
        Label indices left out of the test as rows and as cells (e.g. the
        default grade, an absorbing state).

    Returns
    -------
    z, p_value : numpy.ndarray of shape (K, K)
        NaN where not tested (diagonal, thin or excluded rows, zero variance).

    Examples
    --------
    Row 2 (0-based 1) has more mass two notches away than one (cell (1, 3)
    against (1, 2)), which the test flags:

    >>> counts = [[90, 10, 0, 0], [5, 80, 2, 13], [0, 10, 85, 5], [0, 0, 10, 90]]
    >>> z, p = migration_stability_test(counts, min_row_count=10)
    >>> round(float(z[1, 3]), 2), bool(p[1, 3] < 0.05)
    (-2.96, True)
    """
    from scipy.stats import norm

    n_ij = np.asarray(counts, dtype=np.float64)
    k = n_ij.shape[0]
    if n_ij.shape != (k, k):
        raise ValueError(f"counts must be a square matrix; got shape {n_ij.shape}.")
    z = np.full((k, k), np.nan)
    skip = set(exclude)
    rows = n_ij.sum(axis=1)
    for i in range(k):
        if i in skip or rows[i] < min_row_count:
            continue
        p = n_ij[i] / rows[i]
        for j in range(k):
            near = j + 1 if j < i else j - 1
            if j == i or j in skip or near in skip:
                continue
            variance = (
                p[j] * (1 - p[j]) + p[near] * (1 - p[near]) + 2 * p[j] * p[near]
            ) / rows[i]
            if variance > 0:
                z[i, j] = (p[near] - p[j]) / math.sqrt(variance)
    p_value = np.where(np.isnan(z), np.nan, norm.cdf(z))
    return z, p_value


def _mwb(n_ij: npt.NDArray[np.float64], upper: bool) -> float | None:
    """Matrix weighted bandwidth (ECB instructions 2.5.5.1), 1-based grades."""
    k = n_ij.shape[0]
    idx = np.arange(1, k + 1)
    i, j = np.meshgrid(idx, idx, indexing="ij")
    side = j > i if upper else j < i
    moved = np.where(side, n_ij, 0.0)
    worst = np.maximum(np.abs(idx - k), np.abs(idx - 1))  # largest possible move
    norm_ = float(np.sum(worst * moved.sum(axis=1)))
    if norm_ == 0:
        return None
    return float(np.sum(np.abs(i - j) * moved)) / norm_


def migration_summary(
    counts: npt.ArrayLike, *, exclude: Sequence[int] = ()
) -> MigrationSummary:
    """Diagonal mass, two-notch share, upgrade/downgrade ratio and MWB.

    ``exclude`` leaves labels out of the MWB only (as in the test); the other
    figures count every enterprise.

    Examples
    --------
    >>> s = migration_summary([[8, 2, 0], [1, 6, 1], [0, 2, 0]])
    >>> s.diagonal_mass, s.upgrades, s.downgrades, s.upgrade_downgrade_ratio
    (0.7, 3, 3, 1.0)
    """
    n_ij = np.asarray(counts, dtype=np.float64)
    k = n_ij.shape[0]
    i, j = np.indices((k, k))
    n = float(n_ij.sum())
    up = int(n_ij[j < i].sum())
    down = int(n_ij[j > i].sum())
    keep = [x for x in range(k) if x not in set(exclude)]
    sub = n_ij[np.ix_(keep, keep)]
    return MigrationSummary(
        n=int(n),
        diagonal_mass=float(np.trace(n_ij) / n) if n else math.nan,
        two_notch_share=float(n_ij[np.abs(i - j) >= 2].sum() / n) if n else math.nan,
        upgrades=up,
        downgrades=down,
        upgrade_downgrade_ratio=up / down if down else None,
        mwb_upper=_mwb(sub, upper=True),
        mwb_lower=_mwb(sub, upper=False),
    )


def _nested(arr: npt.NDArray[np.float64]) -> tuple[tuple[float | None, ...], ...]:
    return tuple(
        tuple(None if math.isnan(v) else float(v) for v in row) for row in arr.tolist()
    )


def migration_matrix(
    before: pd.DataFrame,
    after: pd.DataFrame,
    *,
    column: str,
    labels: Sequence[str],
    kind: Literal["grade", "tier"],
    policy: ValidationPolicy,
    min_row_count: int,
    exclude: Sequence[str] = (),
) -> MigrationMatrix:
    """Migration of ``column`` between two cohorts, with test, summary and light.

    Parameters
    ----------
    before, after : pandas.DataFrame
        The two cohorts, columns ``uscc``, ``as_of`` and ``column``; one row per
        enterprise. Enterprises in only one cohort are left out.
    column : str
        The migrating label, e.g. ``"grade"`` or ``"tier"``.
    labels : sequence of str
        Every label, best first.
    kind : {"grade", "tier"}
        Recorded in the result.
    policy : ValidationPolicy
        Alphas of the cells' traffic lights.
    min_row_count : int
        Thinner start labels are not tested.
    exclude : sequence of str, default=()
        Labels left out of the test and the MWB (e.g. the default grade).

    Returns
    -------
    MigrationMatrix
    """
    pairs = before[["uscc", column]].merge(
        after[["uscc", column]], on="uscc", suffixes=("_from", "_to")
    )
    counts = migration_counts(
        pairs[f"{column}_from"].to_numpy(), pairs[f"{column}_to"].to_numpy(), labels
    )
    skip = [labels.index(x) for x in exclude if x in labels]
    z, p = migration_stability_test(counts, min_row_count=min_row_count, exclude=skip)
    tested = p[~np.isnan(p)]
    light = worst_light(traffic_light(float(v), policy) for v in tested)
    rejected = tuple(
        (labels[a], labels[b], float(p[a, b]))
        for a, b in zip(
            *np.nonzero(np.nan_to_num(p, nan=1.0) < policy.alpha_amber), strict=True
        )
    )
    return MigrationMatrix(
        kind=kind,
        from_as_of=_one_date(before),
        to_as_of=_one_date(after),
        labels=tuple(labels),
        counts=tuple(tuple(int(c) for c in row) for row in counts.tolist()),
        z=_nested(z),
        p_value=_nested(p),
        rejected=rejected,
        summary=migration_summary(counts, exclude=skip),
        light=light,
    )


def _one_date(frame: pd.DataFrame) -> dt.date:
    import pandas as pd

    values = pd.to_datetime(frame["as_of"]).dt.date.unique()
    if len(values) != 1:
        raise ValueError(
            f"A migration compares two cohorts of one as_of each; got {len(values)} "
            "dates in one of them."
        )
    out: dt.date = values[0]
    return out
