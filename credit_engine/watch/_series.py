"""Monitoring run again at every date of a period: how often it raises an alarm.

The status of a monitoring report only means something if it stays green on a
healthy rating system and turns when something happens. :func:`monitor_series`
runs :func:`~credit_engine.watch.monitor` as of each date of a period (each
report point in time: cohorts and outcomes known by then) and keeps the status
of each; :func:`alarm_rate` is the share of amber or red reports, the false
alarm rate when nothing was wrong, and :func:`first_alarm` the first date a
report turned.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from credit_engine.watch._freshness import FreshnessProvider
from credit_engine.watch._monitor import DEFAULT_COHORTS, monitor

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = ["SeriesPoint", "alarm_rate", "first_alarm", "monitor_series"]

_ALARMS = frozenset({"amber", "red"})


@dataclass(frozen=True)
class SeriesPoint:
    """One report of a series.

    Attributes
    ----------
    as_of : datetime.date
        Report date.
    status : {"green", "amber", "red"}
        Overall status.
    models : dict of str to str
        Status of each model key.
    lights : dict of str to dict of str to str
        The light of every part of each model.
    overrides : str or None
        The overrides' light.
    seconds : float
        How long the run took.
    """

    as_of: dt.date
    status: str
    models: dict[str, str]
    lights: dict[str, dict[str, str]]
    overrides: str | None
    seconds: float


def monitor_series(
    settings: Settings,
    dates: Sequence[dt.date],
    *,
    cohorts: int = DEFAULT_COHORTS,
    out: Path | None = None,
    log: bool = False,
    freshness: FreshnessProvider | None = None,
) -> list[SeriesPoint]:
    """Run the monitoring report as of each date; keep the statuses.

    Parameters
    ----------
    settings : Settings
        Engine settings.
    dates : sequence of datetime.date
        Report dates (e.g. month ends); run in order.
    cohorts : int, default=24
        As in :func:`~credit_engine.watch.monitor`.
    out : pathlib.Path, optional
        Parent folder of the reports (``out/<as_of>/``); default
        ``HOME/reports/monitoring/<as_of>/``.
    log : bool, default=False
        Log each report to MLflow.
    freshness : callable, optional
        Data-freshness provider (default: the lake's, as :func:`monitor`).

    Returns
    -------
    list of SeriesPoint
    """
    points = []
    for as_of in sorted(dates):
        start = time.perf_counter()
        outcome = monitor(
            settings,
            as_of,
            cohorts=cohorts,
            out=None if out is None else out / as_of.isoformat(),
            log=log,
            freshness=freshness,
        )
        report = outcome.report
        points.append(
            SeriesPoint(
                as_of=as_of,
                status=str(report.status),
                models={k: str(m.status) for k, m in report.models.items()},
                lights={k: dict(m.lights) for k, m in report.models.items()},
                overrides=None if report.overrides is None else report.overrides.light,
                seconds=time.perf_counter() - start,
            )
        )
    return points


def alarm_rate(points: Sequence[SeriesPoint], key: str | None = None) -> float:
    """Share of reports amber or red (of model ``key``, or overall).

    Examples
    --------
    >>> p = [SeriesPoint(dt.date(2026, m, 1), s, {}, {}, None, 0.0)
    ...      for m, s in ((1, "green"), (2, "amber"), (3, "green"), (4, "red"))]
    >>> alarm_rate(p)
    0.5
    """
    if not points:
        return float("nan")
    states = [p.status if key is None else p.models.get(key, "green") for p in points]
    return sum(s in _ALARMS for s in states) / len(states)


def first_alarm(
    points: Sequence[SeriesPoint], since: dt.date, key: str | None = None
) -> dt.date | None:
    """First report date on or after ``since`` that is amber or red (or ``None``).

    Examples
    --------
    >>> p = [SeriesPoint(dt.date(2026, m, 1), s, {}, {}, None, 0.0)
    ...      for m, s in ((1, "amber"), (2, "green"), (3, "red"))]
    >>> first_alarm(p, dt.date(2026, 2, 1))
    datetime.date(2026, 3, 1)
    """
    for point in points:
        state = point.status if key is None else point.models.get(key, "green")
        if point.as_of >= since and state in _ALARMS:
            return point.as_of
    return None
