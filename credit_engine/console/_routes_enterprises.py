"""Enterprise search and list, the profile, and the override form."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from credit_engine.audit import NewEntry, override_unit
from credit_engine.console._context import Viewer, console_state, require_viewer
from credit_engine.console._enterprise import enterprise_profile
from credit_engine.console._render import redirect, render
from credit_engine.console._security import check_csrf, read_form
from credit_engine.exceptions import DataContractError, InvalidUsccError
from credit_engine.uscc import validate_uscc
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
PAGE_SIZES = (25, 50, 100)
MAX_REASON = 2000


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    try:
        number = int(str(value))
    except ValueError:
        raise DataContractError(
            f"{name} must be a whole number, got {value!r}."
        ) from None
    if not low <= number <= high:
        raise DataContractError(
            f"{name} must be between {low} and {high}, got {number}."
        )
    return number


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise DataContractError(
            f"{name} must be one of {list(allowed)}, got {value!r}."
        )
    return value


@router.get("/enterprises")
def enterprises(request: Request) -> Response:
    """Find enterprises: by USCC or name, or page through a rated date by filters."""
    viewer = require_viewer(request, "enterprises")
    state = console_state(request)
    q = request.query_params
    text = (q.get("q") or "").strip()
    if len(text) > 100:
        raise DataContractError("Search for at most 100 characters.")
    if len(text) == 18:
        try:
            code = validate_uscc(text.upper())
        except InvalidUsccError:
            pass
        else:
            return redirect(f"/console/enterprises/{code}")
    tier = _choice(q.get("tier"), "tier", Tier.values())
    layer = _choice(q.get("decided_by"), "decided_by", DecidedBy.values())
    green = {"yes": True, "no": False, None: None}.get(
        _choice(q.get("green"), "green", ("yes", "no"))
    )
    size = _int(q.get("page_size"), "page_size", 25, 1, 100)
    runs = state.zone.runs()
    context: dict[str, Any] = {
        "q": text,
        "tier": tier,
        "decided_by": layer,
        "green": q.get("green") or "",
        "page_size": size,
        "page_sizes": PAGE_SIZES,
        "rows": [],
        "count": 0,
        "page": 1,
        "pages": 1,
        "runs": runs,
        "as_of": None,
    }
    if runs:
        day = q.get("as_of") or runs[-1][0].isoformat()
        run = next((r for r in runs if r[0].isoformat() == day), None)
        if run is None:
            raise DataContractError(f"No rating run is stored for {day!r}.")
        usccs = None
        directory = state.directory.get()
        if text:
            usccs = directory.search(text) if directory is not None else []
            if not usccs and text.isalnum():
                usccs = [text.upper()] if len(text) == 18 else []
        page = _int(q.get("page"), "page", 1, 1, 100_000)
        rows, count = state.zone.page(
            run[1],
            usccs=usccs,
            limit=size,
            offset=(page - 1) * size,
            tier=tier,
            decided_by=layer,
            green_channel=green,
        )
        policy = state.texts().policy
        names = directory.names([r["uscc"] for r in rows]) if directory else {}
        context.update(
            as_of=run[0],
            page=page,
            count=count,
            pages=max(1, -(-count // size)),
            rows=[
                {
                    **policy.disclose(r, viewer.clearance),
                    "name": names.get(r["uscc"], ""),
                }
                for r in rows
            ],
        )
    partial = request.headers.get("hx-request") == "true"
    return render(
        request, "_enterprise_table.html" if partial else "enterprises.html", context
    )


def _profile(request: Request, viewer: Viewer, code: str, **extra: Any) -> Response:
    state = console_state(request)
    status = int(extra.pop("status", 200))
    context = enterprise_profile(state, viewer, code)
    context.update(extra)
    return render(request, "enterprise.html", context, status=status)


@router.get("/enterprises/{uscc}")
def profile(request: Request, uscc: str) -> Response:
    """Show an enterprise's decision, reasons, facts, history, overrides (logged)."""
    viewer = require_viewer(request, "enterprises")
    code = validate_uscc(uscc.strip().upper())
    state = console_state(request)
    context = enterprise_profile(state, viewer, code)
    decision = context.get("decision") or {}
    shown = ("as_of", "tier", "decided_by", "model_version", "policy_version")
    # 查询留痕: who looked at which enterprise, when, and what they were shown.
    # Through the group-commit writer: a bounded wait, 503 when the store is locked.
    state.services.writer.append_sync(
        [
            NewEntry(
                "console_view",
                viewer.name,
                {
                    "page": "enterprise",
                    "uscc": code,
                    "role": str(viewer.role),
                    "key_id": viewer.session.key_id,
                    "source": context["source"],
                    "shown": {k: decision[k] for k in shown if k in decision},
                },
                subject=code,
            )
        ]
    )
    context["recorded"] = request.query_params.get("recorded")
    return render(request, "enterprise.html", context)


def _date(value: str, name: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise DataContractError(
            f"{name} must be a date (YYYY-MM-DD), got {value!r}."
        ) from None


@router.post("/enterprises/{uscc}/overrides")
async def add_override(request: Request, uscc: str) -> Response:
    """Record an override (with its audit entry, in one transaction)."""
    form = await read_form(request)

    def work() -> Response:
        viewer = require_viewer(request, "override")
        check_csrf(request, viewer.csrf, form)
        code = validate_uscc(uscc.strip().upper())
        state = console_state(request)
        errors: dict[str, str] = {}
        tier = form.get("tier", "")
        reason = form.get("reason", "").strip()
        if tier not in Tier.values():
            errors["tier"] = "form.error.tier"
        if not reason:
            errors["reason"] = "form.error.reason_required"
        elif len(reason) > MAX_REASON:
            errors["reason"] = "form.error.reason_long"
        # Default start: the serving date, so the override governs what is
        # served from now on (the service may serve a date before today).
        serving = state.serving_date()
        try:
            start = _date(form.get("effective_from", ""), "effective_from") or serving
            end = _date(form.get("effective_to", ""), "effective_to")
        except DataContractError:
            errors["dates"] = "form.error.date"
            start, end = serving, None
        if end is not None and end <= start:
            errors["dates"] = "form.error.interval"
        if errors:
            return _profile(
                request, viewer, code, form_errors=errors, form_values=form, status=422
            )
        enterprise_profile(
            state, viewer, code
        )  # unknown enterprise: 404, nothing written
        override_id, _entry = state.services.writer.run_sync(
            override_unit(
                code, tier, reason, viewer.name, start, end,
                context={"by": {"key_id": viewer.session.key_id,
                                "role": str(viewer.role), "via": "console"}},
            )
        )  # fmt: skip
        state.services.metrics.overrides.inc()
        state.services.scoring.overrides.refresh()  # in force at once, as in the API
        return redirect(f"/console/enterprises/{code}?recorded={override_id}#overrides")

    return await run_in_threadpool(work)
