"""Discrimination (AUC, Gini, KS) and information value."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from credit_engine.validation._stability import (
    _bin_counts,
    _category_counts,
    _labels,
    freeze_bins,
)

__all__ = ["information_value", "ks_statistic", "roc_auc"]

_WOE_SMOOTHING = 0.5
"""Pseudo-count added to the events and non-events of each bin before the WoE."""


def _outcomes(
    y: npt.ArrayLike, *, n: int | None = None, sample: str = "y"
) -> npt.NDArray[np.int64]:
    """Return ``y`` as 0/1 ints, checking that both classes occur."""
    arr = np.asarray(y)
    if arr.ndim != 1 or (n is not None and arr.shape[0] != n):
        raise ValueError(
            f"{sample} must be one-dimensional with one outcome per row; got shape "
            f"{arr.shape}" + (f" for {n} rows." if n is not None else ".")
        )
    if arr.dtype.kind not in "biuf" or not np.isin(arr, [0, 1]).all():
        raise ValueError(
            f"{sample} must hold only 0 (non-default) and 1 (default). Encode the "
            "outcome as 0/1."
        )
    out = arr.astype(np.int64)
    events = int(out.sum())
    if events in (0, out.shape[0]):
        only = "defaults" if events else "non-defaults"
        raise ValueError(
            f"{sample} holds only {only} ({out.shape[0]} rows): AUC, KS and IV are "
            "undefined for a single class. Pass a sample with both defaults and "
            "non-defaults."
        )
    return out


def _scores(proba: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    arr = np.asarray(proba, dtype=np.float64)
    if arr.shape != (n,) or np.isnan(arr).any():
        raise ValueError(
            f"proba must be one-dimensional without NaN, one value per outcome; got "
            f"shape {arr.shape} for {n} outcomes."
        )
    return arr


def roc_auc(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Area under the ROC curve of PDs against outcomes.

    Parameters
    ----------
    y : array-like of int
        Outcomes, 1 for a default.
    proba : array-like of float
        PD (or any score that grows with risk).

    Returns
    -------
    float
        AUC; the Gini (accuracy ratio) is ``2 * AUC - 1``.

    Raises
    ------
    ValueError
        If ``y`` holds a single class (AUC is undefined) or shapes differ.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    from sklearn.metrics import roc_auc_score

    outcomes = _outcomes(y)
    return float(roc_auc_score(outcomes, _scores(proba, outcomes.shape[0])))


@dataclass(frozen=True)
class _KsCurve:
    """Cumulative shares of events and non-events, riskiest rows first."""

    population: npt.NDArray[np.float64]
    events: npt.NDArray[np.float64]
    non_events: npt.NDArray[np.float64]

    @property
    def gap(self) -> npt.NDArray[np.float64]:
        return np.abs(self.events - self.non_events)


def _ks_curve(y: npt.ArrayLike, proba: npt.ArrayLike) -> _KsCurve:
    outcomes = _outcomes(y)
    scores = _scores(proba, outcomes.shape[0])
    # Rows with the same PD move together: one point per distinct PD.
    values, inverse = np.unique(-scores, return_inverse=True)
    rows = np.bincount(inverse, minlength=values.size)
    events = np.bincount(inverse, weights=outcomes, minlength=values.size)
    non_events = rows - events
    zero = np.zeros(1)
    return _KsCurve(
        population=np.concatenate([zero, np.cumsum(rows) / rows.sum()]),
        events=np.concatenate([zero, np.cumsum(events) / events.sum()]),
        non_events=np.concatenate([zero, np.cumsum(non_events) / non_events.sum()]),
    )


def ks_statistic(y: npt.ArrayLike, proba: npt.ArrayLike) -> float:
    """Kolmogorov-Smirnov statistic between the PDs of defaults and non-defaults.

    Parameters
    ----------
    y : array-like of int
        Outcomes, 1 for a default.
    proba : array-like of float
        PD of each row.

    Returns
    -------
    float
        Largest gap between the cumulative distributions of ``proba`` among
        defaults and among non-defaults, in [0, 1]; equals
        ``scipy.stats.ks_2samp(proba[y == 1], proba[y == 0]).statistic``.

    Raises
    ------
    ValueError
        If ``y`` holds a single class or shapes differ.

    Examples
    --------
    >>> ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4])
    1.0
    >>> ks_statistic([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4])
    0.5
    """
    return float(_ks_curve(y, proba).gap.max())


def information_value(x: npt.ArrayLike, y: npt.ArrayLike, n_bins: int = 10) -> float:
    """Information value of a characteristic for the outcome.

    Numbers are cut into quantile bins (:func:`freeze_bins`); anything else is
    taken as categories, one bin each. Missing values get a bin of their own.
    Each bin's events and non-events get a pseudo-count of 0.5 so that the
    weight of evidence stays finite in pure bins.

    Parameters
    ----------
    x : array-like
        Characteristic, one value per row (numeric or labels).
    y : array-like of int
        Outcomes, 1 for a default.
    n_bins : int, default=10
        Quantile bins for a numeric ``x`` (fewer when quantiles tie).

    Returns
    -------
    float
        ``IV = sum((g_i - b_i) * ln(g_i / b_i))`` with ``g_i``, ``b_i`` the shares
        of non-events and events in bin ``i``. Siddiqi: < 0.02 unpredictive,
        < 0.1 weak, < 0.3 medium, otherwise strong (> 0.5 suspicious).

    Raises
    ------
    ValueError
        If ``y`` holds a single class or lengths differ.

    Examples
    --------
    >>> x = [1, 2, 3, 4, 5, 6, 7, 8]
    >>> y = [0, 0, 0, 0, 1, 1, 1, 1]
    >>> round(information_value(x, y, n_bins=2), 3)  # 1.6 * ln(9)
    3.516
    >>> information_value(x, [0, 1, 0, 1, 0, 1, 0, 1], n_bins=2)
    0.0
    """
    values = np.asarray(x)
    outcomes = _outcomes(y)
    if values.ndim != 1 or values.shape[0] != outcomes.shape[0]:
        raise ValueError(
            f"x must be one-dimensional with one value per outcome; got shape "
            f"{values.shape} for {outcomes.shape[0]} outcomes."
        )
    event = outcomes == 1
    if values.dtype.kind in "biuf":
        numbers = values.astype(np.float64)
        edges = freeze_bins(numbers, n_bins)
        bad = _bin_counts(numbers[event], edges)
        good = _bin_counts(numbers[~event], edges)
    else:
        labels, missing = _labels(values)
        categories = [str(c) for c in np.unique(labels[~missing])]
        bad = _category_counts(values[event], categories)
        good = _category_counts(values[~event], categories)
    used = (bad + good) > 0
    bad_s = bad[used] + _WOE_SMOOTHING
    good_s = good[used] + _WOE_SMOOTHING
    bad_share = bad_s / bad_s.sum()
    good_share = good_s / good_s.sum()
    return float(np.sum((good_share - bad_share) * np.log(good_share / bad_share)))
