"""Command ``ingest``: validate a batch, load good rows, quarantine the rest."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import HomeOption, app, friendly_errors, settings_for
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_records import print_ingest
from credit_engine.vocabulary import Engine

__all__ = ["ingest"]


@app.command()
@friendly_errors
def ingest(
    directory: Annotated[
        Path,
        typer.Argument(help="Folder with one file per table (or the mapped files)."),
    ],
    report_json: Annotated[
        Path | None, typer.Option(help="Also write the JSON report here.")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            help="Source mapping (YAML) for files in their own layout; see "
            "docs/bring-your-own-records.md. Check it first with "
            "`credit-engine mapping check`."
        ),
    ] = None,
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="Where to run: duckdb (embedded) or spark (local or cluster, "
            "docs/scale-out.md). Default: the settings' engine "
            "($CREDIT_ENGINE_ENGINE, duckdb).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Validate a batch with Great Expectations; load good rows, quarantine the rest.

    DIRECTORY holds one file per contract table, or (with --mapping) the files
    a source mapping names, in their own layout.
    """
    from credit_engine.pipeline import ingest_records

    settings = settings_for(home)
    report = ingest_records(
        settings,
        directory,
        report_json=report_json,
        mapping=mapping,
        progress=RichProgress(),
        engine=engine,
    )
    print_ingest(report)
