"""The group-commit audit writer under another connection's SQLite write lock."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest

from credit_engine.audit import AuditLog, AuditWriter, NewEntry
from credit_engine.exceptions import StoreUnavailableError
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
