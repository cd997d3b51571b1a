"""The Typer app and what every command module shares: consoles, options, errors.

Each command module (``_simulate``, ``_ingest``, ...) declares its commands on
:data:`app`; ``credit_engine.cli`` imports them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from credit_engine import __version__
from credit_engine.config import Settings
from credit_engine.exceptions import CreditEngineError

__all__ = [
    "HomeOption",
    "app",
    "console",
    "err_console",
    "friendly_errors",
    "settings_for",
    "write_json_report",
]

app = typer.Typer(
    name="credit-engine",
    help="Credit rating and risk scoring for a cross-border e-commerce zone.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Engine home (lake, quarantine, reports, MLflow, database). "
        "Default: $CREDIT_ENGINE_HOME or ./.credit-engine",
        show_default=False,
    ),
]


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version.")
    ] = False,
) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()


def settings_for(home: Path | None) -> Settings:
    """Return the settings for ``--home`` (or the environment and defaults)."""
    return Settings(home=home) if home is not None else Settings()


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn engine errors into a clear message and exit code 2, not a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CreditEngineError as exc:
            # Escaped: messages quote names like credit-engine[spark] that
            # Rich would otherwise take for markup and drop.
            err_console.print(f"[bold red]error[/] ({exc.code}): {escape(exc.message)}")
            raise typer.Exit(code=2) from exc

    return wrapper


def write_json_report(path: Path, payload: Any) -> None:
    """Write a command's ``--report-json`` file (folders created) and say where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2), encoding="utf-8")
    console.print(f"report: {path}")
