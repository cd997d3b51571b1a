"""The audit log: chain status (verify on demand), recent entries, filters."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from credit_engine.console._context import console_state, require_viewer
from credit_engine.console._render import render
from credit_engine.console._routes_enterprises import _int
from credit_engine.exceptions import DataContractError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@router.get("/audit")
def audit(request: Request) -> Response:
    """Newest entries first, by actor and kind, with the chain's head."""
    require_viewer(request, "audit")
    state = console_state(request)
    q = request.query_params
    actor = (q.get("actor") or "").strip() or None
    kind = (q.get("kind") or "").strip() or None
    subject = (q.get("subject") or "").strip() or None
    if kind is not None and not _KIND.match(kind):
        raise DataContractError(f"kind must be a lower_snake_case word, got {kind!r}.")
    for name, value in (("actor", actor), ("subject", subject)):
        if value is not None and len(value) > 200:
            raise DataContractError(f"{name} must have at most 200 characters.")
    size = _int(q.get("page_size"), "page_size", 50, 1, 200)
    page = _int(q.get("page"), "page", 1, 1, 100_000)
    log = state.services.audit
    entries = log.entries(
        actor=actor,
        kind=kind,
        subject=subject,
        limit=size + 1,
        offset=(page - 1) * size,
        newest_first=True,
    )
    context: dict[str, Any] = {
        "entries": entries[:size],
        "more": len(entries) > size,
        "page": page,
        "page_size": size,
        "actor": actor or "",
        "kind": kind or "",
        "subject": subject or "",
        "head": log.head(),
        "kinds": (
            "console_view",
            "override",
            "decision",
            "console_sign_in",
            "console_sign_out",
            "key_created",
            "key_revoked",
            "model_reload",
            "console_password_set",
            "warnings_read",
            "warning_acknowledged",
            "warning_closed",
        ),
    }
    partial = request.headers.get("hx-request") == "true"
    return render(request, "_audit_table.html" if partial else "audit.html", context)


@router.get("/audit/verify")
def verify(request: Request) -> Response:
    """Recompute the hash chain now (reads the whole log)."""
    require_viewer(request, "audit")
    result = console_state(request).services.audit.verify()
    partial = request.headers.get("hx-request") == "true"
    context = {"result": result}
    if partial:
        return render(request, "_verify.html", context)
    return render(request, "audit_verify.html", context)
