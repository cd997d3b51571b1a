"""Commands of the API: serve it, write its OpenAPI document."""

from __future__ import annotations

import datetime as dt
import json
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

__all__ = ["openapi_document"]


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
        date_option("--as-of", help="Serving date (default: today at each load)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    home: HomeOption = None,
) -> None:
    """Serve the scoring and supervision API (FastAPI on uvicorn, one process).

    The champion of the model the policy names is loaded at start; every
    enterprise is rated at the serving date so that a request only decides.
    """
    import uvicorn

    from credit_engine.api import create_app

    settings = settings_for(home)
    application = create_app(settings, as_of=as_of)
    console.print(
        f"serving on http://{host}:{port} (docs at /docs); engine home {settings.home}"
    )
    uvicorn.run(
        application, host=host, port=port, log_level=log_level, access_log=False
    )


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
