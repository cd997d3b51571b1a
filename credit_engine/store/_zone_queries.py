"""Read queries of the supervisor console: one run's aggregates, pages, JSON counts.

Everything is counted in the database: a page of the console never fetches a
whole run's decisions, except :meth:`ZoneQueries.run_tiers` (two narrow
columns, for breakdowns by attributes the store does not hold). "Latest run"
is the rule, as everywhere in the store (:func:`latest_runs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, select, text

from credit_engine.exceptions import StoreError
from credit_engine.store._engine import translate_errors
from credit_engine.store._queries import (
    IN_CHUNK,
    check_query,
    decision_columns,
    latest_runs,
)
from credit_engine.store._schema import decisions, overrides
from credit_engine.store._store import OperationalStore
from credit_engine.vocabulary import DecidedBy

__all__ = ["PAGE_COLUMNS", "ZoneQueries"]

PAGE_COLUMNS = (
    "uscc",
    "as_of",
    "tier",
    "decided_by",
    "green_channel",
    "joint_punishment",
    "statutory_ceiling",
    "grade",
    "pd",
    "score",
    "model_tier",
    "measures",
    "reasons",
)
"""Columns of :meth:`ZoneQueries.decision_page` rows (narrow: no facts)."""

# Per dialect: the codes of a run's facts, and the first reason of each decision.
_FACT_CODES = {
    "sqlite": "SELECT json_extract(j.value, '$.code') AS code, d.tier, count(*) "
    "FROM decisions AS d, json_each(d.facts) AS j WHERE d.run_id = :run "
    "GROUP BY code, d.tier",
    "postgresql": "SELECT j.value ->> 'code' AS code, d.tier, count(*) "
    "FROM decisions AS d, json_array_elements(d.facts) AS j WHERE d.run_id = :run "
    "GROUP BY code, d.tier",
}
_MAIN_REASONS = {
    "sqlite": "SELECT json_extract(d.reasons, '$[0]') AS code, d.tier, count(*) "
    "FROM decisions AS d WHERE d.run_id = :run GROUP BY code, d.tier",
    "postgresql": "SELECT d.reasons ->> 0 AS code, d.tier, count(*) "
    "FROM decisions AS d WHERE d.run_id = :run GROUP BY code, d.tier",
}


class ZoneQueries:
    """Aggregates and pages of stored decisions, computed in SQL.

    Parameters
    ----------
    store : OperationalStore
        The operational store.
    """

    def __init__(self, store: OperationalStore) -> None:
        self.store = store

    def _rows(self, action: str, stmt: Any, **params: Any) -> list[Any]:
        engine = self.store.engine
        with translate_errors(engine, action), engine.connect() as conn:
            return list(conn.execute(stmt, params))

    def served_runs(self) -> list[tuple[dt.date, int]]:
        """Return ``(as_of, run_id)`` of the latest run of every date, oldest first."""
        latest = latest_runs()
        rows = self._rows(
            "list rating runs",
            select(latest.c.as_of, latest.c.run_id).order_by(latest.c.as_of),
        )
        return [(r[0], int(r[1])) for r in rows]

    def run_counts(self, run_id: int) -> list[tuple[str, str, bool, bool, int]]:
        """Count one run's decisions by tier, layer, green channel, joint punishment."""
        c = decisions.c
        stmt = (
            select(
                c.tier, c.decided_by, c.green_channel, c.joint_punishment, func.count()
            )
            .where(c.run_id == run_id)
            .group_by(c.tier, c.decided_by, c.green_channel, c.joint_punishment)
        )
        return [
            (str(t), str(d), bool(g), bool(j), int(n))
            for t, d, g, j, n in self._rows("count a run's decisions", stmt)
        ]

    def run_tiers(self, run_id: int) -> list[tuple[str, str]]:
        """Return ``(uscc, tier)`` of every decision of a run (two narrow columns)."""
        c = decisions.c
        stmt = select(c.uscc, c.tier).where(c.run_id == run_id)
        return [(str(u), str(t)) for u, t in self._rows("read a run's tiers", stmt)]

    def fact_counts(self, run_id: int) -> list[tuple[str, str, int]]:
        """Count one run's statutory facts in force by ``(fact code, tier)``."""
        return self._json_counts(_FACT_CODES, run_id, "count a run's facts")

    def main_reason_counts(self, run_id: int) -> list[tuple[str, str, int]]:
        """Count one run's decisions by ``(first reason code, tier)``."""
        return self._json_counts(_MAIN_REASONS, run_id, "count a run's reasons")

    def _json_counts(
        self, sql: dict[str, str], run_id: int, action: str
    ) -> list[tuple[str, str, int]]:
        dialect = self.store.engine.dialect.name
        if dialect not in sql:  # pragma: no cover - the store supports these two
            raise StoreError(f"No console query for the {dialect} database.")
        rows = self._rows(action, text(sql[dialect]), run=run_id)
        return [(str(code), str(t), int(n)) for code, t, n in rows if code is not None]

    def history(self, uscc: str) -> list[dict[str, Any]]:
        """Return one enterprise's decisions, one per rated date, oldest first.

        As :meth:`OperationalStore.decision_history`, as plain rows (no frame):
        the profile page reads a few rows and wants no conversion cost.
        """
        latest = latest_runs()
        stmt = (
            select(*decision_columns())
            .join(latest, decisions.c.run_id == latest.c.run_id)
            .where(decisions.c.uscc == uscc)
            .order_by(decisions.c.as_of)
        )
        return [dict(r._mapping) for r in self._rows("read a history", stmt)]

    def overrides(self, uscc: str) -> list[dict[str, Any]]:
        """Return every override recorded for one enterprise, oldest first."""
        stmt = (
            select(overrides)
            .where(overrides.c.uscc == uscc)
            .order_by(overrides.c.override_id)
        )
        return [dict(r._mapping) for r in self._rows("read overrides", stmt)]

    def decision_page(
        self,
        run_id: int,
        *,
        tier: str | None = None,
        decided_by: str | None = None,
        green_channel: bool | None = None,
        usccs: Sequence[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        count: bool = True,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of a run's decisions (by USCC) and the count matching.

        With ``count=False`` the count is not computed (``-1``): callers that
        cache it per filter spare a scan of the run.

        Raises
        ------
        StoreError
            If a filter or paging argument is invalid, or more than 1,000
            codes are given.
        """
        check_query(tier, limit, offset)
        if decided_by is not None and decided_by not in DecidedBy.values():
            raise StoreError(
                f"decided_by must be one of {list(DecidedBy.values())}, got "
                f"{decided_by!r}."
            )
        if usccs is not None and len(usccs) > IN_CHUNK:
            raise StoreError(
                f"At most {IN_CHUNK} codes per page query, got {len(usccs)}."
            )
        c = decisions.c
        where = [c.run_id == run_id]
        if tier is not None:
            where.append(c.tier == tier)
        if decided_by is not None:
            where.append(c.decided_by == decided_by)
        if green_channel is not None:
            where.append(c.green_channel.is_(bool(green_channel)))
        if usccs is not None:
            where.append(c.uscc.in_(sorted(set(usccs))))
        columns = [c[name] for name in PAGE_COLUMNS]
        engine = self.store.engine
        with (
            translate_errors(engine, "read a page of decisions"),
            engine.connect() as conn,
        ):
            rows = conn.execute(
                select(*columns)
                .where(*where)
                .order_by(c.uscc)
                .limit(limit)
                .offset(offset)
            ).all()
            total = int(_count(conn, where)) if count else -1
        return [dict(r._mapping) for r in rows], total


def _count(conn: Connection, where: list[Any]) -> int:
    return int(
        conn.scalar(select(func.count()).select_from(decisions).where(*where)) or 0
    )
