"""Rich output of ``report zone``: a progress bar and summary tables."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from credit_engine.cli._app import console, err_console

if TYPE_CHECKING:
    from credit_engine.zone_statistics import ZoneReport

__all__ = ["print_zone_report", "zone_progress"]

_HUNDRED_MILLION = 1e8


@contextlib.contextmanager
def zone_progress(steps: tuple[str, ...]) -> Iterator[Callable[[str], None]]:
    """Show one bar over the report's steps; yield the callback of a finished step."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as bar:
        task = bar.add_task("zone report", total=len(steps))

        def done(step: str) -> None:
            bar.update(task, advance=1, description=f"zone report: {step}")

        yield done


def _by_period(frame: pd.DataFrame, column: str) -> dict[str, Any]:
    if frame.empty or column not in frame:
        return {}
    return dict(zip(frame["period"].astype(str), frame[column], strict=True))


def _num(value: Any, scale: float = 1.0, digits: int = 0) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{value / scale:,.{digits}f}"


def print_zone_report(report: ZoneReport) -> None:
    """Print the per-period figures, the ratings and what was not available."""
    enterprises = report.table("enterprises").frame
    declarations = _by_period(report.table("declarations").frame, "declarations")
    value = _by_period(report.table("declarations").frame, "value_cny")
    refunds = _by_period(report.table("refunds").frame, "refund_claimed_cny")
    fx = report.table("forex").frame
    received = _by_period(fx[fx["direction"] == "received"], "amount_usd")
    paid = _by_period(fx[fx["direction"] == "paid"], "amount_usd")
    known = f"known at the end of {report.knowledge_date}"
    people = Table(
        title=f"Enterprises {report.start} – {report.end} per {report.period} "
        f"({known})",
        caption="Registered and active at the period's end; new and deregistered "
        "in it.",
    )
    money = Table(
        title="Declarations, export refunds and foreign exchange",
        caption="Declared value and refunds claimed in CNY 100 million (亿元); FX "
        "received and paid in USD 100 million.",
    )
    for table, names in (
        (people, ("registered", "active", "new", "deregistered")),
        (money, ("declarations", "value", "refunds", "FX in", "FX out")),
    ):
        table.add_column("period", no_wrap=True)
        for name in names:
            table.add_column(name, justify="right", no_wrap=True)
    for p, registered, active, new, gone in zip(
        enterprises["period"].astype(str), enterprises["registered"],
        enterprises["active"], enterprises["new"], enterprises["deregistered"],
        strict=True,
    ):  # fmt: skip
        people.add_row(p, _num(registered), _num(active), _num(new), _num(gone))
        money.add_row(
            p, _num(declarations.get(p)), _num(value.get(p), _HUNDRED_MILLION, 2),
            _num(refunds.get(p), _HUNDRED_MILLION, 2),
            _num(received.get(p), _HUNDRED_MILLION, 2),
            _num(paid.get(p), _HUNDRED_MILLION, 2),
        )  # fmt: skip
    console.print(people)
    console.print(money)
    if report.sections["tiers"].available and not report.table("tiers").frame.empty:
        _print_ratings(report)
    else:
        console.print(report.sections["tiers"].note or "No ratings in the range.")
    for key in ("warnings", "freshness"):
        section = report.sections[key]
        if not section.available:
            console.print(f"[dim]{section.title}: {section.note}[/]")
    incomplete = [p.label for p in report.periods if not p.complete]
    if incomplete:
        console.print(
            "[yellow]Periods not complete (cut by the range or the knowledge "
            f"cutoff): {', '.join(incomplete)}[/]"
        )


def _print_ratings(report: ZoneReport) -> None:
    tiers = report.table("tiers").frame
    wide = tiers.pivot_table(index="period", columns="tier", values="enterprises")
    green = _by_period(report.table("green_channel").frame, "green_channel")
    punished = _by_period(report.table("joint_punishments").frame, "joint_punishment")
    as_of = _by_period(report.table("green_channel").frame, "as_of")
    summary = report.table("migration_summary").frame
    ups = summary.groupby("period")["upgrades"].sum().to_dict() if len(summary) else {}
    downs = (
        summary.groupby("period")["downgrades"].sum().to_dict() if len(summary) else {}
    )
    tiers_table = Table(title="Treatment tiers at each period's latest rating")
    measures = Table(title="Green channel, joint punishments and tier migrations")
    tiers_table.add_column("period", no_wrap=True)
    tiers_table.add_column("rated on", no_wrap=True)
    measures.add_column("period", no_wrap=True)
    for table, names in (
        (tiers_table, [str(c) for c in wide.columns]),
        (measures, ["green channel", "joint punishment", "upgrades", "downgrades"]),
    ):
        for name in names:
            table.add_column(name, justify="right", no_wrap=True)
    for label, row in wide.iterrows():
        period = str(label)
        tiers_table.add_row(
            str(period), str(as_of.get(period, "-")), *(_num(v) for v in row)
        )
        measures.add_row(
            str(period), _num(green.get(period)), _num(punished.get(period)),
            _num(ups.get(period)), _num(downs.get(period)),
        )  # fmt: skip
    console.print(tiers_table)
    console.print(measures)
