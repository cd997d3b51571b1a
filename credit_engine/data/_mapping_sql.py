"""Compile one (source, target table) of a mapping to a DuckDB query.

The query reads the source's stream (``_src``: cells already trimmed, the
source's null values null, ``_ord`` the position in file order) and returns one
row per contract row: the mapped contract columns, a flag and the source text
per step that can fail (``_f<k>``, ``_r<k>``), and the provenance
(``_source_file``, ``_row_number``), in file order. It is columnar end to end:
value maps are ``CASE`` expressions, dates ``try_strptime`` (every format in
one call), crosswalk files a vectorised lookup (once per distinct id in each
vector of rows), pseudo-USCCs the same kind of function (each distinct id
computed once); no Python runs per row.

The query keeps file order without sorting: it has no join (crosswalks are
functions, not joins) and DuckDB preserves insertion order through scans,
filters and projections; the caller checks ``_ord`` is increasing. Numbered
repeats are counted by the caller as the rows stream out in file order (each
key's hash as a column; keys compared exactly where hashes repeat). Only
unpivot groups (a cross join) end in ``ORDER BY``.

Each step of each column is computed once, at its level, and read by name
after: ``_s<i>`` the origin (level 1: with the unpivot groups and the ``where``
filter), ``_x<i>`` after the crosswalk (level 2), ``_m<i>`` after the
value map (3), ``_p<i>`` parsed as a date or a number (4), ``c_<column>`` the
contract value and the flags (5); level 6 adds the columns derived by rules from
other contract columns (knowledge times) and the flagged rows' source text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from credit_engine.data._contracts import ColumnType, SourceContract
from credit_engine.data._mapping_spec import (
    ColumnMapping,
    KnownAt,
    SourceMapping,
    TargetMapping,
    VocabularyRef,
)
from credit_engine.data._reasons import QuarantineReason

__all__ = ["CompiledTarget", "Flag", "compile_target", "ident", "lit"]

_SECONDS_PER_DAY_MINUS_ONE = 86399


def ident(name: str) -> str:
    """Quote an SQL identifier (Chinese column names included)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """Return the SQL literal of a scalar (text, number, boolean)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"CAST({expr} AS VARCHAR)"


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _typed_lit(value: object, kind: str) -> str:
    if kind == "double":
        return f"CAST({lit(value)} AS DOUBLE)"
    if kind == "date":
        return f"CAST({lit(str(value))} AS DATE)"
    if kind == "timestamptz":
        return f"CAST({lit(str(value))} AS TIMESTAMPTZ)"
    return lit(_as_text(value))


@dataclass(frozen=True)
class Flag:
    """A step of one column that can fail, and the reason its rows get."""

    code: QuarantineReason
    column: str

    @property
    def label(self) -> str:
        """The row's reason label, e.g. ``unmapped_value:tax_type``."""
        return f"{self.code.value}:{self.column}"


@dataclass
class CompiledTarget:
    """The query of one (source, target) and what its outputs mean."""

    sql: str
    columns: list[str]
    flags: list[Flag] = field(default_factory=list)
    pseudo: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, str] = field(default_factory=dict)
    ordered: bool = True
    repeats: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)


class _Compiler:
    """The staged columns of one (source, target), level by level."""

    def __init__(
        self,
        mapping: SourceMapping,
        target: TargetMapping,
        contract: SourceContract,
        crosswalk_tables: dict[str, str],
        files: list[str],
    ) -> None:
        self.mapping, self.target, self.contract = mapping, target, contract
        self.crosswalk_tables = crosswalk_tables
        self.files = files
        self.pseudo: dict[str, str] = {}
        self.lookups: dict[str, str] = {}
        self.group_from = ""
        self.levels: dict[str, list[str]] = {k: [] for k in ("s", "x", "m", "p", "c")}
        self.flags: list[tuple[Flag, str, str]] = []  # flag, condition, origin

    # -- origins ---------------------------------------------------------------
    @staticmethod
    def _col(name: str) -> str:
        return f"n.{ident(name)}"

    def _template(self, template: str) -> str:
        parts, rest = [], template
        while "{" in rest:
            head, _, tail = rest.partition("{")
            name, _, rest = tail.partition("}")
            if head:
                parts.append(lit(head))
            parts.append("_g._g_label" if name == "_group" else _text(self._col(name)))
        if rest:
            parts.append(lit(rest))
        return "(" + " || ".join(parts) + ")"

    def _origin(self, name: str, spec: ColumnMapping) -> str:  # noqa: PLR0911
        unpivot = self.target.unpivot
        if unpivot is not None and name == unpivot.key:
            return "_g._g_label"
        if unpivot is not None and name in unpivot.value_columns:
            whens = " ".join(
                f"WHEN {i} THEN {self._col(cols[name])}"
                for i, cols in enumerate(unpivot.groups.values())
            )
            return f"(CASE _g._g_idx {whens} END)"
        if isinstance(spec.column, str):
            return self._col(spec.column)
        if spec.column is not None:
            return "coalesce(" + ", ".join(self._col(c) for c in spec.column) + ")"
        if spec.constant is not None:
            return lit(_as_text(spec.constant))
        if spec.template is not None:
            return self._template(spec.template)
        if spec.hash_of is not None:
            cells = ", ".join(
                f"coalesce({_text(self._col(c))}, '')" for c in spec.hash_of
            )
            return f"substr(md5(concat_ws(chr(31), {cells})), 1, 20)"
        if spec.file_name is not None:
            return self._per_file(
                lambda name: _file_match(spec.file_name or "", name), "VARCHAR"
            )
        return f"({spec.expr})"

    def _per_file(self, value: Callable[[str], str | None], typ: str) -> str:
        """Compute a value once per file (from its name); pick it by file index."""
        whens = " ".join(
            f"WHEN {i} THEN {lit(value(name))}" for i, name in enumerate(self.files)
        )
        return f"CAST(CASE n._file_index {whens} END AS {typ})" if whens else "NULL"

    def _flag(self, code: QuarantineReason, name: str, cond: str, origin: str) -> None:
        self.flags.append((Flag(code, name), cond, origin))

    def _tz(self, spec: ColumnMapping | KnownAt) -> str:
        return spec.timezone or self.mapping.timezone

    # -- steps -----------------------------------------------------------------
    def _crosswalk(self, i: int, name: str, spec: ColumnMapping, ref: str) -> str:
        xw = str(spec.crosswalk)
        key = f"nullif({_text(ref)}, '')"
        # A vectorised function of each vector's distinct ids, no join (a join
        # would reorder the rows and cost a sort to restore them): a lookup in
        # a crosswalk file, or the pseudo-USCC of the id (cached per id).
        if self.mapping.crosswalks[xw].pseudo is None:
            function = f"_xwf_{i}"
            self.lookups[function] = xw
        else:
            function = f"_pseudo_{i}"
            self.pseudo[function] = xw
        self.levels["x"].append(f"{function}({key}) AS _x{i}")
        self._flag(
            QuarantineReason.UNKNOWN_IDENTIFIER, name,
            f"{key} IS NOT NULL AND _x{i} IS NULL", f"_s{i}",
        )  # fmt: skip
        return f"_x{i}"

    def _values(self, i: int, name: str, spec: ColumnMapping, ref: str) -> str:
        if isinstance(spec.values, VocabularyRef):
            table = self.mapping.vocabularies.get(spec.values.vocabulary, {})
        else:
            table = {k: _as_text(v) for k, v in (spec.values or {}).items()}
        key = _text(ref)
        whens = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in table.items())
        other = key if spec.unmapped == "keep" else "NULL"
        mapped = f"(CASE {key} {whens} ELSE {other} END)" if table else other
        self.levels["m"].append(f"{mapped} AS _m{i}")
        if spec.unmapped == "quarantine":
            known = ", ".join(lit(k) for k in table) or "NULL"
            self._flag(
                QuarantineReason.UNMAPPED_VALUE, name,
                f"{ref} IS NOT NULL AND {key} NOT IN ({known})", f"_s{i}",
            )  # fmt: skip
        return f"_m{i}"

    def _date(
        self, i: int, name: str, spec: ColumnMapping, ref: str
    ) -> tuple[str, str]:
        typ = self.contract.column(name).type
        formats = "[" + ", ".join(lit(f) for f in spec.date or ()) + "]"
        self.levels["p"].append(f"try_strptime({_text(ref)}, {formats}) AS _p{i}")
        self._flag(
            QuarantineReason.UNPARSEABLE_DATE, name,
            f"{ref} IS NOT NULL AND _p{i} IS NULL", f"_s{i}",
        )  # fmt: skip
        zoned = any("%z" in f or "%Z" in f for f in spec.date or ())
        tz = lit(self._tz(spec))
        if typ is ColumnType.DATE:
            local = f"timezone({tz}, _p{i})" if zoned else f"_p{i}"
            return f"CAST({local} AS DATE)", "date"
        if typ in (ColumnType.STRING, ColumnType.USCC):
            return f"strftime(_p{i}, {lit(spec.format)})", "text"
        if zoned:
            return f"_p{i}", "timestamptz"
        local = f"_p{i}"
        if spec.end_of_day:
            local = (
                f"(CAST(CAST(_p{i} AS DATE) AS TIMESTAMP) "
                f"+ INTERVAL {_SECONDS_PER_DAY_MINUS_ONE} SECOND)"
            )
        return f"timezone({tz}, {local})", "timestamptz"

    def _number(
        self, i: int, name: str, spec: ColumnMapping, ref: str
    ) -> tuple[str, str]:
        text = f"trim({_text(ref)})"
        if spec.thousands is not None:
            text = f"replace({text}, {lit(spec.thousands)}, '')"
        if spec.percent:
            text = f"regexp_replace({text}, '\\s*%$', '')"
        self.levels["p"].append(f"TRY_CAST({text} AS DOUBLE) AS _p{i}")
        self._flag(
            QuarantineReason.NOT_A_NUMBER, name,
            f"{ref} IS NOT NULL AND _p{i} IS NULL", f"_s{i}",
        )  # fmt: skip
        factor = spec.scale if spec.scale is not None else 1.0
        if spec.percent:
            factor /= 100.0
        if factor == 1.0:
            return f"_p{i}", "double"
        exponent = round(math.log10(factor))
        if math.isclose(factor, 10.0**exponent, rel_tol=1e-12):
            # 万元 (1e4), 亿元 (1e8), percent (1e-2): move the decimal point in the
            # text, so 1234.56 万元 reads as 12345600 exactly (no float product).
            # Text already written with an exponent cannot take a second one:
            # only then (the shifted text does not parse) is the parsed number
            # multiplied.
            shifted = f"TRY_CAST({text} || 'e{exponent}' AS DOUBLE)"
            scaled = f"_p{i} * {10.0**exponent!r}"
            has_exponent = f"contains(lower({text}), 'e')"
            expr = f"coalesce({shifted}, CASE WHEN {has_exponent} THEN {scaled} END)"
        else:
            expr = f"round(_p{i} * {factor!r}, 9)"
        return expr, "double"

    def column(self, i: int, name: str, spec: ColumnMapping) -> None:
        """Add the stages of base column ``name`` (index ``i``)."""
        self.levels["s"].append(f"{self._origin(name, spec)} AS _s{i}")
        first = len(self.flags)
        ref = f"_s{i}"
        if spec.crosswalk is not None:
            ref = self._crosswalk(i, name, spec, ref)
        if spec.values is not None:
            ref = self._values(i, name, spec, ref)
        value, kind = ref, "typed"
        if spec.date:
            value, kind = self._date(i, name, spec, ref)
        elif spec.number_parsing:
            value, kind = self._number(i, name, spec, ref)
        if spec.cases:
            matched = " OR ".join(f"coalesce(({c.when}), false)" for c in spec.cases)
            whens = " ".join(
                f"WHEN coalesce(({c.when}), false) THEN {_typed_lit(c.value, kind)}"
                for c in spec.cases
            )
            value = f"(CASE {whens} ELSE {value} END)"
            self.flags[first:] = [
                (flag, f"NOT ({matched}) AND ({cond})", origin)
                for flag, cond, origin in self.flags[first:]
            ]
        if spec.default is not None:
            fallback = _typed_lit(spec.default, kind)
            value = f"(CASE WHEN _s{i} IS NULL THEN {fallback} ELSE {value} END)"
        self.levels["c"].append(f"{value} AS {ident('c_' + name)}")

    # -- derived ---------------------------------------------------------------
    def _day_of(self, column: str, tz: str) -> str:
        ref = ident(f"c_{column}")
        typ = self.contract.column(column).type
        if typ is ColumnType.INT:
            return f"make_date(TRY_CAST({ref} AS INTEGER), 12, 31)"
        if typ in (ColumnType.STRING, ColumnType.USCC):
            month = f"try_strptime({_text(ref)} || '01', '%Y%m%d')"
            return f"last_day(CAST({month} AS DATE))"
        if typ is ColumnType.DATE:
            return f"TRY_CAST({ref} AS DATE)"
        return f"CAST(timezone({lit(tz)}, TRY_CAST({ref} AS TIMESTAMPTZ)) AS DATE)"

    @staticmethod
    def _end_of_day(day: str, tz: str, typ: ColumnType) -> str:
        if typ is ColumnType.DATE:
            return day
        return (
            f"timezone({lit(tz)}, CAST({day} AS TIMESTAMP) "
            f"+ INTERVAL {_SECONDS_PER_DAY_MINUS_ONE} SECOND)"
        )

    def derived(self, name: str, rule: KnownAt) -> str:
        """Expression of a column derived by a rule from other contract columns."""
        typ = self.contract.column(name).type
        tz = self._tz(rule)
        if rule.rule == "end_of_period_plus":
            day = self._day_of(str(rule.period_end), tz)
            moved = (
                f"(CASE WHEN {day} = last_day({day}) "
                f"THEN last_day({day} + INTERVAL ({rule.months}) MONTH) "
                f"ELSE CAST({day} + INTERVAL ({rule.months}) MONTH AS DATE) END "
                f"+ INTERVAL ({rule.days}) DAY)"
            )
            return self._end_of_day(f"CAST({moved} AS DATE)", tz, typ)
        if rule.rule == "event_ts_plus_days":
            ref = ident(f"c_{rule.column or self.contract.time_column}")
            instant = f"(TRY_CAST({ref} AS TIMESTAMPTZ) + INTERVAL ({rule.days}) DAY)"
            return (
                instant if typ is ColumnType.TIMESTAMP else f"CAST({instant} AS DATE)"
            )
        if rule.rule == "file_date":
            day = self._per_file(lambda name: _file_day(name, rule), "DATE").replace(
                "n._file_index", "_file_index"
            )
            return self._end_of_day(day, tz, typ)
        at = dt.datetime.fromisoformat(str(rule.at))
        if at.tzinfo is not None:
            instant = f"TIMESTAMPTZ {lit(at.isoformat())}"
        else:
            instant = f"timezone({lit(tz)}, TIMESTAMP {lit(at.isoformat(sep=' '))})"
        return instant if typ is ColumnType.TIMESTAMP else f"CAST({instant} AS DATE)"


def _file_match(pattern: str, name: str) -> str | None:
    found = re.search(pattern, name)
    return found.group(1) if found and found.group(1) else None


def _file_day(name: str, rule: KnownAt) -> str | None:
    found = re.search(str(rule.pattern), name)
    try:
        day = dt.datetime.strptime(found.group(1) if found else "", str(rule.format))
    except ValueError:
        return None
    return day.date().isoformat()


def _select(extra: list[str], source: str, tail: str = "") -> str:
    return f"SELECT *{''.join(', ' + e for e in extra)} FROM {source}{tail}"


def _group_source(target: TargetMapping) -> tuple[str, str, list[str]]:
    """FROM addition, selected columns and row conditions of the unpivot groups."""
    conditions = [f"({target.where})"] if target.where else []
    unpivot = target.unpivot
    if unpivot is None:
        return "", "0 AS _g_idx", conditions
    rows = ", ".join(f"({i}, {lit(label)})" for i, label in enumerate(unpivot.groups))
    if unpivot.skip_empty:
        whens = " ".join(
            f"WHEN {i} THEN ("
            + " OR ".join(f"n.{ident(c)} IS NOT NULL" for c in cols.values())
            + ")"
            for i, cols in enumerate(unpivot.groups.values())
        )
        conditions.append(f"(CASE _g._g_idx {whens} END)")
    return (
        f" CROSS JOIN (VALUES {rows}) AS _g(_g_idx, _g_label)",
        "_g._g_idx, _g._g_label",
        conditions,
    )


def _not_before(
    specs: dict[str, ColumnMapping], target: TargetMapping, contract: SourceContract
) -> list[tuple[str, str]]:
    """Raise times to the column they may not precede (then read as ``_l6``)."""
    pairs = {n: s.not_before for n, s in specs.items() if s.not_before}
    if target.known_at is not None and target.known_at.not_before:
        pairs["ingested_at"] = target.known_at.not_before
    if not pairs:
        return []
    replaced = ", ".join(
        f"greatest({_cast_time(contract, n)}, {_cast_time(contract, other)}) "
        f"AS {ident('c_' + n)}"
        for n, other in pairs.items()
    )
    return [("_l6", f"SELECT * REPLACE ({replaced}) FROM _l6b")]


def _cast_time(contract: SourceContract, name: str) -> str:
    typ = "DATE" if contract.column(name).type is ColumnType.DATE else "TIMESTAMPTZ"
    return f"TRY_CAST({ident('c_' + name)} AS {typ})"


def _derived_levels(
    compiler: _Compiler, rules: dict[str, KnownAt]
) -> list[tuple[str, str]]:
    """One level per depth of the rules (a rule may read what another derives)."""
    time_column = compiler.contract.time_column
    depth: dict[str, int] = {}

    def level(name: str) -> int:
        if name not in depth:
            refs = rules[name].referenced(time_column)
            depth[name] = 1 + max((level(r) for r in refs if r in rules), default=0)
        return depth[name]

    for name in rules:
        level(name)
    out: list[tuple[str, str]] = []
    source = "_l5"
    for k in range(1, max(depth.values(), default=0) + 1):
        columns = [
            f"{compiler.derived(n, r)} AS {ident('c_' + n)}"
            for n, r in rules.items()
            if depth[n] == k
        ]
        out.append((f"_d{k}", _select(columns, source)))
        source = f"_d{k}"
    return out


def compile_target(
    mapping: SourceMapping,
    target: TargetMapping,
    contract: SourceContract,
    crosswalk_tables: dict[str, str],
    files: list[str],
) -> CompiledTarget:
    """Compile the query of one source feeding one contract table.

    Parameters
    ----------
    mapping : SourceMapping
        The whole mapping (time zone, crosswalks, vocabularies).
    target : TargetMapping
        The target table's part of a source.
    contract : SourceContract
        The target's contract.
    crosswalk_tables : dict of str to str
        Registered table of each file crosswalk (columns ``_xw_id``, ``_xw_uscc``).
    files : list of str
        The source's files in reading order (``_file_index``), for values taken
        from file names.

    Returns
    -------
    CompiledTarget
        The SQL over the source table ``_src``, its contract columns, its
        flags (``_f<k>``, ``_r<k>`` in the output), the crosswalk functions it
        calls (function name to crosswalk name) and, for each column whose
        repeats are numbered, the output columns of its key (the rows carry
        the key's hash as ``_h<j>``).
    """
    compiler = _Compiler(mapping, target, contract, crosswalk_tables, files)
    compiler.group_from = _group_source(target)[0]
    specs = dict(target.columns)
    unpivot = target.unpivot
    if unpivot is not None:
        for name in (unpivot.key, *unpivot.value_columns):
            specs.setdefault(name, ColumnMapping())
    base = {n: s for n, s in specs.items() if s.derive is None}
    rules = {n: s.derive for n, s in specs.items() if s.derive is not None}
    if target.known_at is not None:
        rules["ingested_at"] = target.known_at
    for i, (name, spec) in enumerate(base.items()):
        compiler.column(i, name, spec)
    group_from, group_cols, conditions = _group_source(target)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    levels = compiler.levels
    flags = compiler.flags
    flag_cols = [
        f"coalesce({cond}, false) AS _f{k}" for k, (_, cond, _) in enumerate(flags)
    ]
    raw_cols = [
        f"CASE WHEN _f{k} THEN {_text(origin)} END AS _r{k}"
        for k, (_, _, origin) in enumerate(flags)
    ]
    derived_levels = _derived_levels(compiler, rules)
    outputs: list[str] = []
    numbered: list[tuple[str, tuple[str, ...]]] = []
    for name in [*base, *rules]:
        found = specs.get(name)
        ref = ident(f"c_{name}")
        if found is not None and found.repeats is not None:
            # Text like the numbered values ("<value>-<k>") of the repeats.
            numbered.append((name, found.repeats.within))
            ref = f"CAST({ref} AS VARCHAR)"
        outputs.append(f"{ref} AS {ident(name)}")
    origins = "".join(", " + e for e in levels["s"])
    late = _not_before(specs, target, contract)
    ctes = [
        ("_l1", f"SELECT n.*, {group_cols}{origins} FROM _src AS n{group_from}{where}"),
        (
            "_l2",
            f"SELECT _l1.*{''.join(', ' + e for e in levels['x'])} FROM _l1",
        ),
        ("_l3", _select(levels["m"], "_l2")),
        ("_l4", _select(levels["p"], "_l3")),
        ("_l5", _select([*levels["c"], *flag_cols], "_l4")),
        *derived_levels,
        (
            "_l6b" if late else "_l6",
            _select(raw_cols, derived_levels[-1][0] if derived_levels else "_l5"),
        ),
        *late,
    ]
    # Numbered repeats: a 64-bit hash of each key (the "within" columns and the
    # value) for the caller, which counts the keys as the rows stream out.
    hashes = [
        "hash(" + ", ".join(ident(f"c_{c}") for c in (*within, n)) + f") AS _h{j}"
        for j, (n, within) in enumerate(numbered)
    ]
    selected = [*outputs, *(f"_f{k}, _r{k}" for k in range(len(flags))), *hashes]
    # Unpivot groups (a cross join) may reorder rows: sort them back. Otherwise
    # the rows keep file order as read (no join: crosswalks are functions).
    ordered = unpivot is not None
    tail = " ORDER BY _l6._ord, _l6._g_idx" if ordered else ""
    provenance = ["_l6._source_file", "_l6._row_number", "_l6._ord"]
    with_ctes = "WITH " + ", ".join(f"{n} AS ({q})" for n, q in ctes)
    sql = f"{with_ctes} SELECT {', '.join([*selected, *provenance])} FROM _l6{tail}"
    repeats = [(n, (*within, n)) for n, within in numbered]
    return CompiledTarget(
        sql,
        [*base, *rules],
        [f for f, _, _ in flags],
        compiler.pseudo,
        compiler.lookups,
        ordered=ordered,
        repeats=repeats,
    )
