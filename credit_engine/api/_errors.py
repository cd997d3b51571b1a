"""One mapping from errors to RFC 9457 problem details; never a 500 for client input.

What a response may say: client errors (4xx) carry the engine's message, which
names what is wrong and how to fix it; server conditions (5xx) carry a fixed,
safe sentence per kind (the store is unavailable, no model is loaded), and the
full error with its database cause goes to the log. Every detail is scrubbed
of filesystem paths and URLs as a last guard; no response carries a stack
trace. 429 and 503 answers carry ``Retry-After``, 405 answers ``Allow``.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from credit_engine.exceptions import (
    CreditEngineError,
    StoreError,
    StoreUnavailableError,
)

__all__ = ["install_error_handlers", "problem", "scrub"]

_LOG = logging.getLogger("credit_engine.api")
_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}

# Anything that looks like a URL with a scheme, or an absolute filesystem path
# (two or more segments under a root), is cut from details as a last guard.
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://\S+")
_PATH = re.compile(r"(?<![\w/.:])(?:/(?!v1/)[\w.\-@~]+){2,}/?")


def scrub(text: str) -> str:
    """Remove URLs and absolute filesystem paths from a message.

    Examples
    --------
    >>> scrub("store at sqlite:////srv/ce/store.db is locked")
    'store at <hidden> is locked'
    >>> scrub("cannot read /home/ce/.credit-engine/lake/x.parquet; see GET /v1/models")
    'cannot read <hidden>; see GET /v1/models'
    """
    return _PATH.sub("<hidden>", _URL.sub("<hidden>", text))


def problem(
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    *,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build a ``application/problem+json`` response (detail scrubbed)."""
    body: dict[str, Any] = {
        "type": f"https://credit-engine.local/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": scrub(detail),
        "code": code,
    }
    if errors:
        body["errors"] = [
            {k: scrub(v) if isinstance(v, str) else v for k, v in e.items()}
            for e in errors
        ]
    out = dict(headers or {})
    if status == 401:
        out["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=out
    )


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        out += (
            f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        )
    return out or "body"


def _retry_after(seconds: float | None) -> dict[str, str]:
    if seconds is None:
        return {}
    return {"Retry-After": str(max(1, math.ceil(seconds)))}


def _safe_server_detail(exc: CreditEngineError) -> str:
    """Return a fixed sentence for a server condition (its message is logged)."""
    if isinstance(exc, StoreUnavailableError):
        return (
            f"The operational store is unavailable ({exc.reason}); nothing was "
            "answered or changed. Retry after the time in Retry-After."
        )
    if isinstance(exc, StoreError):
        return "The operational store failed; the error is in the service's log."
    if exc.http_status == 503:
        return exc.message  # written for clients (ServiceUnavailableError)
    return f"The service failed ({exc.code}); the error is in the service's log."


def install_error_handlers(app: FastAPI) -> None:
    """Map engine errors, validation errors and HTTP errors to problem details."""

    @app.exception_handler(CreditEngineError)
    async def _engine_error(_request: Request, exc: CreditEngineError) -> JSONResponse:
        headers = _retry_after(getattr(exc, "retry_after", None))
        if exc.http_status >= 500:
            cause = exc.__cause__
            _LOG.error(
                "%s: %s%s",
                exc.code,
                exc.message,
                f" (cause: {type(cause).__name__}: {cause})" if cause else "",
            )
            detail = _safe_server_detail(exc)
            if exc.http_status == 503 and not headers:
                headers = _retry_after(1)
        else:
            detail = exc.message
        return problem(exc.http_status, exc.code, detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": _field(tuple(e.get("loc", ()))), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid_request", detail or "Invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "content_too_large",
        }.get(exc.status_code, "http_error")
        return problem(
            exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("unexpected error")
        return problem(
            500, "internal_error", f"Unexpected {type(exc).__name__}; see the logs."
        )
