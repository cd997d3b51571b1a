"""Compile a feature set to one point-in-time SQL query (DuckDB dialect).

The query reads a spine table ``(uscc, as_of)`` and one table per source, named
as the contract. Each spine row sees only what was known at its rating date, by
the rule of :mod:`credit_engine.point_in_time` (cutoff per row, known records,
latest versions, spells in force); a feature's window of ``N`` days further keeps
the records whose time column is within ``N`` days before the cutoff.

The SQL uses only constructs sqlglot transpiles to Spark SQL, so the same
definitions run on a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from credit_engine.data import ColumnType, SourceContract
from credit_engine.features._registry import FeatureRef, ResolvedSet
from credit_engine.features._spec import (
    COUNT_LIKE,
    Aggregation,
    FeatureSpec,
    FeatureView,
    Missing,
    ViewKind,
)
from credit_engine.features._transforms import render_transform
from credit_engine.point_in_time import (
    CUTOFF_COLUMN,
    FIRST_KNOWN,
    Cutoff,
    first_known,
    known,
    known_enterprise,
    spell_in_force,
    spine_sql,
    sql_literal,
)

__all__ = ["compile_feature_sql", "timestamp_columns", "to_spark"]

SPINE = "_spine"
CUTOFF = Cutoff.per_spine_row(SPINE)
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _columns_of(sql: str | None) -> set[str]:
    if not sql:
        return set()
    return {c.name for c in sqlglot.parse_one(sql, read="duckdb").find_all(exp.Column)}


def _since(column: str, days: int | None) -> str | None:
    if days is None:
        return None
    return f"{column} >= {CUTOFF.days_before(days)}"


def _and(*parts: str | None) -> str | None:
    kept = [f"({p})" for p in parts if p]
    return " AND ".join(kept) if kept else None


def _filtered(agg: str, cond: str | None) -> str:
    return f"{agg} FILTER (WHERE {cond})" if cond else agg


_LIMB = 1_000_000_000
"""The two 64-bit integer sums of an exact sum in millionths split at 10^9."""


def _millionths(double: str) -> str:
    """BIGINT millionths of a DOUBLE, as ``CAST(double AS DECIMAL(38, 6))`` rounds.

    DuckDB's cast rounds the product by a million half away from zero, which
    this writes in floors and comparisons (Spark's ``round`` of a double goes
    through its text). ``CAST(abs(y) AS BIGINT)`` raises in both engines where
    the millionths overflow 64 bits, as the floor alone would not on Spark.
    """
    y = f"(({double}) * 1000000.0)"
    whole = f"floor(abs{y})"
    checked = f"CASE WHEN CAST(abs{y} AS BIGINT) >= 0 THEN {whole} END"
    half = f"CASE WHEN abs{y} - {whole} >= 0.5 THEN 1 ELSE 0 END"
    return f"CAST(sign{y} * ({checked} + {half}) AS BIGINT)"


def _mapped(value: str, mapping: dict[str, float] | None) -> str:
    if not mapping:
        return value
    whens = " ".join(
        f"WHEN {sql_literal(k)} THEN {float(v)!r}" for k, v in mapping.items()
    )
    return f"CASE {value} {whens} END"


@dataclass(frozen=True)
class _ViewSql:
    """The CTEs of one view and how to read each of its features."""

    ctes: list[tuple[str, str]]
    joins: list[str]
    selects: dict[str, str]


class _ViewCompiler:
    def __init__(
        self,
        view: FeatureView,
        specs: list[FeatureSpec],
        contract: SourceContract,
        usccs: Sequence[str] | None,
        *,
        distinct_apart: bool = False,
        shared_terms: bool = False,
        row_key: str | None = None,
        integer_sums: bool = False,
    ) -> None:
        self.view, self.specs, self.contract, self.usccs = view, specs, contract, usccs
        self.distinct_apart = distinct_apart
        self.shared_terms = shared_terms
        self.integer_sums = integer_sums
        self.row_key = row_key
        # What identifies a spine row in the view's CTEs: (uscc, as_of), or
        # (the spine's integer row key, as_of).
        self.row = row_key or "uscc"
        self.entity = f"{self.row}, as_of"
        # Filter conditions and exact values computed once per record (in the
        # known records' CTE) when shared_terms: SQL -> its column's name.
        self._terms: dict[str, str] = {}
        self.time = contract.time_column
        self.k = f"k_{view.name}"
        self.v = f"v_{view.name}"
        self.d = f"d_{view.name}"
        self.p = f"p_{view.name}"

    def _value(self, spec: FeatureSpec) -> str:
        return spec.column if spec.column else f"({spec.expr})"

    def _exact(self, spec: FeatureSpec) -> str:
        # Sums in exact decimals: floating-point sums depend on the order the
        # threads add rows in, and snapshots must be byte-for-byte repeatable.
        return self._term(f"CAST({self._value(spec)} AS DECIMAL(38, 6))")

    def _limbs(self, spec: FeatureSpec) -> tuple[str, str] | None:
        """Return the value's millionths in two BIGINTs (high, low), if summed so.

        Only for a bare column the contract types ``float`` (a DOUBLE): the
        millionths of an integer or an expression of unknown type would not
        be those of its decimal cast beyond 2^53.
        """
        if not (self.integer_sums and spec.column):
            return None
        types = {c.name: c.type for c in self.contract.columns}
        if types.get(spec.column) is not ColumnType.FLOAT:
            return None
        whole = _millionths(spec.column)
        high = f"{whole} // {_LIMB}"
        return self._term(high), self._term(f"{whole} - ({high}) * {_LIMB}")

    def _exact_sum(self, spec: FeatureSpec, cond: str | None) -> str:
        """Exact sum of the spec's values where ``cond``, a DECIMAL(38, 6).

        With ``integer_sums``, a DOUBLE column is summed as two BIGINT sums of
        its millionths (high and low parts at 10^9, so that no sum overflows)
        joined once per group: the same decimal, without a decimal per record.
        """
        limbs = self._limbs(spec)
        if limbs is None:
            return _filtered(f"sum({self._exact(spec)})", cond)
        high, low = (_filtered(f"sum({part})", cond) for part in limbs)
        return (
            f"((CAST({high} AS DECIMAL(38, 0)) * {_LIMB} "
            f"+ CAST({low} AS DECIMAL(38, 0))) * CAST('0.000001' AS DECIMAL(38, 6)))"
        )

    def _exact_count(self, spec: FeatureSpec, cond: str | None) -> str:
        """Count of the spec's non-null values where ``cond``."""
        limbs = self._limbs(spec)
        return _filtered(f"count({limbs[0] if limbs else self._exact(spec)})", cond)

    def _term(self, sql: str) -> str:
        """Return ``sql``, or with shared terms the column computing it once."""
        if not self.shared_terms or _BARE_NAME.fullmatch(sql):
            return sql
        return self._terms.setdefault(sql, f"_t{len(self._terms)}_{self.view.name}")

    def _join(self, cte: str) -> str:
        """LEFT JOIN of a CTE of one row per spine row to the spine (``s``)."""
        row = self.row
        return f"LEFT JOIN {cte} ON {cte}.{row} = s.{row} AND {cte}.as_of = s.as_of"

    def _cond(self, *parts: str | None) -> str | None:
        """Conjunction of ``parts`` (each a shared term if asked), or None."""
        return _and(*(self._term(p) for p in parts if p))

    def known_cte(self) -> str:
        """Select the records known at each as_of (latest versions), in the window."""
        needed = {self.time, "ingested_at"}
        if self.view.kind is ViewKind.STATE:
            needed.add("effective_to")
        for s in self.specs:
            needed |= {c for c in (s.column, s.by) if c}
            needed |= _columns_of(s.expr) | _columns_of(s.where)
        needed |= _columns_of(self.view.where)
        # Columns the spine gives (uscc is read from the records with a row key).
        needed -= {"as_of"} if self.row_key else {"uscc", "as_of"}
        windows = [
            s.window_days for s in self.specs if s.agg is not Aggregation.PRESENT
        ]
        lower = None
        if self.view.kind is ViewKind.EVENT and windows and None not in windows:
            lower = max(int(w) for w in windows if w is not None)
        records = known(
            self.contract,
            Cutoff.per_spine_row(SPINE, row_key=self.row_key),
            sorted(needed),
            window_days=lower or None,
            usccs=self.usccs,
        )
        active = ""
        if self.view.kind is ViewKind.STATE:
            active = f", ({spell_in_force(CUTOFF)}) AS _active"
        where = f" WHERE ({self.view.where})" if self.view.where else ""
        selected = f"SELECT *{active} FROM ({records}) AS known{where}"
        if not self._terms:
            return selected
        terms = ", ".join(f"({sql}) AS {name}" for sql, name in self._terms.items())
        return f"SELECT *, {terms} FROM ({selected}) AS terms"

    def required_fields(self, spec: FeatureSpec) -> list[str]:
        """Columns whose absence makes a count-like feature unknown, not 0."""
        if spec.agg not in (*COUNT_LIKE, Aggregation.SHARE):
            return []
        read = {c for c in (spec.column, spec.by) if c}
        read |= _columns_of(spec.expr) | _columns_of(spec.where)
        extension = [c for c in self.contract.extension_columns if c in read]
        return sorted({*extension, *spec.requires})

    def guarded(self, spec: FeatureSpec) -> str | None:
        """Return the aggregate, null where the window's records lack its fields."""
        value = self.aggregate(spec)
        fields = self.required_fields(spec)
        if value is None or not fields:
            return value
        window = _since(self.time, spec.window_days)
        known_any = " OR ".join(f"{c} IS NOT NULL" for c in fields)
        records = _filtered("count(*)", self._cond(window))
        with_field = _filtered("count(*)", self._cond(window, known_any))
        fill = value if spec.agg is Aggregation.SHARE else f"coalesce({value}, 0)"
        return f"CASE WHEN {records} > 0 AND {with_field} = 0 THEN NULL ELSE {fill} END"

    def aggregate(self, spec: FeatureSpec) -> str | None:  # noqa: PLR0911 -- one per agg
        """Aggregate expression over the known records (None if computed elsewhere)."""
        since = _since(self.time, spec.window_days)
        window = self._cond(since)
        cond = self._cond(since, spec.where)
        agg = spec.agg
        if agg is Aggregation.COUNT:
            return _filtered("count(*)", cond)
        if agg is Aggregation.SUM:
            return self._exact_sum(spec, cond)
        if agg is Aggregation.MEAN:
            # The exact sum, rounded once to a double, over the count: what
            # DuckDB's avg of a decimal computes, written so that every engine
            # (Spark's avg would round to the decimal's scale) gives the same.
            total = self._exact_sum(spec, cond)
            count = self._exact_count(spec, cond)
            return f"CAST({total} AS DOUBLE) / nullif({count}, 0)"
        if agg in (Aggregation.MIN, Aggregation.MAX):
            return _filtered(f"{agg.value}({self._value(spec)})", cond)
        if agg is Aggregation.COUNT_DISTINCT:
            return _filtered(f"count(DISTINCT {self._value(spec)})", cond)
        if agg is Aggregation.SHARE:
            num = _filtered("count(*)", cond)
            den = _filtered("count(*)", window)
            return f"CAST({num} AS DOUBLE) / nullif({den}, 0)"
        if agg is Aggregation.DAYS_SINCE_LAST:
            last = _filtered(f"max({self.time})", cond)
            return f"date_diff('day', CAST({last} AS DATE), as_of)"
        if agg is Aggregation.LATEST:
            value = _filtered(f"arg_max({self._value(spec)}, {self.time})", cond)
            return _mapped(value, spec.map)
        if agg is Aggregation.CURRENT:
            value = _filtered(
                f"arg_max({self._value(spec)}, effective_from)",
                self._cond("_active", spec.where),
            )
            return _mapped(value, spec.map)
        if agg is Aggregation.ACTIVE:
            return (
                f"max(CASE WHEN {self._cond('_active', spec.where)} THEN 1 ELSE 0 END)"
            )
        if agg is Aggregation.DAYS_ACTIVE:
            start = _filtered("max(effective_from)", self._cond("_active", spec.where))
            return f"date_diff('day', CAST({start} AS DATE), as_of)"
        if agg is Aggregation.STARTS:
            return _filtered(
                "count(*)",
                self._cond(_since("effective_from", spec.window_days), spec.where),
            )
        return None  # PRESENT and MAX_SHARE_BY have their own CTEs

    def max_share_cte(self, specs: list[FeatureSpec]) -> str:
        """Largest share of one ``by`` value, for every spec of that ``by`` at once.

        One aggregate of the records per ``(uscc, as_of, by)``, each spec's
        part filtered by its window and condition, then one per enterprise:
        the view's records are read once for all of them. A part with no
        record of its filter is null, which ``max`` and ``sum`` skip: the
        same value as an aggregate of only those records.
        """
        by = specs[0].by
        conds = [self._cond(_since(self.time, s.window_days), s.where) for s in specs]
        parts = ", ".join(
            f"{self._exact_sum(s, c)} AS {s.name}"
            for s, c in zip(specs, conds, strict=True)
        )
        shares = ", ".join(
            f"CAST(max({s.name}) AS DOUBLE) / nullif(sum({s.name}), 0) AS {s.name}"
            for s in specs
        )
        where = (
            "" if None in conds else f" WHERE {' OR '.join(f'({c})' for c in conds)}"
        )
        return (
            f"SELECT {self.entity}, {shares} "
            f"FROM (SELECT {self.entity}, {by}, {parts} "
            f"FROM {self.k}{where} GROUP BY {self.entity}, {by}) AS parts "
            f"GROUP BY {self.entity}"
        )

    def _share_ctes(self, ctes: list[tuple[str, str]], joins: list[str]) -> None:
        """Add one CTE (and its join) per ``by`` column of the view's max shares."""
        shares: dict[str, list[FeatureSpec]] = {}
        for spec in self.specs:
            if spec.agg is Aggregation.MAX_SHARE_BY:
                shares.setdefault(str(spec.by), []).append(spec)
        for by, specs in shares.items():
            cte = f"ms_{self.view.name}_{by}"
            ctes.append((cte, self.max_share_cte(specs)))
            joins.append(self._join(cte))

    def compile(self) -> _ViewSql:
        ctes: list[tuple[str, str]] = []
        joins: list[str] = []
        selects: dict[str, str] = {}
        need_presence = self.view.missing is Missing.NULL or any(
            s.agg is Aggregation.PRESENT for s in self.specs
        )
        if need_presence:
            ctes.append((self.p, first_known(self.contract.name, usccs=self.usccs)))
            joins.append(f"LEFT JOIN {self.p} ON {self.p}.uscc = s.uscc")
        present = known_enterprise(f"{self.p}.{FIRST_KNOWN}", CUTOFF.on_spine().sql)
        absent = "false"
        if not self.contract.simulated and any(
            s.agg is Aggregation.PRESENT for s in self.specs
        ):
            # An optional source (court cases, IP rights, news) the zone had no
            # record of at the date: ``present`` is unknown, not 0, as its other
            # features are. Not restricted to ``usccs``: whether the zone has
            # the source at all does not depend on the enterprises asked for.
            source = f"{self.p}_source"
            whole = first_known(self.contract.name)
            ctes.append(
                (
                    source,
                    f"SELECT min({FIRST_KNOWN}) AS {FIRST_KNOWN} FROM ({whole}) AS w",
                )
            )
            joins.append(f"CROSS JOIN {source}")
            cutoff = CUTOFF.on_spine().sql
            known_source = known_enterprise(f"{source}.{FIRST_KNOWN}", cutoff)
            absent = f"NOT coalesce({known_source}, false)"
        aggs = {s.name: self.guarded(s) for s in self.specs}
        computed = {n: a for n, a in aggs.items() if a is not None}
        has_shares = any(s.agg is Aggregation.MAX_SHARE_BY for s in self.specs)
        # The known records' CTE goes first; its SQL is written once every
        # aggregate has named the shared terms it reads.
        known_at = len(ctes)
        # Which aggregate (CTE) computes each feature: distinct counts apart
        # if asked (see compile_feature_sql).
        table = {
            s.name: self.d
            if self.distinct_apart and s.agg is Aggregation.COUNT_DISTINCT
            else self.v
            for s in self.specs
        }
        for cte in (self.v, self.d):
            body = ", ".join(
                f"{a} AS {n}" for n, a in computed.items() if table[n] == cte
            )
            if not body:
                continue
            ctes.append(
                (
                    cte,
                    f"SELECT {self.entity}, {body} FROM {self.k} "
                    f"GROUP BY {self.entity}",
                )
            )
            joins.append(self._join(cte))
        self._share_ctes(ctes, joins)
        if computed or has_shares:
            ctes.insert(known_at, (self.k, self.known_cte()))
        for spec in self.specs:
            name = self.view.full_name(spec.name)
            if spec.agg is Aggregation.PRESENT:
                selects[name] = (
                    f"(CASE WHEN {present} THEN 1 WHEN {absent} THEN NULL ELSE 0 END)"
                )
                continue
            if spec.agg is Aggregation.MAX_SHARE_BY:
                value = f"ms_{self.view.name}_{spec.by}.{spec.name}"
            else:
                value = f"{table[spec.name]}.{spec.name}"
                if spec.agg in COUNT_LIKE and self.required_fields(spec):
                    # Null from the guard stays null; no record at all is 0.
                    value = (
                        f"(CASE WHEN {table[spec.name]}.{self.row} IS NULL THEN 0 "
                        f"ELSE {value} END)"
                    )
                elif spec.agg in COUNT_LIKE:
                    value = f"coalesce({value}, 0)"
            if self.view.missing is Missing.NULL:
                value = f"(CASE WHEN {present} THEN {value} END)"
            selects[name] = value
        return _ViewSql(ctes, joins, selects)


def compile_feature_sql(
    resolved: ResolvedSet,
    contracts: dict[str, SourceContract],
    *,
    spine_table: str = "spine",
    usccs: Sequence[str] | None = None,
    distinct_apart: bool = False,
    shared_terms: bool = False,
    row_key: str | None = None,
    integer_sums: bool = False,
    ordered: bool = True,
) -> str:
    """Compile ``resolved`` to one SQL query over ``spine_table`` and the sources.

    Parameters
    ----------
    resolved : ResolvedSet
        The feature set and every feature it needs.
    contracts : dict of str to SourceContract
        Contracts of the sources (keys, versioning, time columns).
    spine_table : str, default="spine"
        Table with columns ``uscc`` (text) and ``as_of`` (date).
    usccs : sequence of str, optional
        Restrict every source scan to these enterprises (the online path: the
        same query, with a filter the engine can push into the scans).
    distinct_apart : bool, default=False
        Compute a view's distinct counts in an aggregate of their own, beside
        the one of its other features (same values). For Spark: an aggregate
        with distinct counts under filters is planned with an ``Expand`` that
        copies every record once per distinct count, each copy with the
        buffers of every other aggregate of the view; apart, the copies are
        narrow and the other aggregates read each record once.
    shared_terms : bool, default=False
        Compute each view's filter conditions (windows, ``where``) and exact
        decimal values once per record, as columns of its known records,
        which the aggregates then read (same values). For Spark: it evaluates
        each aggregate's filter and cast anew for every record (a string
        compared, a double turned into a decimal through its text), where the
        views have dozens of aggregates over a few conditions.
    row_key : str, optional
        An integer column of ``spine_table`` numbering the enterprises of each
        ``as_of`` (one value per ``uscc`` within a date): the records known at
        each spine row are then identified, partitioned for their latest
        versions, grouped and joined back by ``(row_key, as_of)`` rather than
        by ``(uscc, as_of)`` (same values). For Spark: it hashes, compares and
        copies the text key of every record in each of those steps, where an
        integer is a fixed-width field of the row.
    integer_sums : bool, default=False
        Sum the columns typed ``float`` exactly as two 64-bit integer sums of
        their millionths (the digits ``DECIMAL(38, 6)`` keeps), turned into
        that decimal once per group (same values). For Spark: it makes a
        decimal of every record's double through its text and adds decimals
        of 38 digits as Java ``BigDecimal`` objects.
    ordered : bool, default=True
        Return the rows in ``(uscc, as_of)`` order. For Spark, ``False``: a
        global sort first samples its input, which computes the widest stage
        of the query (every view joined to the spine) a second time; the
        caller sorts where the order matters, once what it sorts is stored.

    Returns
    -------
    str
        DuckDB SQL returning ``uscc``, ``as_of`` and one column per output.
    """
    by_view: dict[str, list[FeatureSpec]] = {}
    views: dict[str, FeatureView] = {}
    for ref in resolved.needed:
        if ref.view.kind is ViewKind.DERIVED:
            continue
        by_view.setdefault(ref.view.name, []).append(ref.spec)
        views[ref.view.name] = ref.view
    ctes = [(SPINE, spine_sql(spine_table, row_key=row_key))]
    joins: list[str] = []
    base: dict[str, str] = {}
    for name in sorted(by_view):
        view = views[name]
        compiled = _ViewCompiler(
            view,
            by_view[name],
            contracts[str(view.source)],
            usccs,
            distinct_apart=distinct_apart,
            shared_terms=shared_terms,
            row_key=row_key,
            integer_sums=integer_sums,
        ).compile()
        ctes += compiled.ctes
        joins += compiled.joins
        base.update(compiled.selects)
    base_cols = ", ".join(f"{sql} AS {col}" for col, sql in base.items())
    ctes.append(
        (
            "_base",
            f"SELECT s.uscc, s.as_of{', ' if base_cols else ''}{base_cols} "
            f"FROM {SPINE} AS s {' '.join(joins)}",
        )
    )
    by_name = {r.name: r for r in resolved.needed}

    def expression(ref: FeatureRef) -> str:
        if ref.view.kind is not ViewKind.DERIVED:
            return ref.name
        inputs = [
            expression(by_name[f"{x.replace(':', '__')}"])
            if isinstance(x, str)
            else repr(float(x))
            for x in ref.spec.inputs
        ]
        return render_transform(str(ref.spec.transform), inputs, ref.spec.params)

    outputs = ", ".join(
        f"CAST({expression(r)} AS DOUBLE) AS {r.name}" for r in resolved.outputs
    )
    with_clause = ",\n".join(f"{n} AS (\n  {sql}\n)" for n, sql in ctes)
    order = "\nORDER BY uscc, as_of" if ordered else ""
    return f"WITH {with_clause}\nSELECT uscc, as_of, {outputs}\nFROM _base{order}"


def _double_literal(node: exp.Expression) -> exp.Expression:
    # DuckDB reads 365.25 as a DECIMAL and divides it as a DOUBLE; Spark would
    # divide in decimals, rounded to a scale. A DOUBLE literal gives Spark the
    # arithmetic DuckDB does.
    if (
        isinstance(node, exp.Literal)
        and node.is_number
        and any(c in node.this for c in ".eE")
        and not isinstance(node.parent, exp.DataTypeParam)
    ):
        return exp.cast(node.copy(), exp.DataType.build("DOUBLE"))
    return node


def _utc_wall_clock(node: exp.Expression) -> exp.Expression:
    # DuckDB's timezone('UTC', ts) is the UTC wall clock of an instant; Spark
    # shows instants in its session time zone, which the engine sets to UTC
    # (credit_engine.engines.SparkConfig), so the instant itself is that clock.
    if (
        isinstance(node, exp.Anonymous)
        and str(node.this).lower() == "timezone"
        and len(node.expressions) == 2
        and isinstance(node.expressions[0], exp.Literal)
        and node.expressions[0].is_string
        and node.expressions[0].this.upper() == "UTC"
    ):
        clock: exp.Expression = node.expressions[1].copy()
        return clock
    return node


def _non_null_arg(node: exp.Expression) -> exp.Expression:
    # DuckDB's arg_max(x, t) / arg_min(x, t) skip the rows where x is NULL;
    # Spark's max_by / min_by would return that NULL. Ordering by a NULL
    # instead where x is NULL (Spark skips NULL orderings) gives DuckDB's rows.
    if isinstance(node, exp.ArgMax | exp.ArgMin) and not node.meta.get("non_null"):
        value, order = node.this, node.expression
        guarded = exp.If(
            this=exp.Is(this=value.copy(), expression=exp.Null()),
            true=exp.Null(),
            false=order.copy(),
        )
        out = node.__class__(this=value.copy(), expression=guarded)
        out.meta["non_null"] = True
        return out
    return node


_MICROS_PER_DAY = 86_400_000_000


def _days_before(node: exp.Expression, column: str) -> int | None:
    """``N`` if ``node`` is ``<column> - INTERVAL 'N' DAY``, else None."""
    if (
        isinstance(node, exp.Sub)
        and isinstance(node.this, exp.Column)
        and node.this.name == column
        and isinstance(node.expression, exp.Interval)
        and str(node.expression.unit).upper() == "DAY"
        and isinstance(node.expression.this, exp.Literal)
        and node.expression.this.this.isdigit()
    ):
        return int(node.expression.this.this)
    return None


def _cutoff_days_before(node: exp.Expression) -> exp.Expression:
    # ``_cutoff - INTERVAL 'N' DAY`` (Cutoff.days_before on the spine's
    # cutoff, in nearly every windowed aggregate's filter): Spark adds a
    # day-time interval to a timestamp through the session time zone's
    # calendar (java.time), for every record and every aggregate, which was
    # the feature job's largest single cost. In UTC, the engine's session
    # time zone, a day is 86,400 s: the same instant, in integer arithmetic.
    days = _days_before(node, CUTOFF_COLUMN)
    if days is not None:
        micros = days * _MICROS_PER_DAY
        since_epoch = exp.Anonymous(this="UNIX_MICROS", expressions=[node.this.copy()])
        return exp.Anonymous(
            this="TIMESTAMP_MICROS",
            expressions=[
                exp.Sub(this=since_epoch, expression=exp.Literal.number(micros))
            ],
        )
    return node


def _micros_days(micros: exp.Expression) -> exp.Expression:
    """Whole UTC days since the epoch of a microsecond count (floor, exact)."""
    day = exp.Literal.number(_MICROS_PER_DAY)
    pmod = exp.Anonymous(this="PMOD", expressions=[micros.copy(), day.copy()])
    return exp.IntDiv(
        this=exp.Paren(this=exp.Sub(this=micros.copy(), expression=pmod)),
        expression=day.copy(),
    )


_COMPARISONS = (exp.LT, exp.LTE, exp.GT, exp.GTE, exp.EQ, exp.NEQ)


_Rewrite = Callable[[exp.Expression], exp.Expression]


def _utc_days(timestamps: Collection[str]) -> _Rewrite:
    # Two per-record conversions Spark makes through the session time zone's
    # calendar (java.time, for every record and every aggregate using them):
    # a timestamp column cast to a date (``CAST(event_ts AS DATE)``), and a
    # timestamp column compared with a day before the spine's date
    # (``event_ts < as_of - INTERVAL 'N' DAY``, the date cast to a timestamp).
    # In UTC, the engine's session time zone, a day is 86,400,000,000 us from
    # midnight to midnight: the same dates and instants in integer arithmetic.
    # Only for columns every contract types as timestamps (a date column's
    # cast is already cheap, and UNIX_MICROS would refuse it).
    def rewrite(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Cast)
            and node.to.this is exp.DataType.Type.DATE
            and isinstance(node.this, exp.Column)
            and node.this.name in timestamps
        ):
            micros = exp.Anonymous(this="UNIX_MICROS", expressions=[node.this.copy()])
            days = exp.cast(_micros_days(micros), exp.DataType.build("INT"))
            return exp.Anonymous(this="DATE_FROM_UNIX_DATE", expressions=[days])
        if isinstance(node, _COMPARISONS):
            sides = [node.this, node.expression]
            for i, side in enumerate(sides):
                other = sides[1 - i]
                n = _days_before(side, "as_of")  # the spine's date
                if not (
                    n is not None
                    and isinstance(other, exp.Column)
                    and other.name in timestamps
                ):
                    continue
                unix_date = exp.Anonymous(
                    this="UNIX_DATE", expressions=[side.this.copy()]
                )
                instant = exp.Anonymous(
                    this="TIMESTAMP_MICROS",
                    expressions=[
                        exp.Mul(
                            this=exp.Paren(
                                this=exp.Sub(
                                    this=unix_date, expression=exp.Literal.number(n)
                                )
                            ),
                            expression=exp.Literal.number(_MICROS_PER_DAY),
                        )
                    ],
                )
                node.set("this" if i == 0 else "expression", instant)
        return node

    return rewrite


def timestamp_columns(contracts: Mapping[str, SourceContract]) -> frozenset[str]:
    """Names of the columns typed ``timestamp`` in every contract that has them.

    For :func:`to_spark`: a column name typed otherwise in any contract is left
    out (its rewrites would not apply to that table's records).
    """
    types: dict[str, set[ColumnType]] = {}
    for contract in contracts.values():
        for column in contract.columns:
            types.setdefault(column.name, set()).add(column.type)
    return frozenset(
        name for name, kinds in types.items() if kinds == {ColumnType.TIMESTAMP}
    )


def to_spark(sql: str, *, timestamp_columns: Collection[str] = ()) -> str:
    """Transpile compiled feature SQL to Spark SQL (raises on unsupported syntax).

    Decimal literals become DOUBLE, as DuckDB's arithmetic takes them, so that
    both engines compute the same values; ``timezone('UTC', ts)`` becomes
    ``ts`` (the Spark session runs in UTC); ``arg_max``/``arg_min`` skip NULL
    values, as on DuckDB. Day arithmetic on the spine's cutoff, and on the
    ``timestamp_columns`` (see :func:`timestamp_columns`) cast to dates or
    compared with days before ``as_of``, is written in integer microseconds
    (the same instants in UTC, the session's time zone), which Spark computes
    without its calendar.

    Examples
    --------
    >>> to_spark("SELECT date_diff('day', a, b) / 365.25 AS y FROM t")
    'SELECT DATEDIFF(DAY, a, b) / CAST(365.25 AS DOUBLE) AS y FROM t'
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    tree = (
        tree.transform(_double_literal)
        .transform(_utc_wall_clock)
        .transform(_non_null_arg)
        .transform(_cutoff_days_before)
        .transform(_utc_days(frozenset(timestamp_columns)))
    )
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
