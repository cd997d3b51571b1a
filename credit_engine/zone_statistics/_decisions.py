"""Figures of the stored decisions: tiers, green channel, punishments, migrations.

Each period is represented by its latest rating date (the latest run of that
date, among the runs finished before the knowledge cutoff): the tier
distribution, green channel, joint punishments and deciding layer are those of
that rating. Migrations are counted between every pair of consecutive rated
dates whose later date falls in the period (the first pair may start before the
report). Aggregation runs in DuckDB over the decisions frame, not per
enterprise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from credit_engine.point_in_time import sql_literal
from credit_engine.vocabulary import DecidedBy, Tier
from credit_engine.zone_statistics._lake import NO_CUSTOMS_ROLE, query_frame
from credit_engine.zone_statistics._periods import Period
from credit_engine.zone_statistics._reference import NO_MODE, district_sql

__all__ = [
    "DECISION_FIELDS",
    "MIGRATION_FROM",
    "MIGRATION_TO",
    "DecisionFigures",
    "consecutive_pairs",
    "migration_summary",
    "representative_dates",
]

DECISION_FIELDS: tuple[str, ...] = (
    "tier",
    "green_channel",
    "joint_punishment",
    "decided_by",
    "override_id",
)
"""Decision columns the figures read (besides ``as_of`` and ``uscc``)."""

MIGRATION_FROM: tuple[str, ...] = (*Tier.values(), "new")
"""Rows of a migration matrix: the tier at the earlier date, or ``new``."""

MIGRATION_TO: tuple[str, ...] = (*Tier.values(), "gone")
"""Columns of a migration matrix: the tier at the later date, or ``gone``."""


def representative_dates(
    periods: Sequence[Period], dates: Sequence[dt.date]
) -> dict[str, dt.date]:
    """Return each period's latest rating date (periods without one are left out).

    Examples
    --------
    >>> from credit_engine.zone_statistics._periods import periods_between
    >>> ps = periods_between(dt.date(2026, 1, 1), dt.date(2026, 6, 30), "quarter")
    >>> representative_dates(ps, [dt.date(2026, 1, 31), dt.date(2026, 3, 31)])
    {'2026-Q1': datetime.date(2026, 3, 31)}
    """
    out: dict[str, dt.date] = {}
    for p in periods:
        inside = [d for d in dates if p.start <= d <= p.end]
        if inside:
            out[p.label] = max(inside)
    return out


def consecutive_pairs(
    periods: Sequence[Period], dates: Sequence[dt.date]
) -> list[tuple[str, dt.date, dt.date]]:
    """Return ``(period, earlier, later)`` for each rated date in a period.

    ``earlier`` is the rated date just before ``later`` (possibly before the
    report starts); the first rated date ever has no pair.

    Examples
    --------
    >>> from credit_engine.zone_statistics._periods import periods_between
    >>> ps = periods_between(dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    >>> consecutive_pairs(ps, [dt.date(2026, 3, 31), dt.date(2026, 6, 30)])
    [('2026-06', datetime.date(2026, 3, 31), datetime.date(2026, 6, 30))]
    """
    ordered = sorted(set(dates))
    out = []
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        for p in periods:
            if p.start <= later <= p.end:
                out.append((p.label, earlier, later))
    return out


def migration_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Count upgrades, downgrades, unchanged, new and gone per pair of dates.

    Parameters
    ----------
    cells : pandas.DataFrame
        ``period, from_as_of, to_as_of, from_tier, to_tier, enterprises``.

    Returns
    -------
    pandas.DataFrame
        ``period, from_as_of, to_as_of, rated_both, unchanged, upgrades,
        downgrades, new, gone``; an upgrade moves to a better tier (A best).

    Examples
    --------
    >>> cells = pd.DataFrame({"period": "p", "from_as_of": 1, "to_as_of": 2,
    ...     "from_tier": ["A", "B", "D", "new", "C"],
    ...     "to_tier": ["B", "A", "D", "A", "gone"], "enterprises": [3, 2, 5, 1, 4]})
    >>> migration_summary(cells).iloc[0, 3:].tolist()
    [10, 5, 2, 3, 1, 4]
    """
    keys = ["period", "from_as_of", "to_as_of"]
    columns = [
        *keys,
        "rated_both",
        "unchanged",
        "upgrades",
        "downgrades",
        "new",
        "gone",
    ]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    rank = {t: i for i, t in enumerate(Tier.values())}
    start = cells["from_tier"].map(rank)
    end = cells["to_tier"].map(rank)
    both = start.notna() & end.notna()
    n = cells["enterprises"]
    parts = pd.DataFrame(
        {
            "rated_both": n.where(both, 0),
            "unchanged": n.where(both & (start == end), 0),
            "upgrades": n.where(both & (end < start), 0),
            "downgrades": n.where(both & (end > start), 0),
            "new": n.where(cells["from_tier"] == "new", 0),
            "gone": n.where(cells["to_tier"] == "gone", 0),
        }
    )
    summary = pd.concat([cells[keys], parts], axis=1).groupby(keys, sort=True).sum()
    return (
        summary.reset_index()
        .loc[:, columns]
        .astype(dict.fromkeys(columns[3:], "int64"))
    )


@dataclass(frozen=True)
class DecisionFigures:
    """Aggregations of the decisions registered on a DuckDB connection.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Holds ``_roles`` (see :meth:`LakeQueries.prepare`) and gets the
        decisions (:meth:`load`).
    representative : mapping of str to datetime.date
        Each period's rating date (:func:`representative_dates`).
    """

    con: Any
    representative: Mapping[str, dt.date]

    def load(self, decisions: pd.DataFrame, main_modes: pd.DataFrame) -> None:
        """Register the decisions, main modes and representative dates.

        Parameters
        ----------
        decisions : pandas.DataFrame
            ``as_of, uscc`` and :data:`DECISION_FIELDS`.
        main_modes : pandas.DataFrame
            ``uscc, as_of, main_mode``.
        """
        con = self.con
        frame = decisions.loc[:, ["as_of", "uscc", *DECISION_FIELDS]].copy()
        frame["override_id"] = frame["override_id"].astype("float64")
        con.register("_decisions_frame", frame)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _decisions AS SELECT CAST(as_of AS DATE) AS "
            "as_of, CAST(uscc AS VARCHAR) AS uscc, CAST(tier AS VARCHAR) AS tier, "
            "CAST(green_channel AS BOOLEAN) AS green_channel, CAST(joint_punishment "
            "AS BOOLEAN) AS joint_punishment, CAST(decided_by AS VARCHAR) AS "
            "decided_by, override_id IS NOT NULL AS overridden FROM _decisions_frame"
        )
        con.unregister("_decisions_frame")
        modes = main_modes.loc[:, ["uscc", "as_of", "main_mode"]]
        con.register("_modes_frame", modes)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _modes AS SELECT CAST(uscc AS VARCHAR) AS "
            "uscc, CAST(as_of AS DATE) AS as_of, CAST(main_mode AS VARCHAR) AS "
            "main_mode FROM _modes_frame"
        )
        con.unregister("_modes_frame")
        rows = ", ".join(
            f"({sql_literal(label)}, DATE '{day}')"
            for label, day in self.representative.items()
        )
        body = (
            f"SELECT * FROM (VALUES {rows}) AS v(period, as_of)"
            if rows
            else "SELECT CAST(NULL AS VARCHAR) AS period, CAST(NULL AS DATE) AS as_of "
            "WHERE false"
        )
        con.execute(f"CREATE OR REPLACE TEMP TABLE _rep AS {body}")

    def _rated(self) -> str:
        """Select the representative decisions with district, main mode and role."""
        return f"""
            SELECT rp.period, d.as_of, d.uscc, d.tier, d.decided_by,
                   d.green_channel, d.joint_punishment, d.overridden,
                   {district_sql("d.uscc")} AS district,
                   coalesce(m.main_mode, {sql_literal(NO_MODE)}) AS main_mode,
                   coalesce(r.cbec_role, {sql_literal(NO_CUSTOMS_ROLE)}) AS cbec_role
            FROM _decisions AS d JOIN _rep AS rp ON rp.as_of = d.as_of
            LEFT JOIN _modes AS m ON m.uscc = d.uscc AND m.as_of = d.as_of
            LEFT JOIN _roles AS r ON r.period = rp.period AND r.uscc = d.uscc
        """

    def tiers(self) -> pd.DataFrame:
        """Enterprises per tier, overall and by district, main mode, role; by layer.

        Returns
        -------
        pandas.DataFrame
            ``period, as_of, grouping, tier, district, main_mode, cbec_role,
            decided_by, enterprises``; ``grouping`` is ``tier``, ``district``,
            ``main_mode``, ``cbec_role`` or ``decided_by``.
        """
        return query_frame(
            self.con,
            f"""
            SELECT period, as_of,
                   CASE grouping(tier, district, main_mode, cbec_role, decided_by)
                        WHEN 15 THEN 'tier' WHEN 7 THEN 'district'
                        WHEN 11 THEN 'main_mode' WHEN 13 THEN 'cbec_role'
                        ELSE 'decided_by' END AS grouping,
                   tier, district, main_mode, cbec_role, decided_by,
                   count(*) AS enterprises
            FROM ({self._rated()}) AS x
            GROUP BY GROUPING SETS ((period, as_of, tier),
                                    (period, as_of, district, tier),
                                    (period, as_of, main_mode, tier),
                                    (period, as_of, cbec_role, tier),
                                    (period, as_of, decided_by))
            """,
        )

    def totals(self) -> pd.DataFrame:
        """Rated, green channel, joint punishment and overridden counts per period.

        Returns
        -------
        pandas.DataFrame
            ``period, as_of, rated, green_channel, joint_punishment,
            decided_by_override, with_override``.
        """
        return query_frame(
            self.con,
            f"""
            SELECT period, as_of, count(*) AS rated,
                   count(*) FILTER (WHERE green_channel) AS green_channel,
                   count(*) FILTER (WHERE joint_punishment) AS joint_punishment,
                   count(*) FILTER (WHERE decided_by =
                                    {sql_literal(DecidedBy.OVERRIDE.value)})
                       AS decided_by_override,
                   count(*) FILTER (WHERE overridden) AS with_override
            FROM ({self._rated()}) AS x
            GROUP BY period, as_of
            """,
        )

    def migrations(self, pairs: Sequence[tuple[str, dt.date, dt.date]]) -> pd.DataFrame:
        """Migration matrix cells of each pair of consecutive rated dates.

        Returns
        -------
        pandas.DataFrame
            ``period, from_as_of, to_as_of, from_tier, to_tier, enterprises``;
            ``from_tier`` is ``new`` for enterprises rated only at the later
            date, ``to_tier`` ``gone`` for those rated only at the earlier one.
        """
        columns = ["period", "from_as_of", "to_as_of", "from_tier", "to_tier"]
        if not pairs:
            return pd.DataFrame(columns=[*columns, "enterprises"])
        rows = ", ".join(
            f"({sql_literal(p)}, DATE '{a}', DATE '{b}')" for p, a, b in pairs
        )
        return query_frame(
            self.con,
            f"""
            WITH pr AS (SELECT * FROM (VALUES {rows})
                        AS v(period, from_as_of, to_as_of)),
            a AS (SELECT pr.*, d.uscc, d.tier FROM pr
                  JOIN _decisions AS d ON d.as_of = pr.from_as_of),
            b AS (SELECT pr.*, d.uscc, d.tier FROM pr
                  JOIN _decisions AS d ON d.as_of = pr.to_as_of)
            SELECT coalesce(a.period, b.period) AS period,
                   coalesce(a.from_as_of, b.from_as_of) AS from_as_of,
                   coalesce(a.to_as_of, b.to_as_of) AS to_as_of,
                   coalesce(a.tier, 'new') AS from_tier,
                   coalesce(b.tier, 'gone') AS to_tier,
                   count(*) AS enterprises
            FROM a FULL OUTER JOIN b
              ON a.to_as_of = b.to_as_of AND a.uscc = b.uscc
            GROUP BY ALL
            ORDER BY to_as_of, from_tier, to_tier
            """,
        )
