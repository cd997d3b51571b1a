"""The rating-run repository: a run and its decisions in, runs and dates out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError, StatementError

from credit_engine.exceptions import StoreError
from credit_engine.store._decisions import RatingRun, decision_rows, run_row
from credit_engine.store._engine import translate_errors
from credit_engine.store._frames import RUN_DTYPES, to_frame
from credit_engine.store._queries import (
    check_override_refs,
    check_role,
    new_id,
    rating_dates,
)
from credit_engine.store._schema import RunRole, rating_runs
from credit_engine.store._schema import decisions as decisions_table

__all__ = ["RatingRunRepository"]

_INSERT_CHUNK = 10_000


class RatingRunRepository:
    """Rating runs and their decisions, on one connection of a unit of work.

    The methods behave as their namesakes on
    :class:`~credit_engine.store.OperationalStore` (which documents them), but
    write and read within the caller's transaction: nothing is committed here.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        The unit of work's connection.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record_run(
        self,
        run: RatingRun,
        decisions: pd.DataFrame | Sequence[Mapping[str, Any]],
    ) -> int:
        """Insert a rating run and all its decisions; return the new ``run_id``.

        See :meth:`OperationalStore.record_run
        <credit_engine.store.OperationalStore.record_run>`.
        """
        if not isinstance(run, RatingRun):
            raise StoreError(
                f"run must be a RatingRun, got {type(run).__name__}; build one with "
                "credit_engine.store.RatingRun(...)."
            )
        rows = decision_rows(run, decisions)
        conn = self.connection
        with translate_errors(conn.engine, f"record the rating run of {run.as_of}"):
            check_override_refs(conn, rows)
            try:
                run_id = new_id(
                    conn.execute(rating_runs.insert(), run_row(run, len(rows)))
                )
                for start in range(0, len(rows), _INSERT_CHUNK):
                    chunk = rows[start : start + _INSERT_CHUNK]
                    for row in chunk:
                        row["run_id"] = run_id
                    conn.execute(decisions_table.insert(), chunk)
            except (TypeError, ValueError, StatementError) as exc:
                # Raised while encoding parameters (JSON in the driver for
                # PostgreSQL, in SQLAlchemy for SQLite); the caller rolls back.
                cause = exc.orig if isinstance(exc, StatementError) else exc
                if isinstance(exc, DBAPIError) or not isinstance(
                    cause, TypeError | ValueError
                ):
                    raise
                raise StoreError(
                    f"Cannot record the rating run of {run.as_of}: a value could not "
                    f"be encoded ({cause}). JSON columns (facts, summary) take str, "
                    "int, float, bool, None, lists and dicts: convert dates and "
                    "numpy scalars first. Nothing was written."
                ) from exc
        return run_id

    def rating_dates(self) -> list[dt.date]:
        """Return every rating date with at least one run, oldest first."""
        with translate_errors(self.connection.engine, "list rating dates"):
            return rating_dates(self.connection)

    def runs(self, *, role: RunRole | None = None) -> pd.DataFrame:
        """Return every rating run (of one role), oldest ``run_id`` first.

        See :meth:`OperationalStore.runs <credit_engine.store.OperationalStore.runs>`.
        """
        stmt = select(*(rating_runs.c[name] for name in RUN_DTYPES)).order_by(
            rating_runs.c.run_id
        )
        if role is not None:
            stmt = stmt.where(rating_runs.c.role == check_role(role).value)
        with translate_errors(self.connection.engine, "list rating runs"):
            return to_frame(self.connection.execute(stmt).all(), RUN_DTYPES)
