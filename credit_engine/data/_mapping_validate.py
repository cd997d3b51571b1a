"""Check a source mapping against the record contracts (no data needed).

Every problem is a sentence naming the source, the table and the column, with a
suggestion where one exists (a close contract column, table or code).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from credit_engine.data._contracts import ColumnType, SourceContract
from credit_engine.data._mapping_spec import (
    ColumnMapping,
    SourceMapping,
    SourceSpec,
    TargetMapping,
    VocabularyRef,
    close_names,
)

__all__ = ["check_against_contracts", "sql_columns"]

_TEXT = (ColumnType.STRING, ColumnType.USCC)
_NUMBER = (ColumnType.INT, ColumnType.FLOAT)
_TEMPORAL = (ColumnType.DATE, ColumnType.TIMESTAMP)
_FORBIDDEN_CALLS = ("read_", "glob", "getenv", "sniff_", "parquet_", "query")


def sql_columns(sql: str) -> list[str]:
    """Return the columns an SQL expression reads, in order of appearance.

    Raises
    ------
    ValueError
        If the text is not one DuckDB expression, or it reads tables or files
        (sub-queries, ``read_csv`` ...): mapping expressions see one row.

    Examples
    --------
    >>> sql_columns('TRY_CAST("金额" AS DOUBLE) < 0')
    ['金额']
    """
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except ParseError as exc:
        raise ValueError(f"{sql!r} is not an SQL expression: {exc}") from exc
    if isinstance(tree, (exp.Select, exp.Union, exp.Create, exp.Insert, exp.Drop)):
        raise ValueError(f"{sql!r} is a statement; give an expression over the row")
    for node in tree.walk():
        if isinstance(node, (exp.Select, exp.Subquery, exp.Table)):
            raise ValueError(f"{sql!r} reads a table; an expression sees one row only")
        if isinstance(node, exp.Func):
            name = (
                node.sql_name()
                if not isinstance(node, exp.Anonymous)
                else str(node.this)
            ).lower()
            if name.startswith(_FORBIDDEN_CALLS):
                raise ValueError(
                    f"{sql!r} calls {name}(); expressions may not read files"
                )
    seen: dict[str, None] = {}
    for column in tree.find_all(exp.Column):
        seen.setdefault(column.name, None)
    return list(seen)


def _entries(mapping: SourceMapping) -> Iterator[tuple[SourceSpec, TargetMapping]]:
    for source in mapping.sources:
        for target in source.targets:
            yield source, target


def check_against_contracts(
    mapping: SourceMapping, contracts: dict[str, SourceContract]
) -> list[str]:
    """Return every problem of ``mapping`` against ``contracts`` (empty: fits)."""
    problems: list[str] = []
    for source, target in _entries(mapping):
        where = f"source {source.name!r} → table {target.table!r}"
        contract = contracts.get(target.table)
        if contract is None:
            problems.append(
                f"{where}: no contract for table {target.table!r}."
                + close_names(target.table, sorted(contracts))
            )
            continue
        problems += _check_target(mapping, source, target, contract)
    return problems


def _provided(target: TargetMapping) -> set[str]:
    names = {n for n, c in target.columns.items() if c.origins}
    if target.unpivot is not None:
        names |= {target.unpivot.key, *target.unpivot.value_columns}
    if target.known_at is not None:
        names.add("ingested_at")
    return names


def _check_target(
    mapping: SourceMapping,
    source: SourceSpec,
    target: TargetMapping,
    contract: SourceContract,
) -> list[str]:
    problems: list[str] = []
    at = f"source {source.name!r} → {contract.name}"
    known = contract.column_names
    grouped: set[str] = set()
    if target.unpivot is not None:
        grouped = {target.unpivot.key, *target.unpivot.value_columns}
        for name in sorted(grouped):
            if name not in known:
                problems.append(
                    f"{at}: unpivot names column {name!r}, which the contract does "
                    f"not have.{close_names(name, known)}"
                )
    for name, spec in target.columns.items():
        if name not in known:
            problems.append(
                f"{at}.{name}: the contract has no column {name!r}."
                + close_names(name, known)
            )
            continue
        if name in grouped and spec.origins:
            problems.append(
                f"{at}.{name}: the column comes from the unpivot groups; give only "
                f"its steps here (values, scale ...), not {spec.origins[0]!r}"
            )
        if name not in grouped and not spec.origins:
            problems.append(
                f"{at}.{name}: say where the value comes from: column, constant, "
                "template, hash_of, file_name, expr or derive"
            )
        problems += [
            f"{at}.{name}: {p}"
            for p in _check_column(mapping, target, contract, name, spec)
        ]
    if target.known_at is not None and "ingested_at" in target.columns:
        problems.append(
            f"{at}: give the knowledge time once, as known_at or as columns.ingested_at"
        )
    if target.known_at is not None:
        problems += [
            f"{at}.known_at: {p}"
            for p in _check_derive(target, contract, "ingested_at", target.known_at)
            + _check_not_before(
                target, contract, "ingested_at", target.known_at.not_before
            )
        ]
    missing = [c for c in contract.required_columns if c not in _provided(target)]
    if missing:
        problems.append(
            f"{at}: required column(s) {missing} are not mapped; map each from a "
            "source column, a constant or a rule"
            + (
                " (ingested_at: known_at, e.g. {rule: end_of_period_plus, "
                "period_end: report_year, months: 6})"
                if "ingested_at" in missing
                else ""
            )
        )
    for sql in filter(None, [target.where]):
        try:
            sql_columns(sql)
        except ValueError as exc:
            problems.append(f"{at}.where: {exc}")
    return problems


def _allowed_values(
    spec: ColumnMapping, mapping: SourceMapping
) -> list[tuple[str, object]]:
    out: list[tuple[str, object]] = []
    if isinstance(spec.values, dict):
        out += [(f"values[{k!r}]", v) for k, v in spec.values.items()]
    elif isinstance(spec.values, VocabularyRef):
        vocab = mapping.vocabularies.get(spec.values.vocabulary, {})
        out += [
            (f"vocabulary {spec.values.vocabulary}", v)
            for v in sorted(set(vocab.values()))
        ]
    out += [(f"cases[{i}]", c.value) for i, c in enumerate(spec.cases)]
    if spec.constant is not None:
        out.append(("constant", spec.constant))
    if spec.default is not None:
        out.append(("default", spec.default))
    return out


def _check_value(
    value: object, typ: ColumnType, codes: tuple[str, ...] | None
) -> str | None:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if typ in _TEXT and codes is not None and text not in codes:
        return f"{value!r} is not one of the contract's codes." + close_names(
            text, list(codes)
        )
    if typ is ColumnType.BOOL and not isinstance(value, bool):
        return f"{value!r} is not true or false"
    if typ is ColumnType.INT and (
        isinstance(value, bool) or not isinstance(value, int)
    ):
        return f"{value!r} is not an integer"
    if typ is ColumnType.FLOAT and (
        isinstance(value, bool) or not isinstance(value, (int, float))
    ):
        return f"{value!r} is not a number"
    if typ in _TEMPORAL:
        try:
            dt.datetime.fromisoformat(str(value))
        except ValueError:
            return f"{value!r} is not an ISO 8601 date or time"
    return None


def _check_column(  # noqa: PLR0912 -- one check per option
    mapping: SourceMapping,
    target: TargetMapping,
    contract: SourceContract,
    name: str,
    spec: ColumnMapping,
) -> list[str]:
    problems: list[str] = []
    col = contract.column(name)
    typ = col.type
    if spec.crosswalk is not None:
        if spec.crosswalk not in mapping.crosswalks:
            problems.append(
                f"crosswalk {spec.crosswalk!r} is not declared under 'crosswalks'."
                + close_names(spec.crosswalk, sorted(mapping.crosswalks))
            )
        if typ not in _TEXT:
            problems.append("a crosswalk gives identifiers; the column is not text")
    if spec.number_parsing and typ not in _NUMBER:
        problems.append(
            f"scale, percent and thousands parse numbers; the column is {typ.value}"
        )
    if spec.date and typ not in _TEMPORAL and not (typ in _TEXT and spec.format):
        problems.append(
            f"date formats parse dates; the column is {typ.value} (to write a date "
            "as text give 'format', e.g. '%Y%m' for a period)"
        )
    if spec.format is not None and not (spec.date and typ in _TEXT):
        problems.append("'format' writes a parsed date as text: give 'date' formats")
    if spec.date:
        zoned = ["%z" in f or "%Z" in f for f in spec.date]
        if any(zoned) and not all(zoned):
            problems.append("either every date format has a zone (%z) or none has")
    if spec.end_of_day and typ is not ColumnType.TIMESTAMP:
        problems.append("end_of_day applies to timestamp columns")
    for label, value in _allowed_values(spec, mapping):
        problem = _check_value(value, typ, col.values)
        if problem:
            problems.append(f"{label}: {problem}")
    if spec.derive is not None:
        problems += _check_derive(target, contract, name, spec.derive)
    problems += _check_not_before(target, contract, name, spec.not_before)
    if spec.repeats is not None:
        if typ not in _TEXT:
            problems.append("repeats numbers identifiers; the column is not text")
        unknown = [c for c in spec.repeats.within if c not in _provided(target)]
        if unknown:
            problems.append(f"repeats.within names unmapped columns {unknown}")
    for label, sql in [
        ("expr", spec.expr),
        *[(f"cases[{i}].when", c.when) for i, c in enumerate(spec.cases)],
    ]:
        if sql is not None:
            try:
                sql_columns(sql)
            except ValueError as exc:
                problems.append(f"{label}: {exc}")
    return problems


def _check_derive(
    target: TargetMapping, contract: SourceContract, name: str, rule: object
) -> list[str]:
    from credit_engine.data._mapping_spec import KnownAt

    assert isinstance(rule, KnownAt)
    problems = []
    if contract.column(name).type not in _TEMPORAL:
        problems.append(
            f"rule {rule.rule!r} gives a time; the column is not a date or time"
        )
    rules = {n: c.derive for n, c in target.columns.items() if c.derive is not None}
    if target.known_at is not None:
        rules["ingested_at"] = target.known_at
    for ref in rule.referenced(contract.time_column):
        if ref not in contract.column_names:
            problems.append(
                f"rule {rule.rule!r} reads column {ref!r}, which the contract does "
                f"not have.{close_names(ref, contract.column_names)}"
            )
        elif ref not in _provided(target) and ref not in rules:
            problems.append(f"rule {rule.rule!r} reads {ref!r}, which is not mapped")
    # A rule may read a column another rule derives, but not in a circle.
    seen, todo = {name}, [name]
    while todo:
        current = rules.get(todo.pop())
        for ref in current.referenced(contract.time_column) if current else ():
            if ref == name:
                problems.append(f"rule {rule.rule!r} of {name!r} depends on itself")
                return problems
            if ref in rules and ref not in seen:
                seen.add(ref)
                todo.append(ref)
    return problems


def _check_not_before(
    target: TargetMapping, contract: SourceContract, name: str, other: str | None
) -> list[str]:
    if other is None:
        return []
    if other not in contract.column_names:
        return [
            f"not_before names column {other!r}, which the contract does not "
            f"have.{close_names(other, contract.column_names)}"
        ]
    problems = []
    if other not in _provided(target) and not (
        other in target.columns and target.columns[other].derive is not None
    ):
        problems.append(f"not_before reads {other!r}, which is not mapped")
    kinds = {contract.column(c).type for c in (name, other)}
    if not kinds <= set(_TEMPORAL):
        problems.append("not_before compares dates or times; both columns must be")
    return problems
