"""``credit-engine monitor``: the model monitoring report at a date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import HomeOption, app, friendly_errors, settings_for
from credit_engine.cli._dates import date_option

__all__ = ["monitor"]


@app.command()
@friendly_errors
def monitor(
    as_of: Annotated[dt.date, date_option("--as-of", help="Report date (YYYY-MM-DD).")],
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Also write the report's JSON here."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder of monitoring.html and monitoring.json. Default: "
            "HOME/reports/monitoring/<as_of>/",
        ),
    ] = None,
    cohorts: Annotated[
        int, typer.Option(help="Latest rating dates monitored per model.", min=1)
    ] = 24,
    log: Annotated[
        bool,
        typer.Option(help="Log the report to MLflow against each champion."),
    ] = True,
    home: HomeOption = None,
) -> None:
    """Monitor every model's champion and challenger; write the HTML and JSON report.

    Stability against the frozen development distributions (score and grade
    PSI, CSI per feature), back-tests of the cohorts whose outcome horizon has
    passed, performance estimated for the others, AUC against initial
    validation, concentration, migrations, shadow tier agreement, overrides
    and data freshness, each with a traffic light (models/monitoring/
    thresholds.yaml). Exit status: 0 when the report is green or amber, 1 when
    it is red (for schedulers to alert on), 2 when the run fails.
    """
    from credit_engine.cli._render_monitor import print_monitoring
    from credit_engine.watch import EXIT_RED
    from credit_engine.watch import monitor as run_monitor

    settings = settings_for(home)
    outcome = run_monitor(
        settings, as_of, cohorts=cohorts, out=out, report_json=report_json, log=log
    )
    print_monitoring(outcome)
    if outcome.status == "red":
        raise typer.Exit(code=EXIT_RED)
