"""The decision repository: queries on the decisions of the latest runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from credit_engine.store._engine import translate_errors
from credit_engine.store._frames import decision_frame, decision_row
from credit_engine.store._queries import (
    as_date,
    check_query,
    count_overrides,
    decision_columns,
    latest_run_id,
    latest_runs,
    migration_cells,
    select_decisions,
    uscc_chunks,
)
from credit_engine.store._schema import decisions
from credit_engine.vocabulary import Tier

__all__ = ["DecisionRepository"]


class DecisionRepository:
    """Queries on stored decisions, on one connection of a unit of work.

    "Latest run" is the rule everywhere: of several runs for one rating date,
    the one with the highest ``run_id`` supersedes the others, whole. The
    methods behave as their namesakes on
    :class:`~credit_engine.store.OperationalStore`, which documents them.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        The unit of work's connection.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def decisions_at(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        tier: str | None = None,
        green_channel: bool | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return the decisions of the latest run of ``as_of``, ordered by USCC."""
        as_of = as_date(as_of, "as_of")
        check_query(tier, limit, offset)
        chunks = uscc_chunks(usccs)
        conn = self.connection
        with translate_errors(conn.engine, "read decisions"):
            rows = select_decisions(
                conn,
                latest_run_id(conn, as_of),
                chunks=chunks,
                tier=tier,
                green_channel=green_channel,
                limit=limit,
                offset=offset,
            )
        return decision_frame(rows)

    def latest_decision(self, uscc: str) -> dict[str, Any] | None:
        """Return the most recent decision on one enterprise, or ``None``."""
        latest = latest_runs()
        stmt = (
            select(*decision_columns())
            .join(latest, decisions.c.run_id == latest.c.run_id)
            .where(decisions.c.uscc == uscc)
            .order_by(decisions.c.as_of.desc(), decisions.c.run_id.desc())
            .limit(1)
        )
        with translate_errors(self.connection.engine, "read a decision"):
            row = self.connection.execute(stmt).first()
        return None if row is None else decision_row(dict(row._mapping))

    def decision_history(self, uscc: str) -> pd.DataFrame:
        """Return one enterprise's decisions, one per rating date, oldest first."""
        latest = latest_runs()
        stmt = (
            select(*decision_columns())
            .join(latest, decisions.c.run_id == latest.c.run_id)
            .where(decisions.c.uscc == uscc)
            .order_by(decisions.c.as_of)
        )
        with translate_errors(self.connection.engine, "read a history"):
            return decision_frame(self.connection.execute(stmt).all())

    def migration_matrix(self, from_date: dt.date, to_date: dt.date) -> pd.DataFrame:
        """Count enterprises by tier at ``from_date`` against tier at ``to_date``."""
        from_date = as_date(from_date, "from_date")
        to_date = as_date(to_date, "to_date")
        conn = self.connection
        with translate_errors(conn.engine, "compute migrations"):
            cells = migration_cells(
                conn, latest_run_id(conn, from_date), latest_run_id(conn, to_date)
            )
        tiers = list(Tier.values())
        matrix = pd.DataFrame(
            0,
            index=pd.Index([*tiers, "new"], name="from"),
            columns=pd.Index([*tiers, "gone"], name="to"),
            dtype="int64",
        )
        for from_tier, to_tier, count in cells:
            matrix.loc[from_tier, to_tier] = count
        return matrix

    def count_decisions(
        self,
        as_of: dt.date,
        *,
        tier: str | None = None,
        green_channel: bool | None = None,
    ) -> int:
        """Count the decisions of the latest run of ``as_of`` matching the filters."""
        as_of = as_date(as_of, "as_of")
        check_query(tier, None, 0)
        c = decisions.c
        conn = self.connection
        with translate_errors(conn.engine, "count decisions"):
            stmt = select(func.count()).where(c.run_id == latest_run_id(conn, as_of))
            if tier is not None:
                stmt = stmt.where(c.tier == tier)
            if green_channel is not None:
                stmt = stmt.where(c.green_channel.is_(bool(green_channel)))
            return int(conn.scalar(stmt) or 0)

    def override_rate(self, as_of: dt.date) -> float:
        """Return the share of the latest run's decisions fixed by an override."""
        as_of = as_date(as_of, "as_of")
        conn = self.connection
        with translate_errors(conn.engine, "count overrides"):
            total, overridden = count_overrides(conn, latest_run_id(conn, as_of))
        return float(overridden) / total if total else 0.0
