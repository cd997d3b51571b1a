"""Watermarks: what the lake knew of each table at a date.

A table's watermark is the latest knowledge time (``ingested_at``) of its
records known at a date, by the point-in-time rule
(:func:`credit_engine.point_in_time.watermark`); with it come the latest valid
time (``event_ts`` or ``effective_from``) and the number of record versions
known. The lake's commit records add, per table, how many committed batches
carried it and when the last one was committed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from credit_engine import point_in_time as pit
from credit_engine.data import Lake, SourceContract
from credit_engine.freshness._policy import department_of
from credit_engine.vocabulary import Department

__all__ = [
    "DepartmentWatermark",
    "TableSource",
    "TableWatermark",
    "Watermarks",
    "lake_watermarks",
    "source_watermarks",
]


class TableSource(Protocol):
    """Tables a DuckDB connection can read by contract name.

    :class:`credit_engine.features.LakeSources` and
    :class:`~credit_engine.features.FrameSources` are such sources.
    """

    @property
    def contracts(self) -> Mapping[str, SourceContract]:
        """Contracts of the tables, by name."""

    def register(self, con: Any, tables: Iterable[str]) -> None:
        """Make each of ``tables`` queryable by its name on ``con``."""

    def lineage(self) -> str:
        """Return an identifier of the data state read."""


@dataclass(frozen=True)
class TableWatermark:
    """What the lake knew of one table at a date.

    Attributes
    ----------
    table : str
        Contract table.
    department : Department
        Department that delivers it.
    latest_ingested_at : datetime.datetime or None
        Watermark: latest knowledge time of a known record (UTC); ``None``
        when nothing of the table is known.
    latest_event_at : datetime.datetime or None
        Latest valid time of a known record (``event_ts`` of an event table,
        ``effective_from`` of a state table).
    rows : int
        Record versions known.
    batches : int or None
        Committed batches that carried the table (lake only; the lake as it
        stands, commit times are wall-clock).
    last_batch_at : datetime.datetime or None
        When the latest of them was committed.
    """

    table: str
    department: Department
    latest_ingested_at: dt.datetime | None
    latest_event_at: dt.datetime | None
    rows: int
    batches: int | None = None
    last_batch_at: dt.datetime | None = None

    @property
    def watermark_date(self) -> dt.date | None:
        """UTC date of the watermark (``None`` if nothing is known)."""
        moment = self.latest_ingested_at
        return None if moment is None else moment.astimezone(dt.UTC).date()


@dataclass(frozen=True)
class DepartmentWatermark:
    """A department's tables rolled up.

    Attributes
    ----------
    department : Department
        The department.
    tables : tuple of str
        Its tables.
    oldest : datetime.datetime or None
        The oldest table watermark (``None`` if a table has none): the
        department is as current as its least current table.
    latest : datetime.datetime or None
        The newest table watermark.
    rows : int
        Record versions known over its tables.
    """

    department: Department
    tables: tuple[str, ...]
    oldest: dt.datetime | None
    latest: dt.datetime | None
    rows: int


@dataclass(frozen=True)
class Watermarks:
    """The watermark of every table at a date.

    Attributes
    ----------
    as_of : datetime.date or None
        Knowledge date (records known by its end); ``None``: the lake as it
        stands.
    tables : mapping of str to TableWatermark
        By table name, sorted.
    lineage : str
        The data state read (the lake's state hash).
    """

    as_of: dt.date | None
    tables: Mapping[str, TableWatermark]
    lineage: str = ""
    departments: Mapping[Department, DepartmentWatermark] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        rolled: dict[Department, DepartmentWatermark] = {}
        for department in Department:
            own = [w for w in self.tables.values() if w.department is department]
            if not own:
                continue
            marks = [w.latest_ingested_at for w in own]
            known = [m for m in marks if m is not None]
            rolled[department] = DepartmentWatermark(
                department=department,
                tables=tuple(w.table for w in own),
                oldest=None if len(known) < len(marks) else min(known),
                latest=max(known, default=None),
                rows=sum(w.rows for w in own),
            )
        object.__setattr__(self, "departments", rolled)

    def instants(self) -> dict[str, dt.datetime | None]:
        """Table to watermark (latest ``ingested_at``), for the rule layers."""
        return {name: w.latest_ingested_at for name, w in self.tables.items()}


def _utc(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)
    raise TypeError(f"expected a timestamp from DuckDB, got {value!r}")


def _query(
    con: Any, contracts: Mapping[str, SourceContract], cutoff: pit.Cutoff | None
) -> dict[str, tuple[dt.datetime | None, dt.datetime | None, int]]:
    if not contracts:
        return {}
    parts = [
        f"SELECT {pit.sql_literal(name)} AS table_name, * FROM "
        f"({pit.watermark(contract, cutoff)}) AS w"
        for name, contract in contracts.items()
    ]
    rows = con.execute(" UNION ALL ".join(parts)).fetchall()
    return {str(r[0]): (_utc(r[1]), _utc(r[2]), int(r[3])) for r in rows}


def source_watermarks(
    sources: TableSource,
    as_of: dt.date | None = None,
    *,
    tables: Sequence[str] | None = None,
    con: Any | None = None,
) -> Watermarks:
    """Compute the watermark of every table of ``sources`` at ``as_of``.

    The tables are read with the point-in-time rule
    (:func:`credit_engine.point_in_time.watermark`): only records known by the
    end of ``as_of``. Without a date, the whole table counts; DuckDB answers
    that from the Parquet statistics without reading the rows, so a dated
    query scans only the tables holding records after the date.

    Parameters
    ----------
    sources : TableSource
        Where the records are (:class:`~credit_engine.features.LakeSources`,
        :class:`~credit_engine.features.FrameSources`).
    as_of : datetime.date, optional
        Knowledge date; default: everything the sources hold.
    tables : sequence of str, optional
        Only these tables (default: every contract).
    con : duckdb connection, optional
        Connection to use (a fresh in-memory one by default).

    Returns
    -------
    Watermarks
    """
    names = sorted(tables if tables is not None else sources.contracts)
    contracts = {n: sources.contracts[n] for n in names}
    with contextlib.ExitStack() as stack:
        if con is None:
            import duckdb

            con = duckdb.connect()
            stack.callback(con.close)
        sources.register(con, names)
        found = _query(con, contracts, None)
        if as_of is not None:
            cutoff = pit.Cutoff.end_of(as_of)
            end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)
            later = {
                n: c
                for n, c in contracts.items()
                if any(m is not None and m >= end for m in found[n][:2])
            }
            found.update(_query(con, later, cutoff))
    return assemble_watermarks(contracts, found, as_of, sources.lineage())


def assemble_watermarks(
    contracts: Mapping[str, SourceContract],
    found: Mapping[str, tuple[dt.datetime | None, dt.datetime | None, int]],
    as_of: dt.date | None,
    lineage: str,
) -> Watermarks:
    """Return the :class:`Watermarks` of ``found`` (table → mark, latest, rows).

    Shared by the DuckDB and the Spark readers, which differ only in how they
    compute ``found``; ``lineage`` is the sources' own.
    """
    return Watermarks(
        as_of=as_of,
        tables={
            n: TableWatermark(n, department_of(c), *found[n])
            for n, c in sorted(contracts.items())
        },
        lineage=lineage,
    )


class _LakeTables:
    """The committed files of a lake as DuckDB views (what LakeSources does)."""

    def __init__(self, lake: Lake, contracts: Mapping[str, SourceContract]) -> None:
        self.lake = lake
        self.contracts = contracts

    def register(self, con: Any, tables: Iterable[str]) -> None:
        for name in tables:
            files = self.lake.table_files(name)
            if files:
                listed = ", ".join(pit.sql_literal(str(f)) for f in files)
                cols = ", ".join(self.contracts[name].column_names)
                body = f"SELECT {cols} FROM read_parquet([{listed}])"
            else:
                body = _empty(self.contracts[name])
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {body}")

    def lineage(self) -> str:
        return self.lake.state_hash()


def _empty(contract: SourceContract) -> str:
    types = {"timestamp": "TIMESTAMP WITH TIME ZONE", "date": "DATE"}
    cols = ", ".join(
        f"CAST(NULL AS {types.get(c.type.value, 'VARCHAR')}) AS {c.name}"
        for c in contract.columns
    )
    return f"SELECT {cols} WHERE false"


def lake_watermarks(
    lake: Lake,
    contracts: Mapping[str, SourceContract],
    as_of: dt.date | None = None,
) -> Watermarks:
    """Compute the watermark of every contract table of a committed lake.

    Only committed batches are read (the lake's commit markers list their
    files); the markers also give each table's batch count and latest commit.

    Parameters
    ----------
    lake : Lake
        The lake (``Lake(settings.lake_dir)``).
    contracts : mapping of str to SourceContract
        The record contracts (``load_contracts``).
    as_of : datetime.date, optional
        What the lake knew by the end of this date (records ingested before
        the cutoff, the point-in-time rule); default: the lake as it stands.

    Returns
    -------
    Watermarks

    Examples
    --------
    >>> from pathlib import Path
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> contracts = load_contracts(Settings().sources_dir)
    >>> marks = lake_watermarks(Lake(Path("/nonexistent/lake")), contracts)
    >>> marks.tables["vat_invoice"].rows, marks.tables["vat_invoice"].watermark_date
    (0, None)
    """
    found = source_watermarks(_LakeTables(lake, contracts), as_of)
    batches: dict[str, list[dt.datetime]] = {}
    for manifest in lake.committed_batches():
        for table in manifest.tables:
            batches.setdefault(table, []).append(manifest.committed_at)
    tables = {
        name: TableWatermark(
            mark.table,
            mark.department,
            mark.latest_ingested_at,
            mark.latest_event_at,
            mark.rows,
            batches=len(batches.get(name, [])),
            last_batch_at=_utc(max(batches[name])) if name in batches else None,
        )
        for name, mark in found.tables.items()
    }
    return Watermarks(as_of=as_of, tables=tables, lineage=found.lineage)
