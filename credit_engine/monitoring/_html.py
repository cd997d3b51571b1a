"""Render a :class:`MonitoringReport` as one self-contained HTML page, and write it."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from credit_engine.monitoring import _charts
from credit_engine.monitoring._build import data_light
from credit_engine.monitoring._report import MonitoringReport
from credit_engine.monitoring._thresholds import MonitoringThresholds

__all__ = ["render_html", "write_report"]

_TEMPLATE = "monitoring_report.html.j2"
HTML_NAME = "monitoring.html"
JSON_NAME = "monitoring.json"


def _fmt(value: float | None, digits: int = 3) -> str:
    """Format a number for a table cell; ``None`` and NaN become an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 2) -> str:
    """Format a share as a percentage; ``None`` and NaN become an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.{digits}f} %"


def render_html(
    report: MonitoringReport, thresholds: MonitoringThresholds | None = None
) -> str:
    """Return the HTML page of ``report``.

    Sections: status header with the traffic lights of every part; score PSI
    over cohorts; per model the grade distribution against development, the
    per-grade back-test table, the AUC of each matured cohort against initial
    validation, estimated against realised default rate and AUC, grade
    concentration, the migration heat map and the CSI table; then overrides
    and data freshness.

    Parameters
    ----------
    report : MonitoringReport
        Result of :func:`build_report`.
    thresholds : MonitoringThresholds or None, default=None
        Draws the PSI bands on the PSI chart and lists the thresholds used;
        the chart shows no bands without it.

    Returns
    -------
    str
        HTML with inline CSS and charts embedded as base64 PNG; no script and
        no external resource.
    """
    import jinja2
    from scipy.stats import norm

    source = resources.files("credit_engine.monitoring").joinpath(
        "_templates", _TEMPLATE
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = _pct
    template = env.from_string(source.read_text(encoding="utf-8"))
    amber = thresholds.stability.psi_amber if thresholds else math.nan
    red = thresholds.stability.psi_red if thresholds else math.nan
    charts: dict[str, Any] = {
        "psi": _charts.score_psi_chart(report.models, amber, red)
        if report.models
        else None
    }
    for name, model in report.models.items():
        level = model.estimated.level
        charts[name] = {
            "grades": _charts.grade_distribution_chart(model),
            "auc": _charts.auc_chart(model, float(norm.ppf(0.5 + level / 2))),
            "estimated": _charts.estimation_chart(model),
            "migration": (
                _charts.migration_heatmap(model.migration.grade)
                if model.migration.grade is not None
                else None
            ),
            "tier_migration": (
                _charts.migration_heatmap(model.migration.tier)
                if model.migration.tier is not None
                else None
            ),
        }
    return template.render(
        report=report,
        charts=charts,
        data_status=data_light(report.data) if report.data else None,
        thresholds=thresholds.model_dump() if thresholds else None,
    )


def write_report(
    report: MonitoringReport,
    folder: str | Path,
    thresholds: MonitoringThresholds | None = None,
) -> dict[str, Path]:
    """Write ``monitoring.html`` and ``monitoring.json`` into ``folder``.

    Parameters
    ----------
    report : MonitoringReport
        The report.
    folder : str or pathlib.Path
        Target folder, created if needed; existing files are replaced.
    thresholds : MonitoringThresholds or None, default=None
        Passed to :func:`render_html`.

    Returns
    -------
    dict of str to pathlib.Path
        ``{"html": path, "json": path}``.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    json_path = target / JSON_NAME
    html_path = target / HTML_NAME
    text = json.dumps(report.to_json_dict(), indent=2, allow_nan=False)
    json_path.write_text(text + "\n", encoding="utf-8")
    html_path.write_text(render_html(report, thresholds), encoding="utf-8")
    return {"html": html_path, "json": json_path}
