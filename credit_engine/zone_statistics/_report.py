"""The zone statistics report as data: tables, sections, the report; no I/O.

Every figure is a tidy table (:class:`StatTable`): dimension columns first
(``period`` always, then e.g. ``district``), descriptive labels, then measures.
Each measure names its *guard*: the column counting the enterprises behind the
cell, which the small-cell rule of the shared CSV files reads
(:func:`credit_engine.zone_statistics.suppress_small_cells`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from credit_engine.jsonable import to_jsonable
from credit_engine.zone_statistics._periods import Period

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DISCLOSURE",
    "SECTION_KEYS",
    "SECTION_TITLES",
    "Section",
    "StatTable",
    "ZoneReport",
]

SECTION_KEYS: tuple[str, ...] = (
    "enterprises",
    "declarations",
    "refunds",
    "forex",
    "tiers",
    "green_channel",
    "joint_punishments",
    "migrations",
    "overrides",
    "warnings",
    "freshness",
)
"""The report's sections, in report order (the keys of ``sections`` in the JSON)."""

SECTION_TITLES: dict[str, str] = {
    "enterprises": "Enterprises (企业主体)",
    "declarations": "Customs declarations (报关单)",
    "refunds": "Export refunds claimed (出口退税)",
    "forex": "Foreign exchange received and paid (外汇收支)",
    "tiers": "Treatment tiers and deciding layer (信用分类)",
    "green_channel": "Green channel (绿色通道)",
    "joint_punishments": "Joint punishments (失信联合惩戒)",
    "migrations": "Tier migrations (等级迁移)",
    "overrides": "Supervisor overrides (人工调整)",
    "warnings": "Early warnings raised and closed (风险预警)",
    "freshness": "Data freshness (数据时效)",
}
"""Display title of each section."""

DISCLOSURE = "INTERNAL"
"""Disclosure level of the report (zone supervisors; 分类监管、部门共享、有序公开)."""


@dataclass(frozen=True, eq=False)
class StatTable:
    """One tidy table of figures.

    Parameters
    ----------
    name : str
        File-safe identifier, unique in the report (the CSV file's stem).
    title : str
        Display title.
    frame : pandas.DataFrame
        Columns ``dimensions + labels + measures``; one row per cell.
    dimensions : tuple of str
        Key columns, ``period`` first, the finest last.
    measures : tuple of str
        Figure columns.
    guards : mapping of str to str
        Measure to the column counting the enterprises behind it (itself for
        enterprise counts); measures not listed are not subject to the
        small-cell rule (shares derived from guarded counts are listed too).
    labels : tuple of str, default=()
        Descriptive columns (names of codes), neither keys nor figures.
    note : str, default=""
        How to read the table (definitions, conventions).
    """

    name: str
    title: str
    frame: pd.DataFrame
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    guards: Mapping[str, str] = field(default_factory=dict)
    labels: tuple[str, ...] = ()
    note: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """All columns in order: dimensions, labels, measures."""
        return (*self.dimensions, *self.labels, *self.measures)

    def rounded(self) -> StatTable:
        """Return the table with money to the cent and shares to 4 decimals.

        Money columns end in ``_cny`` or ``_usd``; shares are called ``share``.
        """
        frame = self.frame.copy()
        for column in self.measures:
            if column.endswith(("_cny", "_usd")):
                frame[column] = frame[column].astype("float64").round(2)
            elif column == "share":
                frame[column] = frame[column].astype("float64").round(4)
        return dataclasses.replace(self, frame=frame)

    def records(self) -> list[dict[str, Any]]:
        """Return the rows as JSON-ready dicts (NaN as ``None``, dates as ISO)."""
        rows = self.frame.loc[:, list(self.columns)].to_dict(orient="records")
        return [to_jsonable(row, where=self.name) for row in rows]

    def to_json_dict(self) -> dict[str, Any]:
        """Return ``{"title", "dimensions", "labels", "measures", "note", "rows"}``."""
        return {
            "title": self.title,
            "dimensions": list(self.dimensions),
            "labels": list(self.labels),
            "measures": list(self.measures),
            "note": self.note,
            "rows": self.records(),
        }


@dataclass(frozen=True, eq=False)
class Section:
    """One section of the report: its tables, or why it has none.

    Parameters
    ----------
    key : str
        One of :data:`SECTION_KEYS`.
    tables : tuple of StatTable
        The section's tables (possibly with no rows), kept rounded
        (:meth:`StatTable.rounded`: money to the cent, shares to 4 decimals).
    available : bool, default=True
        ``False`` when the data the section needs is not there (no warnings
        table, no freshness monitor); ``note`` says why.
    note : str, default=""
        Definitions and conventions, or why the section is unavailable.
    """

    key: str
    tables: tuple[StatTable, ...] = ()
    available: bool = True
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "tables", tuple(t.rounded() for t in self.tables))

    @property
    def title(self) -> str:
        """Display title (:data:`SECTION_TITLES`)."""
        return SECTION_TITLES.get(self.key, self.key)

    def table(self, name: str) -> StatTable:
        """Return the table called ``name``.

        Raises
        ------
        KeyError
            Naming the tables the section has.
        """
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(
            f"Section {self.key!r} has no table {name!r}; it has "
            f"{[t.name for t in self.tables]}."
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Return ``{"title", "available", "note", "tables": {name: table}}``."""
        return {
            "title": self.title,
            "available": self.available,
            "note": self.note,
            "tables": {t.name: t.to_json_dict() for t in self.tables},
        }


@dataclass(frozen=True, eq=False)
class ZoneReport:
    """The zone statistics between two dates, per month or quarter.

    Attributes
    ----------
    start, end : datetime.date
        First and last day of the report (``--from``, ``--to``).
    period : {"month", "quarter"}
        Period length.
    knowledge_date : datetime.date
        The knowledge cutoff: records ingested (and rating runs finished,
        overrides recorded) by the end of this day (UTC) count, nothing later.
    periods : tuple of Period
        The periods, oldest first.
    sections : dict of str to Section
        One per key of :data:`SECTION_KEYS`, in that order.
    generated_at : datetime.datetime
        When the report was computed (aware UTC).
    lake_state : str
        Identifier of the lake state read (its commit markers' hash).
    rating_dates : tuple of datetime.date
        Rating dates whose latest run the decision sections used.
    elapsed_seconds : float
        Time taken to compute the report.
    """

    start: dt.date
    end: dt.date
    period: str
    knowledge_date: dt.date
    periods: tuple[Period, ...]
    sections: dict[str, Section]
    generated_at: dt.datetime
    lake_state: str = ""
    rating_dates: tuple[dt.date, ...] = ()
    elapsed_seconds: float = 0.0

    @property
    def knowledge_cutoff(self) -> dt.datetime:
        """The first instant not known to the report: end of ``knowledge_date``, UTC."""
        return dt.datetime.combine(
            self.knowledge_date + dt.timedelta(days=1), dt.time(), dt.UTC
        )

    def tables(self) -> list[StatTable]:
        """Every table of every section, in report order."""
        return [t for s in self.sections.values() for t in s.tables]

    def table(self, name: str) -> StatTable:
        """Return the table called ``name`` from whichever section holds it.

        Raises
        ------
        KeyError
            Naming the report's tables.
        """
        for table in self.tables():
            if table.name == name:
                return table
        raise KeyError(
            f"The report has no table {name!r}; it has "
            f"{[t.name for t in self.tables()]}."
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Return the report as JSON data with stable keys.

        Top-level keys: ``report``, ``from``, ``to``, ``period``,
        ``knowledge_cutoff`` (the knowledge date; everything ingested by the
        end of that day, UTC), ``knowledge_cutoff_instant`` (the exclusive
        instant), ``generated_at``, ``disclosure``, ``lake_state``,
        ``periods``, ``rating_dates``, ``elapsed_seconds`` and ``sections``
        (every key of :data:`SECTION_KEYS`).
        """
        return {
            "report": "zone",
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "period": self.period,
            "knowledge_cutoff": self.knowledge_date.isoformat(),
            "knowledge_cutoff_instant": self.knowledge_cutoff.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "disclosure": DISCLOSURE,
            "lake_state": self.lake_state,
            "periods": [
                {
                    "label": p.label,
                    "start": p.start.isoformat(),
                    "end": p.end.isoformat(),
                    "stock_date": p.stock_date.isoformat(),
                    "complete": p.complete,
                }
                for p in self.periods
            ],
            "rating_dates": [d.isoformat() for d in self.rating_dates],
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "sections": {k: s.to_json_dict() for k, s in self.sections.items()},
        }


def ordered_sections(sections: Sequence[Section]) -> dict[str, Section]:
    """Return ``sections`` keyed and ordered by :data:`SECTION_KEYS`.

    Raises
    ------
    ValueError
        If a key is missing, repeated or unknown (a bug in the builder).
    """
    by_key = {s.key: s for s in sections}
    if len(by_key) != len(sections) or set(by_key) != set(SECTION_KEYS):
        raise ValueError(
            f"The report needs exactly the sections {list(SECTION_KEYS)}, got "
            f"{[s.key for s in sections]}; this is a bug in credit_engine."
            "zone_statistics, please report it."
        )
    return {k: by_key[k] for k in SECTION_KEYS}
