"""Rendering: Jinja2 templates, the language switch, and human error pages."""

from __future__ import annotations

import functools
import json
import logging
import math
import secrets
from importlib import resources
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from credit_engine.console._context import PAGES, console_state, language
from credit_engine.console._i18n import LANG_COOKIE, LANGUAGES
from credit_engine.console._security import set_cookie
from credit_engine.exceptions import CreditEngineError, SessionExpiredError

__all__ = ["asset_version", "error_page", "redirect", "render", "templates"]

_LOG = logging.getLogger("credit_engine.console")
_YEAR = 365 * 24 * 3600


@functools.cache
def templates() -> Jinja2Templates:
    """Return the console's template environment (autoescaped)."""
    folder = resources.files("credit_engine.console").joinpath("templates")
    env = Jinja2Templates(directory=str(folder))
    env.env.globals["json_data"] = _json_data
    env.env.filters["num"] = lambda v: "–" if v is None else f"{int(v):,}"
    env.env.filters["pct"] = lambda v, d=1: (
        "–" if v is None else f"{100 * float(v):.{d}f} %"
    )
    env.env.filters["fixed"] = lambda v, d=2: "–" if v is None else f"{float(v):.{d}f}"
    return env


def _json_data(element_id: str, value: Any) -> Markup:
    """Return a ``<script type="application/json">`` block (safe in HTML)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(f'<script type="application/json" id="{element_id}">{text}</script>')  # noqa: S704


@functools.cache
def asset_version() -> str:
    """Return a token for static URLs, so browsers refetch after an upgrade."""
    from credit_engine import __version__

    return f"{__version__}-{secrets.token_hex(4)}"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    """Render a template with the viewer, the language and its texts."""
    state = console_state(request)
    lang = language(request)
    viewer = getattr(request.state, "viewer", None)
    page: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGES,
        "t": functools.partial(state.catalogue.text, lang=lang),
        "has_text": lambda key: key in state.catalogue.messages,
        "viewer": viewer,
        "pages": PAGES,
        "v": asset_version(),
        "path": request.url.path,
        "query": request.url.query,
        "lang_url": lambda code: _url(request, lang=code),
        "page_url": lambda number: _url(request, page=number),
    }
    page.update(context or {})
    response = templates().TemplateResponse(request, name, page, status_code=status)
    asked = request.query_params.get("lang")
    if asked in LANGUAGES and asked != request.cookies.get(LANG_COOKIE):
        set_cookie(
            response,
            request,
            state.settings,
            LANG_COOKIE,
            str(asked),
            max_age=_YEAR,
            http_only=False,
        )
    return response


def _url(request: Request, **changes: Any) -> str:
    """Return the page's URL with some query parameters changed."""
    params = {
        k: v
        for k, v in request.query_params.items()
        if k != "lang" or "lang" in changes
    }
    params.update({k: str(v) for k, v in changes.items()})
    return request.url.path + "?" + urlencode(params)


def redirect(url: str, status: int = 303) -> RedirectResponse:
    """Return a redirect (303 after a form: the browser then GETs the target)."""
    return RedirectResponse(url, status_code=status)


_TITLES = {
    400: "error.400",
    401: "error.401",
    403: "error.403",
    404: "error.404",
    405: "error.405",
    409: "error.409",
    422: "error.422",
    429: "error.429",
    500: "error.500",
    503: "error.503",
}


def error_page(request: Request, status: int, message: str, code: str = "") -> Response:
    """Render a human error page in the page's language (never a traceback)."""
    if (
        status == 401
        and request.method in ("GET", "HEAD")
        and code != "too_many_attempts"
    ):
        target = request.url.path + (
            f"?{request.url.query}" if request.url.query else ""
        )
        ended = "1" if request.cookies.get("ce_console_session") else "0"
        return redirect(
            "/console/login?" + urlencode({"next": target, "ended": ended}), status=303
        )
    return render(
        request,
        "error.html",
        {
            "status": status,
            "title_key": _TITLES.get(status, "error.500"),
            "message": message,
            "code": code,
        },
        status=status,
    )


def engine_error_page(request: Request, exc: CreditEngineError) -> Response:
    """Render the page of an engine error (its status and message)."""
    if exc.http_status >= 500:
        _LOG.error("console: %s: %s", exc.code, exc.message)
    if isinstance(exc, SessionExpiredError) and request.method not in ("GET", "HEAD"):
        return error_page(request, 401, exc.message, exc.code)
    response = error_page(request, exc.http_status, exc.message, exc.code)
    # 429 and 503 say when to come back, as the API's problem answers do.
    retry_after = getattr(exc, "retry_after", None)
    if exc.http_status in (429, 503) and retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response
