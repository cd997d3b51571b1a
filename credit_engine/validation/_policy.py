"""Validation thresholds (a policy, not regulation) and the colours they give."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GradeLight",
    "IvBand",
    "Light",
    "ValidationPolicy",
    "iv_band",
    "psi_light",
    "traffic_light",
]

Light = Literal["green", "amber", "red"]
"""Traffic-light colour of a test or an indicator."""

GradeLight = Literal["green", "amber", "red", "empty"]
"""Colour of a grade; ``"empty"`` when the grade holds no rows (nothing to test)."""

IvBand = Literal["unpredictive", "weak", "medium", "strong", "suspicious"]
"""Siddiqi's information value bands."""


class ValidationPolicy(BaseModel):
    """Thresholds of the validation pack.

    Every number here is a convention (ANCHORS.md §6), not a regulatory value,
    so a bank sets its own and versions it with the model.

    Parameters
    ----------
    alpha_amber : float, default=0.05
        A one-sided test with a p-value below this is amber.
    alpha_red : float, default=0.01
        A one-sided test with a p-value below this is red.
    psi_monitor : float, default=0.10
        PSI (and CSI) below this is green (stable).
    psi_significant : float, default=0.25
        PSI from ``psi_monitor`` up to this is amber (monitor); from here on red.
    max_grade_share : float, default=0.30
        Largest share of rows one grade may hold; grades above it are flagged.
    iv_weak : float, default=0.02
        IV below this is "unpredictive".
    iv_medium : float, default=0.10
        IV from ``iv_weak`` up to this is "weak".
    iv_strong : float, default=0.30
        IV from ``iv_medium`` up to this is "medium"; from here on "strong".
    iv_suspicious : float, default=0.50
        IV above this is "suspicious" (too good to be true: check for leakage).
    n_score_bins : int, default=10
        Number of quantile bins frozen on development data for PSI and CSI.
    gini_acceptable : float, default=0.30
        Out-of-time Gini below this is red (weak discrimination).
    gini_good : float, default=0.50
        Out-of-time Gini from ``gini_acceptable`` up to this is amber.
    gini_max_relative_drop : float, default=0.10
        A relative fall of the Gini from development to out-of-time larger than
        this makes a green Gini amber.

    Examples
    --------
    >>> ValidationPolicy(alpha_amber=0.10).alpha_amber
    0.1
    >>> ValidationPolicy(alpha_amber=0.01, alpha_red=0.05)
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error ...
    ...
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha_amber: float = Field(default=0.05, gt=0.0, lt=1.0)
    alpha_red: float = Field(default=0.01, gt=0.0, lt=1.0)
    psi_monitor: float = Field(default=0.10, gt=0.0)
    psi_significant: float = Field(default=0.25, gt=0.0)
    max_grade_share: float = Field(default=0.30, gt=0.0, le=1.0)
    iv_weak: float = Field(default=0.02, ge=0.0)
    iv_medium: float = Field(default=0.10, ge=0.0)
    iv_strong: float = Field(default=0.30, ge=0.0)
    iv_suspicious: float = Field(default=0.50, ge=0.0)
    n_score_bins: int = Field(default=10, ge=2)
    gini_acceptable: float = Field(default=0.30, ge=-1.0, le=1.0)
    gini_good: float = Field(default=0.50, ge=-1.0, le=1.0)
    gini_max_relative_drop: float = Field(default=0.10, ge=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> ValidationPolicy:
        pairs = [
            ("alpha_red", "alpha_amber"),
            ("psi_monitor", "psi_significant"),
            ("iv_weak", "iv_medium"),
            ("iv_medium", "iv_strong"),
            ("iv_strong", "iv_suspicious"),
            ("gini_acceptable", "gini_good"),
        ]
        wrong = [
            f"{low}={getattr(self, low)} must be below {high}={getattr(self, high)}"
            for low, high in pairs
            if not getattr(self, low) < getattr(self, high)
        ]
        if wrong:
            raise ValueError(
                "Validation thresholds are out of order: "
                + "; ".join(wrong)
                + ". Swap or correct the values."
            )
        return self


def _check_number(name: str, value: float) -> None:
    if math.isnan(value):
        raise ValueError(
            f"{name} is NaN; a colour needs a number. Check the inputs of the "
            "test that produced it."
        )


def traffic_light(p_value: float, policy: ValidationPolicy) -> Light:
    """Colour of a one-sided test from its p-value.

    Parameters
    ----------
    p_value : float
        P-value of a test whose null hypothesis is "the model is fine", e.g.
        :func:`binomial_test` (H0: PD >= true default rate).
    policy : ValidationPolicy
        Gives ``alpha_amber`` and ``alpha_red``.

    Returns
    -------
    {"green", "amber", "red"}
        Red below ``alpha_red``, amber below ``alpha_amber``, else green.

    Raises
    ------
    ValueError
        If ``p_value`` is NaN.

    Examples
    --------
    >>> policy = ValidationPolicy()
    >>> traffic_light(0.20, policy), traffic_light(0.03, policy)
    ('green', 'amber')
    >>> traffic_light(0.001, policy)
    'red'
    """
    _check_number("p_value", p_value)
    if p_value < policy.alpha_red:
        return "red"
    if p_value < policy.alpha_amber:
        return "amber"
    return "green"


def psi_light(value: float, policy: ValidationPolicy) -> Light:
    """Colour of a population stability index (PSI or CSI).

    Parameters
    ----------
    value : float
        PSI, e.g. from :func:`psi`.
    policy : ValidationPolicy
        Gives ``psi_monitor`` and ``psi_significant``.

    Returns
    -------
    {"green", "amber", "red"}
        Green below ``psi_monitor``, amber below ``psi_significant``, else red.

    Raises
    ------
    ValueError
        If ``value`` is NaN.

    Examples
    --------
    >>> policy = ValidationPolicy()
    >>> [psi_light(v, policy) for v in (0.05, 0.10, 0.30)]
    ['green', 'amber', 'red']
    """
    _check_number("PSI", value)
    if value < policy.psi_monitor:
        return "green"
    if value < policy.psi_significant:
        return "amber"
    return "red"


def iv_band(value: float, policy: ValidationPolicy) -> IvBand:
    """Siddiqi band of an information value.

    Parameters
    ----------
    value : float
        Information value, e.g. from :func:`information_value`.
    policy : ValidationPolicy
        Gives ``iv_weak``, ``iv_medium``, ``iv_strong`` and ``iv_suspicious``.

    Returns
    -------
    {"unpredictive", "weak", "medium", "strong", "suspicious"}
        The band; "suspicious" is above ``iv_suspicious``.

    Raises
    ------
    ValueError
        If ``value`` is NaN.

    Examples
    --------
    >>> policy = ValidationPolicy()
    >>> [iv_band(v, policy) for v in (0.01, 0.05, 0.2, 0.4, 0.8)]
    ['unpredictive', 'weak', 'medium', 'strong', 'suspicious']
    """
    _check_number("IV", value)
    if value < policy.iv_weak:
        return "unpredictive"
    if value < policy.iv_medium:
        return "weak"
    if value < policy.iv_strong:
        return "medium"
    if value <= policy.iv_suspicious:
        return "strong"
    return "suspicious"
