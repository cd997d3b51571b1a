"""A rating run stored chunk by chunk (Spark's decisions as partitions arrive).

``record_rating_run_streamed`` inserts each chunk before asking for the next
(the driver never holds the whole run) and keeps the run atomic: a chunk the
database refuses mid-way leaves no run, no decisions and no audit entry. On
SQLite and PostgreSQL (the ``log`` fixture).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import event, text

from credit_engine.audit import AuditLog, record_rating_run, record_rating_run_streamed
from credit_engine.exceptions import StoreError
from credit_engine.store import DECISION_COLUMNS, RatingRun
from tests.unit.store.factories import T0, decision, make_run, uscc

SEP = dt.date(2025, 9, 30)
AUG = dt.date(2025, 8, 31)


def _rows(start: int, stop: int) -> list[dict]:
    return [decision(uscc(i), "ABCD"[i % 4]) for i in range(start, stop)]


def _decision_count(log: AuditLog) -> int:
    with log.store.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM decisions")).scalar_one())


def test_a_streamed_run_is_stored_as_the_run_given_whole(log: AuditLog):
    whole, _ = record_rating_run(log, make_run(AUG), _rows(0, 25))
    started = make_run(SEP, summary={})
    finished = dataclasses.replace(
        started, finished_at=T0 + dt.timedelta(minutes=9), summary={"rated": 25}
    )
    chunks = [_rows(0, 10), _rows(10, 20), [], _rows(20, 25)]
    run_id, entry = record_rating_run_streamed(
        log, started, iter(chunks), complete=lambda: finished
    )

    store = log.store
    runs = store.runs().set_index("run_id")
    assert runs.loc[run_id, "n_rated"] == 25
    assert runs.loc[run_id, "summary"] == {"rated": 25}
    assert runs.loc[run_id, "finished_at"] == finished.finished_at
    assert runs.loc[run_id, "started_at"] == T0
    ignore = ["decision_id", "run_id", "as_of"]
    by_stream = store.run_decisions(run_id, columns=DECISION_COLUMNS)
    by_whole = store.run_decisions(whole, columns=DECISION_COLUMNS)
    assert by_stream.drop(columns=ignore).equals(by_whole.drop(columns=ignore))
    # Inserted in the order the chunks came (ids ascending with the USCCs).
    assert by_stream.sort_values("decision_id")["uscc"].tolist() == [
        uscc(i) for i in range(25)
    ]
    assert entry.kind == "rating_run"
    assert entry.payload["run_id"] == run_id
    assert entry.payload["n_rated"] == 25
    assert log.verify().ok


def test_each_chunk_is_inserted_before_the_next_is_asked_for(log: AuditLog):
    trace: list[str] = []

    def chunks() -> Iterator[list[dict]]:
        for k in range(3):
            trace.append(f"chunk {k}")
            yield _rows(10 * k, 10 * k + 10)

    def on_execute(conn, cursor, statement, params, context, executemany):  # noqa: ARG001, PLR0913, PLR0917
        if statement.lstrip().upper().startswith("INSERT INTO DECISIONS"):
            trace.append("insert")

    event.listen(log.store.engine, "before_cursor_execute", on_execute)
    try:
        record_rating_run_streamed(log, make_run(SEP), chunks())
    finally:
        event.remove(log.store.engine, "before_cursor_execute", on_execute)
    assert trace == ["chunk 0", "insert", "chunk 1", "insert", "chunk 2", "insert"]


def _refused_mid_stream(log: AuditLog, chunks: Iterator[list[dict]], error, match):
    head = log.head()
    with pytest.raises(error, match=match):
        record_rating_run_streamed(log, make_run(SEP), chunks)
    assert log.store.runs().empty
    assert log.store.rating_dates() == []
    assert _decision_count(log) == 0
    assert log.head() == head
    assert log.verify().ok


def test_an_enterprise_twice_across_chunks_leaves_no_run(log: AuditLog):
    # Each chunk is valid on its own: the database's one decision per
    # enterprise and run refuses the third chunk, after two were inserted.
    chunks = iter([_rows(0, 10), _rows(10, 20), _rows(5, 6)])
    _refused_mid_stream(log, chunks, StoreError, "record the rating run of 2025-09-30")


def test_a_chunk_failing_validation_mid_stream_leaves_no_run(log: AuditLog):
    bad = _rows(20, 22)
    bad[1]["tier"] = "Z"
    chunks = iter([_rows(0, 10), _rows(10, 20), bad])
    _refused_mid_stream(log, chunks, StoreError, "tier")


def test_a_source_failing_mid_stream_leaves_no_run(log: AuditLog):
    def chunks() -> Iterator[list[dict]]:
        yield _rows(0, 10)
        raise RuntimeError("executor lost")

    _refused_mid_stream(log, chunks(), RuntimeError, "executor lost")


def test_complete_must_return_a_rating_run(log: AuditLog):
    def not_a_run() -> RatingRun:
        return "done"  # type: ignore[return-value]

    with pytest.raises(StoreError, match="run must be a RatingRun, got str"):
        record_rating_run_streamed(
            log, make_run(SEP), iter([_rows(0, 3)]), complete=not_a_run
        )
    assert log.store.runs().empty
    assert _decision_count(log) == 0
