"""Population stability of a cohort against the frozen development distribution.

The PSI formula and its floor are the validation pack's
(:func:`~credit_engine.validation.psi`); here the development side is given as
stored shares rather than raw values, since only the shares travel with a model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from credit_engine.monitoring._features import (
    FeatureReference,
    _category_labels,
    _is_numeric,
)
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import PSI_FLOOR, Light, psi_light

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "CsiResult",
    "FeatureDrift",
    "PsiPoint",
    "bin_shares",
    "feature_csi",
    "feature_stability",
    "psi_from_shares",
]


@dataclass(frozen=True)
class PsiPoint:
    """PSI of one cohort.

    Attributes
    ----------
    as_of : datetime.date
        Rating date of the cohort.
    psi : float
        PSI against development.
    light : {"green", "amber", "red"}
        PSI band.
    """

    as_of: dt.date
    psi: float
    light: Light


@dataclass(frozen=True)
class FeatureDrift:
    """CSI of one feature in one cohort.

    Attributes
    ----------
    feature : str
        Column name.
    kind : {"numeric", "categorical"}
        How it was binned.
    csi : float
        PSI of the feature against its development shares (missing values in
        a bin of their own; unseen categories in an "other" bin).
    light : {"green", "amber", "red"}
        PSI band of ``csi``.
    missing_dev, missing_now : float
        Share of missing values in development and in the cohort.
    counted : bool
        Whether its band counts towards the CSI light; ``False`` for a feature
        the thresholds file measures as ``informational``.
    reason : str or None
        Why it is not counted (from the thresholds file).
    """

    feature: str
    kind: Literal["numeric", "categorical"]
    csi: float
    light: Light
    missing_dev: float
    missing_now: float
    counted: bool = True
    reason: str | None = None


@dataclass(frozen=True)
class CsiResult:
    """CSI of every referenced feature in one cohort.

    Attributes
    ----------
    as_of : datetime.date or None
        Cohort compared; ``None`` when no feature frame was given.
    light : {"green", "amber", "red"}
        From the number of red features (``stability.csi_red_features_*``).
    red_features, amber_features : tuple of str
        Counted features in each band (informational ones left out).
    features : tuple of FeatureDrift
        One per feature computed (counted or informational), largest CSI first.
    missing_columns : tuple of str
        Referenced features absent from the cohort's frame (not compared).
    unavailable : str or None
        Why CSI was not computed (no frozen feature references with the model,
        no feature frame); ``None`` when it was. An unavailable CSI is green:
        it does not move the status, and the reason is shown instead.
    """

    as_of: dt.date | None
    light: Light
    red_features: tuple[str, ...]
    amber_features: tuple[str, ...]
    features: tuple[FeatureDrift, ...]
    missing_columns: tuple[str, ...] = ()
    unavailable: str | None = None
    excluded: dict[str, str] = field(default_factory=dict)
    """Referenced features not computed (``exclude`` in the thresholds file),
    each with its reason."""

    @property
    def informational(self) -> tuple[FeatureDrift, ...]:
        """Features computed and shown but not counted, largest CSI first."""
        return tuple(d for d in self.features if not d.counted)


def psi_from_shares(
    expected: npt.ArrayLike, actual: npt.ArrayLike, *, floor: float = PSI_FLOOR
) -> float:
    """PSI between two vectors of bin shares (or counts).

    Same formula and floor as :func:`credit_engine.validation.psi`:
    ``sum((a - e) * ln(a / e))`` after rescaling each side to sum to one and
    raising shares below ``floor`` to ``floor``.

    Parameters
    ----------
    expected, actual : array-like of float
        Shares (or counts) per bin, same length, non-negative, positive sum.
    floor : float, default=1e-4
        Smallest share a bin is given.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the lengths differ or a side is empty, negative or NaN.

    Examples
    --------
    >>> round(psi_from_shares([0.5, 0.5], [0.75, 0.25]), 4)
    0.2747
    """
    e = np.asarray(expected, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(
            f"PSI needs two share vectors of the same length; got shapes {e.shape} "
            f"and {a.shape}."
        )
    for name, arr in (("expected", e), ("actual", a)):
        if np.isnan(arr).any() or (arr < 0).any() or arr.sum() <= 0:
            raise ValueError(
                f"The {name} shares must be non-negative with a positive sum; got "
                f"{arr[:8].tolist()}."
            )
    e = np.maximum(e / e.sum(), floor)
    a = np.maximum(a / a.sum(), floor)
    return float(np.sum((a - e) * np.log(a / e)))


def bin_shares(
    values: npt.ArrayLike, edges: Sequence[float]
) -> npt.NDArray[np.float64]:
    """Shares of ``values`` per frozen bin, plus a last share for NaN.

    Bins follow :func:`credit_engine.validation.psi`: ``edges[i] <= x <
    edges[i + 1]``, values outside the edges fall in the outer bins.

    Examples
    --------
    >>> bin_shares([1.0, 2.0, 3.0, float("nan")], [-np.inf, 2.5, np.inf]).tolist()
    [0.5, 0.25, 0.25]
    """
    x = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.float64)
    if x.size == 0:
        raise ValueError("Cannot compute shares of an empty cohort.")
    missing = np.isnan(x)
    index = np.clip(np.searchsorted(e, x[~missing], side="right") - 1, 0, e.size - 2)
    counts = np.bincount(index, minlength=e.size - 1).astype(np.float64)
    out: npt.NDArray[np.float64] = np.append(counts, float(missing.sum())) / x.size
    return out


def feature_csi(values: pd.Series, reference: FeatureReference) -> tuple[float, float]:
    """CSI of one feature's cohort values against its reference.

    Parameters
    ----------
    values : pandas.Series
        The feature in the cohort.
    reference : FeatureReference
        Its development distribution.

    Returns
    -------
    csi : float
        PSI over the reference bins (plus "other" for categories) and a missing bin.
    missing_now : float
        Share of missing values in the cohort.

    Raises
    ------
    ValueError
        If a numeric reference meets a column that is not numeric.
    """
    n = values.shape[0]
    if n == 0:
        raise ValueError(f"Feature {reference.name!r} has no rows in the cohort.")
    if reference.kind == "numeric":
        if not _is_numeric(values):
            raise ValueError(
                f"Feature {reference.name!r} is numeric in development but has dtype "
                f"{values.dtype} in the cohort; cast it to a number."
            )
        now = bin_shares(
            values.to_numpy(dtype=np.float64, na_value=np.nan), reference.edges
        )
        dev = np.array([*reference.shares_dev, reference.missing_share_dev])
        return psi_from_shares(dev, now), float(now[-1])
    import pandas as pd

    labels, missing = _category_labels(values)
    codes = pd.Index(list(reference.categories)).get_indexer(pd.Index(labels))
    k = len(reference.categories)
    slot = np.where(codes < 0, k, codes)  # unseen -> "other"
    slot[missing] = k + 1
    now = np.bincount(slot, minlength=k + 2) / n
    dev = np.array([*reference.shares_dev, 0.0, reference.missing_share_dev])
    return psi_from_shares(dev, now), float(now[-1])


def feature_stability(
    frame: pd.DataFrame,
    references: Sequence[FeatureReference],
    thresholds: MonitoringThresholds,
    *,
    as_of: dt.date | None = None,
) -> CsiResult:
    """CSI of each referenced feature of one cohort, with traffic lights.

    Parameters
    ----------
    frame : pandas.DataFrame
        The cohort's features, one column per feature (extra columns ignored).
    references : sequence of FeatureReference
        Frozen development distributions.
    thresholds : MonitoringThresholds
        PSI bands (``stability.psi_*``) and the red-feature counts.
    as_of : datetime.date or None, default=None
        The cohort's rating date, recorded in the result.

    Returns
    -------
    CsiResult
        Features largest CSI first; referenced features missing from ``frame``
        are listed in ``missing_columns`` and count as red. A feature the
        thresholds file lists under ``csi_features`` is either computed but not
        counted (``informational``: its band is shown, never counted) or not
        computed (``exclude``: listed in ``excluded`` with the reason).
    """
    from credit_engine.monitoring._lights import count_light

    policy = thresholds.validation_policy()
    rules = thresholds.csi_features
    drifts = []
    absent = []
    excluded = {}
    for ref in references:
        rule = rules.get(ref.name)
        if rule is not None and rule.treatment == "exclude":
            excluded[ref.name] = rule.reason
            continue
        if ref.name not in frame.columns:
            absent.append(ref.name)
            continue
        csi, missing_now = feature_csi(frame[ref.name], ref)
        drifts.append(
            FeatureDrift(
                feature=ref.name,
                kind=ref.kind,
                csi=csi,
                light=psi_light(csi, policy),
                missing_dev=ref.missing_share_dev,
                missing_now=missing_now,
                counted=rule is None,
                reason=None if rule is None else rule.reason,
            )
        )
    drifts.sort(key=lambda d: (-d.csi, d.feature))
    counted = [d for d in drifts if d.counted]
    red = tuple(d.feature for d in counted if d.light == "red") + tuple(absent)
    amber = tuple(d.feature for d in counted if d.light == "amber")
    light = count_light(
        len(red),
        thresholds.stability.csi_red_features_amber,
        thresholds.stability.csi_red_features_red,
    )
    return CsiResult(
        as_of=as_of,
        light=light,
        red_features=red,
        amber_features=amber,
        features=tuple(drifts),
        missing_columns=tuple(absent),
        excluded=excluded,
    )
