"""``credit-engine db``: the operational store's schema revision (Alembic).

Self-contained on purpose: :func:`register` adds the ``db`` group to any Typer
app, so the command modules can be reorganised without touching it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from credit_engine.config import Settings
from credit_engine.exceptions import CreditEngineError

__all__ = ["register"]

_HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Engine home (the default database lives there). "
        "Default: $CREDIT_ENGINE_HOME or ./.credit-engine",
        show_default=False,
    ),
]


def _settings(home: Path | None) -> Settings:
    return Settings(home=home) if home is not None else Settings()


def _fail(exc: CreditEngineError) -> typer.Exit:
    Console(stderr=True).print(f"[bold red]error[/] ({exc.code}): {exc.message}")
    return typer.Exit(code=2)


def register(app: typer.Typer) -> None:
    """Add the ``db`` command group (``upgrade``, ``current``, ``history``) to ``app``.

    Parameters
    ----------
    app : typer.Typer
        The ``credit-engine`` application.
    """
    db_app = typer.Typer(
        help="The operational store's schema: migrate it, show its revision.",
        no_args_is_help=True,
    )

    @db_app.command("upgrade")
    def upgrade(home: _HomeOption = None) -> None:
        """Bring the store to the current schema (as every command does at start)."""
        from credit_engine.store import OperationalStore, current_revision

        try:
            with OperationalStore.from_settings(_settings(home)) as store:
                revision = current_revision(store.engine)
                Console().print(f"{store.url.render_as_string()}: at {revision} (head)")
        except CreditEngineError as exc:
            raise _fail(exc) from exc

    @db_app.command("current")
    def current(home: _HomeOption = None) -> None:
        """Show the store's revision without changing anything."""
        from credit_engine.store import (
            OperationalStore,
            current_revision,
            head_revision,
        )

        try:
            with OperationalStore(_settings(home).database_url) as store:
                revision = current_revision(store.engine)
                where = store.url.render_as_string()
        except CreditEngineError as exc:
            raise _fail(exc) from exc
        head = head_revision()
        if revision is None:
            state = "no revision (empty, or made by release 0.1.0)"
        elif revision == head:
            state = f"{revision} (head)"
        else:
            state = f"{revision}; head is {head}: run `credit-engine db upgrade`"
        Console().print(f"{where}: {state}")

    @db_app.command("history")
    def history() -> None:
        """List the schema revisions, oldest first."""
        from credit_engine.store import revision_history

        table = Table("revision", "follows", "what it does")
        for item in revision_history():
            table.add_row(item.revision, item.down_revision or "-", item.message)
        Console().print(table)

    app.add_typer(db_app, name="db")
