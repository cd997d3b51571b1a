"""Group commit of audit entries: one writer thread, a bounded queue, bounded waits.

The API must never answer before its audit entry is durable, and must never
freeze when the store is slow or locked. :class:`AuditWriter` gives both: every
request hands its entries (or a small unit of work, such as an override and its
entry) to one writer thread through a bounded queue; the thread appends
everything queued while the previous transaction committed in **one**
transaction (one fsync for many requests: group commit), then resolves each
request's future. A request waits at most ``wait_seconds`` for its future; a
store that cannot take the writes (locked by another process, read-only,
unreachable, out of disk) makes the writer *unavailable*: waiting requests and
new ones get :class:`~credit_engine.exceptions.StoreUnavailableError` (HTTP 503
with ``Retry-After``) at once, the database's own error is logged, and the
thread probes the store until it takes writes again.

The chain stays strict: the thread is the only writer of this process, each
transaction locks the log's head (``BEGIN IMMEDIATE`` on SQLite, ``SELECT ...
FOR UPDATE`` on PostgreSQL, so other processes queue too), and ``seq`` runs
without gaps. A unit that fails (an invalid override, say) fails alone: the
transaction is rolled back and the others are committed without it.

Examples
--------
>>> import pathlib, tempfile
>>> from credit_engine.audit import AuditLog, NewEntry
>>> from credit_engine.store import OperationalStore
>>> path = pathlib.Path(tempfile.mkdtemp()) / "store.db"  # the writer's own thread
>>> writer = AuditWriter(AuditLog(OperationalStore(f"sqlite:///{path}")))
>>> [e.seq for e in writer.append_sync([NewEntry("decision", "gateway", {})] * 2)]
[1, 2]
>>> writer.close()
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import datetime as dt
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from credit_engine.audit._chain import (
    AuditEntry,
    NewEntry,
    PreparedEntry,
)
from credit_engine.audit._log import AuditLog, AuditTransaction, prepare_entries
from credit_engine.exceptions import AuditError, StoreUnavailableError

__all__ = ["AuditWriter", "WriterHealth"]

_LOG = logging.getLogger("credit_engine.audit.writer")
T = TypeVar("T")


@dataclass(frozen=True)
class WriterHealth:
    """What the writer can say about the store, for readiness checks.

    Attributes
    ----------
    ok : bool
        The store takes writes and the queue has room.
    reason : str or None
        Why not, in words safe to show anyone ("store unavailable (locked) for
        3.2 s"); None when ok.
    pending : int
        Entries queued, not yet committed.
    unavailable_for : float or None
        Seconds since the store stopped taking writes.
    last_commit_age : float or None
        Seconds since the last commit (None before the first).
    batches : int
        Transactions committed so far.
    entries : int
        Entries committed so far.
    """

    ok: bool
    reason: str | None
    pending: int
    unavailable_for: float | None
    last_commit_age: float | None
    batches: int
    entries: int


class _Group:
    """The chunks of one large submission: failed once one of them failed."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed = False


@dataclass
class _Job:
    """One request's work: prepared entries, or a unit run in the transaction."""

    future: concurrent.futures.Future[Any]
    size: int
    prepared: list[PreparedEntry] | None = None
    unit: Callable[[AuditTransaction], Any] | None = None
    group: _Group | None = None


class _JobFailed(Exception):
    def __init__(self, job: _Job, error: BaseException) -> None:
        super().__init__(str(error))
        self.job = job
        self.error = error


_STOP = object()
_BULK = object()  # wakes the thread: a large submission's chunks are waiting


class AuditWriter:
    """Appends to an :class:`AuditLog` from one thread, many requests per commit.

    Parameters
    ----------
    log : AuditLog
        The log written to (its store, durability and process lock).
    max_pending : int, default=5000
        Entries that may wait in the queue; beyond, a submission fails at once
        with :class:`~credit_engine.exceptions.StoreUnavailableError`.
    max_batch : int, default=2000
        Entries committed in one transaction at most (a larger single job is
        committed alone).
    chunk_entries : int, default=25
        A submission of more entries (a batch of decisions) is committed in
        chunks of this many, one chunk per transaction beside everything
        small that is queued: a single decision's entry never waits for a
        1,000-entry transaction (nor, with disk durability, for the flush of
        a large one: 25 keeps a single score's p99 beside three 1,000-code
        batches under 25 ms, where 100 gave 26-29 ms; docs/benchmarks.md).
        Its future resolves when the last chunk is
        committed; if one chunk fails, the chunks not yet committed are
        dropped (those committed stay: the log may hold entries of a request
        that was refused, never the reverse).
    wait_seconds : float, default=2.0
        Longest a caller of :meth:`append` or :meth:`run` waits for its commit.
    busy_seconds : float, default=1.0
        Longest a transaction waits for another process's write lock before
        the store counts as unavailable.
    retry_after : float, default=1.0
        Seconds suggested to clients refused while the store is unavailable.
    probe_seconds : float, default=0.5
        While unavailable, how often the store is tried again.

    Notes
    -----
    The thread starts on the first submission (or :meth:`start`); :meth:`close`
    commits what is queued and stops it. An entry whose caller timed out may
    still be committed afterwards if its transaction was already running: the
    log can hold an entry for a request that was answered 503, never the
    reverse.
    """

    def __init__(
        self,
        log: AuditLog,
        *,
        max_pending: int = 5000,
        max_batch: int = 2000,
        chunk_entries: int = 25,
        wait_seconds: float = 2.0,
        busy_seconds: float = 1.0,
        retry_after: float = 1.0,
        probe_seconds: float = 0.5,
    ) -> None:
        if max_pending < 1 or max_batch < 1 or wait_seconds <= 0 or busy_seconds <= 0:
            raise AuditError(
                "AuditWriter needs positive limits; got "
                f"max_pending={max_pending}, max_batch={max_batch}, "
                f"wait_seconds={wait_seconds}, busy_seconds={busy_seconds}."
            )
        self.log = log
        self.max_pending = max_pending
        self.max_batch = max_batch
        self.chunk_entries = max(1, chunk_entries)
        self._bulk: collections.deque[_Job] = collections.deque()
        self.wait_seconds = wait_seconds
        self.busy_ms = max(1, round(busy_seconds * 1000))
        self.retry_after = retry_after
        self.probe_seconds = probe_seconds
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._guard = threading.Lock()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._down_reason: str | None = None
        self._down_since: float | None = None
        self._batch_started: float | None = None
        self._last_try: float | None = None
        self._last_commit: float | None = None
        self._batches = 0
        self._entries = 0

    def __repr__(self) -> str:
        return f"AuditWriter({self.log!r}, pending={self._pending})"

    # ------------------------------------------------------------ lifecycle
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (a closed writer cannot restart)."""
        return self._closed

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        with self._guard:
            if self._closed:
                raise AuditError("This AuditWriter was closed; create a new one.")
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="audit-writer", daemon=True
                )
                self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop the thread (idempotent)."""
        with self._guard:
            self._closed = True
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)

    # ------------------------------------------------------------ health
    @property
    def health(self) -> WriterHealth:
        """The writer's view of the store now (no database access)."""
        now = time.monotonic()
        with self._guard:
            pending = self._pending
            down, since = self._down_reason, self._down_since
            started, last = self._batch_started, self._last_commit
            batches, entries = self._batches, self._entries
        reason = None
        if down is not None and since is not None:
            reason = f"audit store unavailable ({down}) for {now - since:.1f} s"
        elif started is not None and now - started > self.wait_seconds:
            reason = (
                f"audit store slow: a commit has waited {now - started:.1f} s "
                f"(bound {self.wait_seconds:g} s)"
            )
        elif pending >= self.max_pending:
            reason = f"audit queue full ({pending} entries waiting)"
        return WriterHealth(
            ok=reason is None,
            reason=reason,
            pending=pending,
            unavailable_for=None if since is None else now - since,
            last_commit_age=None if last is None else now - last,
            batches=batches,
            entries=entries,
        )

    # ------------------------------------------------------------ submit
    def submit(
        self, entries: Sequence[NewEntry | Mapping[str, Any]]
    ) -> concurrent.futures.Future[list[AuditEntry]]:
        """Queue entries (validated now); the future resolves after their commit.

        Raises
        ------
        AuditError
            If an entry is invalid (nothing is queued).
        StoreUnavailableError
            If the store is unavailable or the queue is full.
        """
        return self.submit_prepared(prepare_entries(entries, dt.datetime.now(dt.UTC)))

    def submit_prepared(
        self, prepared: list[PreparedEntry]
    ) -> concurrent.futures.Future[list[AuditEntry]]:
        """Queue entries already validated and encoded (:func:`prepare_entry`).

        For entries prepared in another process (decisions at other dates,
        :mod:`credit_engine.api._past_dates`); :meth:`submit` otherwise.

        Raises
        ------
        StoreUnavailableError
            If the store is unavailable or the queue is full.
        """
        future: concurrent.futures.Future[list[AuditEntry]] = (
            concurrent.futures.Future()
        )
        if not prepared:
            future.set_result([])
            return future
        if len(prepared) > self.chunk_entries:
            return self._enqueue_chunks(prepared)
        self._enqueue(_Job(future, len(prepared), prepared=prepared))
        return future

    def _enqueue_chunks(
        self, prepared: list[PreparedEntry]
    ) -> concurrent.futures.Future[list[AuditEntry]]:
        """Queue a large submission as chunks; one future for all of them."""
        group = _Group()
        step = self.chunk_entries
        jobs = [
            _Job(concurrent.futures.Future(), len(part), prepared=part, group=group)
            for part in (prepared[i : i + step] for i in range(0, len(prepared), step))
        ]
        outer: concurrent.futures.Future[list[AuditEntry]] = concurrent.futures.Future()
        results: list[list[AuditEntry] | None] = [None] * len(jobs)
        guard = threading.Lock()

        def settle(index: int, done: concurrent.futures.Future[Any]) -> None:
            with guard:
                if outer.done():
                    return
                error = (
                    concurrent.futures.CancelledError()
                    if done.cancelled()
                    else done.exception()
                )
                if error is not None:
                    group.failed = True
                    outer.set_exception(error)
                    return
                results[index] = done.result()
                if all(r is not None for r in results):
                    outer.set_result([e for r in results if r for e in r])

        self._admit(len(prepared))
        with self._guard:
            self._bulk.extend(jobs)
        for index, job in enumerate(jobs):
            job.future.add_done_callback(functools.partial(settle, index))
        self._queue.put(_BULK)
        return outer

    def submit_unit(
        self, unit: Callable[[AuditTransaction], T], *, size: int = 1
    ) -> concurrent.futures.Future[T]:
        """Queue a unit of work run inside a batch's transaction.

        ``unit(tx)`` writes its business rows through ``tx.connection`` or
        ``tx.unit_of_work`` and appends its entries with ``tx.append``: they
        commit together (with the batch) or not at all. If it raises, it fails
        alone and the batch is committed without it. It runs on the writer
        thread: keep it to a few statements.

        Parameters
        ----------
        unit : callable
            ``unit(tx) -> result``.
        size : int, default=1
            Entries it appends (for the queue's bound).
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._enqueue(_Job(future, max(1, size), unit=unit))
        return future

    def _enqueue(self, job: _Job) -> None:
        self._admit(job.size)
        self._queue.put(job)

    def _admit(self, size: int) -> None:
        """Count ``size`` entries as pending, or refuse them; start the thread."""
        with self._guard:
            if self._closed:
                raise StoreUnavailableError(
                    "The audit writer is shut down (the service is stopping); "
                    "retry on another instance.",
                    retry_after=self.retry_after,
                    reason="stopping",
                )
            if self._down_reason is not None:
                raise self._unavailable(self._down_reason)
            if self._pending + size > self.max_pending and self._pending:
                raise StoreUnavailableError(
                    f"The audit log has {self._pending} entries waiting to be "
                    f"written (at most {self.max_pending}); the store cannot keep "
                    f"up. Retry after {self.retry_after:g} s.",
                    retry_after=self.retry_after,
                    reason="queue full",
                )
            self._pending += size
            start = self._thread is None
        if start:
            self.start()

    def _unavailable(self, reason: str) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"The operational store cannot record audit entries now ({reason}); "
            f"nothing was answered or changed. Retry after {self.retry_after:g} s.",
            retry_after=self.retry_after,
            reason=reason,
        )

    # ------------------------------------------------------------ wait
    async def append(
        self, entries: Sequence[NewEntry | Mapping[str, Any]]
    ) -> list[AuditEntry]:
        """Append entries and wait (at most ``wait_seconds``) until they are durable.

        Raises
        ------
        AuditError
            If an entry is invalid.
        StoreUnavailableError
            If the store is unavailable, the queue is full, or the commit did
            not happen within ``wait_seconds``.
        """
        return await self.wait(self.submit(entries))

    async def run(self, unit: Callable[[AuditTransaction], T], *, size: int = 1) -> T:
        """Run ``unit`` in a batch's transaction (see :meth:`submit_unit`) and wait."""
        return await self.wait(self.submit_unit(unit, size=size))

    def append_sync(
        self, entries: Sequence[NewEntry | Mapping[str, Any]]
    ) -> list[AuditEntry]:
        """:meth:`append` for threads (blocks the calling thread, never a loop)."""
        return self._wait_sync(self.submit(entries))

    def run_sync(self, unit: Callable[[AuditTransaction], T], *, size: int = 1) -> T:
        """:meth:`run` for threads (blocks the calling thread, never a loop)."""
        return self._wait_sync(self.submit_unit(unit, size=size))

    async def wait(self, future: concurrent.futures.Future[T]) -> T:
        """Wait (at most ``wait_seconds``) for a submission's commit.

        Raises
        ------
        StoreUnavailableError
            If it was not durable in time (it may still be committed later).
        """
        try:
            return await asyncio.wait_for(
                asyncio.wrap_future(future), self.wait_seconds
            )
        except TimeoutError:
            raise self._timed_out() from None

    def _wait_sync(self, future: concurrent.futures.Future[T]) -> T:
        try:
            return future.result(self.wait_seconds)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise self._timed_out() from None

    def _timed_out(self) -> StoreUnavailableError:
        return StoreUnavailableError(
            f"The audit entry could not be made durable within "
            f"{self.wait_seconds:g} s: the operational store is busy or locked. "
            f"Retry after {self.retry_after:g} s.",
            retry_after=self.retry_after,
            reason="timeout",
        )

    # ------------------------------------------------------------ thread
    def _run(self) -> None:
        stopping = False
        while not stopping:
            with self._guard:
                chunks_waiting = bool(self._bulk)
            try:
                first = (
                    self._queue.get_nowait()
                    if chunks_waiting
                    else self._queue.get(timeout=self.probe_seconds)
                )
            except queue.Empty:
                if not chunks_waiting:
                    if self._down_reason is not None:
                        self._probe()
                    continue
                first = None
            if first is _STOP:
                stopping = True
            batch: list[_Job] = [] if first in (None, _STOP, _BULK) else [first]
            size = sum(j.size for j in batch)
            while size < self.max_batch or stopping:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                    continue
                if job is _BULK:
                    continue
                batch.append(job)
                size += job.size
            # Everything small first, then one chunk of a large submission
            # (all of them when stopping).
            batch += self._next_chunks(everything=stopping)
            if not batch:
                continue
            if self._down_reason is not None and not self._may_try():
                self._refuse(batch)  # the store failed a moment ago: answer at once
            else:
                self._commit(batch)  # also the probe when the store was down

    def _next_chunks(self, *, everything: bool) -> list[_Job]:
        """Take the next chunk of a large submission (or all), dropping failed ones."""
        taken: list[_Job] = []
        dropped: list[_Job] = []
        with self._guard:
            while self._bulk and (everything or not taken):
                job = self._bulk.popleft()
                if job.group is not None and job.group.failed:
                    self._pending -= job.size
                    dropped.append(job)
                else:
                    taken.append(job)
        for job in dropped:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(
                    AuditError("an earlier chunk of this submission failed")
                )
        return taken

    def _may_try(self) -> bool:
        """Whether the store, down, was last tried long enough ago to try again.

        While another process holds the lock, batches are refused at once
        (no request waits for a store known to be down); every
        ``probe_seconds`` one batch tries it again, so a short outside lock
        costs at most that long of 503s.
        """
        with self._guard:
            last = self._last_try
        return last is None or time.monotonic() - last >= self.probe_seconds

    def _commit(self, batch: list[_Job]) -> None:
        with self._guard:
            self._pending -= sum(j.size for j in batch)
        live = [j for j in batch if j.future.set_running_or_notify_cancel()]
        first_try = time.monotonic()
        busy_ms = self.busy_ms
        while live:
            results: dict[int, Any] = {}
            with self._guard:
                self._batch_started = self._last_try = time.monotonic()
            try:
                with self.log.transaction(busy_timeout_ms=busy_ms) as tx:
                    for job in live:
                        results[id(job)] = self._apply(job, tx)
            except _JobFailed as failed:
                failed.job.future.set_exception(failed.error)
                live.remove(failed.job)
                continue
            except StoreUnavailableError as exc:
                # Another writer (a CLI promotion, a rating run) may hold the
                # lock a little longer than busy_seconds on a loaded machine:
                # wait on while the requests still wait (80 % of their bound),
                # so that such contention costs latency, not 503s.
                left = 0.8 * self.wait_seconds - (time.monotonic() - first_try)
                if exc.reason == "locked" and self._down_reason is None and left > 0.05:
                    busy_ms = max(1, round(left * 1000))
                    continue
                self._went_down(exc)
                for job in live:
                    job.future.set_exception(self._unavailable(exc.reason))
                return
            except BaseException as exc:  # noqa: BLE001 - every waiter must hear of it
                _LOG.exception("audit writer: a batch of %d jobs failed", len(live))
                for job in live:
                    job.future.set_exception(exc)
                return
            finally:
                with self._guard:
                    self._batch_started = None
            count = sum(j.size for j in live)
            with self._guard:
                self._last_commit = time.monotonic()
                self._batches += 1
                self._entries += count
                recovered = self._down_reason is not None
                self._down_reason = self._down_since = None
            if recovered:
                _LOG.warning("audit store available again")
            for job in live:
                job.future.set_result(results[id(job)])
            return

    def _refuse(self, batch: list[_Job]) -> None:
        with self._guard:
            self._pending -= sum(j.size for j in batch)
            reason = self._down_reason or "unavailable"
        for job in batch:
            if job.future.set_running_or_notify_cancel():
                job.future.set_exception(self._unavailable(reason))

    @staticmethod
    def _apply(job: _Job, tx: AuditTransaction) -> Any:
        if job.prepared is not None:
            return tx._append_prepared(job.prepared)
        assert job.unit is not None
        try:
            return job.unit(tx)
        except StoreUnavailableError:
            raise
        except Exception as exc:  # noqa: BLE001 - fails this job alone
            raise _JobFailed(job, exc) from exc

    def _went_down(self, exc: StoreUnavailableError) -> None:
        cause = exc.__cause__
        with self._guard:
            first = self._down_reason is None
            self._down_reason = exc.reason
            if first:
                self._down_since = time.monotonic()
        if first:
            # The database's own words (file, host) go to the log only.
            _LOG.error(
                "audit store unavailable (%s): %s: %s; refusing requests with 503 "
                "until it takes writes again",
                exc.reason,
                type(getattr(cause, "orig", None) or cause).__name__,
                getattr(cause, "orig", None) or cause,
            )

    def _probe(self) -> None:
        try:
            with self.log.transaction(busy_timeout_ms=self.busy_ms) as tx:
                _ = tx.head
        except StoreUnavailableError as exc:
            with self._guard:
                self._down_reason = exc.reason
            return
        except Exception:  # noqa: BLE001 - keep probing; log once per failure kind
            _LOG.exception("audit writer: probing the store failed")
            return
        with self._guard:
            self._down_reason = self._down_since = None
        _LOG.warning("audit store available again")
