"""Render a :class:`ZoneReport` as one self-contained HTML page (no I/O here).

Each section shows its charts, then its tables: a table with one row per
period as it is; a breakdown as a pivot of its first figure (one column per
period) with every figure in a folded tidy table, as in its CSV file; the
migration cells as the matrix of the last pair of rating dates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import pandas as pd

from credit_engine.zone_statistics import _charts
from credit_engine.zone_statistics._decisions import MIGRATION_FROM, MIGRATION_TO
from credit_engine.zone_statistics._disclosure import DEFAULT_MIN_CELL
from credit_engine.zone_statistics._reference import ZoneReference
from credit_engine.zone_statistics._report import DISCLOSURE, StatTable, ZoneReport

__all__ = ["render_html"]

_TEMPLATE = "zone_report.html.j2"
_PERIOD_LABELS = ("as_of", "from_as_of")


@dataclass(frozen=True)
class _Cell:
    text: str
    num: bool = False


@dataclass(frozen=True)
class _Grid:
    header: list[_Cell]
    rows: list[list[_Cell]]
    caption: str = ""


@dataclass(frozen=True)
class _Display:
    name: str
    title: str
    note: str
    header: list[_Cell]
    rows: list[list[_Cell]]
    tidy: _Grid | None
    empty: bool
    caption: str = ""


def _text(value: Any, column: str) -> _Cell:
    """Format one value: counts with separators, shares as percentages."""
    missing = value is None or value is pd.NA or value is pd.NaT
    if missing or (isinstance(value, float) and math.isnan(value)):
        return _Cell("–", num=True)
    if isinstance(value, bool):
        return _Cell("yes" if value else "no")
    if column == "share" and isinstance(value, float):
        return _Cell(f"{100 * value:.1f} %", num=True)
    if isinstance(value, int):
        return _Cell(f"{value:,}", num=True)
    if isinstance(value, float):
        return _Cell(f"{value:,.0f}", num=True)
    return _Cell(str(value))


def _grid(frame: pd.DataFrame, columns: Sequence[str]) -> _Grid:
    header = [
        _Cell(str(c), num=pd.api.types.is_numeric_dtype(frame[c])) for c in columns
    ]
    rows = [
        [
            _text(v.item() if hasattr(v, "item") else v, c)
            for c, v in zip(columns, row, strict=True)
        ]
        for row in frame.loc[:, list(columns)].itertuples(index=False, name=None)
    ]
    return _Grid(header, rows)


def _pivot(table: StatTable, periods: Sequence[str]) -> _Grid:
    """First figure of a breakdown, one column per period."""
    measure = table.measures[0]
    index = [
        *table.dimensions[1:],
        *(label for label in table.labels if label not in _PERIOD_LABELS),
    ]
    wide = table.frame.pivot_table(
        index=index, columns="period", values=measure, aggfunc="sum", sort=False
    )
    wide = wide.reindex(columns=[p for p in periods if p in wide.columns])
    header = [_Cell(c) for c in index] + [_Cell(str(p), num=True) for p in wide.columns]
    rows = []
    for keys, values in wide.iterrows():
        key_cells = [
            _Cell(str(k)) for k in (keys if isinstance(keys, tuple) else (keys,))
        ]
        rows.append(
            key_cells
            + [_text(None if pd.isna(v) else float(v), measure) for v in values]
        )
    return _Grid(header, rows, caption=f"{measure} per period; every figure below.")


def _matrix(table: StatTable) -> _Grid:
    """Lay out the last pair's migration matrix: rows from, columns to."""
    cells = table.frame
    last = cells[cells["to_as_of"] == cells["to_as_of"].max()]
    wide = (
        last.pivot_table(
            index="from_tier", columns="to_tier", values="enterprises", aggfunc="sum"
        )
        .reindex(index=list(MIGRATION_FROM), columns=list(MIGRATION_TO))
        .fillna(0)
        .astype("int64")
    )
    title = f"{last['from_as_of'].iloc[0]} → {last['to_as_of'].iloc[0]}"
    header = [_Cell("from \\ to")] + [_Cell(str(c), num=True) for c in wide.columns]
    rows = [
        [_Cell(str(i))] + [_text(int(v), "enterprises") for v in row]
        for i, row in wide.iterrows()
    ]
    return _Grid(
        header, rows, caption=f"Enterprises by tier, {title}; every pair below."
    )


def _display(table: StatTable, periods: Sequence[str]) -> _Display:
    if table.frame.empty:
        return _Display(table.name, table.title, table.note, [], [], None, True)
    tidy = _grid(table.frame, table.columns)
    if table.dimensions == ("period",) or len(table.dimensions) < 2:
        shown, folded = tidy, None
    elif table.name == "migrations":
        shown, folded = _matrix(table), tidy
    else:
        shown, folded = _pivot(table, periods), tidy
    return _Display(
        table.name,
        table.title,
        table.note,
        shown.header,
        shown.rows,
        folded,
        False,
        shown.caption,
    )


def _charts_of(report: ZoneReport, reference: ZoneReference) -> dict[str, list[str]]:
    drawn: dict[str, list[str | None]] = {
        "enterprises": [_charts.district_chart(report, reference)],
        "declarations": [_charts.declarations_chart(report, reference)],
        "refunds": [_charts.flows_chart(report)],
        "tiers": [_charts.tier_chart(report)],
        "green_channel": [_charts.supervision_chart(report)],
        "migrations": [
            _charts.migration_heatmap(report),
            _charts.migration_chart(report),
        ],
        "warnings": [_charts.warnings_chart(report)],
    }
    out: dict[str, list[str]] = {key: [] for key in report.sections}
    for key, images in drawn.items():
        if report.sections[key].available:
            out[key] = [img for img in images if img is not None]
    return out


def render_html(
    report: ZoneReport,
    reference: ZoneReference | None = None,
    *,
    min_cell: int = DEFAULT_MIN_CELL,
) -> str:
    """Return the HTML page of a zone report.

    Parameters
    ----------
    report : ZoneReport
        Result of :func:`build_zone_report`.
    reference : ZoneReference, optional
        Names on the charts (codes alone without it).
    min_cell : int, default=5
        The small-cell threshold of the CSV files, stated on the page.

    Returns
    -------
    str
        HTML with inline CSS and charts embedded as base64 PNG; no script and
        no external resource. Every section of the report has a heading with
        its key as ``id``.
    """
    import jinja2

    source = resources.files("credit_engine.zone_statistics").joinpath(
        "_templates", _TEMPLATE
    )
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(source.read_text(encoding="utf-8"))
    periods = [p.label for p in report.periods]
    return template.render(
        report=report,
        disclosure=DISCLOSURE,
        cutoff=report.knowledge_cutoff.strftime("%Y-%m-%d %H:%M UTC"),
        incomplete=[p.label for p in report.periods if not p.complete],
        min_cell=min_cell,
        charts=_charts_of(report, reference or ZoneReference()),
        displays={
            key: [_display(t, periods) for t in section.tables]
            for key, section in report.sections.items()
        },
    )
