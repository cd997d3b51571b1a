"""The early-warning queue: list, read, acknowledge and close warnings.

Supervisors (and admins) work the queue; auditors read it, case file
(evidence, notes, who acted) included, and change nothing: the roles that read
ratings. Data scientists and inspection systems get 403, as for ratings.
Every read and every status move is appended to the audit log before the
response returns, through the service's group-commit writer
(:class:`~credit_engine.audit.AuditWriter`, bounded wait: 503 with
``Retry-After`` when the store cannot take it); a move and its entry commit in
one transaction (:func:`credit_engine.audit.acknowledge_warning_unit`,
:func:`credit_engine.audit.close_warning_unit`). Entries record the caller's
key and role. The handlers are plain functions: FastAPI runs them in worker
threads, never on the event loop.
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from credit_engine.api._routes import MAX_PAGE
from credit_engine.api._schemas import Problem
from credit_engine.api._security import principal_stamp, require
from credit_engine.api._warning_schemas import (
    AcknowledgeRequest,
    CloseRequest,
    WarningDetail,
    WarningsPage,
    WarningTransitionResponse,
)
from credit_engine.audit import (
    AuditKind,
    NewEntry,
    acknowledge_warning_unit,
    close_warning_unit,
)
from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.early_warning import (
    SignalBook,
    load_signal_book,
    signal_book_versions,
)
from credit_engine.exceptions import EarlyWarningError
from credit_engine.jsonable import to_jsonable
from credit_engine.store import WarningStatus
from credit_engine.uscc import validate_uscc
from credit_engine.vocabulary import Tier

__all__ = ["CASE_FILE_FIELDS", "CASE_FILE_ROLES", "router"]

WARNING_READERS = (Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR)
"""Roles that may read the queue: those who read ratings (``/v1/ratings``), as
the console does; auditors read and change nothing."""
WARNING_ACTORS = (Role.SUPERVISOR, Role.ADMIN)
"""Roles that may acknowledge and close warnings."""
CASE_FILE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})
"""Roles that see the case file of a warning (evidence, actors, notes)."""
CASE_FILE_FIELDS = (
    "evidence",
    "acknowledged_by",
    "acknowledge_note",
    "closed_by",
    "close_note",
)
"""Fields withheld from a reader outside :data:`CASE_FILE_ROLES` (none of the
readers today: kept so that a role added to the readers sees no case file
unless it is added here too)."""

Reader = Annotated[ApiKeyInfo, Depends(require(*WARNING_READERS))]
WarningId = Annotated[
    int, PathParam(ge=1, le=2**63 - 1, description="The warning's id")
]
"""A warning id: a positive 64-bit integer (any other is refused with 422)."""
Actor = Annotated[ApiKeyInfo, Depends(require(*WARNING_ACTORS))]

_DESCRIPTIONS = {
    401: "No or bad API key",
    403: "The key's role may not call this endpoint",
    404: "No warning with that id",
    409: "The warning cannot make this move (e.g. it is closed)",
    422: "Invalid request (unknown signal code, empty note, bad paging)",
}


def _problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": Problem, "description": _DESCRIPTIONS[s]} for s in statuses}


@functools.cache
def _books(definitions_dir: Path) -> dict[int, SignalBook]:
    return {
        v: load_signal_book(definitions_dir, version=v)
        for v in signal_book_versions(definitions_dir)
    }


def _services(request: Request) -> Any:
    return request.app.state.services


def _signal_info(book: SignalBook, code: str) -> dict[str, Any] | None:
    try:
        s = book.signal(code)
    except KeyError:
        return None
    return {
        "code": s.code, "version": book.version, "kind": s.kind,
        "department": str(s.department), "weight": s.weight,
        "name": s.name.model_dump(), "explanation": s.explanation.model_dump(),
    }  # fmt: skip


def _shape(
    row: dict[str, Any], principal: ApiKeyInfo, books: dict[int, SignalBook]
) -> dict[str, Any]:
    """Shape a stored warning as the caller may see it, with its signal's names."""
    out: dict[str, Any] = to_jsonable(row, where="warning")
    book = books.get(int(row["signals_version"]))
    info = _signal_info(book, str(row["signal"])) if book is not None else None
    if info is not None:
        out["department"] = info["department"]
        out["signal_name"] = info["name"]
    if Role(principal.role) not in CASE_FILE_ROLES:
        for name in CASE_FILE_FIELDS:
            out.pop(name, None)
    return out


def _known_codes(books: dict[int, SignalBook]) -> list[str]:
    return sorted({c for b in books.values() for c in b.codes})


router = APIRouter()


@router.get(
    "/v1/warnings",
    response_model=WarningsPage,
    response_model_exclude_unset=True,
    responses=_problems(401, 403, 422),
)
def list_warnings(  # noqa: PLR0913, PLR0917 - FastAPI reads the query parameters
    request: Request,
    principal: Reader,
    status: WarningStatus | None = None,
    signal: Annotated[
        str | None, Query(description="Signal code, e.g. EW-04", max_length=16)
    ] = None,
    tier: Tier | None = None,
    as_of: Annotated[
        dt.date | None, Query(description="Only warnings that fired on this date")
    ] = None,
    uscc: Annotated[str | None, Query(max_length=64)] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """Page through the warnings, most urgent first (priority, then PD)."""
    svc = _services(request)
    books = _books(svc.settings.definitions_dir)
    known = _known_codes(books)
    if signal is not None and signal not in known:
        raise EarlyWarningError(
            f"Unknown signal {signal!r}; the signals are {', '.join(known)} "
            "(models/warnings/signals_v<N>.yaml)."
        )
    code = None if uscc is None else validate_uscc(uscc.strip().upper())
    filters: dict[str, Any] = {
        "status": None if status is None else status.value,
        "signal": signal,
        "tier": None if tier is None else tier.value,
        "as_of": as_of,
        "uscc": code,
    }
    frame = svc.store.list_warnings(
        **filters, limit=page_size, offset=(page - 1) * page_size
    )
    count = svc.store.count_warnings(**filters)
    rows = [
        _shape(r, principal, books)
        for r in frame.astype(object).where(frame.notna(), None).to_dict("records")
    ]
    (entry,) = svc.writer.append_sync([
        NewEntry(
            AuditKind.WARNINGS_READ.value,
            principal.name,
            to_jsonable(
                {"filters": filters, "page": page, "page_size": page_size,
                 "count": count, "warning_ids": [r["warning_id"] for r in rows],
                 "by": principal_stamp(principal)},
                where="warnings read",
            ),
        )
    ])  # fmt: skip
    latest = books[max(books)] if books else None
    signals = (
        [_signal_info(latest, c) for c in latest.codes] if latest is not None else []
    )
    return {
        "data": rows,
        "count": count,
        "page": page,
        "page_size": page_size,
        "signals": signals,
        "audit_seq": entry.seq,
    }


@router.get(
    "/v1/warnings/{warning_id}",
    response_model=WarningDetail,
    response_model_exclude_unset=True,
    responses=_problems(401, 403, 404, 422),
)
def get_warning(warning_id: WarningId, request: Request, principal: Reader) -> Any:
    """Read one warning: its signal, evidence and every date it fired."""
    svc = _services(request)
    books = _books(svc.settings.definitions_dir)
    row = svc.store.get_warning(warning_id)
    occurrences = to_jsonable(svc.store.warning_occurrences(warning_id), where="dates")
    case_file = Role(principal.role) in CASE_FILE_ROLES
    shown = [
        {"as_of": o["as_of"], "priority": o["priority"],
         **({"evidence": o["evidence"]} if case_file else {})}
        for o in occurrences
    ]  # fmt: skip
    (entry,) = svc.writer.append_sync([
        NewEntry(
            AuditKind.WARNINGS_READ.value,
            principal.name,
            {"warning_id": warning_id, "signal": row["signal"],
             "by": principal_stamp(principal)},
            subject=row["uscc"],
        )
    ])  # fmt: skip
    book = books.get(int(row["signals_version"]))
    return {
        "warning": _shape(row, principal, books),
        "signal": _signal_info(book, row["signal"]) if book is not None else None,
        "occurrences": shown,
        "audit_seq": entry.seq,
    }


@router.post(
    "/v1/warnings/{warning_id}:acknowledge",
    response_model=WarningTransitionResponse,
    response_model_exclude_unset=True,
    responses=_problems(401, 403, 404, 409, 422),
)
def acknowledge(
    warning_id: WarningId,
    request: Request,
    principal: Actor,
    body: AcknowledgeRequest | None = None,
) -> Any:
    """Acknowledge a new warning (someone is looking at it); audited."""
    svc = _services(request)
    note = body.note if body is not None else None
    row, entry = svc.writer.run_sync(
        acknowledge_warning_unit(
            warning_id, principal.name, note, context={"by": principal_stamp(principal)}
        )
    )
    books = _books(svc.settings.definitions_dir)
    return {"warning": _shape(row, principal, books), "audit_seq": entry.seq}


@router.post(
    "/v1/warnings/{warning_id}:close",
    response_model=WarningTransitionResponse,
    response_model_exclude_unset=True,
    responses=_problems(401, 403, 404, 409, 422),
)
def close(
    warning_id: WarningId, body: CloseRequest, request: Request, principal: Actor
) -> Any:
    """Close a new or acknowledged warning with a note (required); audited."""
    svc = _services(request)
    row, entry = svc.writer.run_sync(
        close_warning_unit(
            warning_id,
            principal.name,
            body.note,
            context={"by": principal_stamp(principal)},
        )
    )
    books = _books(svc.settings.definitions_dir)
    return {"warning": _shape(row, principal, books), "audit_seq": entry.seq}
