"""Performance estimated from calibrated PDs while outcomes are not known yet.

Outcomes arrive a full horizon after ``as_of`` (label delay). Meanwhile, if the
PDs are calibrated, each outcome is a Bernoulli(PD) draw, so the default rate
and the AUC a cohort *will* show have a known distribution: confidence-based
performance estimation (NannyML's CBPE, ANCHORS.md §4.2).

- Default rate: the number of defaults is Poisson-binomial with mean
  ``sum(p)`` and variance ``sum(p (1 - p))``; the interval is its normal
  approximation (exact mean and variance, deterministic).
- AUC: point estimate :func:`expected_auc`; interval from seeded Monte Carlo
  draws of the outcomes, whose AUC is computed from fixed midranks of the
  scores (one sort per cohort, then one matrix-vector product per chunk).

For a matured cohort both the estimate and the realised figure are kept, so a
report can show how well the estimate tracked.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from credit_engine.monitoring._discrimination import _midranks, expected_auc

__all__ = ["PerformanceEstimate", "estimate_performance"]

_CHUNK_CELLS = 4_000_000
"""Bernoulli draws held in memory at once (rows x draws per chunk)."""


@dataclass(frozen=True)
class PerformanceEstimate:
    """Estimated (and, once matured, realised) performance of one cohort.

    Attributes
    ----------
    as_of : datetime.date or None
        Rating date of the cohort.
    n : int
        Performing rows estimated.
    matured : bool
        Whether the outcomes are known.
    expected_default_rate : float
        Mean PD.
    default_rate_lower, default_rate_upper : float
        Interval of the default rate the cohort will show if PDs are calibrated.
    expected_auc : float
        Expected AUC (:func:`expected_auc`).
    auc_lower, auc_upper : float
        Monte Carlo interval of the AUC it will show (NaN if no draw had both
        classes).
    level : float
        Coverage of the intervals.
    n_draws : int
        Monte Carlo draws.
    realised_default_rate, realised_auc : float or None
        Observed figures of a matured cohort (``None`` before; AUC ``None`` when
        the outcomes hold a single class).
    default_rate_ratio : float
        ``expected_default_rate`` over the default rate at initial validation
        (NaN unless :func:`estimate_performance` is given it).
    default_rate_covered, auc_covered : bool or None
        Whether the realised figure fell inside its interval (``None`` before
        maturity, or without an AUC).
    """

    as_of: dt.date | None
    n: int
    matured: bool
    expected_default_rate: float
    default_rate_lower: float
    default_rate_upper: float
    expected_auc: float
    auc_lower: float
    auc_upper: float
    level: float
    n_draws: int
    realised_default_rate: float | None = None
    realised_auc: float | None = None
    default_rate_ratio: float = math.nan
    default_rate_covered: bool | None = None
    auc_covered: bool | None = None


def _simulated_aucs(
    proba: npt.NDArray[np.float64],
    ranks: npt.NDArray[np.float64],
    n_draws: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:
    """AUC of ``n_draws`` outcome vectors drawn from the PDs (Mann-Whitney form)."""
    n = proba.size
    chunk = max(1, min(n_draws, _CHUNK_CELLS // max(n, 1)))
    p32 = proba.astype(np.float32)
    out = []
    for start in range(0, n_draws, chunk):
        size = min(chunk, n_draws - start)
        draws = rng.random((size, n), dtype=np.float32) < p32
        events = draws.sum(axis=1).astype(np.float64)
        rank_sum = draws.astype(np.float64) @ ranks
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = (rank_sum - events * (events + 1) / 2) / (events * (n - events))
        out.append(np.where((events > 0) & (events < n), auc, np.nan))
    return np.concatenate(out)


def estimate_performance(
    proba: npt.ArrayLike,
    *,
    level: float,
    n_draws: int,
    seed: int | np.random.SeedSequence,
    score: npt.ArrayLike | None = None,
    as_of: dt.date | None = None,
    y: npt.ArrayLike | None = None,
    default_rate_initial: float | None = None,
) -> PerformanceEstimate:
    """Estimate the default rate and AUC a cohort will show, with intervals.

    Parameters
    ----------
    proba : array-like of float
        Calibrated PDs of the cohort's performing rows.
    level : float
        Coverage of the intervals (``estimation.level``).
    n_draws : int
        Monte Carlo draws for the AUC interval (``estimation.n_draws``).
    seed : int or numpy.random.SeedSequence
        Seed of the draws: the same seed gives the same interval.
    score : array-like of float or None, default=None
        Ranking score (higher = riskier); the PDs when ``None``.
    as_of : datetime.date or None, default=None
        Rating date, recorded in the result.
    y : array-like of int or None, default=None
        Outcomes of a matured cohort, to record the realised figures beside
        the estimate.
    default_rate_initial : float or None, default=None
        Default rate at initial validation, for ``default_rate_ratio``.

    Returns
    -------
    PerformanceEstimate

    Raises
    ------
    ValueError
        If ``proba`` is empty, holds NaN or values outside [0, 1], or ``y``
        does not match it.

    Examples
    --------
    >>> est = estimate_performance([0.01, 0.02, 0.1, 0.3] * 250, level=0.95,
    ...                            n_draws=200, seed=7)
    >>> round(est.expected_default_rate, 4)
    0.1075
    >>> est.default_rate_lower < 0.1075 < est.default_rate_upper
    True
    >>> est.auc_lower < est.expected_auc < est.auc_upper
    True
    """
    from scipy.stats import norm

    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or np.isnan(p).any() or ((p < 0) | (p > 1)).any():
        raise ValueError(
            f"proba must be a non-empty vector of PDs in [0, 1]; got shape {p.shape}"
            + (" with values outside [0, 1] or NaN." if p.size else ".")
        )
    s = p if score is None else np.asarray(score, dtype=np.float64)
    n = p.size
    mean = float(p.mean())
    sd = math.sqrt(float(np.sum(p * (1.0 - p)))) / n
    z = float(norm.ppf(0.5 + level / 2.0))
    rng = np.random.default_rng(seed)
    aucs = _simulated_aucs(p, _midranks(s), n_draws, rng)
    tail = (1.0 - level) / 2.0
    if np.isfinite(aucs).any():
        low, high = np.nanquantile(aucs, [tail, 1.0 - tail])
    else:
        low = high = math.nan
    realised_dr: float | None = None
    realised_auc: float | None = None
    if y is not None:
        outcome = np.asarray(y)
        if outcome.shape != p.shape or not np.isin(outcome, [0, 1]).all():
            raise ValueError(
                f"y must hold one 0/1 outcome per PD; got shape {outcome.shape} for "
                f"{n} PDs."
            )
        realised_dr = float(outcome.mean())
        events = int(outcome.sum())
        if 0 < events < n:
            ranks = _midranks(s)
            realised_auc = float(
                (ranks[outcome == 1].sum() - events * (events + 1) / 2)
                / (events * (n - events))
            )
    ratio = (
        mean / default_rate_initial
        if default_rate_initial is not None and default_rate_initial > 0
        else math.nan
    )
    dr_low, dr_high = max(0.0, mean - z * sd), min(1.0, mean + z * sd)
    return PerformanceEstimate(
        as_of=as_of,
        n=n,
        matured=y is not None,
        expected_default_rate=mean,
        default_rate_lower=dr_low,
        default_rate_upper=dr_high,
        expected_auc=expected_auc(p, s),
        auc_lower=float(low),
        auc_upper=float(high),
        level=level,
        n_draws=n_draws,
        realised_default_rate=realised_dr,
        realised_auc=realised_auc,
        default_rate_ratio=ratio,
        default_rate_covered=(
            None if realised_dr is None else bool(dr_low <= realised_dr <= dr_high)
        ),
        auc_covered=(
            None
            if realised_auc is None or math.isnan(low)
            else bool(low <= realised_auc <= high)
        ),
    )
