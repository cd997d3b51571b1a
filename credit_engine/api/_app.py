"""The FastAPI application: scoring for inspection systems, supervision, operations."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from credit_engine import __version__
from credit_engine.api._errors import install_error_handlers
from credit_engine.api._heavy import HeavyPool
from credit_engine.api._limits import KeyLimits
from credit_engine.api._metrics import Metrics, MetricsMiddleware
from credit_engine.api._openapi import complete_openapi
from credit_engine.api._past_dates import PastDateWorkers
from credit_engine.api._routes import ROUTERS
from credit_engine.api._service import ScoringService
from credit_engine.api._serving import Services
from credit_engine.api._warnings import router as warnings_router
from credit_engine.audit import AuditLog, AuditWriter
from credit_engine.auth import KeyStore
from credit_engine.config import Settings
from credit_engine.store import OperationalStore

__all__ = ["create_app"]


def _writer(audit: AuditLog, settings: Settings) -> AuditWriter:
    return AuditWriter(
        audit,
        max_pending=settings.audit_queue_max,
        wait_seconds=settings.audit_wait_seconds,
        busy_seconds=settings.store_busy_seconds,
    )


def _heavy(settings: Settings) -> HeavyPool:
    return HeavyPool(
        workers=settings.heavy_workers, max_waiting=settings.heavy_queue_max
    )


def _past_dates(settings: Settings) -> PastDateWorkers | None:
    if settings.heavy_processes == 0:
        return None
    return PastDateWorkers(
        settings,
        processes=settings.heavy_processes,
        timeout_seconds=settings.heavy_timeout_seconds,
    )


_LOG = logging.getLogger("credit_engine.api")


class _Lifespan:
    """Start and stop what the app runs beside its requests.

    Lifespans may nest or follow each other (test clients, schema loaders):
    the first one starts the audit writer, the heavy pool and the overrides
    refresher (new ones if an earlier lifespan closed them), the last one to
    end stops them.
    """

    def __init__(
        self,
        services: Services,
        load: Callable[[], bool] | None,
        background: list[Any] | None = None,
    ) -> None:
        self.services = services
        self.load = load
        self.background = background if background is not None else []
        self.count = 0
        self.refresher: asyncio.Task[None] | None = None
        self._switch_interval: float | None = None

    async def _refresh_overrides(self) -> None:
        index = self.services.scoring.overrides
        while True:
            await run_in_threadpool(index.refresh)
            await asyncio.sleep(index.refresh_seconds)

    async def _start(self) -> None:
        services = self.services
        # Batches and past dates run Python in worker threads; the event loop
        # waits up to the interpreter's switch interval for it at each turn.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(services.settings.api_switch_interval_ms / 1000)
        if services.writer.closed:
            services.writer = _writer(services.audit, services.settings)
            services.heavy = _heavy(services.settings)
            services.past_dates = _past_dates(services.settings)
        services.writer.start()
        await run_in_threadpool(services.scoring.overrides.refresh)
        self.refresher = asyncio.create_task(self._refresh_overrides())
        if self.load is not None and services.scoring.current is None:
            await asyncio.to_thread(self.load)
        for part in self.background:
            part.start()

    async def _stop(self) -> None:
        for part in self.background:
            part.stop()
        refresher, self.refresher = self.refresher, None
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
        await run_in_threadpool(self.services.writer.close)
        self.services.heavy.close()
        if self.services.past_dates is not None:
            await asyncio.to_thread(self.services.past_dates.close)
        if self._switch_interval is not None:
            sys.setswitchinterval(self._switch_interval)
            self._switch_interval = None

    @asynccontextmanager
    async def run(self, _app: FastAPI) -> AsyncIterator[None]:
        """Run the app's lifespan (see the class)."""
        self.count += 1
        if self.count == 1:
            await self._start()
        try:
            yield
        finally:
            self.count -= 1
            if self.count == 0:
                await self._stop()


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
        Engine settings (default: from the environment), limits and bounds
        included (``api_limits``, ``audit_wait_seconds`` ...).
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
    audit = AuditLog(store, durable=settings.audit_durability == "disk")
    services = Services(
        settings=settings,
        store=store,
        scoring=ScoringService(settings, as_of=as_of, store=store),
        # Keys are touched through the audit writer, never on a request's path.
        keys=KeyStore(store, audit=audit, touch_interval=None),
        audit=audit,
        metrics=metrics,
        writer=_writer(audit, settings),
        limits=KeyLimits(settings.api_limits),
        heavy=_heavy(settings),
        past_dates=_past_dates(settings),
    )
    services.scoring.overrides.refresh_seconds = settings.overrides_refresh_seconds
    services.scoring.overrides.max_stale_seconds = settings.overrides_max_stale_seconds
    metrics.watch(services)

    def load() -> bool:
        state = services.scoring.load()
        metrics.reloads.labels("ok" if state else "failed").inc()
        metrics.ready.set(1.0 if services.scoring.ready else 0.0)
        if state is not None and services.past_dates is not None:
            services.past_dates.warm(state.engine)  # in the background
        return state is not None

    # Background work of mounted parts (the console's overview figures) runs
    # in its own thread, started once the champion is loaded so that it does
    # not slow the load down; /healthz and /readyz never wait for it.
    background: list[Any] = []
    lifespan = _Lifespan(services, load if load_on_start else None, background).run

    app = FastAPI(
        title="credit-engine",
        version=__version__,
        summary="Credit tiers and decisions for a cross-border e-commerce zone.",
        description=(
            "Scoring for inspection systems, tiers, histories and overrides for "
            "supervisors, models and policy for data scientists. Every decision "
            "served is written to a hash-chained audit log before it is returned. "
            "Authenticate with `Authorization: Bearer <API key>` (or `X-API-Key`). "
            "Each key is limited by its role (429 with `Retry-After`); a store "
            "that cannot take the audit entries answers 503 with `Retry-After`."
        ),
        lifespan=lifespan,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_openapi(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.services = services
    app.state.reload = load
    app.state.background = background
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

        console = mount_console(app, services)
        app.state.background.append(console.state.console.preparer)
    # --- end console ---
    return app
