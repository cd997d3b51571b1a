"""The early-warning queue: filter, open a warning, acknowledge or close it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from credit_engine.console._context import console_state, require_viewer
from credit_engine.console._render import redirect, render
from credit_engine.console._routes_enterprises import _choice, _int
from credit_engine.console._security import check_csrf, read_form
from credit_engine.console._warnings import WARNING_STATUSES
from credit_engine.exceptions import DataContractError, EarlyWarningNotFoundError
from credit_engine.uscc import validate_uscc
from credit_engine.vocabulary import Tier

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
MAX_NOTE = 2000
_DECISION_FIELDS = ("tier", "grade", "pd")


def _disclosed(request: Request, viewer: Any, row: dict[str, Any]) -> dict[str, Any]:
    """Drop the rating fields the viewer's role may not see (有序公开)."""
    policy = console_state(request).engine_parts()[0]
    kept = policy.disclose({k: row.get(k) for k in _DECISION_FIELDS}, viewer.clearance)
    return {k: v for k, v in row.items() if k not in _DECISION_FIELDS} | kept


@router.get("/warnings")
def warnings_queue(request: Request) -> Response:
    """Show the queue of warnings, most urgent first, filtered and paged."""
    viewer = require_viewer(request, "warnings")
    state = console_state(request)
    q = request.query_params
    status = _choice(q.get("status", "new"), "status", (*WARNING_STATUSES, "all"))
    signals = state.warnings.signals() if state.warnings is not None else []
    codes = tuple(s["code"] for s in signals)
    signal = _choice(q.get("signal"), "signal", codes)
    tier = _choice(q.get("tier"), "tier", Tier.values())
    uscc = validate_uscc(q["uscc"].strip().upper()) if q.get("uscc") else None
    size = _int(q.get("page_size"), "page_size", 25, 1, 100)
    page = _int(q.get("page"), "page", 1, 1, 100_000)
    context: dict[str, Any] = {
        "available": state.warnings is not None,
        "status": status or "all",
        "signal": signal or "",
        "tier": tier or "",
        "uscc": uscc or "",
        "rows": [],
        "count": 0,
        "page": page,
        "pages": 1,
        "page_size": size,
        "statuses": WARNING_STATUSES,
        "signals": signals,
        "tiers": Tier.values(),
    }
    if state.warnings is not None:
        rows, count = state.warnings.list_warnings(
            status=None if status in (None, "all") else status,
            signal=signal,
            tier=tier,
            uscc=uscc,
            limit=size,
            offset=(page - 1) * size,
        )
        context.update(
            rows=[_disclosed(request, viewer, r) for r in rows],
            count=count,
            pages=max(1, -(-count // size)),
        )
    partial = request.headers.get("hx-request") == "true"
    return render(
        request, "_warnings_table.html" if partial else "warnings.html", context
    )


def _warning(request: Request, warning_id: int) -> dict[str, Any]:
    state = console_state(request)
    found = state.warnings.get_warning(warning_id) if state.warnings else None
    if found is None:
        raise EarlyWarningNotFoundError(
            f"No warning {warning_id}; it may have been removed. Go back to the queue."
        )
    return found


@router.get("/warnings/{warning_id}")
def warning_detail(request: Request, warning_id: int) -> Response:
    """One warning with its signal, evidence, the dates it fired and its notes."""
    viewer = require_viewer(request, "warnings")
    warning = _warning(request, warning_id)
    state = console_state(request)
    assert state.warnings is not None
    state.warnings.record_read(viewer.name, warning, role=str(viewer.role))
    return render(request, "warning.html", {"w": _disclosed(request, viewer, warning)})


@router.post("/warnings/{warning_id}/{action}")
async def warning_action(request: Request, warning_id: int, action: str) -> Response:
    """Acknowledge or close a warning with a note (audited with the move)."""
    form = await read_form(request)

    def work() -> Response:
        viewer = require_viewer(request, "warnings_act")
        check_csrf(request, viewer.csrf, form)
        if action not in ("acknowledge", "close"):
            raise DataContractError(
                f"Unknown action {action!r}: use acknowledge or close."
            )
        state = console_state(request)
        warning = _warning(request, warning_id)
        note = form.get("note", "").strip()
        if not note or len(note) > MAX_NOTE:
            return render(
                request,
                "warning.html",
                {
                    "w": _disclosed(request, viewer, warning),
                    "note_error": "form.error.note",
                },
                status=422,
            )
        assert state.warnings is not None
        act = (
            state.warnings.acknowledge
            if action == "acknowledge"
            else state.warnings.close
        )
        act(warning_id, actor=viewer.name, note=note)
        return redirect(f"/console/warnings/{warning_id}?done={action}")

    return await run_in_threadpool(work)
