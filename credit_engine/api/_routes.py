"""The routes of the API, one router per audience, and the helpers they share."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from credit_engine.api._errors import problem
from credit_engine.api._metrics import Metrics
from credit_engine.api._schemas import (
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
from credit_engine.api._security import CLEARANCE, require
from credit_engine.api._service import ScoringService, ServedDecision
from credit_engine.audit import AuditLog, record_override
from credit_engine.auth import ApiKeyInfo, KeyStore, Role
from credit_engine.config import Settings
from credit_engine.decisioning import Disclosure
from credit_engine.exceptions import (
    DataContractError,
    EnterpriseNotFoundError,
    InvalidUsccError,
    NoRatingsError,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.rating import decision_payload
from credit_engine.store import OperationalStore
from credit_engine.uscc import validate_uscc
from credit_engine.vocabulary import Tier

__all__ = ["ROUTERS", "Services"]

SCORERS = (Role.INSPECTION_SYSTEM, Role.SUPERVISOR, Role.ADMIN)
SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
# Auditors read what supervisors read and change nothing (issue 13).
SUPERVISION_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
READERS = (
    Role.SUPERVISOR, Role.DATA_SCIENTIST, Role.ADMIN, Role.INSPECTION_SYSTEM,
    Role.AUDITOR,
)  # fmt: skip


@dataclass
class Services:
    """Everything the routes use, built once per app."""

    settings: Settings
    store: OperationalStore
    scoring: ScoringService
    keys: KeyStore
    audit: AuditLog
    metrics: Metrics


async def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]
Scorer = Annotated[ApiKeyInfo, Depends(require(*SCORERS))]
Supervisor = Annotated[ApiKeyInfo, Depends(require(*SUPERVISORS))]
SupervisionReader = Annotated[ApiKeyInfo, Depends(require(*SUPERVISION_READERS))]
Reader = Annotated[ApiKeyInfo, Depends(require(*READERS))]
Admin = Annotated[ApiKeyInfo, Depends(require(Role.ADMIN))]

_PROBLEMS = {
    401: "No or bad API key",
    403: "The key's role may not call this endpoint",
    404: "Unknown enterprise, or no rating run for the date",
    422: "Invalid request (e.g. a USCC with a wrong check character)",
    503: "No model loaded",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the problem-details errors a route answers (its ``responses=``).

    Every error body is a :class:`Problem` (``application/problem+json``); the
    app's OpenAPI document lists exactly the statuses each route can answer.
    """
    return {s: {"model": Problem, "description": _PROBLEMS[s]} for s in statuses}


_AUTH = (401, 403)
_DECIDES = (*_AUTH, 404, 422, 503)


def _uscc(code: str) -> str:
    return validate_uscc(code.strip().upper())


def _as_of(value: dt.date | None) -> dt.date | None:
    today = dt.datetime.now(dt.UTC).date()
    if value is not None and value > today:
        raise DataContractError(
            f"as_of {value.isoformat()} is in the future (today is "
            f"{today.isoformat()}); a rating uses only what is known, so ask for "
            "today or an earlier date."
        )
    return value


def _clearance(principal: ApiKeyInfo) -> Disclosure:
    return CLEARANCE[Role(principal.role)]


def _served(
    services: Services, served: list[ServedDecision], principal: ApiKeyInfo
) -> tuple[list[dict[str, Any]], list[int]]:
    """Log every decision in the audit log, then shape it for the caller."""
    payloads = [
        decision_payload(
            s.decision,
            features=s.features,
            facts=s.facts,
            override=s.override,
            model_rating=s.rating,
        )
        for s in served
    ]
    entries = services.audit.append_many(
        [
            {"kind": "decision", "actor": principal.name, "subject": s.decision.uscc,
             "payload": p}
            for s, p in zip(served, payloads, strict=True)
        ]
    )  # fmt: skip
    policy = services.scoring.state.engine.policy
    clearance = _clearance(principal)
    for s in served:
        services.metrics.served(s.decision.tier, s.decision.decided_by)
    return (
        [s.decision.disclosed(clearance, policy) for s in served],
        [e.seq for e in entries],
    )


def _records(frame: pd.DataFrame, where: str) -> list[dict[str, Any]]:
    """Rows of a store frame as JSON data (the response models parse the dates)."""
    rows: list[dict[str, Any]] = to_jsonable(frame.to_dict("records"), where=where)
    return rows


async def _decide(
    svc: Services, usccs: list[str], as_of: dt.date | None
) -> list[ServedDecision]:
    """Decide inline on the serving date; in a worker thread for another date.

    On the serving date a decision takes well under a millisecond, less than a
    hop to the thread pool; another date reads the lake (tenths of a second).
    """
    state = svc.scoring.state
    if as_of is None or as_of == state.as_of:
        return svc.scoring.decide(usccs, as_of)
    return await asyncio.to_thread(svc.scoring.decide, usccs, as_of)


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
    served = await _decide(svc, [_uscc(body.uscc)], _as_of(body.as_of))
    data, seqs = _served(svc, served, principal)
    return {"decision": data[0], "audit_seq": seqs[0]}


@scoring.post(
    "/v1/scores:batch",
    response_model=BatchScoreResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
def score_batch(body: BatchScoreRequest, principal: Scorer, svc: ServicesDep) -> Any:
    """Decide up to 1,000 enterprises in one call (all or none)."""
    problems = []
    usccs = []
    for i, code in enumerate(body.usccs):
        try:
            usccs.append(_uscc(code))
        except InvalidUsccError as exc:
            problems.append(f"usccs[{i}]: {exc.message}")
    if problems:
        raise InvalidUsccError("; ".join(problems[:20]))
    served = svc.scoring.decide(usccs, _as_of(body.as_of))
    data, seqs = _served(svc, served, principal)
    return {"data": data, "count": len(data), "audit_seqs": seqs}


# -------------------------------------------------------- supervision
@supervision.get(
    "/v1/enterprises/{uscc}/rating",
    response_model=ScoreResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
def enterprise_rating(
    uscc: str, principal: SupervisionReader, svc: ServicesDep,
    as_of: dt.date | None = None,
) -> Any:  # fmt: skip
    """Decide the enterprise now, like a score (and logged like one)."""
    served = svc.scoring.decide([_uscc(uscc)], _as_of(as_of))
    data, seqs = _served(svc, served, principal)
    return {"decision": data[0], "audit_seq": seqs[0]}


@supervision.get(
    "/v1/enterprises/{uscc}/history",
    response_model=HistoryResponse,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
def enterprise_history(
    uscc: str, principal: SupervisionReader, svc: ServicesDep
) -> Any:
    """List the stored decisions of an enterprise (one per date) and its overrides."""
    code = _uscc(uscc)
    policy = svc.scoring.state.engine.policy
    clearance = _clearance(principal)
    history = _records(svc.store.decision_history(code), "history")
    overrides = _records(svc.store.overrides_of(code), "overrides")
    if not history and not overrides and code not in svc.scoring.state.usccs:
        raise EnterpriseNotFoundError(
            f"No enterprise {code} is known to the zone: no rating, override or "
            "department record about it."
        )
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
def ratings(  # noqa: PLR0917 - FastAPI reads the query parameters from here
    principal: SupervisionReader,
    svc: ServicesDep,
    tier: Tier | None = None,
    green_channel: bool | None = None,
    as_of: dt.date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Page through the latest stored rating run (or that of ``as_of``), filtered."""
    dates = svc.store.rating_dates()
    if not dates:
        raise NoRatingsError(
            "No rating run is stored yet; run `credit-engine rate --as-of DATE`.",
            as_of=as_of or dt.datetime.now(dt.UTC).date(),
            available=[],
        )
    day = as_of or dates[-1]
    code = None if tier is None else tier.value
    frame = svc.store.decisions_at(
        day, tier=code, green_channel=green_channel,
        limit=page_size, offset=(page - 1) * page_size,
    )  # fmt: skip
    count = svc.store.count_decisions(day, tier=code, green_channel=green_channel)
    policy = svc.scoring.state.engine.policy
    clearance = _clearance(principal)
    rows = _records(frame, "ratings")
    return {
        "as_of": day,
        "run_id": int(frame["run_id"].iloc[0]) if len(frame) else None,
        "data": [policy.disclose(r, clearance) for r in rows],
        "count": count,
        "page": page,
        "page_size": page_size,
        "override_rate": svc.store.override_rate(day),
    }


@supervision.post(
    "/v1/enterprises/{uscc}/overrides",
    response_model=OverrideResponse,
    status_code=201,
    response_model_exclude_unset=True,
    responses=_problems(*_DECIDES),
)
def add_override(
    uscc: str, body: OverrideRequest, principal: Supervisor, svc: ServicesDep
) -> Any:
    """Record a supervisor override; statutory bounds still apply over it."""
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
    override_id, entry = record_override(
        svc.audit, code, body.tier.value, body.reason, principal.name, start,
        body.effective_to,
    )  # fmt: skip
    svc.metrics.overrides.inc()
    served = svc.scoring.decide([code])
    data, _ = _served(svc, served, principal)
    return {
        "override_id": override_id,
        "uscc": code,
        "tier": body.tier,
        "reason": body.reason,
        "actor": principal.name,
        "effective_from": start,
        "effective_to": body.effective_to,
        "decision": data[0],
        "audit_seq": entry.seq,
    }


# ------------------------------------------------------- data science
@models_router.get(
    "/v1/models", response_model=ModelsResponse, responses=_problems(*_AUTH)
)
def models(principal: Reader, svc: ServicesDep) -> Any:
    """Describe the champion being served and every registered version."""
    from credit_engine.registry import registered_versions

    rows = to_jsonable(registered_versions(svc.settings), where="registered")
    return {"serving": svc.scoring.describe(), "registered": rows}


@models_router.get("/v1/policy", responses=_problems(*_AUTH, 503))
def policy(principal: Reader, svc: ServicesDep) -> dict[str, Any]:
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
    svc.audit.append(
        "model_reload", principal.name,
        {"ok": ok, "serving": svc.scoring.describe()},
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
    """Answer while the process is up."""
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
            "description": "No model loaded yet, or none could be loaded",
        },
    },
)
async def readyz(svc: ServicesDep) -> Response:
    """Answer 200 once a champion is loaded; 503 with the reason otherwise.

    ``status`` is ``degraded`` (still 200: keep the service in the load
    balancer) when the serving date is beyond a required source's allowed
    lag; ``freshness.reason`` names the departments and tables stale, and
    since when.
    """
    info = svc.scoring.describe()
    if info["model_version"] is not None:
        # After a failed reload the old model still serves: ready, with the
        # reason of the failure in "reason" and "last_reload_error".
        fresh = info.get("freshness") or {}
        status = "degraded" if fresh.get("status") == "stale" else "ready"
        return JSONResponse({"status": status, **info})
    return problem(503, "not_ready", str(info["reason"]))


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
