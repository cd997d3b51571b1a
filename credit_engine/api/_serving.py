"""How a decision is served: where it runs, when it is logged, how it is answered.

The event loop only does memory work: a decision on the serving date, its
audit entry and its answer (the serving cache's encoded JSON). Batches and
other dates run in the bounded heavy pool (:mod:`credit_engine.api._heavy`),
which also validates and encodes their answer; other dates, which read the
lake and run Python for up to seconds, in worker processes
(:mod:`credit_engine.api._past_dates`), so that their work never holds the
serving process's interpreter lock. Every answer leaves once its
audit entries are committed by the group-commit writer
(:class:`~credit_engine.audit.AuditWriter`), awaited with a bound.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Response
from sqlalchemy import update

from credit_engine.api._heavy import HeavyPool
from credit_engine.api._limits import KeyLimits
from credit_engine.api._metrics import Metrics
from credit_engine.api._past_dates import (
    BatchAnswer,
    EngineIdentity,
    PastDateJob,
    PastDateWorkers,
)
from credit_engine.api._recording import decision_entries
from credit_engine.api._schemas import DecisionPublic
from credit_engine.api._security import CLEARANCE
from credit_engine.api._service import ScoringService, ServedDecision
from credit_engine.audit import AuditEntry, AuditLog, AuditTransaction, AuditWriter
from credit_engine.auth import ApiKeyInfo, KeyStore, Role, api_keys
from credit_engine.config import Settings
from credit_engine.decisioning import Disclosure, Policy
from credit_engine.rating import EncodedDecision
from credit_engine.store import OperationalStore

__all__ = [
    "INLINE_MAX",
    "Services",
    "clearance_of",
    "decide_heavy",
    "score_one",
    "serve",
    "serve_heavy_batch",
]

_LOG = logging.getLogger("credit_engine.api")
T = TypeVar("T")

INLINE_MAX = 20
"""Codes decided on the event loop at the serving date; larger batches go to
the heavy pool (a decision costs tenths of a millisecond of CPU)."""


@dataclass
class Services:
    """Everything the routes use, built once per app."""

    settings: Settings
    store: OperationalStore
    scoring: ScoringService
    keys: KeyStore
    audit: AuditLog
    metrics: Metrics
    writer: AuditWriter
    limits: KeyLimits
    heavy: HeavyPool
    past_dates: PastDateWorkers | None = None
    """Worker processes for other dates (None: they run in the heavy threads)."""

    def touch_key(self, info: ApiKeyInfo) -> None:
        """Record when a key was last used, through the writer (best effort)."""

        def touch(tx: AuditTransaction) -> None:
            tx.connection.execute(
                update(api_keys)
                .where(api_keys.c.key_id == info.key_id)
                .values(last_used_at=dt.datetime.now(dt.UTC))
            )

        try:
            self.writer.submit_unit(touch)
        except Exception:  # noqa: BLE001 - informational only
            _LOG.debug("could not queue the last-used time of key %s", info.name)


def clearance_of(principal: ApiKeyInfo) -> Disclosure:
    """Return the disclosure level ``principal``'s role is cleared for."""
    return CLEARANCE[Role(principal.role)]


_Decided = tuple[list[ServedDecision], list[dict[str, Any]], Future[list[AuditEntry]]]


def decide_and_log(
    svc: Services, principal: ApiKeyInfo, usccs: list[str], as_of: dt.date | None
) -> _Decided:
    """Decide, queue the audit entries, shape the answer (memory, or the lake)."""
    served = svc.scoring.decide(usccs, as_of)
    future = svc.writer.submit(decision_entries(principal, served))
    policy = svc.scoring.state.engine.policy
    clearance = clearance_of(principal)
    return served, [s.decision.disclosed(clearance, policy) for s in served], future


def decide_heavy(
    svc: Services,
    principal: ApiKeyInfo,
    usccs: list[str],
    as_of: dt.date | None,
    *,
    render: bool,
) -> tuple[BatchAnswer, Future[list[AuditEntry]]]:
    """Decide, queue the entries, shape the answer: the heavy pool's work.

    Another date goes to the worker processes (:mod:`._past_dates`) when there
    are any: only the overrides in force are read here, and the entries they
    prepared are queued. The serving date (a large batch) is decided here.
    ``render``: answer ``BatchScoreResponse.data`` as JSON (validated and
    encoded as FastAPI would), else the disclosed decisions.
    """
    workers = svc.past_dates
    if workers is not None and as_of is not None and not svc.scoring.is_fast(as_of):
        scoring = svc.scoring
        job = PastDateJob(
            engine=EngineIdentity.of(scoring.state.engine),
            usccs=tuple(usccs),
            as_of=as_of,
            overrides=scoring.overrides_at(as_of, usccs),
            principal=principal,
            render=render,
        )
        answer = workers.decide(job)
        return answer, svc.writer.submit_prepared(answer.prepared())
    served, data, future = decide_and_log(svc, principal, usccs, as_of)
    return BatchAnswer.of(served, data, render=render), future


def public_renderer(
    clearance: Disclosure, policy: Policy
) -> Callable[[EncodedDecision], bytes]:
    """Render a decision as ``ScoreResponse.decision`` is answered (FastAPI's way)."""

    def render(decided: EncodedDecision) -> bytes:
        public = DecisionPublic.model_validate(
            decided.decision.disclosed(clearance, policy)
        )
        return public.model_dump_json(exclude_unset=True).encode()

    return render


async def score_one(
    svc: Services, principal: ApiKeyInfo, uscc: str, as_of: dt.date | None
) -> Any:
    """Decide one enterprise and answer a :class:`ScoreResponse` (logged first).

    At the serving date the decision, its audit payload and its JSON for the
    caller's clearance come from the serving cache, and the answer is sent as
    those bytes (the route's response model documents it; the tests compare it
    with the validated path). Other dates go the general way (:func:`serve`).
    """
    if not svc.scoring.is_fast(as_of):
        data, seqs = await serve(svc, principal, [uscc], as_of)
        return {"decision": data[0], "audit_seq": seqs[0]}
    served = svc.scoring.decide([uscc], as_of)
    future = svc.writer.submit(decision_entries(principal, served))
    one = served[0]
    clearance = clearance_of(principal)
    state = svc.scoring.state
    if one.encoded is None or state.cache is None:  # no cache: the general shape
        body = public_renderer(clearance, state.engine.policy)
        decision = body(EncodedDecision.encode(one.decision, one.override))
    else:
        decision = state.cache.public_json(
            one.encoded, clearance, public_renderer(clearance, state.engine.policy)
        )
    entries = await svc.writer.wait(future)
    svc.metrics.served(one.decision.tier, one.decision.decided_by)
    return Response(
        b'{"decision":' + decision + b',"audit_seq":%d}' % entries[0].seq,
        media_type="application/json",
    )


async def _in_heavy_pool(
    svc: Services,
    principal: ApiKeyInfo,
    as_of: dt.date | None,
    work: Callable[..., T],
    *args: Any,
    **kwargs: Any,
) -> T:
    """Run ``work(*args, **kwargs)`` in the heavy pool (the key's heavy limit).

    The date is checked first (422 before any work).
    """
    if as_of is not None:
        svc.scoring.state.check_date(as_of)
    slot = svc.limits.charge(principal, 0, heavy=True)
    try:
        return await svc.heavy.run(work, *args, **kwargs)
    finally:
        slot.release()


async def serve(
    svc: Services, principal: ApiKeyInfo, usccs: list[str], as_of: dt.date | None
) -> tuple[list[dict[str, Any]], list[int]]:
    """Decide ``usccs``, log every decision (durably), return them as disclosed.

    On the serving date and for a few codes everything runs on the event loop
    (memory only); otherwise in the heavy pool (:func:`decide_heavy`), counted
    against the key's heavy limit. The answer leaves only after the entries
    are committed.
    """
    if svc.scoring.is_fast(as_of) and len(usccs) <= INLINE_MAX:
        served, data, future = decide_and_log(svc, principal, usccs, as_of)
        entries = await svc.writer.wait(future)
        for s in served:
            svc.metrics.served(s.decision.tier, s.decision.decided_by)
        return data, [e.seq for e in entries]
    answer, future = await _in_heavy_pool(
        svc, principal, as_of, decide_heavy, svc, principal, usccs, as_of, render=False
    )
    entries = await svc.writer.wait(future)
    _count(svc, answer)
    assert answer.data is not None
    return answer.data, [e.seq for e in entries]


async def serve_heavy_batch(
    svc: Services, principal: ApiKeyInfo, usccs: list[str], as_of: dt.date | None
) -> Response:
    """Decide a batch (or another date) in the heavy pool; answer its bytes.

    Decided, logged and rendered in the pool (:func:`decide_heavy`), so that
    neither the work nor the validation and encoding of up to 1,000 decisions
    holds up the event loop (single scores keep their latency beside
    batches). The answer is a ``BatchScoreResponse``, sent once the entries
    are committed.
    """
    answer, future = await _in_heavy_pool(
        svc, principal, as_of, decide_heavy, svc, principal, usccs, as_of, render=True
    )
    entries = await svc.writer.wait(future)
    _count(svc, answer)
    assert answer.rendered is not None
    logged = ",".join(str(e.seq) for e in entries).encode()
    return Response(
        b'{"data":%b,"count":%d,"audit_seqs":[%b]}'
        % (answer.rendered, len(entries), logged),
        media_type="application/json",
    )


def _count(svc: Services, answer: BatchAnswer) -> None:
    for (tier, decided_by), n in answer.tally.items():
        svc.metrics.served(tier, decided_by, n)
