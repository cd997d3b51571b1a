"""Render a :class:`ValidationReport` as one self-contained HTML page."""

from __future__ import annotations

import math
from importlib import resources
from typing import TYPE_CHECKING

from credit_engine.validation import _charts

if TYPE_CHECKING:
    from credit_engine.validation._results import ValidationReport

__all__ = ["render_html"]

_TEMPLATE = "validation_report.html.j2"


def _fmt(value: float | None, digits: int = 3) -> str:
    """Format a number for a table cell; ``None`` and NaN become an en dash."""
    if value is None or math.isnan(value):
        return "–"
    return f"{value:.{digits}f}"


def _pct(value: float | None, digits: int = 2) -> str:
    """Format a share as a percentage; ``None`` and NaN become an en dash."""
    if value is None or math.isnan(value):
        return "–"
    return f"{100 * value:.{digits}f} %"


def render_html(report: ValidationReport) -> str:
    """Return the HTML page of ``report``.

    Parameters
    ----------
    report : ValidationReport
        Result of :func:`~credit_engine.validation.validate_model`.

    Returns
    -------
    str
        HTML with inline CSS and charts embedded as base64 PNG; no script and
        no external resource.
    """
    import jinja2

    source = resources.files("credit_engine.validation").joinpath(
        "_templates", _TEMPLATE
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = _pct
    template = env.from_string(source.read_text(encoding="utf-8"))
    dev, oot = report.dev, report.oot
    charts = {
        "roc": _charts.roc_chart(
            report.curves, dev.discrimination.auc, oot.discrimination.auc
        ),
        "ks": _charts.ks_chart(report.curves, oot.discrimination.ks),
        "calibration": _charts.calibration_chart(
            oot.calibration, "Calibration by grade (out-of-time)"
        ),
        "grades": _charts.grade_distribution_chart(
            dev.concentration, oot.concentration, report.policy.max_grade_share
        ),
    }
    if report.stability.features:
        charts["csi"] = _charts.csi_chart(report.stability.features, report.policy)
    worst_grade = "green"
    for colour in ("amber", "red"):
        if any(g.colour == colour for g in oot.calibration.grades):
            worst_grade = colour
    return template.render(
        report=report,
        dev=dev,
        oot=oot,
        charts=charts,
        worst_grade=worst_grade,
        # A break is a finding to review, often noise between thin grades.
        rank_colour="green" if oot.rank_ordering.monotone else "amber",
    )
