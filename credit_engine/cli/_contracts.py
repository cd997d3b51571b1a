"""Command ``contracts``: list the record contracts and check that they load."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
)

__all__ = ["contracts"]


@app.command()
@friendly_errors
def contracts(
    markdown: Annotated[
        Path | None,
        typer.Option(help="Also write the Markdown reference (docs/contracts.md)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """List the record contracts (features/sources) and check that they load."""
    from credit_engine.data import load_contracts
    from credit_engine.data._contract_docs import render_contracts_markdown

    settings = settings_for(home)
    loaded = load_contracts(settings.sources_dir)
    table = Table(title=f"Record contracts in {settings.sources_dir}")
    for col in ("table", "department", "kind", "columns", "title"):
        table.add_column(col)
    for c in loaded.values():
        table.add_row(
            c.name, c.department.value, c.kind.value, str(len(c.columns)), c.title
        )
    console.print(table)
    if markdown is not None:
        markdown.write_text(render_contracts_markdown(loaded) + "\n", encoding="utf-8")
        console.print(f"wrote {markdown}")
