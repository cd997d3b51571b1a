"""Run compiled feature SQL on embedded DuckDB: spines, frames, snapshots."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credit_engine import __version__
from credit_engine.arrow_tables import table_from_frame
from credit_engine.data import RecordKind
from credit_engine.exceptions import DataContractError
from credit_engine.features._registry import Definitions, ResolvedSet
from credit_engine.features._sources import Sources
from credit_engine.features._sql import compile_feature_sql
from credit_engine.point_in_time import (
    FIRST_KNOWN,
    Cutoff,
    cutoff_of,
    first_known,
    known,
    known_enterprise,
    sql_literal,
)

__all__ = [
    "KNOWN_ENTERPRISES",
    "LINEAGE_KEY",
    "build_feature_frame",
    "connect",
    "enterprise_spine",
    "read_snapshot_lineage",
    "source_record_counts",
    "write_snapshot",
]

LINEAGE_KEY = b"credit_engine.lineage"


def connect(
    memory_limit: str = "4GB",
    threads: int | None = None,
    spill_dir: Path | None = None,
) -> Any:
    """Open an in-memory DuckDB connection set up for feature building.

    ``spill_dir`` lets DuckDB spill to disk beyond ``memory_limit`` instead of
    failing (an in-memory database has no spill folder of its own).
    """
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    if spill_dir is not None:
        con.execute(f"SET temp_directory = {sql_literal(str(spill_dir))}")
    con.execute("SET preserve_insertion_order = false")
    if threads is not None:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _spine_table(spine: pd.DataFrame | pa.Table) -> pa.Table:
    table = spine if isinstance(spine, pa.Table) else table_from_frame(spine)
    missing = [c for c in ("uscc", "as_of") if c not in table.column_names]
    if missing:
        raise DataContractError(
            f"The spine lacks column(s) {missing}; it needs one row per (uscc, as_of) "
            "with uscc as text and as_of as a date."
        )
    try:
        table = table.select(["uscc", "as_of"]).cast(
            pa.schema([("uscc", pa.string()), ("as_of", pa.date32())])
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise DataContractError(
            f"The spine's uscc must be text and as_of a date: {exc}"
        ) from exc
    if table.column("uscc").null_count or table.column("as_of").null_count:
        raise DataContractError("The spine has null uscc or as_of values; drop them.")
    keys = table.group_by(["uscc", "as_of"]).aggregate([([], "count_all")])
    if keys.num_rows != table.num_rows:
        raise DataContractError(
            f"The spine has {table.num_rows - keys.num_rows} duplicate (uscc, as_of) "
            "rows; each pair must appear once."
        )
    return table


def build_feature_frame(
    spine: pd.DataFrame | pa.Table,
    feature_set: str | ResolvedSet,
    *,
    definitions: Definitions,
    sources: Sources,
    usccs: Sequence[str] | None = None,
    con: Any | None = None,
) -> pd.DataFrame:
    """Compute a feature set for every ``(uscc, as_of)`` of a spine, point in time.

    Parameters
    ----------
    spine : pandas.DataFrame or pyarrow.Table
        Columns ``uscc`` and ``as_of`` (date); one row per pair.
    feature_set : str or ResolvedSet
        A feature set name (e.g. ``"credit_v1"``) or a resolved set.
    definitions : Definitions
        Loaded definitions (views, sets, contracts).
    sources : Sources
        Where the records are read (the lake, frames, the online store).
    usccs : sequence of str, optional
        Restrict source scans to these enterprises (the online path).
    con : duckdb connection, optional
        Connection to run on (a fresh in-memory one by default).

    Returns
    -------
    pandas.DataFrame
        ``uscc``, ``as_of`` and one float column per feature, sorted by
        ``(uscc, as_of)``; null where the feature is unknown at ``as_of``.

    Raises
    ------
    DataContractError
        If the spine is malformed.
    """
    resolved = (
        definitions.resolve(feature_set)
        if isinstance(feature_set, str)
        else feature_set
    )
    table = _spine_table(spine)
    sql = compile_feature_sql(resolved, definitions.contracts, usccs=usccs)
    with contextlib.ExitStack() as stack:
        if con is None:
            spill = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            con = connect(spill_dir=spill)
            stack.callback(con.close)
        sources.register(con, _source_tables(resolved))
        # One rating date at a time: a record counts for every date whose window
        # holds it, so all dates at once multiplies the rows to join; one by one
        # keeps memory to that of a single date and time linear in the dates.
        parts = []
        for day in pc.unique(table.column("as_of")).to_pylist():
            con.register("spine", table.filter(pc.equal(table.column("as_of"), day)))
            parts.append(con.sql(sql).to_arrow_table())
    result = pa.concat_tables(parts) if parts else None
    if result is None:
        empty = pd.DataFrame(columns=["uscc", "as_of", *resolved.columns])
        return empty.astype(dict.fromkeys(resolved.columns, "float64"))
    result = result.sort_by([("uscc", "ascending"), ("as_of", "ascending")])
    frame: pd.DataFrame = result.to_pandas()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def _source_tables(resolved: ResolvedSet) -> list[str]:
    return sorted({str(r.view.source) for r in resolved.needed if r.view.source})


KNOWN_ENTERPRISES = ("auto", "registration", "any_record")
"""Rules by which an enterprise becomes known (see :func:`enterprise_spine`)."""


def _first_known_spine(
    sources: Sources,
    definitions: Definitions,
    tables: Sequence[str],
    dates: Sequence[dt.date],
) -> pd.DataFrame:
    if not tables:
        return pd.DataFrame({"uscc": pd.Series(dtype="str"), "as_of": []})
    con = connect()
    try:
        sources.register(con, tables)
        con.register("as_of_dates", pa.table({"as_of": pa.array(dates, pa.date32())}))
        union = " UNION ALL ".join(f"SELECT uscc, ingested_at FROM {n}" for n in tables)
        known = known_enterprise(f"f.{FIRST_KNOWN}", cutoff_of("d.as_of"))
        sql = (
            f"SELECT uscc, d.as_of FROM ({first_known(f'({union}) AS u')}) AS f "
            f"JOIN as_of_dates AS d ON {known} ORDER BY uscc, d.as_of"
        )
        frame: pd.DataFrame = con.sql(sql).to_arrow_table().to_pandas()
    finally:
        con.close()
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame


def enterprise_spine(
    sources: Sources,
    definitions: Definitions,
    as_of: Iterable[dt.date],
    *,
    known_from: str = "registration",
) -> pd.DataFrame:
    """Every enterprise the zone knew at each ``as_of``.

    An enterprise is known at ``as_of`` when it is known to one of the tables
    of the rule at that date's cutoff (:mod:`credit_engine.point_in_time`,
    rule 5).

    Parameters
    ----------
    sources : Sources
        Where the records are read.
    definitions : Definitions
        Loaded definitions (the contracts).
    as_of : iterable of datetime.date
        Rating dates.
    known_from : {"registration", "any_record", "auto"}, default="registration"
        ``registration``: from the state tables (registrations, credit levels,
        classes, list entries), the zone's register of enterprises.
        ``any_record``: from any record of any table (a zone that only has
        event extracts: invoices, tax lines, annual reports). ``auto``:
        ``registration``, or ``any_record`` when no enterprise is known from
        a state table at any of the dates.

    Returns
    -------
    pandas.DataFrame
        ``uscc`` and ``as_of``, sorted. ``frame.attrs["known_from"]`` says the
        rule applied (``registration`` or ``any_record``).

    Raises
    ------
    ValueError
        If ``known_from`` is not one of :data:`KNOWN_ENTERPRISES`.
    """
    if known_from not in KNOWN_ENTERPRISES:
        raise ValueError(
            f"known_from must be one of {KNOWN_ENTERPRISES}, got {known_from!r}"
        )
    dates = sorted(set(as_of))
    contracts = definitions.contracts
    states = sorted(n for n, c in contracts.items() if c.kind is RecordKind.STATE)
    rule = "any_record" if known_from == "any_record" else "registration"
    frame = _first_known_spine(
        sources,
        definitions,
        states if rule == "registration" else sorted(contracts),
        dates,
    )
    if known_from == "auto" and frame.empty:
        rule = "any_record"
        frame = _first_known_spine(sources, definitions, sorted(contracts), dates)
    frame.attrs["known_from"] = rule
    return frame


def source_record_counts(
    sources: Sources,
    definitions: Definitions,
    resolved: ResolvedSet,
    as_of: dt.date,
) -> dict[str, int]:
    """Count the records of each source table of a feature set known at ``as_of``.

    A table with 0 gives its views nothing: their features are unknown (or,
    in ``missing: zero`` views, zero) for every enterprise.
    """
    tables = _source_tables(resolved)
    if not tables:
        return {}
    con = connect()
    try:
        sources.register(con, tables)
        cutoff = Cutoff.end_of(as_of)
        counts = {}
        for name in tables:
            sql = known(definitions.contracts[name], cutoff)
            rows = con.sql(f"SELECT count(*) FROM ({sql}) AS k").fetchall()
            counts[name] = int(rows[0][0]) if rows else 0
    finally:
        con.close()
    return counts


def write_snapshot(
    frame: pd.DataFrame,
    path: Path,
    *,
    resolved: ResolvedSet,
    sources: Sources,
    as_of: Sequence[dt.date],
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a feature snapshot to Parquet with its lineage in the file metadata.

    Parameters
    ----------
    extra : mapping, optional
        More lineage (e.g. how enterprises became known, records per source
        and the sources that gave nothing).

    Returns
    -------
    dict
        The lineage written: feature set, definitions hash, lake state, as_of
        dates, rows, columns, engine version, creation time, and ``extra``.
    """
    lineage = {
        "feature_set": resolved.name,
        "definitions_sha256": resolved.fingerprint,
        "lake_state": sources.lineage(),
        "as_of": [d.isoformat() for d in sorted(set(as_of))],
        "rows": len(frame),
        "features": resolved.columns,
        "engine_version": __version__,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    table = table_from_frame(frame)
    meta = dict(table.schema.metadata or {})
    meta[LINEAGE_KEY] = json.dumps(lineage).encode()
    table = table.replace_schema_metadata(meta)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)
    return lineage


def read_snapshot_lineage(path: Path) -> dict[str, Any]:
    """Return the lineage stored in a snapshot written by :func:`write_snapshot`."""
    meta = pq.read_schema(path).metadata or {}
    if LINEAGE_KEY not in meta:
        raise DataContractError(f"{path} is not a credit-engine feature snapshot.")
    result: dict[str, Any] = json.loads(meta[LINEAGE_KEY])
    return result
