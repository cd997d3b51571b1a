"""Render a :class:`ValidationReport` as one self-contained HTML page.

The page is a Jinja template (``_templates/validation_report.html.j2``) with the
charts embedded as base64 PNG data URIs. This module reads the results and
returns text; it writes no file (:mod:`_write` does) and the results never
import it.

matplotlib and Jinja are imported inside the functions that need them (the
object-oriented matplotlib API needs no pyplot state and no GUI backend), so
importing this module stays cheap.
"""

from __future__ import annotations

import base64
import io
import math
from importlib import resources
from typing import Any

import numpy as np

from credit_engine.validation._policy import ValidationPolicy
from credit_engine.validation._results import (
    Calibration,
    Concentration,
    CurveData,
    FeatureStability,
    ValidationReport,
)

__all__ = [
    "calibration_chart",
    "csi_chart",
    "grade_distribution_chart",
    "ks_chart",
    "render_html",
    "roc_chart",
]

_TEMPLATE = "validation_report.html.j2"

COLOURS = {"green": "#3a9a3a", "amber": "#e0a100", "red": "#c8372d", "empty": "#999999"}
_DEV = "#7f8fa6"
_OOT = "#1f5fa8"
_MAX_POINTS = 1500


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(fig: Any) -> str:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _thin(*arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keep at most ``_MAX_POINTS`` points of long curves (ends included)."""
    size = arrays[0].shape[0]
    if size <= _MAX_POINTS:
        return arrays
    keep = np.unique(np.linspace(0, size - 1, _MAX_POINTS).round().astype(int))
    return tuple(a[keep] for a in arrays)


def roc_chart(curves: CurveData, auc_dev: float, auc_oot: float) -> str:
    """ROC curves of the development and out-of-time samples."""
    fig = _figure(5.0, 4.6)
    ax = fig.add_subplot()
    for (fpr, tpr), label, colour in (
        (curves.roc_dev, f"development (AUC {auc_dev:.3f})", _DEV),
        (curves.roc_oot, f"out-of-time (AUC {auc_oot:.3f})", _OOT),
    ):
        x, y = _thin(fpr, tpr)
        ax.plot(x, y, color=colour, label=label, linewidth=1.6)
    ax.plot([0, 1], [0, 1], color="#bbbbbb", linestyle="--", linewidth=1)
    ax.set_xlabel("false positive rate (non-defaults flagged)")
    ax.set_ylabel("true positive rate (defaults flagged)")
    ax.set_title("ROC curve")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def ks_chart(curves: CurveData, ks: float) -> str:
    """Cumulative shares of defaults and non-defaults, riskiest rows first (OOT)."""
    population, events, non_events = _thin(
        curves.ks_population, curves.ks_events, curves.ks_non_events
    )
    gap = np.abs(curves.ks_events - curves.ks_non_events)
    at = int(np.argmax(gap))
    fig = _figure(5.0, 4.6)
    ax = fig.add_subplot()
    ax.plot(population, events, color=COLOURS["red"], label="defaults")
    ax.plot(population, non_events, color=COLOURS["green"], label="non-defaults")
    x = curves.ks_population[at]
    ax.vlines(
        x,
        min(curves.ks_events[at], curves.ks_non_events[at]),
        max(curves.ks_events[at], curves.ks_non_events[at]),
        color="#222222",
        linestyle=":",
        label=f"KS {ks:.3f}",
    )
    ax.set_xlabel("share of rows, highest PD first")
    ax.set_ylabel("cumulative share")
    ax.set_title("KS curve (out-of-time)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.01)
    ax.legend(loc="lower right", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def calibration_chart(calibration: Calibration, title: str) -> str:
    """Grade PD against observed default rate with 95 % Jeffreys intervals."""
    grades = [g for g in calibration.grades if g.n > 0]
    bottom = min(g.pd for g in calibration.grades) / 4
    fig = _figure(6.5, 4.6)
    ax = fig.add_subplot()
    labels = [g.grade for g in calibration.grades]
    where = {label: i for i, label in enumerate(labels)}
    ax.plot(
        range(len(labels)),
        [g.pd for g in calibration.grades],
        color="#222222",
        marker="_",
        markersize=18,
        linestyle="none",
        label="grade PD",
    )
    for g in grades:
        if g.jeffreys_lower is None or g.jeffreys_upper is None:
            continue
        if g.observed_rate is None:
            continue
        x = where[g.grade]
        colour = COLOURS[g.colour]
        # A grade without defaults has a lower bound of 0: cut it at the bottom.
        lower = max(g.jeffreys_lower, bottom)
        ax.vlines(x, lower, g.jeffreys_upper, color=colour, linewidth=2)
        if g.observed_rate > 0:
            ax.plot(x, g.observed_rate, marker="o", color=colour, linestyle="none")
        else:
            ax.plot(x, lower, marker="v", color=colour, linestyle="none")
    ax.plot([], [], marker="o", color="#555555", linestyle="-", label="observed rate")
    ax.set_yscale("log")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("grade (best to worst); bars: 95 % Jeffreys interval")
    ax.set_ylabel("default rate (log scale)")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def grade_distribution_chart(
    dev: Concentration, oot: Concentration, max_share: float
) -> str:
    """Share of rows per grade, development next to out-of-time."""
    labels = list(dev.shares)
    x = np.arange(len(labels))
    width = 0.4
    fig = _figure(6.5, 4.0)
    ax = fig.add_subplot()
    ax.bar(
        x - width / 2,
        [dev.shares[g] for g in labels],
        width,
        label="development",
        color=_DEV,
    )
    ax.bar(
        x + width / 2,
        [oot.shares[g] for g in labels],
        width,
        label="out-of-time",
        color=_OOT,
    )
    ax.axhline(
        max_share,
        color=COLOURS["amber"],
        linestyle="--",
        linewidth=1,
        label=f"concentration limit {max_share:.0%}",
    )
    ax.set_xticks(x, labels)
    ax.set_ylabel("share of rows")
    ax.set_title("Grade distribution")
    ax.legend(fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def csi_chart(
    features: tuple[FeatureStability, ...], policy: ValidationPolicy, top: int = 15
) -> str:
    """CSI of the least stable features, coloured by PSI band."""
    shown = list(features[:top])[::-1]
    fig = _figure(6.5, 0.32 * len(shown) + 1.4)
    ax = fig.add_subplot()
    bars = ax.barh(
        [f.feature for f in shown],
        [f.csi for f in shown],
        color=[COLOURS[f.colour] for f in shown],
    )
    ax.bar_label(bars, labels=[f"{f.csi:.3f}" for f in shown], padding=3, fontsize=7)
    for threshold in (policy.psi_monitor, policy.psi_significant):
        ax.axvline(threshold, color="#888888", linestyle="--", linewidth=1)
    ax.set_xlabel("CSI (PSI of the feature, dev to out-of-time)")
    ax.set_title(f"Least stable features (top {len(shown)})")
    ax.tick_params(axis="y", labelsize=7)
    ax.margins(x=0.15)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


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
        "roc": roc_chart(report.curves, dev.discrimination.auc, oot.discrimination.auc),
        "ks": ks_chart(report.curves, oot.discrimination.ks),
        "calibration": calibration_chart(
            oot.calibration, "Calibration by grade (out-of-time)"
        ),
        "grades": grade_distribution_chart(
            dev.concentration, oot.concentration, report.policy.max_grade_share
        ),
    }
    if report.stability.features:
        charts["csi"] = csi_chart(report.stability.features, report.policy)
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
