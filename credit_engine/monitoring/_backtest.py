"""Back-testing of matured cohorts and grade concentration against initial validation.

The tests themselves are the validation pack's
(:func:`~credit_engine.validation.binomial_test`,
:func:`~credit_engine.validation.jeffreys_test`); this module applies them per
grade of each matured cohort and adds up the colours with the rule of the
thresholds file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from credit_engine.monitoring._lights import count_light, level_light, worst_light
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import (
    GradeLight,
    Light,
    binomial_test,
    hhi,
    jeffreys_interval,
    jeffreys_test,
    normalised_hhi,
    traffic_light,
)

__all__ = [
    "CohortBacktest",
    "ConcentrationChange",
    "GradeBacktest",
    "backtest_cohort",
    "concentration_change",
    "hhi_change_test",
]


@dataclass(frozen=True)
class GradeBacktest:
    """Observed defaults of one grade of a matured cohort against its PD.

    Attributes
    ----------
    grade : str
        Grade label.
    pd : float
        PD of the grade (master scale).
    n, defaults : int
        Rows and defaults.
    observed_rate : float or None
        ``defaults / n``; ``None`` for an empty grade.
    binomial_p, jeffreys_p : float or None
        One-sided p-values, H0: PD >= true default rate (ECB instructions).
    binomial_light, jeffreys_light, light : {"green", "amber", "red", "empty"}
        Colours of each test and the worse of the two; "empty" when ``n == 0``.
    jeffreys_lower, jeffreys_upper : float or None
        Jeffreys interval of the default rate at the estimation level.
    """

    grade: str
    pd: float
    n: int
    defaults: int
    observed_rate: float | None
    binomial_p: float | None
    jeffreys_p: float | None
    binomial_light: GradeLight
    jeffreys_light: GradeLight
    light: GradeLight
    jeffreys_lower: float | None
    jeffreys_upper: float | None


@dataclass(frozen=True)
class CohortBacktest:
    """Back-test of one matured cohort.

    Attributes
    ----------
    as_of : datetime.date
        Rating date.
    n, defaults : int
        Performing rows with a known outcome, and their defaults.
    observed_rate : float
        ``defaults / n``.
    mean_grade_pd : float
        Mean grade PD of the rows (what the rating promised).
    portfolio_p : float
        One-sided binomial p-value of all defaults against ``mean_grade_pd``.
    portfolio_light : {"green", "amber", "red"}
        Its colour.
    grades : tuple of GradeBacktest
        One per grade, best first.
    red_grades, amber_grades : tuple of str
        Grades in each colour.
    light : {"green", "amber", "red"}
        Worst of ``portfolio_light`` and the grade-count rule
        (``backtest.red_grades_*``, ``backtest.amber_grades_amber``).
    outcomes_missing : int
        Performing rows of the cohort without an outcome (left out).
    """

    as_of: dt.date
    n: int
    defaults: int
    observed_rate: float
    mean_grade_pd: float
    portfolio_p: float
    portfolio_light: Light
    grades: tuple[GradeBacktest, ...]
    red_grades: tuple[str, ...]
    amber_grades: tuple[str, ...]
    light: Light
    outcomes_missing: int = 0


def _grade_backtest(
    grade: str, pd_: float, n: int, defaults: int, thresholds: MonitoringThresholds
) -> GradeBacktest:
    if n == 0:
        return GradeBacktest(
            grade, pd_, 0, 0, None, None, None, "empty", "empty", "empty", None, None
        )
    policy = thresholds.validation_policy()
    binomial_p = binomial_test(n, defaults, pd_)
    jeffreys_p = jeffreys_test(n, defaults, pd_)
    b_light = traffic_light(binomial_p, policy)
    j_light = traffic_light(jeffreys_p, policy)
    lower, upper = jeffreys_interval(n, defaults, thresholds.estimation.level)
    return GradeBacktest(
        grade=grade,
        pd=pd_,
        n=n,
        defaults=defaults,
        observed_rate=defaults / n,
        binomial_p=binomial_p,
        jeffreys_p=jeffreys_p,
        binomial_light=b_light,
        jeffreys_light=j_light,
        light=worst_light([b_light, j_light]),
        jeffreys_lower=lower,
        jeffreys_upper=upper,
    )


def backtest_cohort(
    grade_codes: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    grades: Sequence[str],
    grade_pd: Sequence[float],
    thresholds: MonitoringThresholds,
    as_of: dt.date,
    outcomes_missing: int = 0,
) -> CohortBacktest:
    """Back-test one matured cohort per grade and as a whole.

    Parameters
    ----------
    grade_codes : array-like of int
        Index of each row's grade in ``grades`` (0 = best).
    y : array-like of int
        Outcome of each row, 1 for a default within the horizon.
    grades : sequence of str
        Grades, best first.
    grade_pd : sequence of float
        PD of each grade.
    thresholds : MonitoringThresholds
        Alphas, the grade-count rule and the interval level.
    as_of : datetime.date
        Rating date.
    outcomes_missing : int, default=0
        Rows left out for want of an outcome (recorded).

    Returns
    -------
    CohortBacktest

    Raises
    ------
    ValueError
        If the cohort is empty or the arrays do not match.

    Examples
    --------
    >>> import datetime as dt
    >>> from pathlib import Path
    >>> import credit_engine
    >>> from credit_engine.monitoring import load_thresholds
    >>> t = load_thresholds(Path(credit_engine.__file__).parents[1]
    ...                     / "models/monitoring/thresholds.yaml")
    >>> codes = [0] * 100 + [1] * 100
    >>> y = [0] * 99 + [1] + [0] * 80 + [1] * 20  # G2 defaults twice its PD
    >>> bt = backtest_cohort(codes, y, grades=["G1", "G2"], grade_pd=[0.01, 0.1],
    ...                      thresholds=t, as_of=dt.date(2025, 1, 31))
    >>> [g.light for g in bt.grades], bt.light
    (['green', 'red'], 'red')
    """
    codes = np.asarray(grade_codes, dtype=np.int64)
    outcome = np.asarray(y, dtype=np.int64)
    k = len(grades)
    if codes.shape != outcome.shape or codes.size == 0:
        raise ValueError(
            f"A back-test needs one grade and one outcome per row; got "
            f"{codes.size} grades and {outcome.size} outcomes."
        )
    rows = np.bincount(codes, minlength=k)
    bad = np.bincount(codes, weights=outcome, minlength=k).astype(np.int64)
    results = tuple(
        _grade_backtest(g, float(p), int(n), int(d), thresholds)
        for g, p, n, d in zip(grades, grade_pd, rows, bad, strict=True)
    )
    n, defaults = int(codes.size), int(outcome.sum())
    mean_pd = float(np.dot(rows, np.asarray(grade_pd, dtype=np.float64)) / n)
    portfolio_p = binomial_test(n, defaults, mean_pd)
    portfolio_light = traffic_light(portfolio_p, thresholds.validation_policy())
    red = tuple(g.grade for g in results if g.light == "red")
    amber = tuple(g.grade for g in results if g.light == "amber")
    rule = thresholds.backtest
    light = worst_light(
        [
            portfolio_light,
            count_light(len(red), rule.red_grades_amber, rule.red_grades_red),
            "amber" if len(amber) >= rule.amber_grades_amber else "green",
        ]
    )
    return CohortBacktest(
        as_of=as_of,
        n=n,
        defaults=defaults,
        observed_rate=defaults / n,
        mean_grade_pd=mean_pd,
        portfolio_p=portfolio_p,
        portfolio_light=portfolio_light,
        grades=results,
        red_grades=red,
        amber_grades=amber,
        light=light,
        outcomes_missing=outcomes_missing,
    )


def hhi_change_test(
    hhi_initial: float, hhi_current: float, k: int
) -> tuple[float, float, float]:
    """ECB test that grade concentration has not risen since initial validation.

    ECB instructions (2019), section 2.5.5.3: the coefficient of variation of
    the grade shares ``CV = sqrt(K * sum((R_i - 1/K)^2))``, i.e.
    ``sqrt(K * HHI - 1)``, and the one-sided p-value
    ``1 - Phi(sqrt(K - 1) * (CV_now - CV_init) / sqrt(CV_now^2 * (0.5 + CV_now^2)))``;
    H0: the current concentration is not higher than at initial validation.

    Parameters
    ----------
    hhi_initial, hhi_current : float
        HHI of the grade shares at initial validation and now.
    k : int
        Number of grades (non-default), empty ones included.

    Returns
    -------
    cv_initial, cv_current, p_value : float
        ``p_value`` is 1 when both CVs are 0 (equal shares throughout).

    Examples
    --------
    >>> cv0, cv1, p = hhi_change_test(0.16, 0.16, 7)
    >>> round(cv0, 4) == round(cv1, 4), p
    (True, 0.5)
    """
    from scipy.stats import norm

    if k < 2:
        raise ValueError(f"The HHI test needs at least 2 grades; got k={k}.")
    cv_init = math.sqrt(max(k * hhi_initial - 1.0, 0.0))
    cv_now = math.sqrt(max(k * hhi_current - 1.0, 0.0))
    denominator = math.sqrt(cv_now**2 * (0.5 + cv_now**2))
    if denominator == 0:
        return cv_init, cv_now, 1.0
    z = math.sqrt(k - 1) * (cv_now - cv_init) / denominator
    return cv_init, cv_now, float(norm.sf(z))


@dataclass(frozen=True)
class ConcentrationChange:
    """Grade concentration of the latest cohort against initial validation.

    Attributes
    ----------
    as_of : datetime.date
        Cohort compared.
    initial, current : float
        HHI of the grade shares.
    normalised_current : float
        Current HHI rescaled to [0, 1].
    relative_change : float
        ``current / initial - 1``.
    cv_initial, cv_current, p_value : float
        The ECB test (:func:`hhi_change_test`).
    light : {"green", "amber", "red"}
        Worst of the test's colour and the relative increase against
        ``concentration.hhi_increase_*``.
    """

    as_of: dt.date
    initial: float
    current: float
    normalised_current: float
    relative_change: float
    cv_initial: float
    cv_current: float
    p_value: float
    light: Light


def concentration_change(
    counts: npt.ArrayLike,
    hhi_initial: float,
    thresholds: MonitoringThresholds,
    *,
    as_of: dt.date,
) -> ConcentrationChange:
    """Compare the grade HHI of a cohort with its value at initial validation.

    Parameters
    ----------
    counts : array-like of int
        Performing rows per grade, every grade of the scale.
    hhi_initial : float
        HHI at initial validation.
    thresholds : MonitoringThresholds
        Alphas and ``concentration.hhi_increase_*``.
    as_of : datetime.date
        Rating date of the cohort.

    Returns
    -------
    ConcentrationChange
    """
    shares = np.asarray(counts, dtype=np.float64)
    current = hhi(shares)
    cv0, cv1, p_value = hhi_change_test(hhi_initial, current, shares.size)
    change = current / hhi_initial - 1.0
    light = worst_light(
        [
            traffic_light(p_value, thresholds.validation_policy()),
            level_light(
                change,
                thresholds.concentration.hhi_increase_amber,
                thresholds.concentration.hhi_increase_red,
            ),
        ]
    )
    return ConcentrationChange(
        as_of=as_of,
        initial=hhi_initial,
        current=current,
        normalised_current=normalised_hhi(shares),
        relative_change=change,
        cv_initial=cv0,
        cv_current=cv1,
        p_value=p_value,
        light=light,
    )
