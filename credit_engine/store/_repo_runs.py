"""The rating-run repository: a run and its decisions in, runs and dates out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update
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
        _check_run(run)
        rows = decision_rows(run, decisions)
        conn = self.connection
        with translate_errors(conn.engine, f"record the rating run of {run.as_of}"):
            check_override_refs(conn, rows)
            run_id = _insert_run(conn, run, len(rows))
            _insert_decisions(conn, run, run_id, rows)
        return run_id

    def record_run_streamed(
        self,
        run: RatingRun,
        chunks: Iterable[pd.DataFrame | Sequence[Mapping[str, Any]]],
        *,
        complete: Callable[[], RatingRun] | None = None,
    ) -> int:
        """Insert a rating run, then its decisions chunk by chunk as they come.

        The streamed twin of :meth:`record_run`, for a run whose decisions are
        produced in parts (e.g. partition by partition from Spark) and must not
        be gathered first: each chunk is validated as :meth:`record_run`
        validates the whole, checked against the overrides it cites, and
        inserted before the next one is asked for. The run's row is inserted
        first (the decisions reference it); after the last chunk its
        ``n_rated`` becomes the number of decisions inserted and, when
        ``complete`` is given, its ``finished_at`` and ``summary`` those of the
        run ``complete()`` returns (what the caller counted while the chunks
        went by). Nothing is committed here: if a chunk fails (validation, an
        enterprise twice in the run -- the database's one-decision-per-run
        constraint, across chunks --, a refused value) or the iterable raises,
        the error propagates and the caller's transaction rolls back, leaving
        no run and no decisions.

        Parameters
        ----------
        run : RatingRun
            The run as it started (its ``summary`` may be provisional).
        chunks : iterable of pandas.DataFrame or of sequences of mappings
            Decisions, as :meth:`record_run` takes them, one chunk at a time.
        complete : callable, optional
            Called once after the last chunk; returns the finished run.

        Returns
        -------
        int
            The new ``run_id``.
        """
        _check_run(run)
        conn = self.connection
        with translate_errors(conn.engine, f"record the rating run of {run.as_of}"):
            run_id = _insert_run(conn, run, 0)
            rated = 0
            for chunk in chunks:
                rows = decision_rows(run, chunk)
                check_override_refs(conn, rows)
                _insert_decisions(conn, run, run_id, rows)
                rated += len(rows)
            finished = run if complete is None else _check_run(complete())
            conn.execute(
                update(rating_runs)
                .where(rating_runs.c.run_id == run_id)
                .values(
                    n_rated=rated,
                    finished_at=finished.finished_at,
                    summary=finished.summary,
                )
            )
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


def _check_run(run: object) -> RatingRun:
    if not isinstance(run, RatingRun):
        raise StoreError(
            f"run must be a RatingRun, got {type(run).__name__}; build one with "
            "credit_engine.store.RatingRun(...)."
        )
    return run


def _insert_run(conn: Connection, run: RatingRun, n_rated: int) -> int:
    """Insert the run's row; return its ``run_id``."""
    with _encoding_errors(run):
        return new_id(conn.execute(rating_runs.insert(), run_row(run, n_rated)))


def _insert_decisions(
    conn: Connection, run: RatingRun, run_id: int, rows: list[dict[str, Any]]
) -> None:
    """Insert decision rows of ``run_id`` (one executemany per chunk)."""
    with _encoding_errors(run):
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = rows[start : start + _INSERT_CHUNK]
            for row in chunk:
                row["run_id"] = run_id
            conn.execute(decisions_table.insert(), chunk)


@contextmanager
def _encoding_errors(run: RatingRun) -> Iterator[None]:
    """Turn a parameter that cannot be encoded into a :class:`StoreError`."""
    try:
        yield
    except (TypeError, ValueError, StatementError) as exc:
        # Raised while encoding parameters (JSON in the driver for
        # PostgreSQL, in SQLAlchemy for SQLite); the caller rolls back.
        cause = exc.orig if isinstance(exc, StatementError) else exc
        if isinstance(exc, DBAPIError) or not isinstance(cause, TypeError | ValueError):
            raise
        raise StoreError(
            f"Cannot record the rating run of {run.as_of}: a value could not "
            f"be encoded ({cause}). JSON columns (facts, summary) take str, "
            "int, float, bool, None, lists and dicts: convert dates and "
            "numpy scalars first. Nothing was written."
        ) from exc
