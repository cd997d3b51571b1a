"""Commands of the API: serve it, write its OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
import logging
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
from credit_engine.config import Settings

__all__ = ["openapi_document"]

_LOG_FORMAT = "%(levelname)s:     %(name)s %(message)s"
"""Like uvicorn's own lines."""


def openapi_document(home: Path | None = None) -> str:
    """Return the app's OpenAPI document as committed in ``api/openapi.json``."""
    import tempfile

    from credit_engine.api import create_app
    from credit_engine.store import OperationalStore

    settings = settings_for(home)
    with tempfile.TemporaryDirectory() as tmp:
        store = OperationalStore(f"sqlite:///{Path(tmp) / 'schema.db'}")
        store.create_schema()
        try:
            schema = create_app(settings, store=store, load_on_start=False).openapi()
        finally:
            store.dispose()
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@app.command()
@friendly_errors
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    as_of: Annotated[
        dt.date | None,
        date_option(
            "--as-of",
            help="Serving date (default: the lake's freshness date at each load, "
            "the latest date no required source is stale; today if earlier).",
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    home: HomeOption = None,
) -> None:
    """Serve the scoring and supervision API (FastAPI on uvicorn, one process).

    The champion of the model the policy names is loaded at start; every
    enterprise is rated at the serving date so that a request only decides.
    Without --as-of the serving date is the lake's freshness date, not the
    wall clock: decisions never rest on a stale source unless asked for.
    """
    import uvicorn

    from credit_engine.api import create_app

    settings = settings_for(home)
    _say_serving_date(settings, as_of)
    _log_to_console(log_level)
    application = create_app(settings, as_of=as_of)
    console.print(
        f"serving on http://{host}:{port} (docs at /docs); engine home {settings.home}"
    )
    uvicorn.run(
        application, host=host, port=port, log_level=log_level, access_log=False
    )


def _say_serving_date(settings: Settings, as_of: dt.date | None) -> None:
    """Print which date is served and why; warn about stale sources then."""
    from credit_engine.data import Lake, load_contracts
    from credit_engine.freshness import (
        assess_freshness,
        default_serving_date,
        lake_watermarks,
        load_freshness_policy,
    )

    contracts = load_contracts(settings.sources_dir)
    policy = load_freshness_policy(settings.definitions_dir, contracts)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    today = dt.datetime.now(dt.UTC).date()
    marks = lake_watermarks(lake, contracts)
    if as_of is None:
        day, why = default_serving_date(marks, policy, today)
        console.print(f"serving {day}: {why}; pass --as-of to choose")
        return
    console.print(f"serving {as_of}: the date asked for (--as-of)")
    report = assess_freshness(lake_watermarks(lake, contracts, as_of), policy, as_of)
    if report.stale_sources:
        console.print(
            f"[bold yellow]warning[/]: {as_of} is after the lake's freshness date "
            f"{report.freshness_date}; every decision served is marked with its "
            f"{len(report.stale_sources)} stale source(s) (listed in the log below)"
        )


def _log_to_console(level: str) -> None:
    """Show the service's own log lines (serving date, stale sources) at start."""
    logger = logging.getLogger("credit_engine")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(
            logging.Formatter("%(levelname)s:     %(name)s %(message)s")
        )
        logger.addHandler(handler)
    known = logging.getLevelNamesMapping()
    logger.setLevel(level.upper() if level.upper() in known else "INFO")


@app.command()
@friendly_errors
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write the document.")] = Path(
        "api/openapi.json"
    ),
    home: HomeOption = None,
) -> None:
    """Write the API's OpenAPI document (committed as api/openapi.json)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(openapi_document(home), encoding="utf-8")
    console.print(f"OpenAPI document: {out}")
