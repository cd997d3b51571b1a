"""The lake's figures, one DuckDB query per section, point in time.

Conventions (the report states its knowledge cutoff ``K``, the end of the
knowledge date, UTC):

* **Flows** (declarations, refunds, FX, new and deregistered enterprises) are
  counted by their event date within the period, from the records known at
  ``K`` (:func:`credit_engine.point_in_time.known` with ``Cutoff.end_of``).
  A later re-run may add late-arriving records.
* **Stocks** (registered enterprises, their customs role, which departments
  know them) are read at the period's stock date, as known then (a cutoff per
  period): what the zone knew at the end of each period, as the rating engine
  saw it. They do not change when late records arrive.

Every query reads the contracts' tables registered on the connection (lake
views or frames) and the ``_periods`` table of :func:`register_periods`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from credit_engine.data import Department as SourceDepartment
from credit_engine.data import SourceContract
from credit_engine.point_in_time import (
    Cutoff,
    cutoff_of,
    first_known,
    in_force,
    known,
    known_enterprise,
    sql_literal,
)
from credit_engine.vocabulary import Department
from credit_engine.zone_statistics._periods import Period, bucket_sql
from credit_engine.zone_statistics._reference import (
    OTHER_MODE,
    ZoneReference,
    district_sql,
)

__all__ = [
    "DEPARTMENT_OF_SOURCE",
    "EXIT_STATUSES",
    "LAKE_TABLES",
    "NO_CUSTOMS_ROLE",
    "LakeQueries",
    "query_frame",
    "register_periods",
]

DEPARTMENT_OF_SOURCE: dict[SourceDepartment, Department] = {
    SourceDepartment.CUSTOMS: Department.CUSTOMS,
    SourceDepartment.TAX: Department.TAX,
    SourceDepartment.FOREX: Department.SAFE,
    SourceDepartment.MARKET: Department.SAMR,
}
"""The department of each contract's owner, in the engine's vocabulary."""

EXIT_STATUSES: tuple[str, ...] = ("CANCELLED", "REVOKED", "MOVED_OUT")
"""SAMR statuses that take an enterprise off the zone's register (注销, 吊销, 迁出)."""

NO_CUSTOMS_ROLE = "NO_CUSTOMS_REGISTRATION"
"""CBEC role of an enterprise never registered with customs."""

LAKE_TABLES: tuple[str, ...] = (
    "samr_registration",
    "customs_registration",
    "customs_declaration",
    "export_refund_claim",
    "fx_transaction",
)
"""Tables the figures read (the presence by department reads every table)."""

_IN_BUSINESS = "IN_BUSINESS"
_STATE_TABLES = ("samr_registration", "customs_registration")


def register_periods(con: Any, periods: Sequence[Period]) -> None:
    """Create the temp table ``_periods`` (label, bucket, start, end, stock date).

    ``stock_cutoff`` is the end of the stock date (UTC), the cutoff at which
    the period's stocks are known.
    """
    rows = ", ".join(
        f"({sql_literal(p.label)}, DATE '{p.bucket}', DATE '{p.start}', "
        f"DATE '{p.end}', DATE '{p.stock_date}', {i})"
        for i, p in enumerate(periods)
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _periods AS SELECT period, bucket, "
        "first_day, last_day, stock_date, ord, "
        f"{cutoff_of('stock_date')} AS stock_cutoff "
        f"FROM (VALUES {rows}) AS v(period, bucket, first_day, last_day, "
        "stock_date, ord)"
    )


def _day_start(day: dt.date) -> str:
    """Return the SQL instant 00:00 UTC of ``day`` (an event-time bound)."""
    return f"TIMESTAMPTZ '{day.isoformat()} 00:00:00+00:00'"


def query_frame(con: Any, sql: str) -> pd.DataFrame:
    """Run ``sql`` and return its rows; DATE columns as :class:`datetime.date`.

    DuckDB hands dates to pandas as naive timestamps; the report keeps rating
    and period dates as dates (ISO ``YYYY-MM-DD`` in JSON and CSV).
    """
    frame: pd.DataFrame = con.execute(sql).df()
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_dtype(series) and series.dt.tz is None:
            dates = series.dt.date.astype(object)
            frame[column] = dates.where(series.notna(), None)
    return frame


@dataclass(frozen=True)
class LakeQueries:
    """The SQL of the lake sections for one report.

    Parameters
    ----------
    contracts : mapping of str to SourceContract
        Every contract (the presence by department reads all tables).
    periods : sequence of Period
        The report's periods (registered as ``_periods``).
    kind : {"month", "quarter"}
        Period length (the bucketing of event dates).
    knowledge_date : datetime.date
        The report's knowledge date; flows are read as known at its end.
    reference : ZoneReference
        The reported trade modes.
    """

    contracts: Mapping[str, SourceContract]
    periods: Sequence[Period]
    kind: str
    knowledge_date: dt.date
    reference: ZoneReference

    # ------------------------------------------------------------ building blocks
    @property
    def cutoff(self) -> Cutoff:
        """The report's knowledge cutoff (end of the knowledge date)."""
        return Cutoff.end_of(self.knowledge_date)

    @property
    def _range(self) -> tuple[str, str]:
        """SQL instants bounding the report's event times: [start, end)."""
        return (
            _day_start(self.periods[0].start),
            _day_start(self.periods[-1].end + dt.timedelta(days=1)),
        )

    def _in_range(self, column: str) -> str:
        low, high = self._range
        return f"{column} >= {low} AND {column} < {high}"

    def _stock_dates(self) -> list[dt.date]:
        return sorted({p.stock_date for p in self.periods})

    def mode_sql(self, column: str) -> str:
        """Return SQL mapping a supervision mode to itself if listed, else ``other``."""
        listed = ", ".join(sql_literal(m) for m in self.reference.trade_modes)
        if not listed:
            return sql_literal(OTHER_MODE)
        return (
            f"CASE WHEN {column} IN ({listed}) THEN {column} "
            f"ELSE {sql_literal(OTHER_MODE)} END"
        )

    def events(self, table: str, columns: Sequence[str]) -> str:
        """SELECT ``period``, ``uscc`` and ``columns`` of a table's events in range.

        Records known at the knowledge cutoff (latest version of versioned
        ones), bucketed by their event date.
        """
        contract = self.contracts[table]
        time = contract.time_column
        body = known(
            contract,
            self.cutoff,
            [time, *columns],
            where=self._in_range(f"t.{time}"),
        )
        cols = ", ".join(f"e.{c}" for c in columns)
        return (
            f"SELECT p.period, e.uscc{', ' + cols if cols else ''} FROM ({body}) AS e "
            f"JOIN _periods AS p ON p.bucket = {bucket_sql('e.' + time, self.kind)}"
        )

    def _per_stock_date(self, select_at: Any) -> str:
        """UNION ALL of ``select_at(cutoff)`` per distinct stock date, with the date."""
        parts = [
            f"SELECT DATE '{day}' AS stock_date, x.* FROM "
            f"({select_at(Cutoff.end_of(day))}) AS x"
            for day in self._stock_dates()
        ]
        return " UNION ALL ".join(parts)

    def registered_sql(self) -> str:
        """SELECT ``period, uscc``: in business (SAMR) at the period's stock date."""
        samr = self.contracts["samr_registration"]

        def at(cut: Cutoff) -> str:
            spells = known(samr, cut, ["status", "effective_from", "effective_to"])
            return in_force(samr, f"({spells}) AS k", cut, ["status"])

        return (
            f"SELECT p.period, s.uscc FROM ({self._per_stock_date(at)}) AS s "
            "JOIN _periods AS p ON p.stock_date = s.stock_date "
            f"WHERE s.status = {sql_literal(_IN_BUSINESS)}"
        )

    def roles_sql(self) -> str:
        """SELECT ``period, uscc, cbec_role``: role of the latest customs registration.

        The registration that started last among those known at the period's
        stock date (in force or since cancelled): the role the enterprise last
        filed with customs.
        """
        registration = self.contracts["customs_registration"]

        def at(cut: Cutoff) -> str:
            spells = known(registration, cut, ["cbec_role", "effective_from"])
            return (
                f"SELECT uscc, cbec_role FROM ({spells}) AS k QUALIFY row_number() "
                "OVER (PARTITION BY uscc ORDER BY effective_from DESC, "
                "source_record_id DESC) = 1"
            )

        return (
            f"SELECT p.period, r.uscc, r.cbec_role FROM ({self._per_stock_date(at)}) "
            "AS r JOIN _periods AS p ON p.stock_date = r.stock_date"
        )

    def presence_sql(self) -> str:
        """SELECT ``period, uscc, department``: the department had records on it.

        An enterprise is present in a department at a period's stock date if
        its first record in any of the department's tables was ingested
        before the end of that day.
        """
        by_department: dict[Department, list[str]] = {}
        for name, contract in sorted(self.contracts.items()):
            department = DEPARTMENT_OF_SOURCE[contract.department]
            by_department.setdefault(department, []).append(name)
        parts = []
        for department, tables in by_department.items():
            union = " UNION ALL ".join(
                f"SELECT uscc, ingested_at FROM {t}" for t in tables
            )
            parts.append(
                f"SELECT {sql_literal(department.value)} AS department, f.* "
                f"FROM ({first_known(f'({union}) AS u')}) AS f"
            )
        firsts = " UNION ALL ".join(parts)
        present = known_enterprise("f.first_known", "p.stock_cutoff")
        return (
            f"SELECT p.period, f.uscc, f.department FROM ({firsts}) AS f "
            f"JOIN _periods AS p ON {present}"
        )

    def declared_sql(self) -> str:
        """SELECT declarations per ``period, uscc, trade_mode, direction``.

        Each enterprise's declarations of the period (known at the knowledge
        cutoff), counted and summed (``declarations``, ``value_cny``): the one
        scan of the largest table the figures need.
        """
        decl = self.events(
            "customs_declaration", ["ie_flag", "trade_mode", "value_cny"]
        )
        return (
            f"SELECT d.period, d.uscc, {self.mode_sql('d.trade_mode')} AS trade_mode, "
            "CASE d.ie_flag WHEN 'E' THEN 'export' ELSE 'import' END AS direction, "
            "count(*) AS declarations, sum(d.value_cny) AS value_cny "
            f"FROM ({decl}) AS d GROUP BY ALL"
        )

    def prepare(self, con: Any) -> None:
        """Materialise what the sections share, reading each source once.

        The state tables read at every stock date (SAMR and customs
        registrations, small) are copied into memory first; then temp tables
        ``_registered (period, uscc)``, ``_roles (period, uscc, cbec_role)``,
        ``_presence (period, uscc, department)`` and ``_declared (period,
        uscc, trade_mode, direction, declarations, value_cny)``.
        """
        for name in _STATE_TABLES:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _mem_{name} AS SELECT * FROM {name}"
            )
            con.execute(f"DROP VIEW IF EXISTS {name}")
            con.execute(f"CREATE TEMP VIEW {name} AS SELECT * FROM _mem_{name}")
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _registered AS {self.registered_sql()}"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _roles AS {self.roles_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _presence AS {self.presence_sql()}")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _declared AS {self.declared_sql()}")

    def _role(self, alias: str) -> str:
        return f"coalesce({alias}.cbec_role, {sql_literal(NO_CUSTOMS_ROLE)})"

    # ------------------------------------------------------------------ sections
    def enterprises(self, con: Any) -> pd.DataFrame:
        """Count registered, active, new and deregistered enterprises by dimension.

        Returns
        -------
        pandas.DataFrame
            ``period, dimension, value, registered, active, new, deregistered``
            where ``dimension`` is ``total``, ``district``, ``cbec_role`` or
            ``department`` (an enterprise counts once per department that
            knows it, so that breakdown does not add up to the total).
        """
        samr = self.contracts["samr_registration"]
        new_sql = (
            "SELECT p.period, e.uscc FROM (SELECT uscc, min(established_date) AS est "
            f"FROM ({known(samr, self.cutoff, ['established_date'])}) AS k "
            "GROUP BY uscc) AS e "
            f"JOIN _periods AS p ON p.bucket = {bucket_sql('e.est', self.kind)} "
            f"WHERE e.est BETWEEN DATE '{self.periods[0].start}' "
            f"AND DATE '{self.periods[-1].end}'"
        )
        exits = ", ".join(sql_literal(s) for s in EXIT_STATUSES)
        gone_sql = (
            "SELECT DISTINCT period, uscc FROM "
            f"({self.events('samr_registration', ['status'])}) AS g "
            f"WHERE g.status IN ({exits})"
        )
        active_sql = (
            "SELECT DISTINCT d.period, d.uscc FROM _declared AS d "
            "SEMI JOIN _registered AS r ON r.period = d.period AND r.uscc = d.uscc"
        )
        flags = " UNION ALL ".join(
            "SELECT period, uscc, "
            + ", ".join("1" if i == j else "0" for j in range(4))
            + f" FROM ({sql}) AS s{i}"
            for i, sql in enumerate(
                ("SELECT period, uscc FROM _registered", active_sql, new_sql, gone_sql)
            )
        )
        return query_frame(
            con,
            f"""
            WITH f AS (
                SELECT period, uscc, max(c0) AS registered, max(c1) AS active,
                       max(c2) AS new, max(c3) AS deregistered
                FROM ({flags}) AS x(period, uscc, c0, c1, c2, c3)
                GROUP BY period, uscc
            ), a AS (
                SELECT f.*, {district_sql("f.uscc")} AS district,
                       {self._role("r")} AS cbec_role
                FROM f LEFT JOIN _roles AS r ON r.period = f.period AND r.uscc = f.uscc
            ), measures AS (
                SELECT period,
                       CASE WHEN grouping(district) = 0 THEN 'district'
                            WHEN grouping(cbec_role) = 0 THEN 'cbec_role'
                            ELSE 'total' END AS dimension,
                       coalesce(district, cbec_role, 'all') AS value,
                       sum(registered) AS registered, sum(active) AS active,
                       sum(new) AS new, sum(deregistered) AS deregistered
                FROM a
                GROUP BY GROUPING SETS ((period), (period, district),
                                        (period, cbec_role))
                UNION ALL
                SELECT a.period, 'department', pr.department, sum(registered),
                       sum(active), sum(new), sum(deregistered)
                FROM a JOIN _presence AS pr ON pr.period = a.period AND pr.uscc = a.uscc
                GROUP BY a.period, pr.department
            )
            SELECT * FROM measures
            """,
        )

    def declarations(self, con: Any) -> pd.DataFrame:
        """Sum declarations and their CNY value by mode, direction, district, role.

        Returns
        -------
        pandas.DataFrame
            ``period, trade_mode, direction, district, cbec_role, declarations,
            value_cny, enterprises, grouping`` where ``grouping`` names the
            breakdown (``total``, ``trade_mode``, ``direction``,
            ``trade_mode_direction``, ``district``, ``cbec_role``) and the
            other breakdown columns are null.
        """
        return query_frame(
            con,
            f"""
            WITH d AS (
                SELECT d.*, {district_sql("d.uscc")} AS district,
                       {self._role("r")} AS cbec_role
                FROM _declared AS d
                LEFT JOIN _roles AS r ON r.period = d.period AND r.uscc = d.uscc
            ),
            -- Per enterprise first, then count rows: no count(DISTINCT)
            -- inside grouping sets, which is what costs at 100,000 enterprises.
            per_enterprise AS (
                SELECT period, trade_mode, direction, district, cbec_role,
                       sum(declarations) AS declarations, sum(value_cny) AS value_cny,
                       grouping(trade_mode, direction, district, cbec_role) AS g
                FROM d
                GROUP BY GROUPING SETS ((period, uscc), (period, trade_mode, uscc),
                                        (period, direction, uscc),
                                        (period, trade_mode, direction, uscc),
                                        (period, district, uscc),
                                        (period, cbec_role, uscc))
            )
            SELECT period, trade_mode, direction, district, cbec_role,
                   sum(declarations) AS declarations, sum(value_cny) AS value_cny,
                   count(*) AS enterprises,
                   CASE g WHEN 15 THEN 'total' WHEN 7 THEN 'trade_mode'
                          WHEN 11 THEN 'direction' WHEN 3 THEN 'trade_mode_direction'
                          WHEN 13 THEN 'district' ELSE 'cbec_role' END AS grouping
            FROM per_enterprise
            GROUP BY period, g, trade_mode, direction, district, cbec_role
            """,
        )

    def refunds(self, con: Any) -> pd.DataFrame:
        """Export-refund claims filed in each period, in total and by review status.

        Returns
        -------
        pandas.DataFrame
            ``period, status (null: all), claims, enterprises,
            export_value_cny, refund_claimed_cny, refund_approved_cny``.
        """
        claims = self.events(
            "export_refund_claim",
            ["status", "export_value_cny", "refund_claimed_cny", "refund_approved_cny"],
        )
        return query_frame(
            con,
            f"""
            WITH per_enterprise AS (
                SELECT period, status, grouping(status) AS g, count(*) AS claims,
                       sum(export_value_cny) AS export_value_cny,
                       sum(refund_claimed_cny) AS refund_claimed_cny,
                       sum(refund_approved_cny) AS refund_approved_cny
                FROM ({claims}) AS c
                GROUP BY GROUPING SETS ((period, uscc), (period, status, uscc))
            )
            SELECT period, status, sum(claims) AS claims, count(*) AS enterprises,
                   sum(export_value_cny) AS export_value_cny,
                   sum(refund_claimed_cny) AS refund_claimed_cny,
                   coalesce(sum(refund_approved_cny), 0) AS refund_approved_cny
            FROM per_enterprise
            GROUP BY period, g, status
            """,
        )

    def forex(self, con: Any) -> pd.DataFrame:
        """FX received (IN) and paid (OUT) in each period, in USD.

        Returns
        -------
        pandas.DataFrame
            ``period, direction (received/paid), transactions, enterprises,
            amount_usd, goods_trade_usd``.
        """
        fx = self.events(
            "fx_transaction", ["direction", "amount_usd", "is_goods_trade"]
        )
        return query_frame(
            con,
            f"""
            WITH per_enterprise AS (
                SELECT period, direction, count(*) AS transactions,
                       sum(amount_usd) AS amount_usd,
                       sum(CASE WHEN is_goods_trade THEN amount_usd ELSE 0 END)
                           AS goods_trade_usd
                FROM ({fx}) AS x
                GROUP BY period, direction, uscc
            )
            SELECT period,
                   CASE direction WHEN 'IN' THEN 'received' ELSE 'paid' END
                       AS direction,
                   sum(transactions) AS transactions, count(*) AS enterprises,
                   sum(amount_usd) AS amount_usd,
                   sum(goods_trade_usd) AS goods_trade_usd
            FROM per_enterprise
            GROUP BY ALL
            """,
        )

    def main_modes(self, con: Any, rated: pd.DataFrame) -> pd.DataFrame:
        """Find the main supervision mode of each rated enterprise at its rating date.

        The mode with the largest declared CNY value in the 365 days up to
        the rating date, as known then (ties: the smaller code); ``none``
        without declarations. Reported modes keep their code, others become
        ``other``.

        Parameters
        ----------
        con : duckdb.DuckDBPyConnection
        rated : pandas.DataFrame
            ``uscc`` and ``as_of`` (date), one row per pair.

        Returns
        -------
        pandas.DataFrame
            ``uscc, as_of, main_mode`` for the pairs with declarations.
        """
        from credit_engine.point_in_time import spine_sql

        spine = rated.loc[:, ["uscc", "as_of"]].drop_duplicates()
        con.register("_rated_frame", spine)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _rated AS SELECT CAST(uscc AS VARCHAR) AS "
            "uscc, CAST(as_of AS DATE) AS as_of FROM _rated_frame"
        )
        con.unregister("_rated_frame")
        con.execute(f"CREATE OR REPLACE TEMP TABLE _spine AS {spine_sql('_rated')}")
        contract = self.contracts["customs_declaration"]
        days = sorted(set(spine["as_of"]))
        # Only declarations some window can hold (a plain event-time range;
        # the per-row window and knowledge cutoff are known()'s).
        earliest = days[0] - dt.timedelta(days=364) if days else self.knowledge_date
        latest = days[-1] + dt.timedelta(days=1) if days else self.knowledge_date
        decl = known(
            contract,
            Cutoff.per_spine_row("_spine"),
            ["trade_mode", "value_cny"],
            window_days=365,
            where=f"t.event_ts >= {_day_start(earliest)} "
            f"AND t.event_ts < {_day_start(latest)}",
        )
        return query_frame(
            con,
            f"""
            WITH v AS (
                SELECT uscc, as_of, trade_mode, sum(value_cny) AS value
                FROM ({decl}) AS d GROUP BY ALL
            )
            SELECT uscc, as_of, {self.mode_sql("trade_mode")} AS main_mode
            FROM v
            QUALIFY row_number() OVER (PARTITION BY uscc, as_of
                                       ORDER BY value DESC, trade_mode) = 1
            """,
        )
