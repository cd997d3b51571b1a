"""Command ``features``: a point-in-time feature snapshot (or the feature reference)."""

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
    err_console,
    friendly_errors,
    settings_for,
)
from credit_engine.cli._dates import date_option
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_records import print_features
from credit_engine.vocabulary import Engine

__all__ = ["features"]


class KnownEnterprises(StrEnum):
    """Choices of ``--known-enterprises``."""

    AUTO = "auto"
    REGISTRATION = "registration"
    ANY_RECORD = "any_record"


@app.command()
@friendly_errors
def features(
    as_of: Annotated[
        list[dt.date] | None,
        date_option("--as-of", help="Rating date YYYY-MM-DD; repeat for several."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Snapshot Parquet file to write.")
    ] = None,
    feature_set: Annotated[
        str, typer.Option("--set", help="Feature set (features/sets).")
    ] = "credit_v1",
    markdown: Annotated[
        Path | None,
        typer.Option(help="Write the feature reference (docs/features.md) instead."),
    ] = None,
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="Where to compute: duckdb (embedded) or spark (local or cluster, "
            "docs/scale-out.md). Default: the settings' engine "
            "($CREDIT_ENGINE_ENGINE, duckdb).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    known_enterprises: Annotated[
        KnownEnterprises | None,
        typer.Option(
            help="How enterprises become known: from a registration record, from "
            "any record, or auto (registration; any record when the zone has no "
            "registration). Default: $CREDIT_ENGINE_KNOWN_ENTERPRISES or auto.",
            show_default=False,
        ),
    ] = None,
    fail_on_empty: Annotated[
        bool,
        typer.Option(
            help="Exit 1 if the snapshot is empty or a source of the set gives no "
            "record (the snapshot is still written)."
        ),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Build a point-in-time feature snapshot from the lake (or document the set).

    Warns when the snapshot is empty, when a source table of the set contributes
    no record, and when features are null for every enterprise.
    """
    settings = settings_for(home)
    if markdown is not None:
        from credit_engine.features import load_definitions
        from credit_engine.features._docs import render_features_markdown

        text = render_features_markdown(
            load_definitions(settings.definitions_dir), feature_set
        )
        markdown.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {markdown}")
        return
    if not as_of or out is None:
        raise typer.BadParameter("give --as-of (one or more) and --out")
    from credit_engine.pipeline import build_feature_snapshot

    snapshot = build_feature_snapshot(
        settings,
        sorted(set(as_of)),
        feature_set,
        out,
        known_enterprises=None
        if known_enterprises is None
        else known_enterprises.value,
        progress=RichProgress(),
        engine=engine,
    )
    print_features(snapshot)
    if fail_on_empty and snapshot.empty:
        err_console.print(
            "[bold red]--fail-on-empty[/]: the snapshot is empty or a source gave "
            "nothing (see the warnings above)."
        )
        raise typer.Exit(code=1)
