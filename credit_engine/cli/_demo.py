"""Command ``demo``: the main job on the default zone, rendered step by step.

The work is :func:`credit_engine.pipeline.run_demo`; this module only shows its
steps as they start and end, and exits 1 when the self-check failed or a
challenger was not promoted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    err_console,
    friendly_errors,
    settings_for,
)
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_models import print_gates, print_promoted, print_training
from credit_engine.cli._render_monitor import (
    light,
    print_findings,
    print_rating_runs,
    print_shadow_agreement,
)
from credit_engine.cli._render_rating import (
    print_examples,
    print_migrations,
    print_rating,
)
from credit_engine.cli._render_records import (
    print_features,
    print_ingest,
    print_self_check,
    print_simulation,
)
from credit_engine.cli._render_warnings import print_warning_run
from credit_engine.pipeline import DemoResult, DemoStep, StepPhase
from credit_engine.vocabulary import Engine

__all__ = ["demo"]


@app.command()
@friendly_errors
def demo(
    enterprises: Annotated[
        int, typer.Option(help="Enterprises in the demo zone.", min=1)
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20260401,
    models: Annotated[
        bool,
        typer.Option(
            help="Train, validate and promote the models after the features "
            "(--no-models stops after the features)."
        ),
    ] = True,
    engine: Annotated[
        Engine | None,
        typer.Option(
            "--engine",
            help="Where ingestion, features and ratings run: duckdb (embedded) or "
            "spark (local or cluster; docs/scale-out.md). Simulation, training, "
            "promotion, the monitoring report and the early warnings have no "
            "Spark form and run on this machine either way. Default: the "
            "settings' engine ($CREDIT_ENGINE_ENGINE, duckdb).",
            case_sensitive=False,
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Run the main job on the default zone: simulate, ingest, features, models, rate.

    The rating step rates every enterprise on the last day under customs Order
    251 (2026-03-31) and a quarter later under Order 282 (2026-06-30), then
    prints the tier distribution, the migration matrix and three decisions. The
    monitoring step rates the cohorts monitoring needs and prints the monitoring
    status of each model and the worst items of the report; the last step
    raises the early warnings and prints the most urgent ones. With --engine
    spark each step says where it runs.
    """
    from credit_engine.engines import resolve_engine
    from credit_engine.pipeline import run_demo

    settings = settings_for(home)
    chosen = resolve_engine(engine, settings.engine)
    if chosen is Engine.SPARK:
        console.print(
            "engine spark: ingestion, features and ratings run on Spark "
            f"({settings.spark_connect_url or settings.spark_master}); the other "
            "steps have no Spark form and run on this machine"
        )
    started = time.perf_counter()
    result = run_demo(
        settings, enterprises=enterprises, seed=seed, models=models,
        on_step=show_step, progress=RichProgress(), engine=chosen,
    )  # fmt: skip
    console.print(
        f"demo finished in {time.perf_counter() - started:.0f} s; "
        f"engine home: {settings.home}"
    )
    if not result.ok:
        raise typer.Exit(code=1)


def show_step(step: DemoStep, phase: StepPhase, result: DemoResult) -> None:
    """Announce a step when it starts; print what it did when it ends."""
    if phase is StepPhase.STARTED:
        console.rule(f"[bold]{step.value}/{len(DemoStep)} {step.title}")
        if result.engine is Engine.SPARK:
            console.print(f"runs on: {step.runs_on(result.engine)}")
    else:
        _SHOW[step](result)


def _show_simulation(result: DemoResult) -> None:
    assert result.simulation is not None
    print_simulation(result.simulation)


def _show_ingestion(result: DemoResult) -> None:
    assert result.ingest is not None
    print_ingest(result.ingest)
    if result.self_check is not None:
        print_self_check(result.self_check)


def _show_features(result: DemoResult) -> None:
    assert result.features is not None
    print_features(result.features)


def _show_training(result: DemoResult) -> None:
    print_training(result.trained)


def _show_promotions(result: DemoResult) -> None:
    for outcome in result.promotions:
        if outcome.result is not None:
            print_gates(outcome.result)
        if outcome.error is not None:
            err_console.print(f"[bold red]not promoted[/]: {outcome.error.message}")
        elif outcome.result is not None:
            print_promoted(outcome.result)


def _show_rating(result: DemoResult) -> None:
    rating = result.rating
    assert rating is not None
    print_rating(rating.last)
    print_migrations(rating.migrations, rating.first_date, rating.last_date)
    print_examples(rating.last.decisions)


def _show_monitoring(result: DemoResult) -> None:
    step = result.monitoring
    assert step is not None
    print_rating_runs(step.cohorts)
    report = step.outcome.report
    for key, m in report.models.items():
        parts = " ".join(
            f"{part} {light(value, ' ')}" for part, value in m.lights.items()
        )
        console.print(f"{light(m.status)} {key} ({m.role} v{m.version}): {parts}")
        if m.shadow is not None:
            print_shadow_agreement(key, m.shadow, limit=3)
    print_findings(step.outcome.findings(5), title="Top monitoring warnings")
    console.print(
        f"monitoring status at {report.as_of}: {light(report.status)}; "
        f"report: {step.outcome.files.get('html')}"
    )


def _show_warnings(result: DemoResult) -> None:
    run = result.warnings
    assert run is not None
    print_warning_run(run, _TOP_WARNINGS)
    monitoring = result.monitoring
    status = "" if monitoring is None else light(monitoring.outcome.report.status)
    console.print(
        f"monitoring status {status}; {len(run.evaluation.warnings):,} early "
        f"warnings at {run.evaluation.as_of}: open them in the console "
        "(/console/warnings) or with GET /v1/warnings"
    )


_TOP_WARNINGS = 10
"""Warnings of highest priority the demo prints."""

_SHOW: dict[DemoStep, Callable[[DemoResult], None]] = {
    DemoStep.SIMULATE: _show_simulation,
    DemoStep.INGEST: _show_ingestion,
    DemoStep.FEATURES: _show_features,
    DemoStep.TRAIN: _show_training,
    DemoStep.PROMOTE: _show_promotions,
    DemoStep.RATE: _show_rating,
    DemoStep.MONITOR: _show_monitoring,
    DemoStep.WARN: _show_warnings,
}
