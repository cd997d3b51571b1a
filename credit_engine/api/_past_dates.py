"""Decisions at other dates than the serving date, in worker processes.

A decision at another date reads the lake and runs Python for tenths of a
second to seconds (the feature SQL's compilation, pandas, the model, the
decisions, their audit payloads and the answer's JSON). In a thread of the
serving process that work holds the interpreter lock nineteen times out of
twenty and single scores at the serving date wait for it (their p99 rose from
a few milliseconds to a hundred beside three 1,000-code batches). Here it runs
in separate processes (``Settings.heavy_processes``), which hold their own
copy of the engine: the same policy version and champion version as the
serving state (:class:`EngineIdentity`), loaded at the first job that names
them (and warmed after each load of the serving state).

The serving process keeps what must be decided there: the date's check, the
overrides in force (its in-memory index), the key's limits and the audit
log's order. A worker returns the answer's JSON (or the disclosed decisions),
the tally of tiers and the audit entries already validated and encoded, in a
compact form (:meth:`~credit_engine.audit.PreparedEntry.to_wire`) that takes
microseconds to unpickle: the serving process then only chains and commits
them (:meth:`~credit_engine.audit.AuditWriter.submit_prepared`).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from credit_engine.api._recording import decision_entries
from credit_engine.api._schemas import DecisionPublic
from credit_engine.api._security import CLEARANCE
from credit_engine.api._service import ServedDecision, decide_in_zone
from credit_engine.api._zone import rate_zone
from credit_engine.audit import PreparedEntry, WireEntry, prepare_entries
from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.config import Settings
from credit_engine.decisioning import Override
from credit_engine.exceptions import ServiceUnavailableError
from credit_engine.rating import RatingEngine
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = [
    "BatchAnswer",
    "EngineIdentity",
    "PastDateJob",
    "PastDateWorkers",
    "render_decisions",
]

_LOG = logging.getLogger("credit_engine.api")

_DECISIONS = TypeAdapter(list[DecisionPublic])


def render_decisions(data: list[dict[str, Any]]) -> bytes:
    """Render disclosed decisions as ``BatchScoreResponse.data`` is answered.

    Validated against :class:`DecisionPublic` and encoded without unset fields,
    as FastAPI would encode the route's response model.
    """
    return _DECISIONS.dump_json(_DECISIONS.validate_python(data), exclude_unset=True)


@dataclass(frozen=True)
class EngineIdentity:
    """What a worker must load to decide as the serving state does."""

    policy_name: str
    policy_version: int
    model_name: str
    model_version: str

    @classmethod
    def of(cls, engine: RatingEngine) -> EngineIdentity:
        """Return the identity of ``engine`` (its policy and champion versions)."""
        return cls(
            engine.policy.name,
            engine.policy.version,
            engine.loaded.name,
            str(engine.loaded.version),
        )


@dataclass(frozen=True)
class PastDateJob:
    """Enterprises to decide at one date, and for whom.

    ``overrides`` are those in force at ``as_of`` (read by the serving process,
    which holds their index); ``render``: answer the JSON of
    ``BatchScoreResponse.data`` rather than the disclosed decisions.
    """

    engine: EngineIdentity
    usccs: tuple[str, ...]
    as_of: dt.date
    overrides: dict[str, Override]
    principal: ApiKeyInfo
    render: bool


@dataclass(frozen=True)
class BatchAnswer:
    """Heavy work's answer: the decisions shown, their tally, their entries.

    ``rendered`` (if the job asked to render) or ``data`` (the decisions as
    disclosed to the caller); ``tally`` counts decisions by tier and layer;
    ``entries`` are the audit entries in wire form (:meth:`prepared`), from
    a worker process (empty when decided in the serving process, which
    queued them itself).
    """

    rendered: bytes | None
    data: list[dict[str, Any]] | None
    tally: Counter[tuple[Tier, DecidedBy]]
    entries: list[WireEntry]

    @classmethod
    def of(
        cls,
        served: Sequence[ServedDecision],
        data: list[dict[str, Any]],
        *,
        render: bool,
        entries: Sequence[PreparedEntry] = (),
    ) -> BatchAnswer:
        """Answer ``served``, disclosed as ``data`` (rendered if ``render``)."""
        return cls(
            rendered=render_decisions(data) if render else None,
            data=None if render else data,
            tally=Counter((s.decision.tier, s.decision.decided_by) for s in served),
            entries=[p.to_wire() for p in entries],
        )

    def prepared(self) -> list[PreparedEntry]:
        """Return the audit entries, for :meth:`AuditWriter.submit_prepared`."""
        return [PreparedEntry.from_wire(w) for w in self.entries]


# ------------------------------------------------------------ worker side
_WORKER: dict[str, Any] = {}
"""A worker process's settings and engines (set by :func:`_start_worker`)."""

_ENGINES_KEPT = 2


_PARENT_CHECK_SECONDS = 1.0


def _start_worker(settings: Settings, parent: int) -> None:
    _WORKER["settings"] = settings
    _WORKER["engines"] = {}
    if settings.heavy_process_niceness:  # the serving path gets the CPU first
        os.nice(settings.heavy_process_niceness)
    # A worker holds its own end of the job queue, so it would wait forever
    # if the serving process were killed: it leaves when its parent does
    # (``parent`` is given, not read here: the parent may already be gone).
    threading.Thread(
        target=_leave_with_parent, args=(parent,), name="parent-watch", daemon=True
    ).start()


def _leave_with_parent(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(_PARENT_CHECK_SECONDS)


def _engine(identity: EngineIdentity) -> RatingEngine:
    from credit_engine.registry import load_rating_model

    engines: dict[EngineIdentity, RatingEngine] = _WORKER["engines"]
    engine = engines.get(identity)
    if engine is None:
        settings: Settings = _WORKER["settings"]
        model = load_rating_model(
            settings, identity.model_name, version=identity.model_version
        )
        engine = RatingEngine(
            settings,
            policy_name=identity.policy_name,
            policy_version=identity.policy_version,
            model=model,
        )
        while len(engines) >= _ENGINES_KEPT:  # the oldest state's engine goes
            del engines[next(iter(engines))]
        engines[identity] = engine
    return engine


def _warm(identity: EngineIdentity) -> None:
    _engine(identity)


def _decide(job: PastDateJob) -> BatchAnswer:
    """Rate, decide, encode the entries and the answer (in a worker process)."""
    engine = _engine(job.engine)
    zone = rate_zone(engine, job.as_of, usccs=job.usccs)
    served = decide_in_zone(engine, zone, job.usccs, job.overrides)
    prepared = prepare_entries(
        decision_entries(job.principal, served), dt.datetime.now(dt.UTC)
    )
    clearance = CLEARANCE[Role(job.principal.role)]
    data = [s.decision.disclosed(clearance, engine.policy) for s in served]
    return BatchAnswer.of(served, data, render=job.render, entries=prepared)


# ----------------------------------------------------------- serving side
class PastDateWorkers:
    """Worker processes deciding at other dates (started at the first need).

    Parameters
    ----------
    settings : Settings
        Engine settings, passed to each worker (home, lake, MLflow, store).
    processes : int
        Worker processes (the heavy threads of :class:`HeavyPool` wait on them).
    timeout_seconds : float, default=300
        Longest a job may run; beyond, the workers are stopped and replaced
        (``Settings.heavy_timeout_seconds``).
    """

    def __init__(
        self, settings: Settings, *, processes: int, timeout_seconds: float = 300.0
    ) -> None:
        self.settings = settings
        self.processes = processes
        self.timeout_seconds = timeout_seconds
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise ServiceUnavailableError(
                    "The service is shutting down; retry on another instance.",
                    retry_after=5,
                )
            if self._executor is None:
                self._executor = concurrent.futures.ProcessPoolExecutor(
                    max_workers=self.processes,
                    # Never fork a process with threads (the event loop, the
                    # audit writer, DuckDB's): start clean interpreters.
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self.settings, os.getpid()),
                )
            return self._executor

    def warm(self, engine: RatingEngine) -> None:
        """Start the workers and load ``engine``'s identity in them (in the background).

        Best effort: a failure is logged, and the first job loads it again.
        """
        identity = EngineIdentity.of(engine)
        try:
            pool = self._pool()
            futures = [pool.submit(_warm, identity) for _ in range(self.processes)]
        except (ServiceUnavailableError, RuntimeError, BrokenProcessPool):
            return
        for future in futures:
            future.add_done_callback(_log_warm_failure)

    def decide(self, job: PastDateJob) -> BatchAnswer:
        """Run ``job`` in a worker and wait for its answer (call it from a thread).

        Raises
        ------
        CreditEngineError
            As deciding in the serving process would (unknown enterprise ...).
        ServiceUnavailableError
            If the worker died, or ran longer than ``timeout_seconds`` (it is
            stopped); either way it is replaced for the next job: retry.
        """
        pool = self._pool()
        try:
            return pool.submit(_decide, job).result(timeout=self.timeout_seconds)
        except concurrent.futures.TimeoutError:
            self._replace(pool, f"a job ran longer than {self.timeout_seconds:g} s")
            raise ServiceUnavailableError(
                f"Deciding {len(job.usccs)} enterprise(s) at {job.as_of} took longer "
                f"than {self.timeout_seconds:g} s (heavy_timeout_seconds); the worker "
                "was stopped and is being restarted. Retry later or with fewer codes.",
                retry_after=5,
            ) from None
        except BrokenProcessPool:
            self._replace(pool, "a past-date worker process died")
            raise ServiceUnavailableError(
                "The worker deciding at other dates stopped unexpectedly (it is "
                "being restarted); retry shortly.",
                retry_after=5,
            ) from None

    def _replace(
        self, broken: concurrent.futures.ProcessPoolExecutor, why: str
    ) -> None:
        """Stop and drop ``broken`` (once: jobs failing together replace it once)."""
        with self._lock:
            if self._executor is not broken:
                return  # another job replaced it already
            self._executor = None
        _LOG.error("%s; stopping its workers and starting new ones", why)
        # A stuck worker would never take the shutdown: kill them (the pool has
        # no public way; its process table is stable across CPython 3.11-3.13).
        for process in list((getattr(broken, "_processes", None) or {}).values()):
            with contextlib.suppress(OSError, ValueError):
                process.kill()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (running jobs finish, waiting ones are dropped)."""
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            # Not waited for: a worker still loading an engine ends on its own.
            executor.shutdown(wait=False, cancel_futures=True)


def _log_warm_failure(future: concurrent.futures.Future[None]) -> None:
    exc = None if future.cancelled() else future.exception()
    if exc is not None:
        _LOG.warning("could not warm a past-date worker: %s", exc)
