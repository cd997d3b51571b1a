"""SQL building blocks of the rule layers: point in time, literals, fact rows.

The conventions are the feature engine's (``credit_engine.features._sql``). For a
rating date ``as_of`` only what was known by the end of that day counts:
``cutoff = as_of + 1 day`` (exclusive, UTC).

* events count if ``event_ts < cutoff`` and ``ingested_at < cutoff``;
* of a versioned record (same ``uscc, source_record_id``) the latest version
  with ``ingested_at < cutoff`` is used;
* a state spell is in force if ``effective_from < cutoff`` and ``effective_to``
  is null or ``>= cutoff`` in that latest version.

Every instant is written as a UTC literal computed in Python and every date is
taken in UTC, so the SQL gives the same answer whatever the session time zone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from credit_engine.exceptions import ConfigurationError
from credit_engine.rules._spec import RuleSet

__all__ = [
    "REPAIR_PARAMS",
    "TABLES",
    "Context",
    "FactSql",
    "TableInfo",
    "day_of",
    "fact_row",
    "in_force",
    "known",
    "lit",
]


@dataclass(frozen=True)
class TableInfo:
    """Time semantics of a contract table the rules read."""

    time_column: str
    versioned: bool


TABLES: dict[str, TableInfo] = {
    "customs_credit_level": TableInfo("effective_from", versioned=True),
    "customs_declaration": TableInfo("event_ts", versioned=False),
    "customs_penalty": TableInfo("event_ts", versioned=True),
    "customs_registration": TableInfo("effective_from", versioned=True),
    "customs_tax_bill": TableInfo("event_ts", versioned=True),
    "tax_credit_rating": TableInfo("effective_from", versioned=True),
    "tax_registration": TableInfo("effective_from", versioned=True),
    "tax_violation": TableInfo("event_ts", versioned=False),
    "safe_classification": TableInfo("effective_from", versioned=True),
    "abnormal_list": TableInfo("effective_from", versioned=True),
    "samr_registration": TableInfo("effective_from", versioned=True),
    "serious_violation_list": TableInfo("effective_from", versioned=True),
}
"""The tables the rule layers read, as their contracts declare them (a unit test
keeps this in step with ``features/sources``)."""


REPAIR_PARAMS: dict[str, tuple[type, ...]] = {
    "serious_max_publicity_days": (int,),
}
"""Parameters every REPAIR rule set must define (used by the TAX and SAMR layers)."""


def lit(text: str) -> str:
    """Quote ``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


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
    """

    as_of: dt.date
    rules: RuleSet
    repair: RuleSet
    usccs: tuple[str, ...] | None

    def has(self, code: str) -> bool:
        """Whether the rule set in force defines fact ``code``."""
        return code in self.rules.facts

    @property
    def day(self) -> str:
        """``as_of`` as a DATE literal."""
        return f"DATE '{self.as_of.isoformat()}'"

    def instant(self, days_before: int = 0) -> str:
        """``cutoff - days_before`` days as a UTC TIMESTAMPTZ literal."""
        moment = dt.datetime.combine(
            self.as_of + dt.timedelta(days=1 - days_before), dt.time(), dt.UTC
        )
        return f"TIMESTAMPTZ '{moment.isoformat(sep=' ')}'"

    @property
    def cutoff(self) -> str:
        """The knowledge cutoff (end of ``as_of``, exclusive) as a literal."""
        return self.instant(0)

    def uscc_filter(self, column: str = "uscc") -> str | None:
        """``column IN (...)`` for the requested enterprises, or ``None``."""
        if self.usccs is None:
            return None
        return f"{column} IN ({', '.join(lit(u) for u in self.usccs)})"

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


def _where(*parts: str | None) -> str:
    kept = [f"({p})" for p in parts if p]
    return " AND ".join(kept) if kept else "true"


def known(
    ctx: Context,
    table: str,
    columns: list[str],
    *,
    where: str | None = None,
    keys_from: str | None = None,
) -> str:
    """Select the records of ``table`` known at ``as_of`` (latest versions).

    Parameters
    ----------
    ctx : Context
        Date and enterprise filter.
    table : str
        Contract table (see :data:`TABLES`).
    columns : list of str
        Columns to return besides ``uscc`` and ``source_record_id``.
    where : str, optional
        Extra condition on the rows scanned, before the latest version is taken.
        It must not depend on columns a later version may change, unless
        ``keys_from`` is used to take the versions of the matching keys only.
    keys_from : str, optional
        A CTE with ``uscc, source_record_id``: only those records are read.

    Returns
    -------
    str
        A SELECT of ``uscc, source_record_id`` and ``columns``.
    """
    info = TABLES[table]
    cols = ", ".join(["t.uscc", "t.source_record_id", *(f"t.{c}" for c in columns)])
    cond = _where(
        f"t.ingested_at < {ctx.cutoff}",
        f"t.{info.time_column} < {ctx.cutoff}",
        ctx.uscc_filter("t.uscc"),
        where,
    )
    source = f"{table} AS t"
    if keys_from is not None:
        source += (
            f" SEMI JOIN {keys_from} AS k ON k.uscc = t.uscc "
            "AND k.source_record_id = t.source_record_id"
        )
    if not info.versioned:
        return f"SELECT {cols} FROM {source} WHERE {cond}"
    return (
        f"SELECT {cols} FROM {source} WHERE {cond} "
        "QUALIFY row_number() OVER (PARTITION BY t.uscc, t.source_record_id "
        "ORDER BY t.ingested_at DESC) = 1"
    )


def in_force(ctx: Context, known_cte: str, columns: list[str]) -> str:
    """Select the spell in force per enterprise among those of ``known_cte``.

    When several known spells are in force (a closing version not yet arrived),
    the one that started last wins (ties: the larger record id), as the feature
    engine's ``current`` aggregation does.
    """
    cols = ", ".join(["uscc", "source_record_id", "effective_from", *columns])
    return (
        f"SELECT {cols}, effective_to FROM {known_cte} "
        f"WHERE effective_to IS NULL OR effective_to >= {ctx.cutoff} "
        "QUALIFY row_number() OVER (PARTITION BY uscc "
        "ORDER BY effective_from DESC, source_record_id DESC) = 1"
    )


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
        f"SELECT uscc, {lit(code)} AS code, CAST({since} AS DATE) AS since, "
        f"CAST({until} AS DATE) AS until, CAST({detail} AS VARCHAR) AS detail "
        f"FROM {source}"
    )
    if where:
        sql += f" WHERE {where}"
    if group:
        sql += " GROUP BY uscc"
    return sql
