"""Commands of the decision layer: rate, migrations, override."""

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
from credit_engine.vocabulary import Engine

__all__ = ["migrations", "override", "rate"]


class Every(StrEnum):
    """How often ``rate --every`` rates between ``--from`` and ``--to``."""

    MONTH = "month"


def _rating_dates(
    as_of: list[dt.date] | None,
    every: Every | None,
    first: dt.date | None,
    last: dt.date | None,
) -> list[dt.date]:
    """Return the dates to rate: the ``--as-of`` values and a range's month ends."""
    from credit_engine.rating import month_ends_between

    dates = list(as_of or [])
    if every is not None or first is not None or last is not None:
        if every is None or first is None or last is None:
            raise typer.BadParameter(
                "rate a range with all three of --every month --from D1 --to D2",
                param_hint="--every/--from/--to",
            )
        dates += month_ends_between(first, last)
    if not dates:
        raise typer.BadParameter(
            "give a rating date (--as-of D, repeatable) or a range (--every month "
            "--from D1 --to D2)",
            param_hint="--as-of",
        )
    return sorted(set(dates))


@app.command()
@friendly_errors
def rate(  # noqa: PLR0913 - every option of the rating job
    as_of: Annotated[
        list[dt.date] | None,
        date_option("--as-of", help="Rating date (YYYY-MM-DD); repeat for several."),
    ] = None,
    every: Annotated[
        Every | None,
        typer.Option(help="Rate every month end between --from and --to."),
    ] = None,
    first: Annotated[
        dt.date | None, date_option("--from", help="First day of --every's range.")
    ] = None,
    last: Annotated[
        dt.date | None, date_option("--to", help="Last day of --every's range.")
    ] = None,
    shadow: Annotated[
        bool,
        typer.Option(
            help="Also rate with each model's challenger (and the champion of "
            "models the policy does not serve) and store those decisions as "
            "shadow runs: never served, compared and monitored."
        ),
    ] = False,
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
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="Where to compute features, statutory facts, model scores and "
            "decisions: duckdb (embedded) or spark (local or cluster; scoring on "
            "the executors; docs/scale-out.md). The run is stored the same way. "
            "Default: the settings' engine ($CREDIT_ENGINE_ENGINE, duckdb).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Rate every enterprise at a date (or several) and record the decisions.

    Statutory facts bound the tier first, then supervisor overrides, then the
    policy's rules, then the champion model's grade. Several dates (--as-of
    repeated, or --every month --from D1 --to D2) share one engine and one
    feature query per batch of dates: the way to give monitoring its monthly
    cohorts.
    """
    from credit_engine.cli._render_monitor import print_rating_runs, print_shadow_runs
    from credit_engine.pipeline import rate_dates, rate_enterprises

    dates = _rating_dates(as_of, every, first, last)
    settings = settings_for(home)
    if len(dates) == 1:
        result = rate_enterprises(
            settings, dates[0], policy=policy, policy_version=policy_version,
            actor=actor, shadow=shadow, progress=RichProgress(), engine=engine,
            keep_decisions=examples,  # the tables print from the summary
        )  # fmt: skip
        print_rating(result)
        print_shadow_runs(result)
        if examples:
            print_examples(result.decisions)
        if report_json is not None:
            payload = dict(result.summary)
            if result.shadow:
                payload["shadow"] = [s.to_json_dict() for s in result.shadow]
            write_json_report(report_json, payload)
        return
    results = rate_dates(
        settings, dates, policy=policy, policy_version=policy_version, actor=actor,
        shadow=shadow, progress=RichProgress(), engine=engine,
    )  # fmt: skip
    print_rating_runs(results)
    if report_json is not None:
        write_json_report(report_json, {"runs": [r.to_json_dict() for r in results]})


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
