"""The decision repository: queries on the decisions of the latest runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, func, select

from credit_engine.exceptions import StoreError
from credit_engine.store._engine import translate_errors
from credit_engine.store._frames import (
    DECISION_DTYPES,
    decision_frame,
    decision_row,
    to_frame,
)
from credit_engine.store._queries import (
    as_date,
    check_query,
    count_overrides,
    decision_columns,
    latest_run_id,
    latest_runs,
    migration_cells,
    model_run_ids,
    select_decisions,
    served,
    uscc_chunks,
)
from credit_engine.store._schema import RunRole, decisions, rating_runs
from credit_engine.vocabulary import Tier

__all__ = ["COHORT_COLUMNS", "DecisionRepository"]

COHORT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "uscc",
    "as_of",
    "tier",
    "grade",
    "pd",
    "score",
    "in_default",
    "decided_by",
    "model_tier",
    "override_id",
    "model_name",
    "model_version",
)
"""Columns :meth:`DecisionRepository.model_cohorts` returns by default: what
monitoring needs (no JSON columns, which cost most to read)."""


def _cohort_columns(columns: Sequence[str] | None) -> list[str]:
    names = list(COHORT_COLUMNS if columns is None else columns)
    unknown = [c for c in names if c not in DECISION_DTYPES]
    if unknown or not names:
        raise StoreError(
            f"Unknown decision columns {unknown} (or none asked); pick from "
            f"{list(DECISION_DTYPES)}."
        )
    return names


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

    # -- zone statistics (issue 12): decisions of several rating dates ---------
    def decisions_between(
        self,
        start: dt.date,
        end: dt.date,
        *,
        columns: Sequence[str],
        known_before: dt.datetime | None = None,
        joint_punishment: bool | None = None,
    ) -> pd.DataFrame:
        """Return some columns of the latest run of every rating date in a range."""
        start = as_date(start, "start")
        end = as_date(end, "end")
        unknown = [c for c in columns if c not in DECISION_DTYPES]
        if unknown:
            raise StoreError(
                f"Unknown decision columns {unknown[:5]}; choose among "
                f"{list(DECISION_DTYPES)}."
            )
        if known_before is not None and known_before.utcoffset() is None:
            raise StoreError(
                f"known_before must be timezone-aware, got {known_before!r}; pass "
                "e.g. datetime.datetime(2026, 7, 1, tzinfo=datetime.UTC)."
            )
        names = [n for n in dict.fromkeys(["uscc", *columns]) if n != "as_of"]
        dtypes = {name: DECISION_DTYPES[name] for name in names}
        runs = select(
            rating_runs.c.as_of, func.max(rating_runs.c.run_id).label("run_id")
        ).where(served(), rating_runs.c.as_of >= start, rating_runs.c.as_of <= end)
        if known_before is not None:
            runs = runs.where(rating_runs.c.finished_at < known_before)
        runs = runs.group_by(rating_runs.c.as_of).order_by(rating_runs.c.as_of)
        c = decisions.c
        frames = []
        with translate_errors(self.connection.engine, "read decisions"):
            # One query per run: the date is a constant, not decoded per row.
            for as_of, run_id in self.connection.execute(runs).all():
                stmt = select(*(c[name] for name in names)).where(c.run_id == run_id)
                if joint_punishment is not None:
                    stmt = stmt.where(c.joint_punishment.is_(bool(joint_punishment)))
                rows = self.connection.execute(stmt.order_by(c.uscc)).all()
                frame = to_frame(rows, dtypes)
                frame.insert(0, "as_of", pd.Series([as_of] * len(frame), dtype=object))
                frames.append(frame)
        if not frames:
            empty = to_frame([], dtypes)
            empty.insert(0, "as_of", pd.Series([], dtype=object))
            return empty
        return pd.concat(frames, ignore_index=True)

    # -- end zone statistics ---------------------------------------------------

    def _runs_frame(
        self, run_ids: Sequence[int], columns: Sequence[str] | None
    ) -> pd.DataFrame:
        names = _cohort_columns(columns)
        dtypes = {name: DECISION_DTYPES[name] for name in names}
        if not run_ids:
            return to_frame([], dtypes)
        c = decisions.c
        stmt = (
            select(*(c[name] for name in names))
            .where(c.run_id.in_(list(run_ids)))
            .order_by(c.as_of, c.uscc)
        )
        return to_frame(self.connection.execute(stmt).all(), dtypes)

    def model_cohorts(
        self,
        model_name: str,
        model_version: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return one model version's decisions, one run per rating date."""
        conn = self.connection
        with translate_errors(conn.engine, f"read the cohorts of {model_name}"):
            runs = model_run_ids(
                conn, model_name, str(model_version), since=since, until=until
            )
            return self._runs_frame([r for r, _ in runs.values()], columns)

    def served_cohorts(
        self,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Return the decisions of the latest served run of every date in a range."""
        latest = latest_runs()
        stmt = select(latest.c.as_of, latest.c.run_id)
        if since is not None:
            stmt = stmt.where(latest.c.as_of >= since)
        if until is not None:
            stmt = stmt.where(latest.c.as_of <= until)
        conn = self.connection
        with translate_errors(conn.engine, "read the served cohorts"):
            ids = [int(run_id) for _, run_id in conn.execute(stmt)]
            return self._runs_frame(ids, columns)

    def run_decisions(
        self, run_id: int, *, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Return the decisions of one run (served or shadow), by USCC."""
        with translate_errors(self.connection.engine, f"read run {run_id}"):
            return self._runs_frame([int(run_id)], columns)

    def model_run_ids(
        self,
        model_name: str,
        model_version: str,
        *,
        since: dt.date | None = None,
        until: dt.date | None = None,
        role: RunRole | None = None,
    ) -> dict[dt.date, tuple[int, RunRole]]:
        """Return ``{as_of: (run_id, role)}`` of one model version's runs."""
        with translate_errors(self.connection.engine, "list a model's runs"):
            return model_run_ids(
                self.connection,
                model_name,
                str(model_version),
                since=since,
                until=until,
                role=role,
            )
