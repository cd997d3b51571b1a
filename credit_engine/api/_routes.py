"""The routes of the API, one router per audience, and the helpers they share.

Where each piece of work runs (issue 14; :mod:`credit_engine.api._serving`):
the event loop only does memory work (a decision on the serving date, its
audit entry and its answer); database and lake reads run in worker threads;
batches and other dates run in the bounded heavy pool
(:mod:`credit_engine.api._heavy`); audit entries are committed by the
group-commit writer (:class:`~credit_engine.audit.AuditWriter`), awaited with a
bound. Every route takes its caller through :func:`require` (key, role, limits).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from credit_engine.api._errors import problem
from credit_engine.api._recording import entry, record
from credit_engine.api._schemas import (
    USCC_PATTERN,
    BatchScoreRequest,
    BatchScoreResponse,
    HistoryResponse,
    ModelsResponse,
    OverrideRequest,
    OverrideResponse,
    Problem,
    RatingsPage,
    ReadyResponse,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
)
from credit_engine.api._security import principal_stamp, require
from credit_engine.api._serving import (
    INLINE_MAX,
    Services,
    clearance_of,
    score_one,
    serve,
    serve_heavy_batch,
)
from credit_engine.audit import (
    AuditKind,
    override_unit,
)
from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.decisioning import Disclosure
from credit_engine.exceptions import (
    DataContractError,
    EnterpriseNotFoundError,
    InvalidUsccError,
    NoRatingsError,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.uscc import USCC_LENGTH, validate_uscc
from credit_engine.vocabulary import Tier

__all__ = ["ROUTERS", "Services"]

_LOG = logging.getLogger("credit_engine.api")

SCORERS = (Role.INSPECTION_SYSTEM, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
# Auditors read what supervisors read and change nothing (issue 13).
SUPERVISION_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
READERS = (
    Role.SUPERVISOR, Role.DATA_SCIENTIST, Role.ADMIN, Role.INSPECTION_SYSTEM,
    Role.AUDITOR,
)  # fmt: skip
MAX_PAGE = 100_000
"""Highest page of GET /v1/ratings (page_size up to 1,000: 10^8 rows)."""


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
Scorer = Annotated[ApiKeyInfo, Depends(require(*SCORERS))]
Supervisor = Annotated[ApiKeyInfo, Depends(require(*SUPERVISORS))]
SupervisionReader = Annotated[ApiKeyInfo, Depends(require(*SUPERVISION_READERS))]
Reader = Annotated[ApiKeyInfo, Depends(require(*READERS))]
Admin = Annotated[ApiKeyInfo, Depends(require(Role.ADMIN))]
UsccPath = Annotated[
    str,
    Path(
        min_length=USCC_LENGTH,
        max_length=USCC_LENGTH,
        pattern=USCC_PATTERN,
        description="Unified Social Credit Code (GB 32100-2015)",
        examples=["91350200MA2Y0K3Q0N"],
    ),
]

_PROBLEMS = {
    401: "No or bad API key",
    403: "The key's role may not call this endpoint",
    404: "Unknown enterprise, or no rating run for the date",
    422: "Invalid request (a USCC with a wrong check character, a date outside "
    "the covered range, control characters in text ...)",
    503: "No model loaded, or the store cannot take the audit entry (see Retry-After)",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the problem-details errors a route answers (its ``responses=``).

    Every error body is a :class:`Problem` (``application/problem+json``); the
    app's OpenAPI document adds 400, 405, 429 and 503 to every operation
    (:mod:`credit_engine.api._openapi`).
    """
    return {s: {"model": Problem, "description": _PROBLEMS[s]} for s in statuses}


_AUTH = (401, 403, 422)
_DECIDES = (401, 403, 404, 422, 503)


def _uscc(code: str) -> str:
    return validate_uscc(code)


def _as_of(value: dt.date | None) -> dt.date | None:
    today = dt.datetime.now(dt.UTC).date()
    if value is not None and value > today:
        raise DataContractError(
            f"as_of {value.isoformat()} is in the future (today is "
            f"{today.isoformat()}); a rating uses only what is known, so ask for "
            "today or an earlier date."
        )
    return value


def _records(frame: pd.DataFrame, where: str) -> list[dict[str, Any]]:
    """Rows of a store frame as JSON data (the response models parse the dates)."""
    rows: list[dict[str, Any]] = to_jsonable(frame.to_dict("records"), where=where)
    return rows


scoring = APIRouter()
supervision = APIRouter()
models_router = APIRouter()
operations = APIRouter()


# ------------------------------------------------------------ scoring
@scoring.post(
    "/v1/scores",
    response_model=ScoreResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def score(body: ScoreRequest, principal: Scorer, svc: ServicesDep) -> Any:
    """Decide one enterprise: tier, green channel, inspection factor, measures."""
    return await score_one(svc, principal, _uscc(body.uscc), _as_of(body.as_of))


@scoring.post(
    "/v1/scores:batch",
    response_model=BatchScoreResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def score_batch(
    body: BatchScoreRequest, principal: Scorer, svc: ServicesDep
) -> Any:
    """Decide up to 1,000 enterprises in one call (all or none).

    Costs one token of the key's rate limit per code; runs in the heavy pool
    beside the serving path unless it is a handful of codes on the serving date.
    """
    problems = []
    usccs = []
    for i, code in enumerate(body.usccs):
        try:
            usccs.append(_uscc(code))
        except InvalidUsccError as exc:
            problems.append(f"usccs[{i}]: {exc.message}")
    if problems:
        raise InvalidUsccError("; ".join(problems[:20]))
    svc.limits.charge(principal, len(usccs) - 1).release()
    as_of = _as_of(body.as_of)
    if svc.scoring.is_fast(as_of) and len(usccs) <= INLINE_MAX:
        data, seqs = await serve(svc, principal, usccs, as_of)
        return {"data": data, "count": len(data), "audit_seqs": seqs}
    return await serve_heavy_batch(svc, principal, usccs, as_of)


# -------------------------------------------------------- supervision
@supervision.get(
    "/v1/enterprises/{uscc}/rating",
    response_model=ScoreResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def enterprise_rating(
    uscc: UsccPath, principal: SupervisionReader, svc: ServicesDep,
    as_of: dt.date | None = None,
) -> Any:  # fmt: skip
    """Decide the enterprise now, like a score (and logged like one)."""
    return await score_one(svc, principal, _uscc(uscc), _as_of(as_of))


@supervision.get(
    "/v1/enterprises/{uscc}/history",
    response_model=HistoryResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def enterprise_history(
    uscc: UsccPath, principal: SupervisionReader, svc: ServicesDep
) -> Any:
    """List the stored decisions of an enterprise (one per date) and its overrides.

    The read is logged (kind ``supervisor_read``) before the answer.
    """
    code = _uscc(uscc)
    state = svc.scoring.state

    def read() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return (
            _records(svc.store.decision_history(code), "history"),
            _records(svc.store.overrides_of(code), "overrides"),
        )

    history, overrides = await run_in_threadpool(read)
    if not history and not overrides and code not in state.usccs:
        raise EnterpriseNotFoundError(
            f"No enterprise {code} is known to the zone: no rating, override or "
            "department record about it."
        )
    await record(
        svc,
        [entry(principal, AuditKind.SUPERVISOR_READ,
               {"endpoint": "history", "uscc": code, "decisions": len(history),
                "overrides": len(overrides)}, subject=code)],
    )  # fmt: skip
    policy = state.engine.policy
    clearance = clearance_of(principal)
    return {
        "uscc": code,
        "data": [policy.disclose(r, clearance) for r in history],
        "overrides": overrides,
    }


@supervision.get(
    "/v1/ratings",
    response_model=RatingsPage,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def ratings(  # noqa: PLR0917 - FastAPI reads the query parameters from here
    principal: SupervisionReader,
    svc: ServicesDep,
    tier: Tier | None = None,
    green_channel: bool | None = None,
    as_of: dt.date | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Page through the latest stored rating run (or that of ``as_of``), filtered.

    The read is logged (kind ``supervisor_read``) before the answer.
    """
    code = None if tier is None else tier.value

    def read() -> tuple[dt.date, pd.DataFrame, int, float]:
        dates = svc.store.rating_dates()
        if not dates:
            raise NoRatingsError(
                "No rating run is stored yet; run `credit-engine rate --as-of DATE`.",
                as_of=as_of or dt.datetime.now(dt.UTC).date(),
                available=[],
            )
        day = as_of or dates[-1]
        frame = svc.store.decisions_at(
            day, tier=code, green_channel=green_channel,
            limit=page_size, offset=(page - 1) * page_size,
        )  # fmt: skip
        count = svc.store.count_decisions(day, tier=code, green_channel=green_channel)
        return day, frame, count, svc.store.override_rate(day)

    day, frame, count, override_rate = await run_in_threadpool(read)
    policy = svc.scoring.state.engine.policy
    clearance = clearance_of(principal)
    rows = _records(frame, "ratings")
    run_id = int(frame["run_id"].iloc[0]) if len(frame) else None
    await record(
        svc,
        [entry(principal, AuditKind.SUPERVISOR_READ,
               {"endpoint": "ratings", "as_of": day.isoformat(), "run_id": run_id,
                "tier": code, "green_channel": green_channel, "page": page,
                "page_size": page_size, "returned": len(rows), "count": count},
               subject=day.isoformat())],
    )  # fmt: skip
    return {
        "as_of": day,
        "run_id": run_id,
        "data": [policy.disclose(r, clearance) for r in rows],
        "count": count,
        "page": page,
        "page_size": page_size,
        "override_rate": override_rate,
    }


@supervision.post(
    "/v1/enterprises/{uscc}/overrides",
    response_model=OverrideResponse,
    status_code=201,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
async def add_override(
    uscc: UsccPath, body: OverrideRequest, principal: Supervisor, svc: ServicesDep
) -> Any:
    """Record a supervisor override; statutory bounds still apply over it.

    The override and its audit entry commit in one transaction (through the
    audit writer); the decision it gives now is logged too.
    """
    code = _uscc(uscc)
    state = svc.scoring.state
    if code not in state.usccs:
        raise EnterpriseNotFoundError(
            f"No enterprise {code} is known to the zone at {state.as_of}."
        )
    # Default: the serving date (the lake's freshness date unless the service
    # was started at another), so the override governs what is served from now
    # on, even while the service serves a date before today.
    start = body.effective_from or state.as_of
    override_id, logged = await svc.writer.run(
        override_unit(
            code, body.tier.value, body.reason, principal.name, start,
            body.effective_to, context={"by": principal_stamp(principal)},
        )
    )  # fmt: skip
    svc.metrics.overrides.inc()
    await run_in_threadpool(svc.scoring.overrides.refresh)  # in force at once
    data, _ = await serve(svc, principal, [code], None)
    return {
        "override_id": override_id,
        "uscc": code,
        "tier": body.tier,
        "reason": body.reason,
        "actor": principal.name,
        "effective_from": start,
        "effective_to": body.effective_to,
        "decision": data[0],
        "audit_seq": logged.seq,
    }


# ------------------------------------------------------- data science
@models_router.get(
    "/v1/models", response_model=ModelsResponse, responses=_problems(*_AUTH)
)
async def models(principal: Reader, svc: ServicesDep) -> Any:
    """Describe what is served and every registered version, as the role may see.

    Inspection systems (disclosure ``shared``) see the serving date, the
    covered dates and readiness, not which model decides nor its figures;
    supervisors, data scientists and admins see everything.
    """
    identity = clearance_of(principal) is not Disclosure.SHARED
    serving = svc.scoring.describe(identity=identity)
    if not identity:
        return {"serving": serving, "registered": []}
    from credit_engine.registry import registered_versions

    rows = await run_in_threadpool(registered_versions, svc.settings)
    return {"serving": serving, "registered": to_jsonable(rows, where="registered")}


@models_router.get("/v1/policy", responses=_problems(*_AUTH, 503))
async def policy(principal: Reader, svc: ServicesDep) -> dict[str, Any]:
    """Return the treatment policy and the rule sets in force at the serving date."""
    state = svc.scoring.state
    return {
        "policy": state.engine.policy.model_dump(mode="json"),
        "rule_sets": state.engine.rulebook.versions(state.as_of),
        "as_of": state.as_of.isoformat(),
    }


@operations.post(
    "/v1/admin/reload",
    response_model=ReloadResponse,
    responses={
        **_problems(*_AUTH),
        503: {
            "model": ReloadResponse,
            "description": "The reload failed; the old model keeps serving",
        },
    },
)
async def reload(
    request: Request, response: Response, principal: Admin, svc: ServicesDep
) -> Any:
    """Load the current champion; in-flight requests finish on the old one."""
    ok = await asyncio.to_thread(request.app.state.reload)
    await record(
        svc,
        [entry(principal, AuditKind.MODEL_RELOAD,
               {"ok": ok, "serving": svc.scoring.describe()})],
    )  # fmt: skip
    body = {
        "reloaded": ok,
        "serving": svc.scoring.describe(),
        "error": svc.scoring.last_reload_error,
    }
    response.status_code = 200 if ok else 503
    return body


# --------------------------------------------------------- operations
@operations.get("/healthz")
async def healthz() -> dict[str, str]:
    """Answer while the process is up (no I/O, whatever the store does)."""
    return {"status": "ok"}


@operations.get(
    "/readyz",
    responses={
        200: {
            "model": ReadyResponse,
            "description": "Ready (degraded: serving stale data, still in service)",
        },
        503: {
            "model": Problem,
            "description": "No model loaded, or the operational store cannot take "
            "the audit log's writes (the reason says which; see Retry-After)",
        },
    },
)
async def readyz(svc: ServicesDep) -> Response:
    """Answer 200 when requests can be served; 503 with the reason otherwise.

    From memory only, so it answers at once whatever the store does. It never
    names the model (no key is needed); GET /v1/models does, by role.
    ``status`` is ``degraded`` (still 200: keep the service in the load
    balancer) when the serving date is beyond a required source's allowed
    lag; ``freshness.reason`` names the departments and tables stale, and
    since when.
    """
    scoring = svc.scoring
    reasons = []
    if not scoring.loaded:
        reasons.append(scoring.public_reason() or "no model loaded")
    health = svc.writer.health
    if not health.ok and health.reason:
        reasons.append(health.reason)
    stale = scoring.overrides.stale_for
    if stale is None or stale > scoring.overrides.max_stale_seconds:
        reasons.append("overrides not read from the store lately")
    if reasons:
        return problem(
            503, "not_ready", "; ".join(reasons), headers={"Retry-After": "1"}
        )
    # After a failed reload the old model still serves: ready, with the
    # reason of the failure in "reason" (without naming the model).
    info = scoring.describe(identity=False)
    fresh = info.get("freshness") or {}
    return JSONResponse(
        {
            "status": "degraded" if fresh.get("status") == "stale" else "ready",
            "reason": info["reason"],
            "last_reload_error": info["last_reload_error"],
            "as_of": info["as_of"],
            "covered_from": info["covered_from"],
            "covered_to": info["covered_to"],
            "enterprises": info["enterprises"],
            "loaded_at": info["loaded_at"],
            "freshness": info["freshness"],
        }
    )


@operations.get("/metrics", response_class=PlainTextResponse)
async def prometheus(svc: ServicesDep) -> Response:
    """Expose the Prometheus metrics (text exposition format).

    The freshness gauges judge the lake as it stood at the last load against
    today (UTC); ``credit_engine_serving_stale_sources`` counts the sources
    every decision served is marked with.
    """
    state = svc.scoring.current
    if state is not None and state.lake is not None:
        svc.metrics.observe_freshness(
            state.lake,
            state.engine.freshness_policy,
            serving_date=state.as_of,
            serving_stale=len(state.zone.stale_sources),
            today=dt.datetime.now(dt.UTC).date(),
        )
    return Response(
        svc.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


ROUTERS = (scoring, supervision, models_router, operations)
"""Every router of the API, in the order the OpenAPI document lists them."""
