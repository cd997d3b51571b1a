"""Sign-in, sign-out and the console's home."""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from credit_engine.audit import NewEntry
from credit_engine.auth import ApiKeyInfo, EndReason
from credit_engine.console._context import CONSOLE_ROLES, console_state, require_viewer
from credit_engine.console._render import redirect, render
from credit_engine.console._security import (
    CSRF_FIELD,
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    check_origin,
    new_presession_token,
    read_form,
    safe_next,
    set_cookie,
)
from credit_engine.exceptions import (
    AuthenticationError,
    CsrfRefusedError,
    PermissionDeniedError,
    SessionExpiredError,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_PRESESSION_SECONDS = 30 * 60


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request, *, status: int = 200, error: str | None = None, next_url: str = ""
) -> Response:
    state = console_state(request)
    token = new_presession_token()
    response = render(
        request,
        "login.html",
        {
            "presession": token,
            "error": error,
            "next": next_url,
            "ended": request.query_params.get("ended") == "1",
            "signed_out": request.query_params.get("signed_out") == "1",
        },
        status=status,
    )
    set_cookie(
        response,
        request,
        state.settings,
        PRESESSION_COOKIE,
        token,
        max_age=_PRESESSION_SECONDS,
    )
    return response


@router.get("/")
def home() -> Response:
    """Open the console on the zone overview."""
    return redirect("/console/overview", status=307)


@router.get("/login")
def login_form(request: Request) -> Response:
    """Show the sign-in page (or the next page, when already signed in)."""
    next_url = safe_next(request.query_params.get("next"), "/console/overview")
    if request.cookies.get(SESSION_COOKIE):
        try:
            require_viewer(request, "models")
        except (SessionExpiredError, PermissionDeniedError):
            pass
        else:
            return redirect(next_url)
    return _login_page(request, next_url=next_url)


@router.post("/login")
async def sign_in(request: Request) -> Response:
    """Open a session for a valid key, or a name and its console password."""
    form = await read_form(request)
    state = console_state(request)
    check_origin(request)
    pre = request.cookies.get(PRESESSION_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not pre or not hmac.compare_digest(pre.encode(), sent.encode()):
        raise CsrfRefusedError(
            "The sign-in form is out of date or was not sent by this browser's "
            "console page; reload the sign-in page and try again."
        )
    next_url = safe_next(form.get("next"), "/console/overview")
    key = form.get("api_key", "").strip()
    name = form.get("name", "").strip()
    password = form.get("password", "")
    client = _client(request)
    who = name or f"key:{key[:8]}"
    state.throttle.check(who, client)
    try:
        if key:
            info: ApiKeyInfo = await run_in_threadpool(
                state.services.keys.authenticate, key
            )
            via = "api_key"
        elif name and password:
            info = await run_in_threadpool(state.accounts.authenticate, name, password)
            via = "password"
        else:
            raise AuthenticationError("Give an API key, or a name and its password.")
    except AuthenticationError as exc:
        state.throttle.failed(who, client)
        return _login_page(request, status=401, error=exc.message, next_url=next_url)
    if info.role not in CONSOLE_ROLES:
        raise PermissionDeniedError(
            f"The key {info.name!r} has the role {info.role}: inspection systems use "
            "the scoring API and cannot open the console. Sign in with a person's "
            "key (supervisor, auditor, data scientist or admin)."
        )
    state.throttle.succeeded(who)
    token, session = await run_in_threadpool(state.sessions.open, info, client=client)
    await state.services.writer.append(
        [
            NewEntry(
                "console_sign_in",
                info.name,
                {
                    "key_id": info.key_id,
                    "role": str(info.role),
                    "via": via,
                    "client": client,
                },
                subject=info.name,
            )
        ]
    )
    response = redirect(next_url)
    lifetime = int((session.expires_at - session.created_at).total_seconds())
    set_cookie(
        response, request, state.settings, SESSION_COOKIE, token, max_age=lifetime
    )
    response.delete_cookie(PRESESSION_COOKIE, path="/console")
    return response


@router.post("/logout")
async def sign_out(request: Request) -> Response:
    """End the session (its cookie is cleared too)."""
    form = await read_form(request)
    state = console_state(request)

    def end() -> Any:
        viewer = require_viewer(request, "models")
        check_csrf(request, viewer.csrf, form)
        state.sessions.end(viewer.token, EndReason.SIGNED_OUT)
        state.services.writer.append_sync(
            [
                NewEntry(
                    "console_sign_out",
                    viewer.name,
                    {"key_id": viewer.session.key_id, "role": str(viewer.role)},
                    subject=viewer.name,
                )
            ]
        )

    await run_in_threadpool(end)
    response = redirect("/console/login?signed_out=1")
    response.delete_cookie(SESSION_COOKIE, path="/console")
    return response
