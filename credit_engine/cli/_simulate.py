"""Command ``simulate``: write a synthetic zone's tables as Parquet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from credit_engine.cli._app import HomeOption, app, friendly_errors, settings_for
from credit_engine.cli._dates import date_option
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_records import print_simulation

__all__ = ["simulate"]


@app.command()
@friendly_errors
def simulate(
    enterprises: Annotated[
        int, typer.Option(help="Number of enterprises.", min=1)
    ] = 10_000,
    start: Annotated[
        dt.date, date_option(help="First simulated day, YYYY-MM-DD.")
    ] = dt.date(2023, 10, 1),
    end: Annotated[
        dt.date, date_option(help="Last simulated day (extract date).")
    ] = dt.date(2026, 9, 30),
    seed: Annotated[
        int, typer.Option(help="Random seed; same seed, same bytes.")
    ] = 20260401,
    dirty_rate: Annotated[
        float, typer.Option(help="Share of dirty rows per table.")
    ] = 0.01,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the tables. Default: HOME/zone/records"),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the latent truth. Default: OUT's sibling '<name>_truth'"
        ),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            help="Scenario to apply: a name in scenarios/ (e.g. refund_ring) or a "
            "YAML file; repeat for several."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Simulate a synthetic zone and write every contract's table as Parquet."""
    from credit_engine.pipeline import simulate_records, simulation_config

    settings = settings_for(home)
    config = simulation_config(
        enterprises=enterprises, start=start, end=end, seed=seed,
        dirty_rate=dirty_rate,
    )  # fmt: skip
    summary = simulate_records(
        settings, config, out=out, truth=truth, progress=RichProgress(),
        scenarios=tuple(scenario or ()),
    )  # fmt: skip
    print_simulation(summary)
