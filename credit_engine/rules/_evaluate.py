"""Statutory facts in force at a rating date, for every enterprise, in one query."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from credit_engine.data import SourceContract
from credit_engine.features import Sources
from credit_engine.point_in_time import sql_literal
from credit_engine.rules._book import RuleBook
from credit_engine.rules._regimes import REGIMES
from credit_engine.rules._spec import Regime, RuleSet
from credit_engine.rules._sqlkit import Context

__all__ = ["FACT_COLUMNS", "statutory_facts", "statutory_facts_sql"]

FACT_COLUMNS = (
    "uscc",
    "code",
    "department",
    "rule_set",
    "since",
    "until",
    "detail",
    "ceiling",
    "joint_punishment",
    "blocks_green_channel",
    "favourable",
    "inspection_factor_cap",
    "inspection_min_rate",
    "zh",
    "en",
)
"""Columns of :func:`statutory_facts`, in order."""


def _sql_value(value: object, sql_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"CAST({value!r} AS DOUBLE)"
    return f"CAST({sql_literal(str(value))} AS {sql_type})"


def _effects(rule_sets: Sequence[RuleSet]) -> str:
    """Return a VALUES relation of the facts' effects in the rule sets in force."""
    rows = []
    for rs in rule_sets:
        for code, f in sorted(rs.facts.items()):
            values = [
                _sql_value(code, "VARCHAR"),
                _sql_value(f.department.value, "VARCHAR"),
                _sql_value(rs.id, "VARCHAR"),
                _sql_value(f.ceiling.value if f.ceiling else None, "VARCHAR"),
                _sql_value(f.joint_punishment, "BOOLEAN"),
                _sql_value(f.blocks_green_channel, "BOOLEAN"),
                _sql_value(f.favourable, "BOOLEAN"),
                _sql_value(f.inspection_factor_cap, "DOUBLE"),
                _sql_value(f.inspection_min_rate, "DOUBLE"),
                _sql_value(f.zh, "VARCHAR"),
                _sql_value(f.en, "VARCHAR"),
            ]
            rows.append(f"({', '.join(values)})")
    columns = (
        "code, department, rule_set, ceiling, joint_punishment, "
        "blocks_green_channel, favourable, inspection_factor_cap, "
        "inspection_min_rate, zh, en"
    )
    return f"(VALUES {', '.join(rows)}) AS e({columns})"


def statutory_facts_sql(
    rulebook: RuleBook,
    as_of: dt.date,
    usccs: Sequence[str] | None = None,
    *,
    contracts: Mapping[str, SourceContract],
    watermarks: Mapping[str, dt.datetime | None] | None = None,
) -> tuple[str, tuple[str, ...]]:
    """Compile the facts in force at ``as_of`` to one DuckDB query.

    Parameters
    ----------
    rulebook : RuleBook
        The rule sets; those in force at ``as_of`` supply every number.
    as_of : datetime.date
        Rating date.
    usccs : sequence of str, optional
        Restrict every table scan to these enterprises.
    contracts : mapping of str to SourceContract
        Contracts of the tables (``load_contracts``): their time columns, keys
        and versioning decide what is known at ``as_of``.
    watermarks : mapping of str to datetime or None, optional
        Watermark per table known at ``as_of`` (latest ``ingested_at``; see
        :func:`credit_engine.freshness.lake_watermarks`). A fact inferred from
        missing records counts their silence only up to it. Tables not given
        are measured by the query itself (over the whole table, never one
        enterprise's records).

    Returns
    -------
    sql : str
        The query, returning :data:`FACT_COLUMNS` sorted by ``uscc, code``;
        empty string if no rule set in force defines a fact.
    tables : tuple of str
        Contract tables the query reads (to register first).

    Raises
    ------
    ConfigurationError
        If a regime has no rule set in force at ``as_of`` or a parameter is
        unusable.
    """
    in_force = rulebook.in_force(as_of)
    repair = in_force[Regime.REPAIR.value]
    wanted = tuple(usccs) if usccs is not None else None
    builders = [(r.regime, r.build) for r in REGIMES if r.build is not None]
    parts = [
        build(
            Context(
                as_of, in_force[regime.value], repair, wanted, contracts, watermarks
            )
        )
        for regime, build in builders
    ]
    selects = [s for p in parts for s in p.selects]
    if not selects:
        return "", ()
    ctes = [c for p in parts for c in p.ctes]
    ctes.append(("_facts", " UNION ALL ".join(f"({s})" for s in selects)))
    with_clause = ",\n".join(f"{name} AS (\n  {body}\n)" for name, body in ctes)
    effects = _effects([in_force[regime.value] for regime, _ in builders])
    sql = (
        f"WITH {with_clause}\n"
        "SELECT f.uscc, f.code, e.department, e.rule_set, f.since, f.until, "
        "f.detail, e.ceiling, e.joint_punishment, e.blocks_green_channel, "
        "e.favourable, e.inspection_factor_cap, e.inspection_min_rate, e.zh, e.en\n"
        f"FROM _facts AS f JOIN {effects} ON e.code = f.code\n"
        "ORDER BY f.uscc, f.code"
    )
    tables = tuple(sorted({t for p in parts for t in p.tables}))
    return sql, tables


def _empty() -> pd.DataFrame:
    types = {
        "since": pa.date32(),
        "until": pa.date32(),
        "joint_punishment": pa.bool_(),
        "blocks_green_channel": pa.bool_(),
        "favourable": pa.bool_(),
        "inspection_factor_cap": pa.float64(),
        "inspection_min_rate": pa.float64(),
    }
    schema = pa.schema([(c, types.get(c, pa.string())) for c in FACT_COLUMNS])
    return _to_frame(schema.empty_table())


def _to_frame(table: Any) -> pd.DataFrame:
    frame: pd.DataFrame = table.to_pandas()
    # Dates as datetime.date and optional text as str, with None (not NaT/NaN)
    # where absent.
    for c in ("since", "until", "detail", "ceiling"):
        frame[c] = pd.Series(
            table.column(c).to_pylist(), dtype=object, index=frame.index
        )
    return frame


def statutory_facts(
    sources: Sources,
    as_of: dt.date,
    *,
    rulebook: RuleBook,
    usccs: Sequence[str] | None = None,
    con: Any | None = None,
    watermarks: Mapping[str, dt.datetime | None] | None = None,
) -> pd.DataFrame:
    """Every statutory fact in force at the end of ``as_of``, point in time.

    Runs one SQL query on DuckDB over the contract tables, reading them by the
    rule of :mod:`credit_engine.point_in_time`: only records known by the end of
    ``as_of`` count, each in its latest known version, and a spell counts while
    in force at that cutoff. Every number comes from the rule sets in force at
    ``as_of``.

    Parameters
    ----------
    sources : Sources
        Where the records are read (:class:`~credit_engine.features.LakeSources`,
        :class:`~credit_engine.features.FrameSources`, an online store), with
        the tables' contracts (``sources.contracts``).
    as_of : datetime.date
        Rating date.
    rulebook : RuleBook
        The rule sets (:meth:`RuleBook.load`).
    usccs : sequence of str, optional
        Restrict every table scan to these enterprises (one-enterprise lookups).
    con : duckdb connection, optional
        Connection to run on (a fresh in-memory one by default). The tables are
        registered on it as views named after their contracts.
    watermarks : mapping of str to datetime or None, optional
        Watermark per table known at ``as_of``
        (``lake_watermarks(...).instants()``); facts inferred from missing
        records (``inferred_from_absence`` in the rule sets) hold only as far
        as their tables' feeds have spoken. Default: measured by the query.

    Returns
    -------
    pandas.DataFrame
        One row per fact in force, sorted by ``uscc, code``, with columns
        ``uscc``, ``code``, ``department`` (CUSTOMS, TAX, SAFE or SAMR),
        ``rule_set`` (e.g. ``CUSTOMS_282``), ``since`` (date the fact began to
        hold), ``until`` (first date it no longer holds if known, else None),
        ``detail`` (reason, cause or Art. 22 items, or None) and the effects of
        the fact in its rule set: ``ceiling`` (best tier allowed, or None),
        ``joint_punishment``, ``blocks_green_channel``, ``favourable``,
        ``inspection_factor_cap``, ``inspection_min_rate`` (NaN when unbounded),
        ``zh`` and ``en`` (its text).

    Raises
    ------
    ConfigurationError
        If a regime has no rule set in force at ``as_of``.

    Examples
    --------
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> from credit_engine.features import FrameSources
    >>> settings = Settings()
    >>> sources = FrameSources({}, load_contracts(settings.sources_dir))
    >>> book = RuleBook.load(settings.definitions_dir)
    >>> statutory_facts(sources, dt.date(2026, 4, 1), rulebook=book).empty
    True
    """
    sql, tables = statutory_facts_sql(
        rulebook, as_of, usccs, contracts=sources.contracts, watermarks=watermarks
    )
    if not sql or (usccs is not None and len(usccs) == 0):
        return _empty()
    with contextlib.ExitStack() as stack:
        if con is None:
            import duckdb

            con = duckdb.connect()
            stack.callback(con.close)
        sources.register(con, tables)
        result = con.sql(sql).to_arrow_table()
    return _to_frame(result)
