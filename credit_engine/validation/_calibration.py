"""Calibration tests of a grade scale: binomial, Jeffreys, Hosmer-Lemeshow."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "binomial_test",
    "hosmer_lemeshow",
    "jeffreys_interval",
    "jeffreys_test",
]


def _check_counts(n: int, defaults: int, pd_: float) -> None:
    problems = []
    if n < 0:
        problems.append(f"n={n} is negative")
    if not 0 <= defaults <= max(n, 0):
        problems.append(f"defaults={defaults} is outside [0, n={n}]")
    if math.isnan(pd_) or not 0.0 <= pd_ <= 1.0:
        problems.append(f"pd_={pd_} is outside [0, 1]")
    if problems:
        raise ValueError(
            "Cannot test a grade: " + "; ".join(problems) + ". Pass the number of "
            "rows, the number of defaults among them and the grade PD."
        )


def binomial_test(n: int, defaults: int, pd_: float) -> float:
    """One-sided binomial test that a grade PD is not too low.

    H0: the grade PD is at least the true default rate; a small p-value says
    the grade PD underestimates the defaults. Rows are taken as independent.

    Parameters
    ----------
    n : int
        Rows in the grade.
    defaults : int
        Defaults among them.
    pd_ : float
        PD assigned to the grade.

    Returns
    -------
    float
        ``P(X >= defaults)`` for ``X ~ Binomial(n, pd_)``, i.e.
        ``scipy.stats.binom.sf(defaults - 1, n, pd_)``; 1.0 when ``defaults == 0``.

    Raises
    ------
    ValueError
        If counts are negative, ``defaults > n`` or ``pd_`` is outside [0, 1].

    Examples
    --------
    >>> round(binomial_test(100, 5, 0.02), 4)
    0.0508
    >>> binomial_test(100, 0, 0.02)
    1.0
    """
    from scipy import stats

    _check_counts(n, defaults, pd_)
    return float(stats.binom.sf(defaults - 1, n, pd_))


def jeffreys_test(n: int, defaults: int, pd_: float) -> float:
    """One-sided Jeffreys test that a grade PD is not too low (ECB instructions).

    The posterior of the default rate under the Jeffreys prior Beta(1/2, 1/2)
    is ``Beta(defaults + 1/2, n - defaults + 1/2)``; the p-value of H0 "PD >= true
    default rate" is the posterior probability that the rate is below ``pd_``.

    Parameters
    ----------
    n : int
        Rows in the grade.
    defaults : int
        Defaults among them.
    pd_ : float
        PD assigned to the grade.

    Returns
    -------
    float
        ``scipy.stats.beta(defaults + 0.5, n - defaults + 0.5).cdf(pd_)``.

    Raises
    ------
    ValueError
        If counts are negative, ``defaults > n`` or ``pd_`` is outside [0, 1].

    Examples
    --------
    >>> round(jeffreys_test(100, 5, 0.02), 4)
    0.0286
    """
    from scipy import stats

    _check_counts(n, defaults, pd_)
    return float(stats.beta.cdf(pd_, defaults + 0.5, n - defaults + 0.5))


def jeffreys_interval(
    n: int, defaults: int, level: float = 0.95
) -> tuple[float, float]:
    """Equal-tailed Jeffreys interval of a default rate.

    Parameters
    ----------
    n : int
        Rows.
    defaults : int
        Defaults among them.
    level : float, default=0.95
        Coverage of the interval.

    Returns
    -------
    tuple of float
        ``(lower, upper)`` quantiles of ``Beta(defaults + 0.5, n - defaults + 0.5)``;
        the lower bound is 0 when ``defaults == 0`` and the upper 1 when
        ``defaults == n`` (the usual boundary fix).

    Raises
    ------
    ValueError
        If ``n < 1``, ``defaults`` is outside [0, n] or ``level`` outside (0, 1).

    Examples
    --------
    >>> low, high = jeffreys_interval(100, 5)
    >>> round(low, 4), round(high, 4)
    (0.0193, 0.1061)
    """
    from scipy import stats

    if n < 1 or not 0 <= defaults <= n or not 0.0 < level < 1.0:
        raise ValueError(
            f"A Jeffreys interval needs n >= 1, 0 <= defaults <= n and 0 < level < 1;"
            f" got n={n}, defaults={defaults}, level={level}."
        )
    tail = (1.0 - level) / 2.0
    a, b = defaults + 0.5, n - defaults + 0.5
    lower = 0.0 if defaults == 0 else float(stats.beta.ppf(tail, a, b))
    upper = 1.0 if defaults == n else float(stats.beta.ppf(1.0 - tail, a, b))
    return lower, upper


def hosmer_lemeshow(
    n: npt.ArrayLike, defaults: npt.ArrayLike, pd_: npt.ArrayLike
) -> tuple[float, float]:
    """Hosmer-Lemeshow chi-square test of a whole grade scale.

    ``HL = sum((d_i - n_i p_i)^2 / (n_i p_i (1 - p_i)))`` over grades with rows.
    The grade PDs are fixed before the outcomes are seen (a validation sample),
    so the statistic is compared with a chi-square with as many degrees of
    freedom as non-empty grades (Basel Committee WP 14), not ``k - 2``.

    Parameters
    ----------
    n : array-like of int
        Rows per grade.
    defaults : array-like of int
        Defaults per grade.
    pd_ : array-like of float
        PD of each grade, strictly between 0 and 1.

    Returns
    -------
    statistic : float
        HL statistic.
    p_value : float
        ``scipy.stats.chi2.sf(statistic, k)`` with ``k`` the number of grades that
        hold rows; a small value says the PDs do not fit the observed defaults.

    Raises
    ------
    ValueError
        If the arrays differ in length, counts are inconsistent, a PD is not
        strictly between 0 and 1, or every grade is empty.

    Examples
    --------
    >>> stat, p = hosmer_lemeshow([100, 100], [1, 10], [0.01, 0.10])
    >>> stat, p
    (0.0, 1.0)
    >>> stat, p = hosmer_lemeshow([100, 100], [5, 10], [0.01, 0.10])
    >>> round(stat, 2), round(p, 4)
    (16.16, 0.0003)
    """
    from scipy import stats

    rows = np.asarray(n, dtype=np.float64)
    bad = np.asarray(defaults, dtype=np.float64)
    p = np.asarray(pd_, dtype=np.float64)
    if not rows.ndim == bad.ndim == p.ndim == 1 or not (
        rows.shape == bad.shape == p.shape
    ):
        raise ValueError(
            f"n, defaults and pd_ need one value per grade; got shapes {rows.shape}, "
            f"{bad.shape} and {p.shape}."
        )
    if (rows < 0).any() or (bad < 0).any() or (bad > rows).any():
        raise ValueError(
            f"Counts must satisfy 0 <= defaults <= n per grade; got n="
            f"{rows.tolist()}, defaults={bad.tolist()}."
        )
    if not ((p > 0.0) & (p < 1.0)).all():
        raise ValueError(
            f"Grade PDs must lie strictly between 0 and 1; got {p.tolist()}."
        )
    used = rows > 0
    if not used.any():
        raise ValueError("Every grade is empty; Hosmer-Lemeshow needs rows.")
    expected = rows[used] * p[used]
    statistic = float(
        np.sum((bad[used] - expected) ** 2 / (expected * (1.0 - p[used])))
    )
    return statistic, float(stats.chi2.sf(statistic, int(used.sum())))
