"""Rich tables of data freshness: per table, per department, and stale marks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from credit_engine.cli._app import console

__all__ = ["print_freshness", "print_stale_sources"]

_STYLE = {"fresh": "green", "late": "yellow", "stale": "bold red"}
_WIDE = 110
"""Terminal width from which every column is shown."""


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def _day(day: dt.date | None) -> str:
    return "-" if day is None else day.isoformat()


def _delivery(table: Any) -> str:
    """Return the date of a table's last delivery; † when its carrier gave it."""
    day = _day(table.delivered.date() if table.delivered else None)
    carried = table.delivered_with is not None and table.delivered != table.watermark
    return day + ("†" if carried else "")


def _status(value: str) -> str:
    return f"[{_STYLE.get(value, '')}]{value}[/]"


def print_freshness(report: Any) -> None:
    """Print the watermarks and status of every table and department.

    A terminal narrower than 110 columns gets the essential columns only
    (table, status, latest delivery, age and lag, stale from).
    """
    known = "the lake as it stands" if report.as_of is None else f"known {report.as_of}"
    wide = console.width >= _WIDE
    tables = Table(title=f"Data freshness at {report.at} ({known})")
    columns = [
        ("table", "left", True), ("status", "left", True),
        ("delivered", "left", True), ("event", "left", wide),
        ("rows", "right", wide), ("age/lag d", "right", True),
        ("cadence", "left", wide), ("stale from", "left", True),
    ]  # fmt: skip
    for name, justify, shown in columns:
        if shown:
            tables.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    by_department: dict[str, list[Any]] = {}
    for t in report.tables.values():
        by_department.setdefault(t.department.value, []).append(t)
    for department, own in sorted(by_department.items()):
        tables.add_row(f"[bold]{department}[/]")
        ordered = sorted(own, key=lambda t: t.table)
        for t in ordered:
            lag = f"{t.allowed_lag_days}{'*' if t.convention else ''}"
            cells = [
                (t.table + ("" if t.required else " (optional)"), True),
                (_status(t.status.value), True),
                (_delivery(t), True),
                (_day(t.latest_event_at.date() if t.latest_event_at else None), wide),
                (f"{t.rows:,}", wide),
                (f"{'-' if t.age_days is None else t.age_days}/{lag}", True),
                (t.cadence.value, wide),
                (_day(t.stale_since), True),
            ]
            tables.add_row(
                *(c for c, shown in cells if shown), end_section=t is ordered[-1]
            )
    console.print(tables)
    console.print(
        "[dim]delivered: latest ingested_at (UTC date) of the table's records "
        "known; † of the table it is delivered with (a quiet table, "
        "features/freshness.yaml delivered_with); event: latest event or "
        "effective time; * the allowed lag is a convention of the zone[/]"
    )
    departments = Table(title="Per department (the worst of its required tables)")
    for name in ("department", "status", "oldest delivery", "stale tables"):
        departments.add_column(name)
    for d in report.departments.values():
        departments.add_row(
            d.department.value,
            _status(d.status.value),
            _when(d.oldest_watermark),
            ", ".join(d.stale_tables) or "-",
        )
    console.print(departments)
    fresh_to = _day(report.freshness_date)
    console.print(
        f"overall: {_status(report.status.value)}; the lake's freshness date (the "
        f"latest date no required table is stale) is {fresh_to}"
    )
    stale = report.stale_sources
    if stale:
        console.print(
            f"[bold red]stale data[/] at {report.at}: decisions rated then are "
            f"marked with {len(stale)} stale source(s) and the model grades the "
            f"lake as of {report.knowledge_date}"
        )


def print_stale_sources(
    stale: Sequence[Any], as_of: dt.date, knowledge: dt.date | None = None
) -> None:
    """Warn that decisions at ``as_of`` rest on stale sources (nothing if none)."""
    if not stale:
        return
    departments = ", ".join(sorted({s.department for s in stale}))
    console.print(
        f"[bold red]stale data[/] at {as_of}: {len(stale)} required source(s) of "
        f"{departments} beyond their allowed lag; every decision is marked "
        "DATA-STALE, nothing is inferred from their missing records"
        + (f" and the model grades the lake as of {knowledge}" if knowledge else "")
    )
    for s in stale:
        last = "never" if s.watermark_date is None else s.watermark_date.isoformat()
        console.print(
            f"  {s.table} ({s.department}): last delivered {last}, "
            f"{'-' if s.age_days is None else s.age_days} days ago, "
            f"{s.allowed_lag_days} allowed"
        )
