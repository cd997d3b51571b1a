"""The knowledge cutoff of a rating date, and the SQL literals it is written with."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from credit_engine.vocabulary import sql_in, sql_literal

__all__ = [
    "CUTOFF_COLUMN",
    "Cutoff",
    "cutoff_of",
    "spine_sql",
    "sql_literal",
    "uscc_filter",
]

CUTOFF_COLUMN = "_cutoff"
"""Column holding each spine row's cutoff (see :func:`spine_sql`)."""


def uscc_filter(column: str, usccs: Sequence[str] | None) -> str | None:
    """Return ``column IN (...)`` over ``usccs``, or ``None`` when not restricted.

    Examples
    --------
    >>> uscc_filter("t.uscc", ["A", "B"])
    "t.uscc IN ('A', 'B')"
    >>> uscc_filter("uscc", None) is None
    True
    """
    if usccs is None:
        return None
    return sql_in(column, usccs)


def cutoff_of(as_of: str) -> str:
    """Return the SQL cutoff of the rating dates in the DATE expression ``as_of``.

    The session time zone must be UTC (the feature engine's connections are):
    the cast of a date to a timestamp with time zone is taken in it.

    Examples
    --------
    >>> cutoff_of("s.as_of")
    "CAST(s.as_of AS TIMESTAMP WITH TIME ZONE) + INTERVAL '1' DAY"
    """
    return f"CAST({as_of} AS TIMESTAMP WITH TIME ZONE) + INTERVAL '1' DAY"


def spine_sql(table: str, *, row_key: str | None = None) -> str:
    """Select ``uscc, as_of`` of a spine table with each row's cutoff.

    Parameters
    ----------
    table : str
        Table or CTE with columns ``uscc`` (text) and ``as_of`` (date).
    row_key : str, optional
        An integer column of ``table`` numbering the enterprises of each
        ``as_of``, selected too (see :meth:`Cutoff.per_spine_row`).

    Returns
    -------
    str
        A SELECT of ``uscc``, ``as_of``, ``row_key`` if given, and
        :data:`CUTOFF_COLUMN`; name it and pass the name to
        :meth:`Cutoff.per_spine_row`.
    """
    key = f"{row_key}, " if row_key else ""
    return (
        f"SELECT uscc, as_of, {key}{cutoff_of('as_of')} AS {CUTOFF_COLUMN} FROM {table}"
    )


@dataclass(frozen=True)
class Cutoff:
    """The first instant *not* known at a rating date (exclusive).

    Build one with :meth:`end_of` (one rating date: a UTC literal computed in
    Python) or :meth:`per_spine_row` (a cutoff per row of a spine table).

    Parameters
    ----------
    sql : str
        SQL expression of the cutoff instant (a TIMESTAMPTZ), as the columns
        selected by :func:`~credit_engine.point_in_time.known` see it.
    as_of : datetime.date, optional
        The rating date, when the cutoff is a literal.
    spine : str, optional
        The spine table, when each of its rows has its own cutoff.
    row_key : str, optional
        An integer column of the spine numbering the enterprises of each
        ``as_of``, which then stands for ``uscc`` (see :meth:`per_spine_row`).
    """

    sql: str
    as_of: dt.date | None = None
    spine: str | None = None
    row_key: str | None = None

    @classmethod
    def end_of(cls, as_of: dt.date) -> Cutoff:
        """Return the cutoff of one rating date: ``as_of + 1 day``, 00:00 UTC.

        Examples
        --------
        >>> Cutoff.end_of(dt.date(2025, 6, 30)).sql
        "TIMESTAMPTZ '2025-07-01 00:00:00+00:00'"
        """
        return cls(_instant(as_of, 0), as_of=as_of)

    @classmethod
    def per_spine_row(cls, spine: str, *, row_key: str | None = None) -> Cutoff:
        """Return the cutoff of each row of ``spine`` (a table of :func:`spine_sql`).

        :func:`~credit_engine.point_in_time.known` joins the spine (as ``s``)
        and returns its ``uscc``, ``as_of`` and :data:`CUTOFF_COLUMN`, which the
        later steps read as :attr:`sql`. With ``row_key`` (an integer column
        of the spine, one value per ``uscc`` within each ``as_of``) it returns
        that column in place of ``uscc`` and takes the latest versions per
        ``(row_key, as_of)``: the records are then identified by integers,
        not a text key (which an engine hashing and sorting keys per record,
        as Spark does, computes faster).
        """
        return cls(CUTOFF_COLUMN, spine=spine, row_key=row_key)

    def days_before(self, days: int) -> str:
        """Return the SQL instant ``days`` days before the cutoff.

        Examples
        --------
        >>> Cutoff.end_of(dt.date(2025, 6, 30)).days_before(365)
        "TIMESTAMPTZ '2024-07-01 00:00:00+00:00'"
        >>> Cutoff.per_spine_row("_spine").days_before(90)
        "_cutoff - INTERVAL '90' DAY"
        """
        if self.as_of is not None:
            return _instant(self.as_of, days)
        return f"{self.sql} - INTERVAL '{int(days)}' DAY"

    def on_spine(self) -> Cutoff:
        """Return the cutoff as a scan joined to the spine (``s``) reads it."""
        if self.spine is None:
            return self
        return Cutoff(f"s.{CUTOFF_COLUMN}", spine=self.spine, row_key=self.row_key)


def _instant(as_of: dt.date, days_before: int) -> str:
    moment = dt.datetime.combine(
        as_of + dt.timedelta(days=1 - days_before), dt.time(), dt.UTC
    )
    return f"TIMESTAMPTZ '{moment.isoformat(sep=' ')}'"
