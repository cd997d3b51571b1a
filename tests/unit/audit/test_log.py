"""Appending to and reading the audit log, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, select, text

from credit_engine.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditEntryNotFoundError,
    AuditError,
    AuditKind,
    AuditLog,
    NewEntry,
    audit_head,
    audit_log,
    canonical_json,
)
from credit_engine.store import OperationalStore

USCC = "91350200MA2Y0K3Q0N"
AT = dt.datetime(2026, 6, 30, 8, 0, tzinfo=dt.UTC)


def fill(log: AuditLog, n: int) -> list[AuditEntry]:
    return [
        log.append(
            AuditKind.DECISION if i % 2 else AuditKind.OVERRIDE,
            f"actor-{i % 3}",
            {"i": i, "pd": i / 1000},
            subject=f"S{i % 4}",
        )
        for i in range(1, n + 1)
    ]


def test_create_schema_creates_the_audit_tables(store_url):
    with OperationalStore(store_url) as store:
        store.create_schema()
        tables = set(inspect(store.engine).get_table_names())
    assert {"audit_log", "audit_head"} <= tables


def test_opening_the_log_twice_is_idempotent_and_keeps_the_head(store):
    first = AuditLog(store)
    first.append("decision", "api", {"x": 1})
    second = AuditLog(store)
    assert second.head() == first.head()
    assert second.append("decision", "api", {"x": 2}).seq == 2


def test_appends_are_chained_and_numbered_from_one(log):
    entries = fill(log, 5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    assert log.head() == (5, entries[-1].entry_hash)
    result = log.verify()
    assert (result.ok, result.checked, result.problems) == (True, 5, [])
    assert (result.head_seq, result.head_hash) == (5, entries[-1].entry_hash)


def test_an_entry_reads_back_exactly_as_appended(log):
    xiamen = dt.timezone(dt.timedelta(hours=8))
    appended = log.append(
        "decision",
        "customs-gateway",
        {"decision": {"tier": "B", "reasons": ("CUS-03", "TAX-01")}, "n": None},
        subject=USCC,
        recorded_at=dt.datetime(2026, 6, 30, 16, 0, 0, 250, tzinfo=xiamen),
    )
    assert appended.recorded_at == dt.datetime(2026, 6, 30, 8, 0, 0, 250, tzinfo=dt.UTC)
    assert appended.payload["decision"]["reasons"] == ["CUS-03", "TAX-01"]
    assert log.get(1) == appended
    assert log.get(1).to_dict()["recorded_at"] == "2026-06-30T08:00:00.000250+00:00"


def test_floats_round_trip_identically_so_the_hash_verifies(log, store):
    floats = [0.1, 1e-9, 12345.678901234, 1 / 3, 2.5e-300, 1e300, -0.0, 123456789.0]
    payload = {"floats": floats, "nested": {"pd": 0.012345678901234567}}
    appended = log.append("decision", "api", payload)
    back = log.get(appended.seq)
    assert back.payload == payload
    assert [repr(x) for x in back.payload["floats"]] == [repr(x) for x in floats]
    assert log.verify().ok
    raw_sql = (
        "SELECT payload::text FROM audit_log"
        if store.engine.dialect.name == "postgresql"
        else "SELECT payload FROM audit_log"
    )
    with store.engine.connect() as conn:
        raw = conn.execute(text(raw_sql)).scalar_one()
    assert "12345.678901234" in raw
    assert "1e-09" in raw


def test_get_an_unknown_seq_names_the_range(log):
    with pytest.raises(AuditEntryNotFoundError, match="seq 1; the log is empty"):
        log.get(1)
    fill(log, 3)
    with pytest.raises(AuditEntryNotFoundError, match=r"seq 9; the log has 1\.\.3"):
        log.get(9)
    assert AuditEntryNotFoundError.http_status == 404


def test_entries_filter_by_subject_and_kind_and_page(log):
    fill(log, 12)
    assert [e.seq for e in log.entries(subject="S1")] == [1, 5, 9]
    assert [e.seq for e in log.entries(kind="override", limit=3)] == [2, 4, 6]
    assert [e.seq for e in log.entries(kind="decision", subject="S3")] == [3, 7, 11]
    assert [e.seq for e in log.entries(limit=2, offset=10)] == [11, 12]
    assert [e.seq for e in log.entries(limit=2, newest_first=True)] == [12, 11]
    with pytest.raises(AuditError, match="limit must be between 1 and 10000, got 0"):
        log.entries(limit=0)
    with pytest.raises(AuditError, match="offset must be a non-negative integer"):
        log.entries(offset=-1)


def test_an_invalid_entry_lists_every_problem_and_writes_nothing(log):
    with pytest.raises(AuditError, match="Cannot append to the audit log") as caught:
        log.append(
            "Bad Kind",
            "",
            {"when": dt.date(2026, 1, 1)},
            recorded_at=dt.datetime(2026, 1, 1),
        )
    message = str(caught.value)
    for expected in ("kind must be a lower_snake_case word", "actor must be a "
                     "non-empty string", "recorded_at must be a timezone-aware",
                     "payload is not JSON-ready"):  # fmt: skip
        assert expected in message
    with pytest.raises(AuditError, match="NaN to None"):
        log.append("decision", "api", {"pd": float("nan")})
    with pytest.raises(AuditError, match="payload must be a mapping, got list"):
        log.append("decision", "api", [1, 2])  # type: ignore[arg-type]
    assert log.head() == (0, GENESIS_HASH)
    assert log.entries() == []


def test_append_many_writes_all_or_nothing(log):
    batch = [NewEntry("decision", "api", {"i": i}, subject=USCC) for i in range(3)]
    assert [e.seq for e in log.append_many(batch)] == [1, 2, 3]
    with pytest.raises(AuditError, match="Entry 1: Cannot append"):
        log.append_many([batch[0], NewEntry("decision", " ", {})])
    assert log.head()[0] == 3
    assert log.append_many([]) == []
    as_dicts = log.append_many(
        [{"kind": "decision", "actor": "api", "payload": {"i": 3}, "subject": USCC}]
    )
    assert (as_dicts[0].seq, as_dicts[0].subject) == (4, USCC)
    with pytest.raises(AuditError, match=r"missing \['payload'\]; unknown fields"):
        log.append_many([{"kind": "decision", "actor": "api", "uscc": USCC}])
    with pytest.raises(AuditError, match="Entry 1: Cannot append a str"):
        log.append_many([batch[0], "decision"])
    assert log.head()[0] == 4
    assert log.verify().ok


def test_a_large_append_is_inserted_in_chunks_and_reads_back_in_order(log, store):
    # 250 entries: three multi-row INSERTs (100, 100, 50) in one transaction;
    # each stored payload is the canonical text that was hashed.
    batch = [
        NewEntry("decision", "api", {"i": i, "名": "厦门", "x": i / 7}, subject=USCC)
        for i in range(250)
    ]
    written = log.append_many(batch)
    assert [e.seq for e in written] == list(range(1, 251))
    read = log.entries(limit=1000)
    assert [e.payload for e in read] == [e.payload for e in written]
    assert [e.entry_hash for e in read] == [e.entry_hash for e in written]
    with store.engine.connect() as conn:
        texts = [r[0] for r in conn.exec_driver_sql(
            "SELECT payload FROM audit_log ORDER BY seq").all()]  # fmt: skip
    if store.engine.dialect.name == "sqlite":  # PostgreSQL may normalise JSON text
        assert texts == [canonical_json(e.payload) for e in written]
    assert log.verify().ok


def test_a_failed_transaction_leaves_neither_entries_nor_head(log, store):
    fill(log, 2)
    head = log.head()

    def failing_write() -> None:
        with log.transaction() as tx:
            tx.append("decision", "api", {"x": 1})
            raise RuntimeError("business write failed")

    with pytest.raises(RuntimeError, match="business write failed"):
        failing_write()
    assert log.head() == head
    with store.engine.connect() as conn:
        assert conn.execute(select(audit_log.c.seq)).scalars().all() == [1, 2]
    entry = log.append("decision", "api", {"x": 2})
    assert entry.seq == 3
    assert log.verify().ok


def test_business_rows_commit_with_their_entries(log, store):
    with log.transaction() as tx:
        tx.connection.execute(
            text("UPDATE audit_head SET seq = seq WHERE head_id = 1")
        )  # stands for any write of the caller
        first = tx.append("override", "officer.li", {"tier": "D"}, subject=USCC)
        second = tx.append("override_revoked", "officer.li", {}, subject=USCC)
        assert tx.head == (2, second.entry_hash)
    assert second.prev_hash == first.entry_hash
    assert log.verify().ok


def test_append_refuses_when_the_head_row_is_gone(log, store):
    fill(log, 2)
    with store.engine.begin() as conn:
        conn.execute(audit_head.delete())
    with pytest.raises(AuditError, match="head row is missing"):
        log.append("decision", "api", {})
    # Reopening must not silently recreate a head over a non-empty log.
    reopened = AuditLog(store)
    with pytest.raises(AuditError, match="head row is missing"):
        reopened.head()
    result = reopened.verify()
    assert not result.ok
    assert result.problems == [
        "the head row is missing (deleted); the log ends at seq 2"
    ]


def test_non_durable_commits_chain_the_same_way(store):
    fast = AuditLog(store, durable=False)
    fill(fast, 5)
    durable = AuditLog(store)
    durable.append("decision", "api", {"after": True})
    assert durable.verify().ok
    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            # The pooled connection got its synchronous level back.
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
