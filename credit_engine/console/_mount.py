"""The console as a sub-application of the API, mounted at ``/console``.

A mounted application keeps its own error handlers (HTML pages, not problem
documents) and stays out of the API's OpenAPI document; the API's routes are
matched first, so scoring pays nothing for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credit_engine.api._serving import Services
from credit_engine.auth import ConsoleAccounts, SessionStore
from credit_engine.console._context import ConsoleState, serving_date_of
from credit_engine.console._directory import DirectoryCache
from credit_engine.console._i18n import Catalogue
from credit_engine.console._render import engine_error_page, error_page, render
from credit_engine.console._routes_audit import router as audit_router
from credit_engine.console._routes_auth import router as auth_router
from credit_engine.console._routes_enterprises import router as enterprises_router
from credit_engine.console._routes_models import router as models_router
from credit_engine.console._routes_warnings import router as warnings_router
from credit_engine.console._routes_zone import router as zone_router
from credit_engine.console._security import LoginThrottle
from credit_engine.console._warnings import StoreWarnings, WarningsSource
from credit_engine.console._zone import ZoneReader
from credit_engine.console._zone_prepare import OverviewPreparer
from credit_engine.exceptions import CreditEngineError

__all__ = ["REQUIRED_ASSETS", "build_console", "mount_console"]

_LOG = logging.getLogger("credit_engine.console")
REQUIRED_ASSETS = ("echarts.min.js", "htmx.min.js")
"""Files of the vendor folder the pages load (installed by ``make setup``)."""

_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; "
        b"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
        b"base-uri 'none'; form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class _SecurityHeaders:
    """Add the console's security headers (unless a route set its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in _HEADERS if k not in present]
                if not scope["path"].startswith(("/static", "/vendor")):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, wrapped)


def _assets_dir(services: Services) -> Path:
    configured = services.settings.console_assets_dir
    if configured is not None:
        return Path(configured)
    return Path(
        str(resources.files("credit_engine.console").joinpath("static", "vendor"))
    )


def assets_missing(folder: Path) -> list[str]:
    """Return the required vendor files missing from ``folder``."""
    return [name for name in REQUIRED_ASSETS if not (folder / name).is_file()]


def build_console(
    services: Services, *, warnings: WarningsSource | None = None
) -> FastAPI:
    """Build the console application on the API's services.

    Parameters
    ----------
    services : credit_engine.api.Services
        The API's store, scoring service, keys, audit log and settings.
    warnings : WarningsSource, optional
        The early-warning queue (default: :class:`StoreWarnings`, the
        warnings in the service's store).

    Returns
    -------
    fastapi.FastAPI
    """
    settings = services.settings
    sessions = SessionStore(
        services.store,
        idle=dt.timedelta(minutes=settings.console_session_idle_minutes),
        lifetime=dt.timedelta(hours=settings.console_session_max_hours),
    )
    zone = ZoneReader(services.store)
    directory = DirectoryCache(settings, lambda: serving_date_of(services))
    state = ConsoleState(
        services=services,
        sessions=sessions,
        accounts=ConsoleAccounts(
            services.store, keys=services.keys, audit=services.audit
        ),
        catalogue=Catalogue.load(),
        throttle=LoginThrottle(
            settings.console_login_max_failures,
            settings.console_login_window_minutes * 60.0,
        ),
        zone=zone,
        directory=directory,
        assets_dir=_assets_dir(services),
        warnings=warnings if warnings is not None else StoreWarnings(services),
    )
    state.preparer = OverviewPreparer(
        zone,
        directory,
        state.texts,
        poll_seconds=settings.console_overview_poll_seconds,
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state.console = state
    app.state.services = services

    @app.middleware("http")
    async def _guard(request: Request, call_next: Any) -> Response:
        path = request.url.path
        if not path.startswith(("/static", "/vendor")):
            missing = assets_missing(state.assets_dir)
            if missing:
                return render(
                    request,
                    "assets_missing.html",
                    {"missing": missing, "folder": str(state.assets_dir)},
                    status=503,
                )
        try:
            response: Response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - a page, never a traceback
            _LOG.exception("console: unexpected error on %s", path)
            return error_page(
                request,
                500,
                f"Something went wrong on our side ({type(exc).__name__}); it was "
                "logged. Try again, or tell the operators the time it happened.",
                "internal_error",
            )
        return response

    @app.exception_handler(CreditEngineError)
    async def _engine_error(request: Request, exc: CreditEngineError) -> Response:
        return engine_error_page(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        fields = ", ".join(
            ".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()
        )
        return error_page(
            request, 422, f"Invalid value in: {fields}.", "invalid_request"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_page(request, exc.status_code, str(exc.detail), "http_error")

    static = Path(str(resources.files("credit_engine.console").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.mount(
        "/vendor",
        StaticFiles(directory=state.assets_dir, check_dir=False),
        name="vendor",
    )
    for router in (
        auth_router,
        zone_router,
        enterprises_router,
        warnings_router,
        models_router,
        audit_router,
    ):
        app.include_router(router)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(_SecurityHeaders)
    return app


def mount_console(
    app: FastAPI, services: Services, *, warnings: WarningsSource | None = None
) -> FastAPI:
    """Mount the console at ``/console`` on the API ``app``; return the console.

    A mounted application's lifespan does not run: the API's lifespan starts
    and stops the console's background work (``console.state.console.preparer``,
    the zone overview's figures).
    """
    console = build_console(services, warnings=warnings)
    app.mount("/console", console, name="console")
    return console
