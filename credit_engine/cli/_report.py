"""``credit-engine report``: reports for people; ``report zone`` is the zone statistics.

``report zone`` writes the statistical-monitoring report (统计监测) of the zone:
``zone_report.html`` (charts and tables), ``zone_report.json`` and one CSV per
table (small cells blanked for sharing). The work is
:func:`credit_engine.zone_statistics.zone_report_from_settings`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.cli._dates import date_option
from credit_engine.cli._render_report import print_zone_report, zone_progress

__all__ = ["report_app"]

report_app = typer.Typer(
    help="Reports for zone supervisors: the zone statistics (统计监测).",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")


class PeriodLength(StrEnum):
    """The period lengths of ``report zone``."""

    MONTH = "month"
    QUARTER = "quarter"


@report_app.command("zone")
@friendly_errors
def zone(  # noqa: PLR0913 - one option per setting of the report
    from_date: Annotated[
        dt.date, date_option("--from", help="First day of the report (YYYY-MM-DD).")
    ],
    to_date: Annotated[
        dt.date, date_option("--to", help="Last day of the report (YYYY-MM-DD).")
    ],
    period: Annotated[
        PeriodLength, typer.Option(help="Period length of the figures.")
    ] = PeriodLength.MONTH,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Folder for zone_report.html, zone_report.json and csv/. "
            "Default: <home>/reports/zone/<from>_<to>_<period>.",
            show_default=False,
        ),
    ] = None,
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Also write the report's JSON here."),
    ] = None,
    known_at: Annotated[
        dt.date | None,
        date_option(
            "--known-at",
            help="Knowledge cutoff: count what was known by the end of this day "
            "(UTC). Default: today.",
            show_default=False,
        ),
    ] = None,
    min_cell: Annotated[
        int,
        typer.Option(
            "--min-cell",
            min=0,
            help="CSV files blank figures resting on fewer enterprises than this "
            "(0: keep all). The HTML and JSON are exact (INTERNAL).",
        ),
    ] = 5,
    home: HomeOption = None,
) -> None:
    """Zone statistics per month or quarter: enterprises, declarations, tiers.

    Enterprises by district (USCC characters 3-8), CBEC role and department;
    declarations and values by supervision mode, direction, district and role;
    export refunds and FX; tiers, green channel, joint punishments, deciding
    layer, overrides and tier migrations from the stored ratings; early
    warnings raised and closed. Point in time: the report counts what was
    known by the end of --known-at and says so.
    """
    from credit_engine.zone_statistics import (
        BUILD_STEPS,
        load_reference,
        report_payload,
        write_zone_report,
        zone_report_from_settings,
    )

    settings = settings_for(home)
    with zone_progress(BUILD_STEPS) as done:
        report = zone_report_from_settings(
            settings,
            start=from_date,
            end=to_date,
            period=period.value,
            knowledge_date=known_at,
            progress=done,
        )
    folder = out or (
        settings.reports_dir / "zone" / f"{from_date}_{to_date}_{period.value}"
    )
    paths = write_zone_report(
        report,
        folder,
        reference=load_reference(settings.definitions_dir),
        min_cell=min_cell,
    )
    print_zone_report(report)
    console.print(f"report: {paths['html']}")
    console.print(f"json:   {paths['json']}")
    console.print(f"csv:    {paths['csv']}/ ({len(report.tables())} tables)")
    if report_json is not None:
        write_json_report(report_json, report_payload(report, min_cell=min_cell))
