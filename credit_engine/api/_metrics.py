"""Prometheus metrics of one app, and the ASGI middleware that times requests."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["Metrics", "MetricsMiddleware"]

_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class Metrics:
    """The app's own registry (several apps in one process never collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "credit_engine_http_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "credit_engine_http_request_seconds",
            "Request latency by route.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.decisions = Counter(
            "credit_engine_decisions_served_total",
            "Decisions served by tier and deciding layer.",
            ["tier", "decided_by"],
            registry=self.registry,
        )
        self.overrides = Counter(
            "credit_engine_overrides_recorded_total",
            "Supervisor overrides recorded through the API.",
            registry=self.registry,
        )
        self.override_rate = Gauge(
            "credit_engine_override_rate",
            "Share of the decisions served since start that an override decided.",
            registry=self.registry,
        )
        self.reloads = Counter(
            "credit_engine_model_reloads_total",
            "Model reloads by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.ready = Gauge(
            "credit_engine_ready", "1 when a model is loaded and ready.",
            registry=self.registry,
        )  # fmt: skip
        self.model = Gauge(
            "credit_engine_model_info",
            "The model served (value 1), by name and version.",
            ["name", "version"],
            registry=self.registry,
        )
        self._served = 0
        self._overridden = 0

    def served(self, tier: Tier, decided_by: DecidedBy) -> None:
        """Count a decision served."""
        self.decisions.labels(tier.value, decided_by.value).inc()
        self._served += 1
        self._overridden += decided_by is DecidedBy.OVERRIDE
        self.override_rate.set(self._overridden / self._served)

    def render(self) -> bytes:
        """Prometheus text exposition."""
        return bytes(generate_latest(self.registry))


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times each HTTP request by route template."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Any) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, path, str(status["code"])).inc()
            self.metrics.latency.labels(method, path).observe(
                time.perf_counter() - start
            )
