"""Command of data freshness: the lake's watermarks and status per table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.cli._dates import date_option
from credit_engine.cli._render_freshness import print_freshness

__all__ = ["freshness"]


@app.command()
@friendly_errors
def freshness(
    as_of: Annotated[
        dt.date | None,
        date_option(
            "--as-of",
            help="Judge at this date by what the lake knew then (default: today, "
            "UTC, the lake as it stands).",
        ),
    ] = None,
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Write the report as JSON here."),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(help="Exit with status 1 when a required table is stale."),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Show each table's watermark and freshness, per table and department.

    The watermark is the latest ingested_at of a table's committed records
    known at the date; features/freshness.yaml gives each table's cadence and
    allowed lag. The freshness date is the latest date at which no required
    table is stale: `serve` serves it by default.
    """
    from credit_engine.freshness import lake_freshness

    report = lake_freshness(settings_for(home), as_of)
    print_freshness(report)
    if report_json is not None:
        write_json_report(report_json, report.to_dict())
    if check and report.stale_sources:
        raise typer.Exit(code=1)
