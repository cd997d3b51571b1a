"""Prometheus metrics of one app, and the ASGI middleware that times requests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from credit_engine.api._security import release_slot
from credit_engine.freshness import (
    FreshnessPolicy,
    FreshnessStatus,
    Watermarks,
    assess_freshness,
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
        # No gauge names the model served: /metrics needs no key, and which
        # model decides is not for everyone (GET /v1/models, by role, says it).
        # --- data freshness ------------------------------------------------
        source = ["table", "department"]
        self.source_watermark = Gauge(
            "credit_engine_source_watermark_timestamp_seconds",
            "Latest ingested_at of the table's records in the lake (Unix time).",
            source,
            registry=self.registry,
        )
        self.source_latest_event = Gauge(
            "credit_engine_source_latest_event_timestamp_seconds",
            "Latest event or effective time of the table's records (Unix time).",
            source,
            registry=self.registry,
        )
        self.source_age = Gauge(
            "credit_engine_source_age_days",
            "Days from the table's latest delivery to today (UTC).",
            source,
            registry=self.registry,
        )
        self.source_lag = Gauge(
            "credit_engine_source_allowed_lag_days",
            "Days the freshness policy allows after the table's latest delivery.",
            source,
            registry=self.registry,
        )
        self.source_stale = Gauge(
            "credit_engine_source_stale",
            "1 when the table is beyond its allowed lag today, else 0.",
            source,
            registry=self.registry,
        )
        self.department_stale = Gauge(
            "credit_engine_department_stale",
            "1 when a required table of the department is stale today, else 0.",
            ["department"],
            registry=self.registry,
        )
        self.freshness_date = Gauge(
            "credit_engine_freshness_date_timestamp_seconds",
            "The lake's freshness date: the latest date no required table is "
            "stale (Unix time of its midnight UTC).",
            registry=self.registry,
        )
        self.serving_date = Gauge(
            "credit_engine_serving_date_timestamp_seconds",
            "The date decisions are served at (Unix time of its midnight UTC).",
            registry=self.registry,
        )
        self.serving_stale = Gauge(
            "credit_engine_serving_stale_sources",
            "Required tables stale at the serving date: every decision served "
            "is marked with them (0 when the data is current).",
            registry=self.registry,
        )
        # --- end data freshness --------------------------------------------
        self._served = 0
        self._overridden = 0

    def served(self, tier: Tier, decided_by: DecidedBy, count: int = 1) -> None:
        """Count ``count`` decisions served with this tier and layer."""
        self.decisions.labels(tier.value, decided_by.value).inc(count)
        self._served += count
        self._overridden += count * (decided_by is DecidedBy.OVERRIDE)
        self.override_rate.set(self._overridden / self._served)

    def watch(self, services: Any) -> None:
        """Expose the audit writer, limits and heavy pool of ``services`` (issue 14)."""
        self.registry.register(_ServiceCollector(services))

    def observe_freshness(
        self,
        lake: Watermarks,
        policy: FreshnessPolicy,
        *,
        serving_date: dt.date,
        serving_stale: int,
        today: dt.date,
    ) -> None:
        """Set the freshness gauges: the lake's watermarks judged at ``today``."""
        report = assess_freshness(lake, policy, today)
        for name, table in report.tables.items():
            labels = (name, table.department.value)
            mark, event = table.watermark, table.latest_event_at
            if mark is not None:
                self.source_watermark.labels(*labels).set(mark.timestamp())
            if event is not None:
                self.source_latest_event.labels(*labels).set(event.timestamp())
            if table.age_days is not None:
                self.source_age.labels(*labels).set(table.age_days)
            self.source_lag.labels(*labels).set(table.allowed_lag_days)
            stale = table.status is FreshnessStatus.STALE
            self.source_stale.labels(*labels).set(1.0 if stale else 0.0)
        for department, rolled in report.departments.items():
            stale = rolled.status is FreshnessStatus.STALE
            self.department_stale.labels(department.value).set(1.0 if stale else 0.0)
        if report.freshness_date is not None:
            self.freshness_date.set(_midnight(report.freshness_date))
        self.serving_date.set(_midnight(serving_date))
        self.serving_stale.set(serving_stale)

    def render(self) -> bytes:
        """Prometheus text exposition."""
        return bytes(generate_latest(self.registry))


class _ServiceCollector(Collector):
    """Gauges read at scrape time from the writer, the limits and the pool."""

    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        health = self.services.writer.health
        yield GaugeMetricFamily(
            "credit_engine_store_available",
            "1 when the operational store takes the audit log's writes.",
            value=1.0 if health.unavailable_for is None else 0.0,
        )
        yield GaugeMetricFamily(
            "credit_engine_audit_pending_entries",
            "Audit entries queued for the writer, not yet committed.",
            value=health.pending,
        )
        yield CounterMetricFamily(
            "credit_engine_audit_commits",
            "Transactions of the audit writer (each commits many requests' entries).",
            value=health.batches,
        )
        yield CounterMetricFamily(
            "credit_engine_audit_entries",
            "Entries committed by the audit writer.",
            value=health.entries,
        )
        refused = CounterMetricFamily(
            "credit_engine_rate_limited_requests",
            "Requests refused with 429 by role.",
            labels=["role"],
        )
        for role, count in sorted(self.services.limits.refused.items()):
            refused.add_metric([role], count)
        yield refused
        yield GaugeMetricFamily(
            "credit_engine_heavy_requests",
            "Batch and past-date requests running or waiting in the heavy pool.",
            value=self.services.heavy.busy,
        )
        stale = self.services.scoring.overrides.stale_for
        yield GaugeMetricFamily(
            "credit_engine_overrides_age_seconds",
            "Seconds since the overrides were last read from the store.",
            value=float("nan") if stale is None else stale,
        )


def _midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time(), dt.UTC).timestamp()


class MetricsMiddleware:
    """Pure ASGI middleware: counts and times each HTTP request by route template.

    It also gives back the request's limit slot when the request ends
    (:func:`credit_engine.api._security.release_slot`), whatever happened.
    """

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
            release_slot(scope)
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "GET")
            self.metrics.requests.labels(method, path, str(status["code"])).inc()
            self.metrics.latency.labels(method, path).observe(
                time.perf_counter() - start
            )
