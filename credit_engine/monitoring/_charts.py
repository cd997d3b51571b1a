"""Charts of the monitoring report, as base64 PNG data URIs.

matplotlib is imported inside each function through its object-oriented API
(no pyplot state, no GUI backend), as in the validation pack's charts.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from credit_engine.monitoring._migration import MigrationMatrix
from credit_engine.monitoring._report import ModelMonitoring

__all__ = [
    "COLOURS",
    "auc_chart",
    "estimation_chart",
    "grade_distribution_chart",
    "migration_heatmap",
    "score_psi_chart",
]

COLOURS = {"green": "#3a9a3a", "amber": "#e0a100", "red": "#c8372d", "empty": "#999999"}
_DEV = "#7f8fa6"
_NOW = "#1f5fa8"
_REALISED = "#c8372d"
_SERIES = ("#1f5fa8", "#7a4fa0", "#2a8c8c", "#b5651d")


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _png(fig: Any) -> str:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _tidy(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)


def score_psi_chart(
    models: Mapping[str, ModelMonitoring], amber: float, red: float
) -> str:
    """PSI of the PD over cohorts, one line per model, with the PSI bands."""
    fig, ax = _figure(7.0, 3.6)
    for i, (name, m) in enumerate(models.items()):
        points = m.score_psi.by_cohort
        ax.plot(
            [p.as_of for p in points],
            [p.psi for p in points],
            marker="o",
            markersize=3,
            color=_SERIES[i % len(_SERIES)],
            label=name,
        )
    for value, colour in ((amber, "amber"), (red, "red")):
        ax.axhline(value, color=COLOURS[colour], linestyle="--", linewidth=1)
    ax.set_ylabel("score PSI (frozen dev bins)")
    ax.set_title("Score PSI by rating date")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    _tidy(ax)
    return _png(fig)


def grade_distribution_chart(model: ModelMonitoring) -> str:
    """Share of performing rows per grade: development next to the latest cohort."""
    labels = list(model.grade_psi.shares_dev)
    x = np.arange(len(labels))
    fig, ax = _figure(6.0, 3.4)
    ax.bar(
        x - 0.2,
        [model.grade_psi.shares_dev[g] for g in labels],
        0.4,
        label="development",
        color=_DEV,
    )
    ax.bar(
        x + 0.2,
        [model.grade_psi.shares_now[g] for g in labels],
        0.4,
        label=f"{model.grade_psi.as_of}",
        color=_NOW,
    )
    ax.set_xticks(x, labels)
    ax.set_ylabel("share of performing rows")
    ax.set_title(f"Grade distribution (PSI {model.grade_psi.value:.3f})")
    ax.legend(fontsize=8)
    _tidy(ax)
    return _png(fig)


def auc_chart(model: ModelMonitoring, z: float) -> str | None:
    """AUC of each matured cohort with its interval, against the initial AUC."""
    tests = model.auc.by_cohort
    if not tests:
        return None
    fig, ax = _figure(6.5, 3.4)
    ax.axhline(
        model.auc_initial,
        color=_DEV,
        linestyle="--",
        linewidth=1.2,
        label=f"initial validation {model.auc_initial:.3f}",
    )
    ax.errorbar(
        [t.as_of for t in tests],
        [t.auc_current for t in tests],
        yerr=[z * t.std_error for t in tests],
        fmt="none",
        ecolor="#999999",
        capsize=3,
    )
    ax.scatter(
        [t.as_of for t in tests],
        [t.auc_current for t in tests],
        c=[COLOURS[t.light] for t in tests],
        zorder=3,
        label="current (DeLong interval)",
    )
    ax.set_ylabel("AUC")
    ax.set_title("AUC per matured cohort against initial validation")
    ax.legend(fontsize=8)
    fig.autofmt_xdate()
    _tidy(ax)
    return _png(fig)


def _band(
    ax: Any,
    x: Sequence[Any],
    *,
    series: tuple[Sequence[float], Sequence[float], Sequence[float]],
    realised: Sequence[float | None],
    label: str,
) -> None:
    mid, low, high = series
    ax.fill_between(
        x, low, high, color=_NOW, alpha=0.18, linewidth=0, label="estimate interval"
    )
    ax.plot(x, mid, color=_NOW, marker="o", markersize=3, label="estimated")
    shown = [(d, r) for d, r in zip(x, realised, strict=True) if r is not None]
    if shown:
        ax.plot(
            [d for d, _ in shown],
            [r for _, r in shown],
            color=_REALISED,
            marker="D",
            markersize=4,
            linestyle="none",
            label="realised (matured)",
        )
    ax.set_ylabel(label)
    ax.legend(fontsize=7)
    _tidy(ax)


def estimation_chart(model: ModelMonitoring) -> str:
    """Estimated default rate and AUC per cohort with intervals, realised beside."""
    est = model.estimated.by_cohort
    x = [e.as_of for e in est]
    fig, (left, right) = _figure(10.0, 3.6, ncols=2)
    _band(
        left,
        x,
        series=(
            [e.expected_default_rate for e in est],
            [e.default_rate_lower for e in est],
            [e.default_rate_upper for e in est],
        ),
        realised=[e.realised_default_rate for e in est],
        label="default rate",
    )
    left.axhline(
        model.estimated.default_rate_initial, color=_DEV, linestyle="--", linewidth=1
    )
    left.set_title("Default rate: estimated vs realised")
    _band(
        right,
        x,
        series=(
            [e.expected_auc for e in est],
            [e.auc_lower for e in est],
            [e.auc_upper for e in est],
        ),
        realised=[e.realised_auc for e in est],
        label="AUC",
    )
    right.axhline(model.auc_initial, color=_DEV, linestyle="--", linewidth=1)
    right.set_title("AUC: estimated vs realised")
    fig.autofmt_xdate()
    return _png(fig)


def migration_heatmap(matrix: MigrationMatrix) -> str:
    """Row shares of a migration matrix as a heat map, counts written in."""
    counts = np.asarray(matrix.counts, dtype=np.float64)
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    k = len(matrix.labels)
    fig, ax = _figure(0.55 * k + 2.6, 0.5 * k + 1.6)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "#222222",
                )
    for origin, target, _ in matrix.rejected:
        i, j = matrix.labels.index(origin), matrix.labels.index(target)
        ax.add_patch(_rectangle(j, i))
    ax.set_xticks(range(k), matrix.labels)
    ax.set_yticks(range(k), matrix.labels)
    ax.set_xlabel(f"{matrix.kind} at {matrix.to_as_of}")
    ax.set_ylabel(f"{matrix.kind} at {matrix.from_as_of}")
    ax.set_title(f"{matrix.kind.capitalize()} migration (row shares)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return _png(fig)


def _rectangle(x: int, y: int) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle(
        (x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor=COLOURS["red"], linewidth=2
    )
