"""The FastAPI application: scoring for inspection systems, supervision, operations."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from credit_engine import __version__
from credit_engine.api._errors import install_error_handlers
from credit_engine.api._metrics import Metrics, MetricsMiddleware
from credit_engine.api._routes import ROUTERS, Services
from credit_engine.api._service import ScoringService
from credit_engine.api._warnings import router as warnings_router
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore
from credit_engine.config import Settings
from credit_engine.store import OperationalStore

__all__ = ["create_app"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_JSON = "application/problem+json"


def _problem_media_type(document: dict[str, Any]) -> dict[str, Any]:
    """Document problem-details bodies under ``application/problem+json``.

    FastAPI files every response model under the route's media type
    (``application/json``); error responses are served as problem+json
    (:func:`credit_engine.api._errors.problem`), so their schema moves there.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                body = content.get("application/json")
                if body is not None and body.get("schema") == _PROBLEM_REF:
                    content[_PROBLEM_JSON] = content.pop("application/json")
    return document


def create_app(
    settings: Settings | None = None,
    *,
    as_of: dt.date | None = None,
    store: OperationalStore | None = None,
    load_on_start: bool = True,
) -> FastAPI:
    """Build the API.

    Parameters
    ----------
    settings : Settings, optional
        Engine settings (default: from the environment).
    as_of : datetime.date, optional
        Serving date (default: today at each load).
    store : OperationalStore, optional
        Operational store (default: ``settings.database_url``).
    load_on_start : bool, default=True
        Load the champion when the app starts (``/readyz`` says 503 until then).

    Returns
    -------
    fastapi.FastAPI
    """
    settings = settings or Settings()
    store = store or OperationalStore.from_settings(settings)
    metrics = Metrics()
    services = Services(
        settings=settings,
        store=store,
        scoring=ScoringService(settings, as_of=as_of, store=store),
        keys=KeyStore(store),
        audit=AuditLog(store),
        metrics=metrics,
    )

    def _load() -> bool:
        state = services.scoring.load()
        metrics.reloads.labels("ok" if state else "failed").inc()
        metrics.ready.set(1.0 if services.scoring.ready else 0.0)
        if state is not None:
            metrics.model.clear()
            metrics.model.labels(state.model_name, state.model_version).set(1)
        return state is not None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if load_on_start:
            await asyncio.to_thread(_load)
        yield

    app = FastAPI(
        title="credit-engine",
        version=__version__,
        summary="Credit tiers and decisions for a cross-border e-commerce zone.",
        description=(
            "Scoring for inspection systems, tiers, histories and overrides for "
            "supervisors, models and policy for data scientists. Every decision "
            "served is written to a hash-chained audit log before it is returned. "
            "Authenticate with `Authorization: Bearer <API key>`."
        ),
        lifespan=lifespan,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _problem_media_type(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.services = services
    app.state.reload = _load
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    for router in ROUTERS:
        app.include_router(router)
    app.include_router(warnings_router)  # early warnings (issue 12)

    # --- console (issue 13): the supervisor console, mounted at /console ---
    # Imported here: the console builds on this package's modules. Mounted
    # after the API's routes, which are matched first; not in the OpenAPI.
    if settings.console_enabled:
        from credit_engine.console import mount_console

        mount_console(app, services)
    # --- end console ---
    return app
