"""Seams to components built beside the console: warnings, freshness, monitoring.

Each returns ``None`` (the console then shows "not available" or an empty
state) until its component is present. The lead wires them at merge:

* **Early warnings** (branch i12-warn: table ``warnings``, revision 0003, a
  ``WarningRepository`` with list/get/acknowledge/close): :func:`find_warnings`
  returns a :class:`WarningsSource` adapter when the package and its table
  exist. ``mount_console(..., warnings=...)`` injects any other source.
* **Data freshness** (branch i12-fresh): :func:`freshness` asks the component
  first, then the latest monitoring report's ``data`` section, then the lake's
  commit markers (when each department's last batch arrived).
* **Monitoring** (branch i12-watch): :func:`latest_monitoring` reads
  ``HOME/reports/monitoring/<as_of>/monitoring.json``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import inspect

from credit_engine.config import Settings
from credit_engine.store import OperationalStore

__all__ = [
    "WARNING_STATUSES",
    "WarningsSource",
    "find_warnings",
    "freshness",
    "latest_monitoring",
]

_LOG = logging.getLogger("credit_engine.console")

WARNING_STATUSES = ("open", "acknowledged", "closed")
"""States of a warning: raised (open), seen by a supervisor, dealt with."""

_DEPARTMENT_OF_LAKE = {
    "customs": "CUSTOMS",
    "tax": "TAX",
    "forex": "SAFE",
    "market": "SAMR",
}


@runtime_checkable
class WarningsSource(Protocol):
    """What the warnings pages need from the early-warning component.

    A warning is a mapping with at least ``warning_id`` (int), ``uscc``,
    ``kind``, ``severity``, ``status`` (one of :data:`WARNING_STATUSES`),
    ``raised_at`` and ``evidence`` (JSON data); optionally ``title_zh``,
    ``title_en``, ``as_of`` and ``notes`` (a list of ``{at, actor, status,
    note}``).
    """

    def list_warnings(
        self,
        *,
        status: str | None,
        severity: str | None,
        uscc: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of warnings, newest first, and the count matching."""
        ...

    def get_warning(self, warning_id: int) -> dict[str, Any] | None:
        """One warning with its evidence and notes, or ``None``."""
        ...

    def acknowledge(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Mark a warning seen (audit-logged by the component); return it."""
        ...

    def close(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Close a warning with a note (audit-logged by the component); return it."""
        ...


def find_warnings(store: OperationalStore, services: Any) -> WarningsSource | None:
    """Return the early-warning component's source (``None`` while absent).

    SEAM (i12-warn): present when ``credit_engine.warnings`` imports and the
    store has a ``warnings`` table; the adapter (its ``console_source``
    function, or the repository itself when it already has this protocol's
    methods) is aligned with the component at merge.
    """
    try:
        module = importlib.import_module("credit_engine.warnings")
    except ImportError:
        return None
    if not inspect(store.engine).has_table("warnings"):
        return None
    factory = getattr(module, "console_source", None)
    if factory is not None:
        source = factory(store, services)
        return source if isinstance(source, WarningsSource) else None
    _LOG.warning(
        "credit_engine.warnings is present but offers no console_source(store, "
        "services); the console's warnings pages stay empty until it is wired."
    )
    return None


def latest_monitoring(settings: Settings) -> dict[str, Any] | None:
    """Return the newest monitoring report's JSON (and its folder), or ``None``.

    SEAM (i12-watch): reads ``<reports>/monitoring/<as_of>/monitoring.json``.
    """
    root = settings.reports_dir / "monitoring"
    if not root.is_dir():
        return None
    for folder in sorted((p for p in root.iterdir() if p.is_dir()), reverse=True):
        path = folder / "monitoring.json"
        if path.is_file():
            try:
                data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                _LOG.warning("unreadable monitoring report %s: %s", path, exc)
                continue
            data["_folder"] = folder.name
            data["_html"] = (folder / "monitoring.html").is_file()
            return data
    return None


def freshness(settings: Settings, monitoring: dict[str, Any] | None) -> dict[str, Any]:
    """Return the data freshness per department, with where it comes from.

    Returns
    -------
    dict
        ``{"source": "component" | "monitoring" | "lake" | None, "rows": [...]}``;
        each row ``{department, status, last, detail}``.
    """
    try:  # SEAM (i12-fresh): the freshness component, when merged.
        module = importlib.import_module("credit_engine.freshness")
        reader = getattr(module, "console_freshness", None)
        if reader is not None:
            rows = reader(settings)
            if rows:
                return {"source": "component", "rows": list(rows)}
    except ImportError:
        pass
    if monitoring and isinstance(monitoring.get("data"), dict) and monitoring["data"]:
        rows = [
            {
                "department": str(v.get("department", "")).upper() or table,
                "table": table,
                "status": v.get("status"),
                "last": v.get("last_ingested"),
                "detail": v.get("detail"),
            }
            for table, v in sorted(monitoring["data"].items())
            if isinstance(v, dict)
        ]
        return {"source": "monitoring", "rows": rows}
    return {
        "source": "lake" if (rows := _lake_freshness(settings.lake_dir)) else None,
        "rows": rows,
    }


def _lake_freshness(lake_dir: Path) -> list[dict[str, Any]]:
    """When each department's last batch was committed to the lake."""
    commits = lake_dir / "_commits"
    if not commits.is_dir():
        return []
    last: dict[str, dict[str, Any]] = {}
    for path in sorted(commits.glob("*.json")):
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        at = str(manifest.get("committed_at", ""))
        for table in (manifest.get("tables") or {}).values():
            dept = _DEPARTMENT_OF_LAKE.get(str(table.get("department")), "")
            if not dept:
                continue
            row = last.setdefault(
                dept, {"department": dept, "status": None, "last": at, "loaded": 0}
            )
            row["last"] = max(at, row["last"])
            row["loaded"] += int(table.get("loaded", 0))
    now = dt.datetime.now(dt.UTC)
    for row in last.values():
        try:
            when = dt.datetime.fromisoformat(row["last"].replace("Z", "+00:00"))
            row["age_days"] = (now - when).days
        except ValueError:
            row["age_days"] = None
    return [last[d] for d in sorted(last)]
