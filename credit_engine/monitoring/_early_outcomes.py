"""Early outcomes: adverse events of immature cohorts against their PDs, per segment.

A cohort's outcomes are known a full horizon (twelve months) after it was
rated, so the back-test speaks a year late. Events happen before that: of the
enterprises performing at a cohort rated ``e`` days before the report date, a
calibrated model expects ``sum(1 - (1 - pd) ** (e / horizon))`` to have had an
adverse event by now (constant hazard over the horizon). This module compares
the events observed so far with that expectation, for the whole zone and for
each segment (industry, district), at one or more windows (cohorts rated about
90 and 180 days before the report).

Two tests, one-sided (more events than expected):

* **zone**: observed ``O`` against ``Poisson(E)`` (the Poisson law is a
  conservative stand-in for the Poisson-binomial sum of Bernoulli draws: its
  variance is larger);
* **segment**: given the zone's events, the segment's share of them against
  its share of the expectation, ``Binomial(O_zone, E_seg / E_zone)``, so a
  zone-wide swing (season, the hazard's shape over the horizon) cancels out
  and a shock confined to one sector or district stands out.

A test colours only when both its p-value and its effect size pass: ``p <
alpha / m`` (Bonferroni over the ``m`` tests of its family: zone tests, segment
tests) and the rate ratio (observed / expected, relative to the rest of the
zone for a segment) at least ``ratio_amber`` / ``ratio_red``. Segments with
fewer than ``min_rows`` performing enterprises or an expectation under
``min_expected`` events are listed but not tested.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring._lights import worst_light
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import Light

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ZONE",
    "EarlyOutcomeTest",
    "EarlyOutcomes",
    "early_outcome_cohorts",
    "early_outcomes",
    "expected_by_now",
]

ZONE = "zone"
"""The dimension (and segment) name of the whole-zone test."""


@dataclass(frozen=True)
class EarlyOutcomeTest:
    """One test of early outcomes: a window, a dimension and a segment.

    Attributes
    ----------
    window_days : int
        The window asked for (``early_outcomes.windows_days``).
    cohort : datetime.date
        The cohort tested: rated about ``window_days`` before the report.
    elapsed_days : int
        Days from the cohort to the observation end (events counted in them).
    dimension : str
        ``"zone"``, ``"industry"`` or ``"district"``.
    segment : str
        The segment's code (``"zone"`` for the zone).
    rows : int
        Performing enterprises of the segment at the cohort date.
    observed : int
        Of them, those with an adverse event by the observation end.
    expected : float
        Events expected from their PDs over ``elapsed_days``.
    ratio : float
        ``observed / expected``; for a segment, relative to the rest of the
        zone (``(O_s / E_s) / (O_rest / E_rest)``, ``inf`` when the rest had
        none). NaN when not tested.
    p_value : float
        One-sided p-value (more events than expected); NaN when not tested.
    light : {"green", "amber", "red"}
    tested : bool
        False for segments too small to test (``note`` says why).
    note : str
        Why a segment was not tested; empty otherwise.
    """

    window_days: int
    cohort: dt.date
    elapsed_days: int
    dimension: str
    segment: str
    rows: int
    observed: int
    expected: float
    ratio: float
    p_value: float
    light: Light
    tested: bool
    note: str = ""


@dataclass(frozen=True)
class EarlyOutcomes:
    """Early outcomes of a model at the report date.

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Worst light of the tests.
    windows_days : tuple of int
        The windows asked for.
    tests : tuple of EarlyOutcomeTest
        Every test: per window, the zone first, then the segments by dimension
        and code.
    bonferroni : dict of str to int
        Tests per family (``"zone"``, ``"segments"``): the ``m`` of ``alpha / m``.
    notes : tuple of str
        Windows without a cohort to test, segments without a label, and why.
    """

    light: Light
    windows_days: tuple[int, ...]
    tests: tuple[EarlyOutcomeTest, ...]
    bonferroni: dict[str, int]
    notes: tuple[str, ...] = ()

    def alarms(self) -> list[EarlyOutcomeTest]:
        """Return the tests that are amber or red, worst first."""
        order = {"red": 0, "amber": 1}
        hits = [t for t in self.tests if t.light != "green"]
        return sorted(hits, key=lambda t: (order[t.light], t.p_value))


NOT_MONITORED = EarlyOutcomes("green", (), (), {"zone": 0, "segments": 0})
"""Early outcomes of a monitor run given no early outcomes (nothing tested)."""


def expected_by_now(
    pd_values: np.ndarray, elapsed_days: int, horizon_days: int
) -> np.ndarray:
    """Return each PD's probability of an event within ``elapsed_days``.

    Under a constant hazard over the horizon, ``1 - (1 - pd) ** (elapsed /
    horizon)``.

    Examples
    --------
    >>> expected_by_now(np.array([0.19, 0.0]), 182, 364).round(4).tolist()
    [0.1, 0.0]
    """
    share = elapsed_days / horizon_days
    clipped = np.clip(np.asarray(pd_values, dtype=np.float64), 0.0, 1.0)
    return 1.0 - np.power(1.0 - clipped, share)


def early_outcome_cohorts(
    dates: Sequence[dt.date],
    *,
    observation_end: dt.date,
    horizon_days: int,
    windows_days: Sequence[int],
    slack_days: int,
) -> dict[int, dt.date]:
    """Pick the cohort each window tests.

    For a window of ``W`` days: the latest cohort rated at least ``W -
    slack_days`` days before ``observation_end`` and not yet matured (fewer than
    ``horizon_days`` days before it). Windows without such a cohort are left
    out.

    Examples
    --------
    >>> ends = [dt.date(2025, 9, 30), dt.date(2025, 12, 31), dt.date(2026, 1, 31)]
    >>> early_outcome_cohorts(ends, observation_end=dt.date(2026, 3, 31),
    ...     horizon_days=365, windows_days=[90, 180], slack_days=10)
    {90: datetime.date(2025, 12, 31), 180: datetime.date(2025, 9, 30)}
    """
    picked: dict[int, dt.date] = {}
    for window in windows_days:
        eligible = [
            d
            for d in dates
            if window - slack_days <= (observation_end - d).days < horizon_days
        ]
        if eligible:
            picked[int(window)] = max(eligible)
    return picked


def _poisson_sf(observed: int, expected: float) -> float:
    from scipy.stats import poisson

    if observed <= 0:
        return 1.0
    return float(poisson.sf(observed - 1, expected))


def _binomial_sf(observed: int, trials: int, share: float) -> float:
    from scipy.stats import binom

    if observed <= 0:
        return 1.0
    return float(binom.sf(observed - 1, trials, min(max(share, 0.0), 1.0)))


def _light(p: float, ratio: float, m: int, thresholds: MonitoringThresholds) -> Light:
    early = thresholds.early_outcomes
    alpha = thresholds.tests
    if p < alpha.alpha_red / m and ratio >= early.ratio_red:
        return "red"
    if p < alpha.alpha_amber / m and ratio >= early.ratio_amber:
        return "amber"
    return "green"


@dataclass
class _Cell:
    window: int
    cohort: dt.date
    elapsed: int
    dimension: str
    segment: str
    rows: int
    observed: int
    expected: float
    note: str = ""


def _cells(
    frame: pd.DataFrame,
    *,
    window: int,
    cohort: dt.date,
    elapsed: int,
    dimensions: Sequence[str],
    thresholds: MonitoringThresholds,
) -> list[_Cell]:
    early = thresholds.early_outcomes
    zone = _Cell(window, cohort, elapsed, ZONE, ZONE, int(frame.shape[0]),
                 int(frame["y"].sum()), float(frame["expected"].sum()))  # fmt: skip
    cells = [zone]
    for dimension in dimensions:
        grouped = (
            frame.assign(segment=frame[dimension].astype("string"))
            .groupby("segment", sort=True, dropna=True)
            .agg(
                rows=("y", "size"), observed=("y", "sum"), expected=("expected", "sum")
            )
        )
        for segment, row in grouped.iterrows():
            cell = _Cell(window, cohort, elapsed, dimension, str(segment),
                         int(row["rows"]), int(row["observed"]),
                         float(row["expected"]))  # fmt: skip
            if cell.rows < early.min_rows:
                cell.note = f"fewer than {early.min_rows} performing enterprises"
            elif cell.expected < early.min_expected:
                cell.note = f"fewer than {early.min_expected:g} events expected"
            elif cell.rows == zone.rows:
                cell.note = "the whole zone (tested as the zone)"
            cells.append(cell)
    return cells


def _test(
    c: _Cell,
    zone: _Cell,
    families: dict[str, int],
    thresholds: MonitoringThresholds,
) -> EarlyOutcomeTest:
    light: Light = "green"
    if c.dimension == ZONE:
        ratio = c.observed / c.expected if c.expected > 0 else math.nan
        p = _poisson_sf(c.observed, c.expected)
        if not math.isnan(ratio):
            light = _light(p, ratio, families["zone"], thresholds)
    elif c.note:
        ratio, p = math.nan, math.nan
    else:
        rest_o = zone.observed - c.observed
        rest_e = zone.expected - c.expected
        rest_rate = rest_o / rest_e if rest_e > 0 else math.nan
        seg_rate = c.observed / c.expected
        if rest_rate == 0:
            ratio = math.inf if seg_rate > 0 else math.nan
        else:
            ratio = seg_rate / rest_rate
        p = _binomial_sf(c.observed, zone.observed, c.expected / zone.expected)
        if not math.isnan(ratio):
            light = _light(p, ratio, families["segments"], thresholds)
    return EarlyOutcomeTest(
        window_days=c.window, cohort=c.cohort, elapsed_days=c.elapsed,
        dimension=c.dimension, segment=c.segment, rows=c.rows,
        observed=c.observed, expected=c.expected, ratio=ratio, p_value=p,
        light=light, tested=not c.note, note=c.note,
    )  # fmt: skip


def early_outcomes(
    rows: Mapping[int, pd.DataFrame],
    *,
    observation_end: dt.date,
    horizon_days: int,
    thresholds: MonitoringThresholds,
) -> EarlyOutcomes:
    """Test the early outcomes of the cohorts picked per window.

    Parameters
    ----------
    rows : mapping of int to pandas.DataFrame
        Per window (:func:`early_outcome_cohorts`), the performing rows of its
        cohort: ``as_of`` (one date), ``pd``, ``y`` (1 when an adverse event of
        the model's label happened between ``as_of`` and ``observation_end``,
        0 otherwise, NaN when unknown: such rows are left out) and one column
        per segment dimension of ``thresholds.early_outcomes.segments``, at
        the level to test (NaN where the segment is unknown: left out of that
        dimension only).
    observation_end : datetime.date
        Last day events were observed to.
    horizon_days : int
        The model's outcome horizon (its PDs are over it).
    thresholds : MonitoringThresholds
        ``early_outcomes`` section and the ``tests`` alphas.

    Returns
    -------
    EarlyOutcomes

    Raises
    ------
    DataContractError
        If a frame lacks a column, mixes cohort dates or has ``y`` outside 0/1.
    """
    import pandas as pd

    early = thresholds.early_outcomes
    dimensions = list(early.segments)
    cells: list[_Cell] = []
    notes: list[str] = []
    for window in early.windows_days:
        if window not in rows:
            notes.append(
                f"window {window} days: no cohort rated {window - early.slack_days}"
                f" to {horizon_days - 1} days before {observation_end}"
            )
            continue
        frame = rows[window]
        missing = [c for c in ("as_of", "pd", "y", *dimensions) if c not in frame]
        if missing:
            raise DataContractError(
                f"The early-outcome rows of window {window} lack {missing}; pass "
                "as_of, pd, y and one column per segment dimension."
            )
        dates = pd.to_datetime(frame["as_of"]).dt.date.unique()
        if len(dates) != 1:
            raise DataContractError(
                f"The early-outcome rows of window {window} hold {len(dates)} "
                "cohort dates; pass the rows of one cohort per window."
            )
        cohort = dates[0]
        known = frame.loc[frame["y"].notna()]
        if not known["y"].isin([0, 1]).all():
            raise DataContractError(
                f"y of window {window} must be 0 or 1 (or NaN when unknown)."
            )
        elapsed = (observation_end - cohort).days
        known = known.assign(
            y=known["y"].astype(np.int64),
            expected=expected_by_now(known["pd"].to_numpy(), elapsed, horizon_days),
        )
        for dimension in dimensions:
            unlabelled = int(known[dimension].isna().sum())
            if unlabelled:
                notes.append(
                    f"window {window} days: {unlabelled} enterprises of unknown "
                    f"{dimension} are left out of the {dimension} segments"
                )
        cells.extend(
            _cells(known, window=window, cohort=cohort, elapsed=elapsed,
                   dimensions=dimensions, thresholds=thresholds)
        )  # fmt: skip
    zone_m = max(1, sum(c.dimension == ZONE for c in cells))
    segment_m = max(1, sum(c.dimension != ZONE and not c.note for c in cells))
    zone_of = {c.window: c for c in cells if c.dimension == ZONE}
    families = {"zone": zone_m, "segments": segment_m}
    tests = [_test(c, zone_of[c.window], families, thresholds) for c in cells]
    return EarlyOutcomes(
        light=worst_light(t.light for t in tests),
        windows_days=tuple(early.windows_days),
        tests=tuple(tests),
        bonferroni=families,
        notes=tuple(notes),
    )
