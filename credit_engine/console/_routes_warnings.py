"""The early-warning queue: filter, open a warning, acknowledge or close it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from credit_engine.console._context import console_state, require_viewer
from credit_engine.console._render import redirect, render
from credit_engine.console._routes_enterprises import _choice, _int
from credit_engine.console._seams import WARNING_STATUSES
from credit_engine.console._security import check_csrf, read_form
from credit_engine.exceptions import DataContractError, EnterpriseNotFoundError
from credit_engine.uscc import validate_uscc

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
SEVERITIES = ("high", "medium", "low")
MAX_NOTE = 2000


class WarningNotFoundError(EnterpriseNotFoundError):
    """No warning has that id (shown as a 404 page)."""

    code = "warning_not_found"


@router.get("/warnings")
def warnings_queue(request: Request) -> Response:
    """Show the queue of warnings, newest first, filtered and paged."""
    require_viewer(request, "warnings")
    state = console_state(request)
    q = request.query_params
    status = _choice(q.get("status", "open"), "status", (*WARNING_STATUSES, "all"))
    severity = _choice(q.get("severity"), "severity", SEVERITIES)
    uscc = validate_uscc(q["uscc"].strip().upper()) if q.get("uscc") else None
    size = _int(q.get("page_size"), "page_size", 25, 1, 100)
    page = _int(q.get("page"), "page", 1, 1, 100_000)
    context: dict[str, Any] = {
        "available": state.warnings is not None,
        "status": status or "open",
        "severity": severity or "",
        "uscc": uscc or "",
        "rows": [],
        "count": 0,
        "page": page,
        "pages": 1,
        "page_size": size,
        "statuses": WARNING_STATUSES,
        "severities": SEVERITIES,
    }
    if state.warnings is not None:
        rows, count = state.warnings.list_warnings(
            status=None if status == "all" else status,
            severity=severity,
            uscc=uscc,
            limit=size,
            offset=(page - 1) * size,
        )
        context.update(rows=rows, count=count, pages=max(1, -(-count // size)))
    partial = request.headers.get("hx-request") == "true"
    return render(
        request, "_warnings_table.html" if partial else "warnings.html", context
    )


def _warning(request: Request, warning_id: int) -> dict[str, Any]:
    state = console_state(request)
    found = state.warnings.get_warning(warning_id) if state.warnings else None
    if found is None:
        raise WarningNotFoundError(
            f"No warning {warning_id}; it may have been removed. Go back to the queue."
        )
    return found


@router.get("/warnings/{warning_id}")
def warning_detail(request: Request, warning_id: int) -> Response:
    """One warning with its evidence and notes."""
    require_viewer(request, "warnings")
    return render(request, "warning.html", {"w": _warning(request, warning_id)})


@router.post("/warnings/{warning_id}/{action}")
async def warning_action(request: Request, warning_id: int, action: str) -> Response:
    """Acknowledge or close a warning with a note."""
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
                {"w": warning, "note_error": "form.error.note"},
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
