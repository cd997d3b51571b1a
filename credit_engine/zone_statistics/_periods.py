"""Reporting periods: months or quarters between two dates, and their SQL table.

A period is a calendar month (``2026-01``) or quarter (``2026-Q1``) clipped to
the report's range, so the first and last periods may be partial. Each period
has a *stock date*: the day its stocks (registered enterprises, roles) are
read at, its last day, or the knowledge date when that comes first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from credit_engine.exceptions import ReportError

__all__ = [
    "PERIOD_KINDS",
    "Period",
    "PeriodKind",
    "bucket_sql",
    "period_of",
    "periods_between",
]

PeriodKind = Literal["month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter")
"""The period lengths a report may use."""


@dataclass(frozen=True)
class Period:
    """One reporting period, clipped to the report's range.

    Attributes
    ----------
    label : str
        ``YYYY-MM`` for a month, ``YYYY-Qn`` for a quarter.
    bucket : datetime.date
        First day of the calendar month or quarter (the join key of events).
    start, end : datetime.date
        First and last day inside the report's range (inclusive).
    stock_date : datetime.date
        Day the period's stocks are read at: ``end``, or the knowledge date
        if that comes first.
    complete : bool
        The whole calendar period lies in the range and before the knowledge
        date.
    """

    label: str
    bucket: dt.date
    start: dt.date
    end: dt.date
    stock_date: dt.date
    complete: bool


def _bucket(day: dt.date, kind: PeriodKind) -> dt.date:
    if kind == "month":
        return day.replace(day=1)
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _next(bucket: dt.date, kind: PeriodKind) -> dt.date:
    months = 1 if kind == "month" else 3
    index = bucket.year * 12 + bucket.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _label(bucket: dt.date, kind: PeriodKind) -> str:
    if kind == "month":
        return f"{bucket.year}-{bucket.month:02d}"
    return f"{bucket.year}-Q{(bucket.month - 1) // 3 + 1}"


def period_of(day: dt.date, kind: PeriodKind) -> str:
    """Return the label of the month or quarter ``day`` falls in.

    Examples
    --------
    >>> period_of(dt.date(2026, 3, 31), "month")
    '2026-03'
    >>> period_of(dt.date(2026, 4, 1), "quarter")
    '2026-Q2'
    """
    return _label(_bucket(day, kind), kind)


def periods_between(
    start: dt.date,
    end: dt.date,
    kind: str = "month",
    *,
    knowledge_date: dt.date | None = None,
) -> tuple[Period, ...]:
    """Return the months or quarters from ``start`` to ``end`` (inclusive).

    Parameters
    ----------
    start, end : datetime.date
        First and last day of the report.
    kind : {"month", "quarter"}, default="month"
        Period length.
    knowledge_date : datetime.date, optional
        The report's knowledge date: stocks of later periods are read at it.

    Returns
    -------
    tuple of Period
        Oldest first.

    Raises
    ------
    ReportError
        If ``kind`` is not a period length or ``end`` precedes ``start``.

    Examples
    --------
    >>> [p.label for p in periods_between(dt.date(2025, 11, 15), dt.date(2026, 2, 28))]
    ['2025-11', '2025-12', '2026-01', '2026-02']
    >>> q = periods_between(dt.date(2026, 1, 1), dt.date(2026, 6, 30), "quarter")
    >>> [(p.label, p.start, p.end) for p in q]  # doctest: +NORMALIZE_WHITESPACE
    [('2026-Q1', datetime.date(2026, 1, 1), datetime.date(2026, 3, 31)),
     ('2026-Q2', datetime.date(2026, 4, 1), datetime.date(2026, 6, 30))]
    """
    if kind not in PERIOD_KINDS:
        raise ReportError(f"Unknown period {kind!r}; use one of {list(PERIOD_KINDS)}.")
    if end < start:
        raise ReportError(
            f"The report ends ({end.isoformat()}) before it starts "
            f"({start.isoformat()}); give --from on or before --to."
        )
    period_kind: PeriodKind = "month" if kind == "month" else "quarter"
    known = knowledge_date if knowledge_date is not None else dt.date.max
    out: list[Period] = []
    bucket = _bucket(start, period_kind)
    while bucket <= end:
        following = _next(bucket, period_kind)
        last = following - dt.timedelta(days=1)
        first_day, last_day = max(bucket, start), min(last, end)
        out.append(
            Period(
                label=_label(bucket, period_kind),
                bucket=bucket,
                start=first_day,
                end=last_day,
                stock_date=min(last_day, known),
                complete=first_day == bucket and last_day == last and last <= known,
            )
        )
        bucket = following
    return tuple(out)


def bucket_sql(column: str, kind: str) -> str:
    """Return SQL of the first day of the month or quarter of a time column.

    The session time zone must be UTC (:func:`credit_engine.features.connect`).

    Examples
    --------
    >>> bucket_sql("t.event_ts", "quarter")
    "CAST(date_trunc('quarter', t.event_ts) AS DATE)"
    """
    unit = "month" if kind == "month" else "quarter"
    return f"CAST(date_trunc('{unit}', {column}) AS DATE)"
