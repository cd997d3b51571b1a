"""Population stability (PSI, CSI on frozen bins) and concentration (HHI)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "PSI_FLOOR",
    "freeze_bins",
    "hhi",
    "normalised_hhi",
    "psi",
    "psi_categorical",
]

PSI_FLOOR = 1e-4
"""Share given to an empty bin so that the PSI log term stays finite."""


def _as_float(values: npt.ArrayLike, name: str) -> npt.NDArray[np.float64]:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional; got shape {arr.shape}. Pass one value "
            "per row."
        )
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"{name} must be numeric; got dtype {arr.dtype}. Use psi_categorical "
            "for labels."
        )
    return arr.astype(np.float64)


def freeze_bins(values: npt.ArrayLike, n_bins: int = 10) -> npt.NDArray[np.float64]:
    """Quantile bin edges of development data, to be reused on later samples.

    Parameters
    ----------
    values : array-like of float
        Development values (scores, PDs or a characteristic). NaNs are ignored
        here; :func:`psi` gives them a bin of their own.
    n_bins : int, default=10
        Number of quantile bins wanted. Fewer come out when quantiles tie
        (duplicate edges are removed).

    Returns
    -------
    numpy.ndarray
        Strictly increasing edges; the outer ones are ``-inf`` and ``+inf`` so that
        any later value falls in a bin. Bin ``i`` is ``edges[i] <= x < edges[i+1]``.
        Inner edges are development values (numpy's "higher" quantiles), so each
        bin holds about ``1 / n_bins`` of the development rows. Only
        ``[-inf, inf]`` (one bin) when ``values`` holds no number.

    Raises
    ------
    ValueError
        If ``n_bins`` is below 1 or ``values`` is not one-dimensional and numeric.

    Examples
    --------
    >>> freeze_bins([1.0, 2.0, 3.0, 4.0], n_bins=2)
    array([-inf,   3.,  inf])

    Quantiles that tie collapse, and one equal to the minimum is dropped since
    it would leave the first bin empty:

    >>> freeze_bins([0, 0, 0, 0, 0, 0, 1, 1, 2, 2], n_bins=5)
    array([-inf,   1.,   2.,  inf])
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1; got n_bins={n_bins}.")
    arr = _as_float(values, "values")
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return np.array([-np.inf, np.inf])
    # Edges are observed values (method "higher"): bin [e_i, e_i+1) then holds
    # about 1/n_bins of the rows, and discrete values never get an empty bin.
    inner = np.quantile(arr, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], method="higher")
    # An inner edge at the minimum would leave the first bin empty.
    inner = np.unique(inner[inner > arr.min()])
    return np.concatenate([[-np.inf], inner, [np.inf]])


def _check_edges(edges: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arr = _as_float(edges, "edges")
    if arr.size < 2 or np.isnan(arr).any() or not (np.diff(arr) > 0).all():
        raise ValueError(
            f"edges must hold at least two strictly increasing numbers; got "
            f"{arr[:6].tolist()}{' ...' if arr.size > 6 else ''}. Build them with "
            "freeze_bins on development data."
        )
    return arr


def _bin_counts(
    values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Count values per bin; the last slot counts NaNs.

    Values below the first edge fall in the first bin and values at or above
    the last edge in the last bin (the outer edges of frozen bins are infinite).
    """
    n_bins = edges.size - 1
    missing = np.isnan(values)
    index = np.searchsorted(edges, values[~missing], side="right") - 1
    index = np.clip(index, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    return np.append(counts, int(missing.sum())).astype(np.int64)


def _psi_from_counts(
    expected: npt.NDArray[np.int64], actual: npt.NDArray[np.int64], floor: float
) -> float:
    if expected.sum() == 0 or actual.sum() == 0:
        which = "expected" if expected.sum() == 0 else "actual"
        raise ValueError(
            f"The {which} sample is empty; PSI compares two non-empty samples."
        )
    e = np.maximum(expected / expected.sum(), floor)
    a = np.maximum(actual / actual.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def psi(
    expected: npt.ArrayLike,
    actual: npt.ArrayLike,
    edges: npt.ArrayLike,
    *,
    floor: float = PSI_FLOOR,
) -> float:
    """Compute the population stability index of ``actual`` on frozen bins.

    ``PSI = sum((a_i - e_i) * ln(a_i / e_i))`` over the bins of ``edges`` plus one
    bin for NaN, where ``e_i`` and ``a_i`` are the shares of each sample in bin
    ``i``. Shares below ``floor`` (empty bins) are raised to ``floor``.

    Parameters
    ----------
    expected : array-like of float
        Reference (development) values.
    actual : array-like of float
        Values to compare (e.g. out-of-time or a monitoring period).
    edges : array-like of float
        Frozen bin edges, strictly increasing, usually from :func:`freeze_bins`.
        Values outside them count in the outer bins.
    floor : float, default=1e-4
        Smallest share a bin is given.

    Returns
    -------
    float
        PSI, 0 for identical distributions. Convention: < 0.10 stable,
        0.10-0.25 monitor, > 0.25 significant shift.

    Raises
    ------
    ValueError
        If a sample is empty or ``edges`` are not strictly increasing.

    Examples
    --------
    Two bins; shares move from (0.5, 0.5) to (0.75, 0.25):

    >>> edges = freeze_bins([1.0, 2.0, 3.0, 4.0], n_bins=2)
    >>> round(psi([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 4.0], edges), 4)
    0.2747
    >>> psi([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], edges)
    0.0
    """
    bins = _check_edges(edges)
    return _psi_from_counts(
        _bin_counts(_as_float(expected, "expected"), bins),
        _bin_counts(_as_float(actual, "actual"), bins),
        floor,
    )


def _labels(
    values: Sequence[object] | npt.NDArray[np.generic],
) -> tuple[npt.NDArray[np.str_], npt.NDArray[np.bool_]]:
    """Return values as strings and the mask of missing ones (None, NaN, NA, NaT)."""
    import pandas as pd

    arr = np.asarray(values, dtype=object)
    if arr.ndim != 1:
        raise ValueError(
            f"Labels must be one-dimensional; got shape {arr.shape}. Pass one label "
            "per row."
        )
    return arr.astype(str), np.asarray(pd.isna(arr), dtype=bool)


def _category_counts(
    values: Sequence[object] | npt.NDArray[np.generic], categories: Sequence[str]
) -> npt.NDArray[np.int64]:
    """Count values per category; the last slot counts anything else or missing."""
    labels, missing = _labels(values)
    other = len(categories)
    index = np.full(labels.shape[0], other, dtype=np.int64)
    for i, category in enumerate(categories):
        index[labels == category] = i
    index[missing] = other
    return np.bincount(index, minlength=other + 1).astype(np.int64)


def psi_categorical(
    expected: Sequence[object] | npt.NDArray[np.generic],
    actual: Sequence[object] | npt.NDArray[np.generic],
    categories: Sequence[str],
    *,
    floor: float = PSI_FLOOR,
) -> float:
    """Compute the population stability index of labels (grades, categories).

    Same formula as :func:`psi` with one bin per category plus one bin for any
    other label or a missing value (``None`` or NaN). Labels are compared as
    strings.

    Parameters
    ----------
    expected, actual : sequence of str
        Reference and compared labels.
    categories : sequence of str
        The categories, e.g. the grades of the master scale.
    floor : float, default=1e-4
        Smallest share a bin is given.

    Returns
    -------
    float
        PSI, 0 for identical distributions.

    Raises
    ------
    ValueError
        If a sample is empty or ``categories`` repeat.

    Examples
    --------
    >>> dev, oot = ["A", "A", "B", "B"], ["A", "A", "A", "B"]
    >>> round(psi_categorical(dev, oot, categories=["A", "B"]), 4)
    0.2747
    """
    labels = [str(c) for c in categories]
    if len(set(labels)) != len(labels):
        raise ValueError(
            f"categories must be unique; got {labels[:10]}. List each category once."
        )
    return _psi_from_counts(
        _category_counts(expected, labels), _category_counts(actual, labels), floor
    )


def _shares(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    arr = _as_float(values, "shares")
    if arr.size == 0 or np.isnan(arr).any() or (arr < 0).any() or arr.sum() <= 0:
        raise ValueError(
            f"shares must be non-negative numbers with a positive sum; got "
            f"{arr[:10].tolist()}. Pass the share (or count) of each grade."
        )
    shares: npt.NDArray[np.float64] = arr / arr.sum()
    return shares


def hhi(shares: npt.ArrayLike) -> float:
    """Herfindahl-Hirschman index of grade shares.

    Parameters
    ----------
    shares : array-like of float
        Share of each grade. Counts work too: they are rescaled to sum to one.

    Returns
    -------
    float
        ``sum(s_i ** 2)``, from ``1/k`` (equal shares over ``k`` grades) to 1 (all
        in one grade).

    Raises
    ------
    ValueError
        If a share is negative or NaN or all are zero.

    See Also
    --------
    normalised_hhi : The same index rescaled to [0, 1].

    Examples
    --------
    >>> hhi([0.25, 0.25, 0.25, 0.25])
    0.25
    >>> hhi([30, 10])  # counts are rescaled to shares 0.75, 0.25
    0.625
    """
    return float(np.sum(_shares(shares) ** 2))


def normalised_hhi(shares: npt.ArrayLike) -> float:
    """Herfindahl-Hirschman index rescaled to [0, 1]: ``(H - 1/k) / (1 - 1/k)``.

    Parameters
    ----------
    shares : array-like of float
        Share (or count) of each of the ``k`` grades, empty grades included.

    Returns
    -------
    float
        0 for equal shares, 1 when one grade holds everything; 1 when ``k == 1``.

    Raises
    ------
    ValueError
        If a share is negative or NaN or all are zero.

    Examples
    --------
    >>> normalised_hhi([0.25, 0.25, 0.25, 0.25])
    0.0
    >>> normalised_hhi([1.0, 0.0, 0.0])
    1.0
    """
    arr = _shares(shares)
    k = arr.size
    if k == 1:
        return 1.0
    return float((np.sum(arr**2) - 1.0 / k) / (1.0 - 1.0 / k))
