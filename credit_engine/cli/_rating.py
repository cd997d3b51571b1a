"""Commands of the decision layer: rate, migrations, override."""

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
    write_json_report,
)
from credit_engine.cli._dates import date_option
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_rating import (
    print_examples,
    print_migrations,
    print_rating,
)

__all__ = ["migrations", "override", "rate"]


@app.command()
@friendly_errors
def rate(
    as_of: Annotated[dt.date, date_option("--as-of", help="Rating date (YYYY-MM-DD).")],
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Write the run's figures as JSON here."),
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Policy name (models/policies).")
    ] = "zone",
    policy_version: Annotated[
        int | None, typer.Option(help="Policy version (default: the latest).")
    ] = None,
    examples: Annotated[
        bool, typer.Option(help="Print three example decisions with reasons.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who runs the rating (recorded).")] = "cli",
    home: HomeOption = None,
) -> None:
    """Rate every enterprise at a date and record the decisions.

    Statutory facts bound the tier first, then supervisor overrides, then the
    policy's rules, then the champion model's grade.
    """
    from credit_engine.pipeline import rate_enterprises

    settings = settings_for(home)
    result = rate_enterprises(
        settings, as_of, policy=policy, policy_version=policy_version, actor=actor,
        progress=RichProgress(),
    )  # fmt: skip
    print_rating(result)
    if examples:
        print_examples(result.decisions)
    if report_json is not None:
        write_json_report(report_json, result.summary)


@app.command()
@friendly_errors
def migrations(
    from_date: Annotated[dt.date, date_option("--from", help="Earlier rating date.")],
    to_date: Annotated[dt.date, date_option("--to", help="Later rating date.")],
    home: HomeOption = None,
) -> None:
    """Print the tier migration matrix between two rating dates."""
    from credit_engine.store import OperationalStore

    store = OperationalStore.from_settings(settings_for(home))
    matrix = store.migration_matrix(from_date, to_date)
    print_migrations(matrix, from_date, to_date)


@app.command()
@friendly_errors
def override(
    uscc: Annotated[str, typer.Option(help="Enterprise (USCC).")],
    tier: Annotated[str, typer.Option(help="Tier to apply: A, B, C or D.")],
    reason: Annotated[str, typer.Option(help="Why (recorded and shown as a reason).")],
    actor: Annotated[str, typer.Option(help="Supervisor recording the override.")],
    effective_from: Annotated[
        dt.date | None, date_option("--from", help="First day (default today).")
    ] = None,
    effective_to: Annotated[
        dt.date | None, date_option("--to", help="Day it stops (exclusive).")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Record a supervisor override; statutory bounds still apply over it.

    The override and its audit-log entry are written in one transaction.
    """
    from credit_engine.audit import AuditLog, record_override
    from credit_engine.store import OperationalStore

    store = OperationalStore.from_settings(settings_for(home))
    start = effective_from or dt.datetime.now(dt.UTC).date()
    new_id, entry = record_override(
        AuditLog(store), uscc, tier.upper(), reason, actor, start, effective_to
    )
    console.print(
        f"override {new_id} recorded: {uscc} → tier {tier.upper()} from {start} "
        f"(audit entry {entry.seq}); it applies from the next rating run"
    )
