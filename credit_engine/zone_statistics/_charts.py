"""Charts of the zone report, as base64 PNG data URIs (matplotlib, no pyplot).

Labels on the charts are ASCII (codes and English names): the tables under
each chart carry the Chinese names, which the browser renders whatever fonts
matplotlib has. Each function returns ``None`` when there is nothing to draw.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.vocabulary import Tier
from credit_engine.zone_statistics._decisions import MIGRATION_FROM, MIGRATION_TO
from credit_engine.zone_statistics._reference import ZoneReference
from credit_engine.zone_statistics._report import ZoneReport

__all__ = [
    "declarations_chart",
    "district_chart",
    "flows_chart",
    "migration_chart",
    "migration_heatmap",
    "supervision_chart",
    "tier_chart",
    "warnings_chart",
]

TIER_COLOURS = {"A": "#3a9a3a", "B": "#1f5fa8", "C": "#e0a100", "D": "#c8372d"}
_SERIES = (
    "#1f5fa8", "#7a4fa0", "#2a8c8c", "#b5651d", "#3a9a3a", "#c8372d", "#7f8fa6",
    "#d17fb0",
)  # fmt: skip
_HUNDRED_MILLION = 1e8


def _figure(width: float, height: float) -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    return fig, fig.subplots()


def _png(fig: Any) -> str:
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _tidy(ax: Any, labels: Sequence[str]) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    if len(labels) > 8:
        for tick in ax.get_xticklabels():
            tick.set_rotation(45)
            tick.set_horizontalalignment("right")


def _legend(ax: Any) -> None:
    """Legend to the right of the plot, where it hides no bar."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)


def _stacked(
    ax: Any, frame: pd.DataFrame, colours: Sequence[str], labels: Sequence[str]
) -> None:
    """Stacked bars: index = x labels, one column per series."""
    x = np.arange(len(frame.index))
    bottom = np.zeros(len(frame.index))
    for column, colour, label in zip(frame.columns, colours, labels, strict=True):
        values = frame[column].to_numpy(dtype=np.float64)
        ax.bar(x, values, 0.75, bottom=bottom, color=colour, label=label)
        bottom += values
    ax.set_xticks(x, list(frame.index))


def _periods(report: ZoneReport) -> list[str]:
    return [p.label for p in report.periods]


def tier_chart(report: ZoneReport) -> str | None:
    """Enterprises per tier at each period's latest rating, as stacked bars."""
    tiers = report.table("tiers").frame if report.sections["tiers"].tables else None
    if tiers is None or tiers.empty:
        return None
    wide = tiers.pivot_table(
        index="period", columns="tier", values="enterprises", aggfunc="sum"
    ).reindex(columns=list(Tier.values()), fill_value=0)
    fig, ax = _figure(8.5, 3.6)
    _stacked(ax, wide, [TIER_COLOURS[t] for t in wide.columns], list(wide.columns))
    ax.set_ylabel("enterprises")
    ax.set_title("Treatment tiers at each period's latest rating")
    _legend(ax)
    _tidy(ax, list(wide.index))
    return _png(fig)


def declarations_chart(report: ZoneReport, reference: ZoneReference) -> str | None:
    """Draw the declared value by supervision mode per period (CNY 100 million)."""
    frame = report.table("declarations_by_trade_mode").frame
    if frame.empty:
        return None
    wide = (
        frame.pivot_table(
            index="period", columns="trade_mode", values="value_cny", aggfunc="sum"
        )
        .reindex(index=_periods(report), fill_value=0)
        .fillna(0)
    )
    order = [m for m in reference.mode_labels if m in wide.columns]
    order += [m for m in wide.columns if m not in order]
    wide = wide.loc[:, order] / _HUNDRED_MILLION
    fig, ax = _figure(9.5, 3.8)
    colours = [_SERIES[i % len(_SERIES)] for i in range(len(order))]
    _stacked(ax, wide, colours, [f"{m} {reference.mode_name(m)}" for m in order])
    ax.set_ylabel("CNY 100 million")
    ax.set_title("Declared value by supervision mode")
    _legend(ax)
    _tidy(ax, list(wide.index))
    return _png(fig)


def district_chart(report: ZoneReport, reference: ZoneReference) -> str | None:
    """Draw registered and active enterprises per district in the last period."""
    frame = report.table("enterprises_by_district").frame
    if frame.empty:
        return None
    last = frame[frame["period"] == frame["period"].max()].sort_values("district")
    names = [
        f"{code} {reference.districts[code].en}"
        if code in reference.districts
        else code
        for code in last["district"]
    ]
    fig, ax = _figure(7.0, 0.42 * len(names) + 1.4)
    y = np.arange(len(names))
    ax.barh(y - 0.2, last["registered"], 0.4, color=_SERIES[0], label="registered")
    ax.barh(y + 0.2, last["active"], 0.4, color=_SERIES[2], label="active")
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("enterprises")
    ax.set_title(f"Enterprises by district, {last['period'].iloc[0]}")
    _legend(ax)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def supervision_chart(report: ZoneReport) -> str | None:
    """Green channel and joint punishments at each period's latest rating."""
    if not report.sections["green_channel"].tables:
        return None
    green = report.table("green_channel").frame
    punished = report.table("joint_punishments").frame
    if green.empty:
        return None
    x = np.arange(len(green))
    fig, ax = _figure(8.5, 3.4)
    ax.bar(
        x - 0.2,
        green["green_channel"],
        0.4,
        color=TIER_COLOURS["A"],
        label="green channel",
    )
    ax.bar(
        x + 0.2,
        punished.set_index("period")["joint_punishment"]
        .reindex(green["period"])
        .fillna(0),
        0.4,
        color=TIER_COLOURS["D"],
        label="joint punishment",
    )
    ax.set_xticks(x, list(green["period"]))
    ax.set_ylabel("enterprises")
    ax.set_title("Green channel and joint punishments")
    _legend(ax)
    _tidy(ax, list(green["period"]))
    return _png(fig)


def migration_heatmap(report: ZoneReport) -> str | None:
    """Row shares of the last migration matrix in the report, counts written in."""
    if not report.sections["migrations"].tables:
        return None
    cells = report.table("migrations").frame
    if cells.empty:
        return None
    last = cells[cells["to_as_of"] == cells["to_as_of"].max()]
    counts = (
        last.pivot_table(
            index="from_tier", columns="to_tier", values="enterprises", aggfunc="sum"
        )
        .reindex(index=list(MIGRATION_FROM), columns=list(MIGRATION_TO))
        .fillna(0)
        .to_numpy(dtype=np.float64)
    )
    rows = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    fig, ax = _figure(5.2, 4.2)
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(
                    j, i, f"{int(counts[i, j]):,}", ha="center", va="center",
                    fontsize=7,
                    color="white" if shares[i, j] > 0.5 else "#222222",
                )  # fmt: skip
    ax.set_xticks(range(len(MIGRATION_TO)), list(MIGRATION_TO))
    ax.set_yticks(range(len(MIGRATION_FROM)), list(MIGRATION_FROM))
    ax.set_xlabel(f"tier at {last['to_as_of'].iloc[0]}")
    ax.set_ylabel(f"tier at {last['from_as_of'].iloc[0]}")
    ax.set_title("Tier migration (row shares)")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return _png(fig)


def migration_chart(report: ZoneReport) -> str | None:
    """Upgrades and downgrades per pair of consecutive rating dates."""
    if not report.sections["migrations"].tables:
        return None
    summary = report.table("migration_summary").frame
    if summary.empty:
        return None
    labels = [str(d) for d in summary["to_as_of"]]
    x = np.arange(len(labels))
    fig, ax = _figure(8.0, 3.2)
    ax.bar(x - 0.2, summary["upgrades"], 0.4, color=TIER_COLOURS["A"], label="upgrades")
    ax.bar(
        x + 0.2, summary["downgrades"], 0.4, color=TIER_COLOURS["D"], label="downgrades"
    )
    ax.set_xticks(x, labels)
    ax.set_ylabel("enterprises")
    ax.set_title("Upgrades and downgrades (to each rating date)")
    _legend(ax)
    _tidy(ax, labels)
    return _png(fig)


def flows_chart(report: ZoneReport) -> str | None:
    """Refunds claimed (CNY) and FX received and paid (USD) per period."""
    refunds = report.table("refunds").frame
    forex = report.table("forex").frame
    if refunds.empty and forex.empty:
        return None
    labels = _periods(report)
    fig, ax = _figure(8.5, 3.4)
    x = np.arange(len(labels))
    ax.plot(
        x,
        refunds.set_index("period")["refund_claimed_cny"].reindex(labels).fillna(0)
        / _HUNDRED_MILLION,
        marker="o", markersize=3, color=_SERIES[3], label="refunds claimed (CNY 100m)",
    )  # fmt: skip
    for direction, colour in (("received", _SERIES[0]), ("paid", _SERIES[1])):
        part = forex[forex["direction"] == direction].set_index("period")
        ax.plot(
            x,
            part["amount_usd"].reindex(labels).fillna(0) / _HUNDRED_MILLION,
            marker="o", markersize=3, color=colour, label=f"FX {direction} (USD 100m)",
        )  # fmt: skip
    ax.set_xticks(x, labels)
    ax.set_ylabel("100 million")
    ax.set_title("Export refunds claimed and FX received / paid")
    _legend(ax)
    _tidy(ax, labels)
    return _png(fig)


def warnings_chart(report: ZoneReport) -> str | None:
    """Warnings raised and closed per period."""
    if not report.sections["warnings"].tables:
        return None
    frame = report.table("warnings").frame
    if frame.empty:
        return None
    labels = list(frame["period"])
    x = np.arange(len(labels))
    fig, ax = _figure(8.0, 3.2)
    ax.bar(x - 0.2, frame["raised"], 0.4, color=TIER_COLOURS["C"], label="raised")
    ax.bar(x + 0.2, frame["closed"], 0.4, color=_SERIES[0], label="closed")
    ax.plot(
        x,
        frame["open_at_end"],
        color="#222222",
        marker="o",
        markersize=3,
        label="open at end",
    )
    ax.set_xticks(x, labels)
    ax.set_ylabel("warnings")
    ax.set_title("Early warnings raised and closed")
    _legend(ax)
    _tidy(ax, labels)
    return _png(fig)
