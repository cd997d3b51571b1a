"""``credit-engine db``: the operational store's schema revision (Alembic).

Every command migrates the store to the current schema when it opens it; these
commands show where a store stands and migrate it on purpose (e.g. before a
deployment, with a production ``CREDIT_ENGINE_DATABASE_URL``).
"""

from __future__ import annotations

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
)

__all__: list[str] = []

db_app = typer.Typer(
    help="The operational store's schema: migrate it, show its revision.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@friendly_errors
def upgrade(home: HomeOption = None) -> None:
    """Bring the store to the current schema (as every command does at start)."""
    from credit_engine.store import OperationalStore, current_revision, safe_url

    with OperationalStore.from_settings(settings_for(home)) as store:
        revision = current_revision(store.engine)
        console.print(f"{safe_url(store.url)}: at {revision} (head)")


@db_app.command("current")
@friendly_errors
def current(home: HomeOption = None) -> None:
    """Show the store's revision without changing anything."""
    from credit_engine.store import (
        OperationalStore,
        current_revision,
        head_revision,
        safe_url,
    )

    with OperationalStore(settings_for(home).database_url) as store:
        revision = current_revision(store.engine)
        where = safe_url(store.url)
    head = head_revision()
    if revision is None:
        state = "no revision (empty, or made by release 0.1.0)"
    elif revision == head:
        state = f"{revision} (head)"
    else:
        state = f"{revision}; head is {head}: run `credit-engine db upgrade`"
    console.print(f"{where}: {state}")


@db_app.command("history")
def history() -> None:
    """List the schema revisions, oldest first."""
    from credit_engine.store import revision_history

    # One line per revision, never wrapped inside a message: revision ids of
    # several words (0004_shadow_runs) left a table too narrow to read at 80
    # columns.
    for item in revision_history():
        console.print(
            f"[bold]{item.revision}[/] (follows {item.down_revision or '-'}): "
            f"{item.message}",
            soft_wrap=True,
            highlight=False,
        )
