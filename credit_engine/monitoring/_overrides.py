"""Manual overrides: how often, which way, and how overridden enterprises performed.

An enterprise is *overridden* at a rating date when an override was in force
(``override_id`` set) or decided its tier (``decided_by == "OVERRIDE"``). Its
direction compares the final ``tier`` with the ``model_tier`` the grade alone
gave: an *upgrade* ends in a better tier, a *downgrade* in a worse one,
*unchanged* where the two agree (e.g. a statutory ceiling bound both).

Performance (matured cohorts, pooled; enterprises already in default left out):
the default rate of overridden enterprises of each direction against the
benchmark of non-overridden enterprises *in the tier they were given*, by a
one-sided binomial test (H0: overridden enterprises default no more than their
tier's peers). A red upgrade means upgraded enterprises default like a worse
tier than the one granted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from credit_engine.monitoring._cohorts import (
    OVERRIDE_COLUMNS,
    _as_date,
    _dates,
    _no_duplicates,
    _require,
    attach_outcomes,
    is_matured,
)
from credit_engine.monitoring._lights import level_light, worst_light
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import Light, binomial_test, traffic_light
from credit_engine.vocabulary import DecidedBy, Tier

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OverrideCohort",
    "OverrideMonitoring",
    "OverridePerformance",
    "monitor_overrides",
]

Direction = Literal["upgrade", "downgrade"]


@dataclass(frozen=True)
class OverrideCohort:
    """Overrides of one rating date.

    Attributes
    ----------
    as_of : datetime.date
        Rating date.
    n : int
        Decisions.
    overridden : int
        Decisions with an override.
    rate : float
        ``overridden / n``.
    upgrades, downgrades, unchanged : int
        Overridden decisions by direction.
    light : {"green", "amber", "red"}
        ``rate`` against ``overrides.rate_*``.
    """

    as_of: dt.date
    n: int
    overridden: int
    rate: float
    upgrades: int
    downgrades: int
    unchanged: int
    light: Light


@dataclass(frozen=True)
class OverridePerformance:
    """Default rate of overridden enterprises of one direction (matured cohorts).

    Attributes
    ----------
    direction : {"upgrade", "downgrade"}
        Which overrides.
    n, defaults : int
        Overridden performing enterprises with an outcome (and a benchmark),
        and their defaults.
    default_rate : float or None
        ``defaults / n``; ``None`` when ``n == 0``.
    benchmark_rate : float or None
        Default rate expected from non-overridden enterprises of the same
        final tiers (tier mix of the overridden ones).
    p_value : float or None
        One-sided binomial p-value, H0: ``default_rate <= benchmark_rate``.
    light : {"green", "amber", "red"}
        Traffic light of ``p_value`` (green when untested).
    without_benchmark : int
        Overridden rows left out because no non-overridden enterprise of their
        tier had an outcome.
    """

    direction: Direction
    n: int
    defaults: int
    default_rate: float | None
    benchmark_rate: float | None
    p_value: float | None
    light: Light
    without_benchmark: int = 0


@dataclass(frozen=True)
class OverrideMonitoring:
    """Override monitoring of the decisions of one rating system.

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Worst of the latest rate's light and the performance lights.
    rate : float
        Override rate of the latest rating date.
    by_cohort : tuple of OverrideCohort
        Rate and directions per rating date.
    matured_cohorts : tuple of datetime.date
        Rating dates pooled for the performance figures.
    non_overridden_default_rate : float or None
        Default rate of non-overridden performing enterprises (matured).
    performance : tuple of OverridePerformance
        Upgrades, then downgrades.
    """

    light: Light
    rate: float
    by_cohort: tuple[OverrideCohort, ...]
    matured_cohorts: tuple[dt.date, ...]
    non_overridden_default_rate: float | None
    performance: tuple[OverridePerformance, ...]


def _direction(tier: pd.Series, model_tier: pd.Series) -> np.ndarray:
    """-1 upgrade, +1 downgrade, 0 unchanged (ranks: A best)."""
    rank = {t.value: t.rank for t in Tier}
    unknown = sorted((set(tier.unique()) | set(model_tier.unique())) - set(rank))
    if unknown:
        from credit_engine.exceptions import DataContractError

        raise DataContractError(
            f"Tiers {unknown[:5]} are not among {list(Tier.values())}; pass the "
            "decisions' tier and model_tier columns."
        )
    diff = tier.map(rank).to_numpy(dtype=np.int64) - model_tier.map(rank).to_numpy(
        dtype=np.int64
    )
    out: np.ndarray = np.sign(diff)
    return out


def _performance(
    rows: pd.DataFrame,
    direction: Direction,
    code: int,
    thresholds: MonitoringThresholds,
) -> OverridePerformance:
    base = rows.loc[~rows["overridden"]]
    tier_rate = base.groupby("tier")["y"].mean()
    mine = rows.loc[rows["overridden"] & (rows["direction"] == code)]
    benchmark = mine["tier"].map(tier_rate)
    tested = mine.loc[benchmark.notna()]
    n, defaults = int(tested.shape[0]), int(tested["y"].sum())
    if n == 0:
        return OverridePerformance(
            direction, 0, 0, None, None, None, "green", int(mine.shape[0])
        )
    expected = float(benchmark.dropna().mean())
    p_value = binomial_test(n, defaults, min(max(expected, 0.0), 1.0))
    return OverridePerformance(
        direction=direction,
        n=n,
        defaults=defaults,
        default_rate=defaults / n,
        benchmark_rate=expected,
        p_value=p_value,
        light=traffic_light(p_value, thresholds.validation_policy()),
        without_benchmark=int(mine.shape[0] - n),
    )


def monitor_overrides(
    decisions: pd.DataFrame,
    *,
    thresholds: MonitoringThresholds,
    observation_end: dt.date,
    horizon_days: int,
    outcomes: pd.DataFrame | None = None,
) -> OverrideMonitoring:
    """Override rate, direction and performance of stored decisions.

    Parameters
    ----------
    decisions : pandas.DataFrame
        Decisions with :data:`OVERRIDE_COLUMNS` (one row per enterprise and
        rating date).
    thresholds : MonitoringThresholds
        ``overrides.rate_*`` and the alphas.
    observation_end : datetime.date
        Last date outcomes are observed to; a rating date is matured when
        ``as_of + horizon_days <= observation_end``.
    horizon_days : int
        Outcome horizon.
    outcomes : pandas.DataFrame or None, default=None
        ``uscc, as_of, y`` of matured rows; without it no performance is
        measured.

    Returns
    -------
    OverrideMonitoring

    Raises
    ------
    DataContractError
        If a column is missing, a key repeats or a tier is unknown.
    """
    _require(decisions, OVERRIDE_COLUMNS, "decisions")
    frame = decisions[list(OVERRIDE_COLUMNS)].copy()
    frame["as_of"] = _dates(frame, "decisions")
    _no_duplicates(frame, "decisions")
    frame["tier"] = frame["tier"].astype(str)
    frame["model_tier"] = frame["model_tier"].astype(str)
    frame["overridden"] = frame["override_id"].notna() | (
        frame["decided_by"].astype(str) == DecidedBy.OVERRIDE.value
    )
    frame["direction"] = _direction(frame["tier"], frame["model_tier"])
    limits = thresholds.overrides
    by_cohort = []
    for as_of, group in frame.groupby("as_of", sort=True):
        over = group.loc[group["overridden"], "direction"]
        rate = float(over.size / group.shape[0])
        by_cohort.append(
            OverrideCohort(
                as_of=_as_date(as_of),
                n=int(group.shape[0]),
                overridden=int(over.size),
                rate=rate,
                upgrades=int((over < 0).sum()),
                downgrades=int((over > 0).sum()),
                unchanged=int((over == 0).sum()),
                light=level_light(rate, limits.rate_amber, limits.rate_red),
            )
        )
    matured: tuple[dt.date, ...] = ()
    base_rate: float | None = None
    performance: tuple[OverridePerformance, ...] = ()
    if outcomes is not None:
        matured = tuple(
            c.as_of
            for c in by_cohort
            if is_matured(
                c.as_of, horizon_days=horizon_days, observation_end=observation_end
            )
        )
        frame["y"] = attach_outcomes(frame, outcomes)
        keep = frame["as_of"].dt.date.isin(matured) & ~frame["in_default"].astype(bool)
        rows = frame.loc[keep & frame["y"].notna()]
        if rows.shape[0]:
            base = rows.loc[~rows["overridden"], "y"]
            base_rate = float(base.mean()) if base.size else None
            performance = (
                _performance(rows, "upgrade", -1, thresholds),
                _performance(rows, "downgrade", 1, thresholds),
            )
    latest = by_cohort[-1] if by_cohort else None
    light = worst_light(
        [latest.light if latest else None, *(p.light for p in performance)]
    )
    return OverrideMonitoring(
        light=light,
        rate=latest.rate if latest else 0.0,
        by_cohort=tuple(by_cohort),
        matured_cohorts=matured,
        non_overridden_default_rate=base_rate,
        performance=performance,
    )
