"""Command of early warning: evaluate the signals at a date and store the warnings."""

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
from credit_engine.cli._render_warnings import print_warning_run

__all__ = ["warnings"]


@app.command("warnings")
@friendly_errors
def warnings(
    as_of: Annotated[
        dt.date, date_option("--as-of", help="Evaluation date (YYYY-MM-DD).")
    ],
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Write the counts per signal as JSON here."),
    ] = None,
    top: Annotated[
        int, typer.Option(min=0, help="Print the N warnings of highest priority.")
    ] = 20,
    signals_version: Annotated[
        int | None,
        typer.Option(help="Version of models/warnings/signals (default: the latest)."),
    ] = None,
    actor: Annotated[str, typer.Option(help="Who runs it (audit log).")] = "cli",
    home: HomeOption = None,
) -> None:
    """Evaluate the early-warning signals at a date and store the warnings.

    Every signal of models/warnings/signals_v<N>.yaml is evaluated point in time
    for every enterprise; a warning already open for the same enterprise and
    signal is continued, not duplicated. Supervisors acknowledge and close them
    through the API (/v1/warnings).
    """
    from credit_engine.early_warning import WarningSetup, run_warnings

    settings = settings_for(home)
    setup = WarningSetup.load(settings, version=signals_version)
    run = run_warnings(settings, as_of, actor=actor, setup=setup)
    print_warning_run(run, top)
    if report_json is not None:
        write_json_report(report_json, run.summary())
