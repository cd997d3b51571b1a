"""Command ``features``: a point-in-time feature snapshot (or the feature reference)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
)
from credit_engine.cli._dates import date_option
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_records import print_features
from credit_engine.vocabulary import Engine

__all__ = ["features"]


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
    home: HomeOption = None,
) -> None:
    """Build a point-in-time feature snapshot from the lake (or document the set)."""
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
        progress=RichProgress(),
        engine=engine,
    )
    print_features(snapshot)
