"""The group-commit audit writer under another connection's SQLite write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

from credit_engine.audit import AuditLog, AuditWriter, NewEntry
from credit_engine.exceptions import StoreError, StoreUnavailableError
from credit_engine.store import OperationalStore


@pytest.fixture
def sqlite_log(tmp_path) -> Iterator[tuple[AuditLog, str]]:
    path = tmp_path / "store.db"
    store = OperationalStore(f"sqlite:///{path}")
    store.create_schema()
    yield AuditLog(store), str(path)
    store.engine.dispose()


def _entry(n: int) -> NewEntry:
    return NewEntry("test", "writer-test", {"n": n})


def _hold(path: str, seconds: float, held: threading.Event) -> None:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        held.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def test_a_lock_held_a_little_longer_than_busy_seconds_costs_latency_not_a_503(
    sqlite_log,
):
    log, path = sqlite_log
    writer = AuditWriter(log, wait_seconds=3.0, busy_seconds=0.2)
    writer.start()
    try:
        held = threading.Event()
        holder = threading.Thread(target=_hold, args=(path, 0.8, held))
        holder.start()
        assert held.wait(10)
        start = time.monotonic()
        (entry,) = writer.append_sync([_entry(1)])
        took = time.monotonic() - start
        holder.join()
        assert entry.seq == log.head()[0]
        assert 0.3 < took < 3.0, took
        assert writer.health.ok, writer.health
    finally:
        writer.close()


def test_a_lock_held_beyond_the_bound_gives_503_then_fast_refusals_then_recovery(
    sqlite_log,
):
    log, path = sqlite_log
    writer = AuditWriter(log, wait_seconds=1.0, busy_seconds=0.2, probe_seconds=0.5)
    writer.start()
    held = threading.Event()
    holder = threading.Thread(target=_hold, args=(path, 6.0, held))
    holder.start()
    try:
        assert held.wait(10)
        start = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="locked|busy") as caught:
            writer.append_sync([_entry(1)])
        assert time.monotonic() - start < 1.5
        assert caught.value.retry_after >= 1
        # The request may give up (its bound) a moment before the writer thread
        # records the store as down (its busy timeout): on a loaded machine the
        # thread runs late. It must record it while the lock is held.
        deadline = time.monotonic() + 3
        while writer.health.ok and time.monotonic() < deadline:
            time.sleep(0.05)
        health = writer.health
        assert not health.ok
        assert "unavailable (locked)" in str(health.reason)
        # Known down a moment ago: refused at once, no wait for the lock.
        start = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="locked|busy"):
            writer.append_sync([_entry(2)])
        assert time.monotonic() - start < 0.5
    finally:
        holder.join()
    deadline = time.monotonic() + 10
    while not writer.health.ok and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert writer.health.ok, writer.health
        (entry,) = writer.append_sync([_entry(3)])
        assert entry.payload["n"] == 3
        assert log.verify().ok
    finally:
        writer.close()


def test_a_large_submission_is_committed_in_chunks_behind_small_ones(sqlite_log):
    # The writer is held in a transaction while a 1,000-entry submission and
    # then a single entry are queued: the single one is committed with the
    # first chunk, not after the last; the large one comes back whole, in order.
    log, _ = sqlite_log
    writer = AuditWriter(log, wait_seconds=30, chunk_entries=50)
    release = threading.Event()
    blocker = writer.submit_unit(lambda tx: release.wait(10))
    try:
        large = writer.submit([_entry(i) for i in range(1000)])
        small = writer.submit([_entry(-1)])
        release.set()
        blocker.result(10)
        (single,) = small.result(10)
        written = large.result(30)
        assert [e.payload["n"] for e in written] == list(range(1000))
        seqs = [e.seq for e in written]
        assert seqs == sorted(seqs)
        assert single.seq < seqs[50]  # before the second chunk
        assert log.head()[0] == 1001
        assert log.verify().ok
        assert writer.health.batches >= 1000 // 50
    finally:
        writer.close()


def test_a_refused_chunk_fails_the_submission_and_drops_the_rest(sqlite_log):
    # The store refuses the entry n=35 (a trigger): the chunks before it are
    # committed, the submission fails, the chunks after it are not written.
    log, path = sqlite_log
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TRIGGER refuse_35 BEFORE INSERT ON audit_log "
        "WHEN json_extract(NEW.payload, '$.n') = 35 "
        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    )
    writer = AuditWriter(log, wait_seconds=30, chunk_entries=10)
    release = threading.Event()
    blocker = writer.submit_unit(lambda tx: release.wait(10))
    try:
        large = writer.submit([_entry(i) for i in range(100)])
        release.set()
        blocker.result(10)
        with pytest.raises(StoreError, match="audit log"):
            large.result(30)
        written = [e.payload["n"] for e in log.entries(limit=1000)]
        assert written == list(range(30))  # three chunks, not one more
        conn.execute("DROP TRIGGER refuse_35")
        (entry,) = writer.append_sync([_entry(7)])
        assert entry.seq == 31
        assert writer.health.pending == 0
        assert log.verify().ok
    finally:
        release.set()
        writer.close()
        conn.close()


def test_entries_prepared_elsewhere_are_chained_in_order(sqlite_log):
    # submit_prepared takes entries validated and encoded in another process
    # (the API's past-date workers): chained, committed, verified like others.
    import datetime as dt

    from credit_engine.audit import PreparedEntry, prepare_entries

    log, _ = sqlite_log
    writer = AuditWriter(log, wait_seconds=30, chunk_entries=10)
    try:
        now = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)
        wired = [
            p.to_wire() for p in prepare_entries([_entry(i) for i in range(25)], now)
        ]
        written = writer.submit_prepared(
            [PreparedEntry.from_wire(w) for w in wired]
        ).result(30)
        assert [e.payload["n"] for e in written] == list(range(25))
        assert [e.recorded_at for e in written] == [now] * 25
        assert [e.seq for e in written] == list(range(1, 26))
        assert log.verify().ok
    finally:
        writer.close()


def test_spliced_entries_are_stored_as_their_text_and_read_back_equal(store_url):
    # A served decision's entry goes to the store as its canonical text (its
    # payload never decoded on the way); reading the log gives the payload the
    # plain path would have, and the chain verifies.
    from credit_engine.audit import AuditLog, Canonical, NewEntry
    from credit_engine.audit._chain import stored_payload
    from credit_engine.store import JSONText, OperationalStore

    log = AuditLog(OperationalStore(store_url))
    plain = {"decision": {"tier": "B", "zh": "常规"}, "by": {"key": "gw"}}
    spliced = {
        "decision": Canonical.from_text(Canonical.of(plain["decision"]).text),
        "by": Canonical.of(plain["by"]),
    }
    writer = AuditWriter(log)
    try:
        written = writer.submit([NewEntry("decision", "gw", spliced, "s1")]).result(10)
    finally:
        writer.close()
    assert type(stored_payload(written[0])) is JSONText
    (read,) = log.entries(subject="s1")
    assert read.payload == plain
    assert read == written[0]
    assert log.verify().ok
