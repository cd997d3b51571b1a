"""Seams to components built beside the console: freshness, monitoring.

Each returns ``None`` (the console then shows "not available" or an empty
state) until its component is present. (The early-warning queue, once a seam
too, is read from the store: :mod:`credit_engine.console._warnings`.)

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
from typing import Any

from credit_engine.config import Settings

__all__ = [
    "freshness",
    "latest_monitoring",
]

_LOG = logging.getLogger("credit_engine.console")

_DEPARTMENT_OF_LAKE = {
    "customs": "CUSTOMS",
    "tax": "TAX",
    "forex": "SAFE",
    "market": "SAMR",
}


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
