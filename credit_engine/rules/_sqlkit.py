"""SQL building blocks of the rule layers: context, known records, fact rows.

The records are read by the rule of :mod:`credit_engine.point_in_time` at the
rating date's cutoff (:attr:`Context.cutoff`), with each table's time column and
versioning taken from its contract. Every instant is a UTC literal computed in
Python and every date is taken in UTC, so the SQL gives the same answer whatever
the session time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from credit_engine import point_in_time as pit
from credit_engine.data import SourceContract
from credit_engine.exceptions import ConfigurationError
from credit_engine.rules._spec import RuleSet

__all__ = [
    "NOTHING_SAID",
    "Context",
    "FactSql",
    "active_spells",
    "day_of",
    "fact_row",
    "in_force",
    "known",
]


NOTHING_SAID = "DATE '1900-01-01'"
"""The evidence day of a feed that has delivered nothing: before any record."""


def day_of(column: str) -> str:
    """Return the SQL for the UTC calendar date of a timestamp column."""
    return f"CAST(timezone('UTC', {column}) AS DATE)"


@dataclass(frozen=True)
class FactSql:
    """SQL of one regime's facts: CTEs and one SELECT per fact code.

    Every SELECT returns ``uscc``, ``code``, ``since`` (DATE), ``until`` (DATE)
    and ``detail`` (VARCHAR), at most one row per enterprise.
    """

    tables: tuple[str, ...]
    ctes: tuple[tuple[str, str], ...]
    selects: tuple[str, ...]


@dataclass(frozen=True)
class Context:
    """What a regime's SQL depends on: the date, its rule sets, the enterprises.

    Parameters
    ----------
    as_of : datetime.date
        Rating date.
    rules : RuleSet
        The regime's rule set in force at ``as_of``.
    repair : RuleSet
        The REPAIR rule set in force at ``as_of`` (publicity periods).
    usccs : tuple of str or None
        Restrict every table scan to these enterprises.
    contracts : mapping of str to SourceContract
        Contracts of the tables read (time column, key, versioning).
    watermarks : mapping of str to datetime or None, optional
        How far each table's silence is evidence at ``as_of``: its last
        delivery known then (:meth:`credit_engine.freshness.FreshnessReport.evidence`,
        which counts a quiet table's carrier feed), or its own latest
        ``ingested_at`` (:meth:`credit_engine.freshness.Watermarks.instants`).
        Tables not given are measured in SQL by
        :func:`credit_engine.point_in_time.watermark_day` (their own records).
    """

    as_of: dt.date
    rules: RuleSet
    repair: RuleSet
    usccs: tuple[str, ...] | None
    contracts: Mapping[str, SourceContract]
    watermarks: Mapping[str, dt.datetime | None] | None = None

    def has(self, code: str) -> bool:
        """Whether the rule set in force defines fact ``code``."""
        return code in self.rules.facts

    @property
    def day(self) -> str:
        """``as_of`` as a DATE literal."""
        return f"DATE '{self.as_of.isoformat()}'"

    @property
    def cutoff(self) -> pit.Cutoff:
        """The knowledge cutoff of ``as_of`` (a UTC literal)."""
        return pit.Cutoff.end_of(self.as_of)

    def evidence_day(self, *tables: str) -> str:
        """Return the last day the silence of ``tables`` is evidence, as SQL DATE.

        A fact inferred from a missing record (no payment version: unpaid; no
        removal: still listed) holds only as far as the feed has spoken: up to
        the UTC date of its watermark, and never past ``as_of``. With several
        tables, the earliest. A table that has delivered nothing yet has said
        nothing: its day is :data:`NOTHING_SAID`, before any record, so that
        nothing inferred from its silence holds.

        Examples
        --------
        >>> from credit_engine.config import Settings
        >>> from credit_engine.data import load_contracts
        >>> from credit_engine.rules import RuleBook
        >>> settings = Settings()
        >>> rs = RuleBook.load(settings.definitions_dir).get("CUSTOMS_282")
        >>> marks = {"customs_tax_bill": dt.datetime(2026, 9, 30, 10, tzinfo=dt.UTC)}
        >>> ctx = Context(dt.date(2026, 12, 4), rs, rs, None,
        ...               load_contracts(settings.sources_dir), marks)
        >>> ctx.evidence_day("customs_tax_bill")
        "least(DATE '2026-12-04', DATE '2026-09-30')"
        """
        days = [self._watermark_day(t) for t in tables]
        return f"least({self.day}, {', '.join(days)})"

    def _watermark_day(self, table: str) -> str:
        contract = self.contract(table)
        if self.watermarks is None or table not in self.watermarks:
            # least() skips NULLs: a table with no record must not vanish.
            return (
                f"coalesce({pit.watermark_day(contract, self.cutoff)}, {NOTHING_SAID})"
            )
        moment = self.watermarks[table]
        if moment is None:
            return NOTHING_SAID
        return f"DATE '{moment.astimezone(dt.UTC).date().isoformat()}'"

    def contract(self, table: str) -> SourceContract:
        """Return the contract of ``table``.

        Raises
        ------
        ConfigurationError
            If no contract of that name was given.
        """
        try:
            return self.contracts[table]
        except KeyError:
            raise ConfigurationError(
                f"the {self.rules.regime.value} rules read table {table!r}, which "
                f"has no contract among {sorted(self.contracts)}; pass the contracts "
                "loaded from features/sources (load_contracts)."
            ) from None

    def integer(self, name: str, *, repair: bool = False) -> int:
        """Return an integer parameter (days or years) of the rule set."""
        rs = self.repair if repair else self.rules
        value = rs.param(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigurationError(
                f"rule set {rs.id}: parameter {name!r} must be a non-negative "
                f"integer; got {value!r}."
            )
        return value

    def number(self, name: str) -> str:
        """Return a numeric parameter as an exact DECIMAL literal."""
        value = self.rules.param(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigurationError(
                f"rule set {self.rules.id}: parameter {name!r} must be a number; "
                f"got {value!r}."
            )
        return f"CAST('{Decimal(str(value))}' AS DECIMAL(38, 10))"

    def text(self, name: str, allowed: tuple[str, ...]) -> str:
        """Return a code parameter, checked against ``allowed``."""
        value = self.rules.param(name)
        if value not in allowed:
            raise ConfigurationError(
                f"rule set {self.rules.id}: parameter {name!r} must be one of "
                f"{list(allowed)}; got {value!r}."
            )
        return str(value)

    def int_list(self, name: str) -> list[int]:
        """Return a list-of-integers parameter."""
        value = self.rules.param(name)
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise ConfigurationError(
                f"rule set {self.rules.id}: parameter {name!r} must be a list of "
                f"integers; got {value!r}."
            )
        return [int(v) for v in value]

    def date(self, name: str) -> dt.date:
        """Return a date parameter."""
        value = self.rules.param(name)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise ConfigurationError(
                f"rule set {self.rules.id}: parameter {name!r} must be a date "
                f"(YYYY-MM-DD); got {value!r}."
            )
        return value


def known(
    ctx: Context,
    table: str,
    columns: list[str],
    *,
    where: str | None = None,
    keys_from: str | None = None,
    window_days: int | None = None,
    every_version: bool = False,
) -> str:
    """Select the records of ``table`` known at ``as_of`` (latest versions).

    :func:`credit_engine.point_in_time.known` at the context's cutoff, for its
    enterprises.

    Parameters
    ----------
    ctx : Context
        Date, contracts and enterprise filter.
    table : str
        Contract table (read as ``t``).
    columns : list of str
        Columns to return besides the contract key (``uscc, source_record_id``).
    where : str, optional
        Extra condition on the rows scanned, before the latest version is taken.
        It must not depend on columns a later version may change, unless
        ``keys_from`` is used to take the versions of the matching keys only.
    keys_from : str, optional
        A CTE with the key columns: only those records are read.
    window_days : int, optional
        Only records whose time column is at most this many days before the
        cutoff.
    every_version : bool, default=False
        Keep every known version, not only the latest.

    Returns
    -------
    str
        A SELECT of the key and ``columns``.
    """
    return pit.known(
        ctx.contract(table),
        ctx.cutoff,
        columns,
        window_days=window_days,
        where=where,
        usccs=ctx.usccs,
        keys_from=keys_from,
        every_version=every_version,
    )


def in_force(ctx: Context, table: str, known_cte: str, columns: list[str]) -> str:
    """Select the spell of ``table`` in force per enterprise among ``known_cte``.

    See :func:`credit_engine.point_in_time.in_force` (the spell that started
    last wins; ties: the larger record id, as the feature engine's ``current``
    aggregation does).
    """
    return pit.in_force(ctx.contract(table), known_cte, ctx.cutoff, columns)


def active_spells(ctx: Context, known_cte: str) -> str:
    """Select every spell of ``known_cte`` still in force at the cutoff."""
    return f"SELECT * FROM {known_cte} WHERE {pit.spell_in_force(ctx.cutoff)}"


def fact_row(
    code: str,
    source: str,
    *,
    since: str,
    until: str = "NULL",
    detail: str = "NULL",
    where: str | None = None,
    group: bool = False,
) -> str:
    """Select fact rows ``(uscc, code, since, until, detail)`` from ``source``.

    With ``group``, the expressions are aggregates and rows are grouped by
    ``uscc`` (one fact per enterprise).
    """
    sql = (
        f"SELECT uscc, {pit.sql_literal(code)} AS code, "
        f"CAST({since} AS DATE) AS since, "
        f"CAST({until} AS DATE) AS until, CAST({detail} AS VARCHAR) AS detail "
        f"FROM {source}"
    )
    if where:
        sql += f" WHERE {where}"
    if group:
        sql += " GROUP BY uscc"
    return sql
