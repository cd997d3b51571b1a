"""Concurrent appends never fork the chain: threads and processes, both backends."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

from sqlalchemy import select

from credit_engine.audit import AuditLog, audit_log
from tests.store_backends import REPO_ROOT

PER_WORKER = 200


def seqs(log: AuditLog) -> list[int]:
    with log.store.engine.connect() as conn:
        return list(conn.execute(select(audit_log.c.seq).order_by("seq")).scalars())


def check_gapless(log: AuditLog, total: int) -> None:
    result = log.verify()
    assert result.problems == []
    assert (result.ok, result.checked, result.head_seq) == (True, total, total)
    assert seqs(log) == list(range(1, total + 1))


def test_two_threads_appending_at_once_keep_one_gapless_chain(log):
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(name: str) -> None:
        try:
            start.wait()
            for i in range(PER_WORKER):
                log.append("decision", name, {"i": i}, subject=name)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check_gapless(log, 2 * PER_WORKER)
    for name in ("t1", "t2"):
        mine = log.entries(subject=name, limit=PER_WORKER + 1)
        assert [e.payload["i"] for e in mine] == list(range(PER_WORKER))


def test_two_threads_with_separate_log_objects_share_the_lock(store):
    logs = [AuditLog(store), AuditLog(store)]
    threads = [
        threading.Thread(
            target=lambda lg=lg: [lg.append("decision", "w", {}) for _ in range(50)]
        )
        for lg in logs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    check_gapless(logs[0], 100)


_WORKER = textwrap.dedent(
    """
    import sys
    from credit_engine.audit import AuditLog
    from credit_engine.store import OperationalStore

    url, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with OperationalStore(url) as store:
        log = AuditLog(store)
        sys.stdout.write("ready\\n")
        sys.stdout.flush()
        sys.stdin.readline()  # wait for the go, so both processes overlap
        for i in range(n):
            log.append("decision", name, {"i": i}, subject=name)
    """
)


def test_two_processes_appending_at_once_keep_one_gapless_chain(log, store_url):
    n = PER_WORKER // 2
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, store_url, f"p{k}", str(n)],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k in (1, 2)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    check_gapless(log, 2 * n)
    assert {e.actor for e in log.entries(limit=2 * n)} == {"p1", "p2"}
