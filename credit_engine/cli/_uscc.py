"""Command ``uscc``: check Unified Social Credit Codes (GB 32100-2015)."""

from __future__ import annotations

from typing import Annotated

import typer

from credit_engine.cli._app import app, console

__all__ = ["uscc"]


@app.command()
def uscc(codes: Annotated[list[str], typer.Argument(help="Codes to check.")]) -> None:
    """Check Unified Social Credit Codes (GB 32100-2015); exit 1 if any is invalid."""
    from credit_engine.uscc import uscc_problem

    bad = 0
    for code in codes:
        problem = uscc_problem(code)
        if problem is None:
            console.print(f"[green]valid[/]   {code}")
        else:
            bad += 1
            console.print(f"[red]invalid[/] {problem}")
    if bad:
        raise typer.Exit(code=1)
