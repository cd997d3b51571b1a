"""Models: champion and challenger per model, validation, monitoring, alias history."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from credit_engine.console._context import console_state, require_viewer
from credit_engine.console._render import render
from credit_engine.console._seams import latest_monitoring
from credit_engine.exceptions import DataContractError, EnterpriseNotFoundError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


class ReportNotFoundError(EnterpriseNotFoundError):
    """No report file at that address (a 404 page)."""

    code = "report_not_found"


def _registered(settings: Any) -> list[dict[str, Any]]:
    """Return the registered versions from MLflow, cached a minute (slow to ask)."""
    from credit_engine.registry import registered_versions

    key = str(settings.mlflow_tracking_uri)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < _CACHE_SECONDS:
            found: list[dict[str, Any]] = hit[1]
            return found
    rows = registered_versions(settings)
    with _cache_lock:
        _cache[key] = (time.monotonic(), rows)
    return rows


def _validation_html(settings: Any, run_id: str) -> Path:
    home: Path = settings.home
    return (
        home
        / "mlflow"
        / "artifacts"
        / run_id
        / "artifacts"
        / "reports"
        / "validation.html"
    )


@router.get("/models")
def models(request: Request) -> Response:
    """Show what is served, every registered version and the alias history."""
    require_viewer(request, "models")
    state = console_state(request)
    settings = state.settings
    from credit_engine.registry import alias_history

    error = None
    try:
        versions = _registered(settings)
    except Exception as exc:  # noqa: BLE001 - the page still shows the rest
        versions, error = [], f"{type(exc).__name__}: {exc}"
    monitoring = latest_monitoring(settings)
    by_model: dict[str, dict[str, Any]] = {}
    for found in versions:
        entry = by_model.setdefault(
            found["name"], {"name": found["name"], "versions": []}
        )
        report = _validation_html(settings, str(found["run_id"])).is_file()
        v = {**found, "report": report}
        entry["versions"].append(v)
        for alias in v["aliases"]:
            entry[alias] = v
        status = ((monitoring or {}).get("models") or {}).get(v["name"])
        if isinstance(status, dict):
            entry["monitoring"] = status
    history = sorted(alias_history(settings), key=lambda c: c.at, reverse=True)
    return render(
        request,
        "models.html",
        {
            "serving": state.services.scoring.describe(),
            "models": list(by_model.values()),
            "history": history[:200],
            "monitoring": monitoring,
            "error": error,
        },
    )


@router.get("/reports/validation/{run_id}")
def validation_report(request: Request, run_id: str) -> Response:
    """Serve the validation report of a model version (the run's HTML artifact)."""
    require_viewer(request, "models")
    if not _RUN_ID.match(run_id):
        raise DataContractError(f"{run_id!r} is not an MLflow run id (32 hex digits).")
    path = _validation_html(console_state(request).settings, run_id)
    if not path.is_file():
        raise ReportNotFoundError(f"No validation report for run {run_id}.")
    return _report(path)


@router.get("/reports/monitoring/{as_of}")
def monitoring_report(request: Request, as_of: str) -> Response:
    """Serve a monitoring report (``reports/monitoring/<as_of>/monitoring.html``)."""
    require_viewer(request, "models")
    if not _DAY.match(as_of):
        raise DataContractError(f"{as_of!r} is not a date (YYYY-MM-DD).")
    path = (
        console_state(request).settings.reports_dir
        / "monitoring"
        / as_of
        / "monitoring.html"
    )
    if not path.is_file():
        raise ReportNotFoundError(f"No monitoring report for {as_of}.")
    return _report(path)


def _report(path: Path) -> Response:
    response = FileResponse(path, media_type="text/html; charset=utf-8")
    # The reports are self-contained pages (inline CSS, images as data: URIs, no
    # script): let them style themselves, run nothing.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'none'"
    )
    return response
