"""The demo: the main job on the default zone, as one library call."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from credit_engine.pipeline._progress import PipelineProgress, SilentProgress
from credit_engine.pipeline._results import (
    DemoResult,
    DemoStep,
    MonitoringStep,
    RatingOutcome,
    StepPhase,
)
from credit_engine.pipeline._steps import (
    build_feature_snapshot,
    check_ingestion,
    ingest_records,
    monitor_models,
    month_ends,
    promote_challenger,
    registered_model_names,
    simulate_records,
    simulation_config,
    train_models,
)
from credit_engine.vocabulary import Engine

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pandas as pd

    from credit_engine.config import Settings
    from credit_engine.rating import RatingEngine, RatingResult
    from credit_engine.registry import LoadedModel

__all__ = [
    "DEMO_COHORT_DATES",
    "DEMO_FEATURE_DATES",
    "DEMO_FEATURE_SET",
    "DEMO_MONITOR_DATE",
    "DEMO_RATING_DATES",
    "DEMO_WINDOW",
    "OnStep",
    "rate_and_monitor",
    "run_demo",
]

DEMO_WINDOW = (dt.date(2023, 10, 1), dt.date(2026, 9, 30))
"""First and last simulated day of the default zone."""

DEMO_FEATURE_DATES = tuple(month_ends(dt.date(2024, 10, 31), 12))
"""The twelve monthly rating dates of the training snapshot (Oct 2024 - Sep 2025)."""

DEMO_FEATURE_SET = "credit_v1"
"""Feature set of the training snapshot."""

DEMO_RATING_DATES = (dt.date(2026, 3, 31), dt.date(2026, 6, 30))
"""Last day under customs Order 251, and a quarter into Order 282."""

DEMO_MONITOR_DATE = DEMO_WINDOW[1]
"""Date of the demo's monitoring report: the zone's last simulated day, when
the cohorts of the out-of-time dates (a year earlier) have matured."""

DEMO_COHORT_DATES = (*DEMO_FEATURE_DATES[-3:], DEMO_MONITOR_DATE)
"""Cohorts the monitoring step rates besides :data:`DEMO_RATING_DATES`: the
snapshot's three out-of-time dates (matured by :data:`DEMO_MONITOR_DATE`; rated
from the snapshot's features, no new query) and the monitoring date itself."""

_DIRTY_RATE = 0.01

OnStep = Callable[[DemoStep, StepPhase, DemoResult], None]
"""Called as ``on_step(step, phase, result)`` when a step starts and ends;
``result`` holds everything done so far."""


def _ignore(step: DemoStep, phase: StepPhase, result: DemoResult) -> None:
    """Default ``on_step``: nobody is watching."""


def run_demo(
    settings: Settings,
    *,
    enterprises: int = 10_000,
    seed: int = 20260401,
    models: bool = True,
    on_step: OnStep | None = None,
    progress: PipelineProgress | None = None,
    engine: Engine | str | None = None,
) -> DemoResult:
    """Run the main job on the default zone: simulate, ingest, features, ... monitor.

    1. Simulate ``enterprises`` enterprises over :data:`DEMO_WINDOW` into
       ``HOME/zone/records`` (truth in ``HOME/zone/records_truth``).
    2. Ingest them (JSON report ``HOME/reports/latest-ingest.json``) and check
       the ingestion against the dirty rows the simulator injected (unless the
       batch had been ingested before).
    3. Build the ``credit_v1`` snapshot at :data:`DEMO_FEATURE_DATES` into
       ``HOME/features/credit_v1_monthly.parquet``.
    4. Train every model spec (registered as challenger).
    5. Promote each challenger through its gates.
    6. If nothing failed, rate every enterprise at both
       :data:`DEMO_RATING_DATES` (one feature query; the models the policy does
       not serve in shadow) and count the tier migrations between them.
    7. Monitor: rate the cohorts :data:`DEMO_COHORT_DATES` the same way, then
       write the monitoring report at :data:`DEMO_MONITOR_DATE` and log it to
       MLflow against each champion.
    8. Raise the early warnings (``models/warnings``) on every enterprise at
       :data:`DEMO_MONITOR_DATE` and store them for the supervisors' queue.

    Steps 4-8 run only with ``models=True``. Failures of the self-check and
    refused promotions are returned in the result (see
    :attr:`DemoResult.ok` and :meth:`DemoResult.failures`); nothing is printed.
    Steps 6-8 are :func:`rate_and_monitor`.

    With ``engine`` ``spark``, the ingestion (step 2), the features (step 3)
    and the ratings (step 6, and the cohorts of step 7) are Spark jobs
    (:func:`ingest_records`, :func:`build_feature_snapshot`,
    :func:`~credit_engine.rating.rate_spark`); the other steps have no Spark
    form and run on this machine (:meth:`DemoStep.runs_on` says which).

    Parameters
    ----------
    settings : Settings
        Engine settings; everything is written under ``settings.home``.
    enterprises : int, default=10_000
        Enterprises in the zone.
    seed : int, default=20260401
        Seed of the simulation.
    models : bool, default=True
        Train, promote and rate after the features.
    on_step : callable, optional
        ``on_step(step, phase, result)`` at the start and end of each step run.
    progress : PipelineProgress, optional
        Progress of the long steps.
    engine : Engine or str, optional
        ``duckdb`` or ``spark`` (default: ``settings.engine``).

    Returns
    -------
    DemoResult
        The typed result of every step run.

    Raises
    ------
    CreditEngineError
        If a step cannot run at all (bad settings, definitions, lake, ...).
    EngineUnavailableError
        If Spark is asked for and cannot run (pyspark or Java missing).
    """
    from credit_engine.engines import resolve_engine

    notify = on_step or _ignore
    shown = progress or SilentProgress()
    result = DemoResult(engine=resolve_engine(engine, settings.engine))

    notify(DemoStep.SIMULATE, StepPhase.STARTED, result)
    start, end = DEMO_WINDOW
    config = simulation_config(
        enterprises=enterprises, start=start, end=end, seed=seed,
        dirty_rate=_DIRTY_RATE,
    )  # fmt: skip
    records = settings.home / "zone" / "records"
    result.simulation = simulate_records(settings, config, out=records, progress=shown)
    notify(DemoStep.SIMULATE, StepPhase.FINISHED, result)

    notify(DemoStep.INGEST, StepPhase.STARTED, result)
    result.ingest = ingest_records(
        settings, records, report_json=settings.reports_dir / "latest-ingest.json",
        progress=shown, engine=result.engine,
    )  # fmt: skip
    if not result.ingest.already_ingested:
        result.self_check = check_ingestion(
            settings, result.simulation.truth_dir, result.ingest
        )
    notify(DemoStep.INGEST, StepPhase.FINISHED, result)

    notify(DemoStep.FEATURES, StepPhase.STARTED, result)
    snapshot = settings.home / "features" / f"{DEMO_FEATURE_SET}_monthly.parquet"
    result.features = build_feature_snapshot(
        settings, list(DEMO_FEATURE_DATES), DEMO_FEATURE_SET, snapshot,
        progress=shown, engine=result.engine,
    )  # fmt: skip
    notify(DemoStep.FEATURES, StepPhase.FINISHED, result)
    if not models:
        return result

    from credit_engine.training import model_spec_names

    notify(DemoStep.TRAIN, StepPhase.STARTED, result)
    names = model_spec_names(settings.definitions_dir / "models")
    result.trained = train_models(settings, names, snapshot, progress=shown)
    notify(DemoStep.TRAIN, StepPhase.FINISHED, result)

    notify(DemoStep.PROMOTE, StepPhase.STARTED, result)
    result.promotions = [
        promote_challenger(settings, t.registered.name, reason="demo: retrained")
        for t in result.trained
    ]
    notify(DemoStep.PROMOTE, StepPhase.FINISHED, result)
    if not result.ok:
        return result

    return rate_and_monitor(settings, result, on_step=notify, progress=shown)


def rate_and_monitor(
    settings: Settings,
    result: DemoResult,
    *,
    on_step: OnStep | None = None,
    progress: PipelineProgress | None = None,
) -> DemoResult:
    """Run the demo's steps 6-8 on a home whose champions are promoted.

    6. Rate every enterprise at both :data:`DEMO_RATING_DATES` (the models
       the policy does not serve in shadow) and count the tier migrations.
    7. Rate the cohorts :data:`DEMO_COHORT_DATES` the same way (from the
       snapshot's features when ``result.features`` holds them, on DuckDB),
       write the monitoring report at :data:`DEMO_MONITOR_DATE` and log it to
       MLflow against each champion.
    8. Raise and store the early warnings at :data:`DEMO_MONITOR_DATE`.

    On Spark (``result.engine``) each rating is one
    :func:`~credit_engine.rating.rate_spark`; the monitoring report and the
    warnings run on DuckDB (no Spark form).

    Parameters
    ----------
    settings : Settings
        Engine settings (lake, registry with champions, store).
    result : DemoResult
        The demo so far (its ``engine`` and ``features``); filled and returned.
    on_step : callable, optional
        ``on_step(step, phase, result)`` at the start and end of each step.
    progress : PipelineProgress, optional
        Progress of the ratings.

    Returns
    -------
    DemoResult
        ``result``, with ``rating``, ``monitoring`` and ``warnings`` set.
    """
    from credit_engine.rating import RatingEngine

    notify = on_step or _ignore
    shown = progress or SilentProgress()
    spark = None
    if result.engine is Engine.SPARK:
        from credit_engine.engines import spark_session

        spark = spark_session(settings)

    notify(DemoStep.RATE, StepPhase.STARTED, result)
    with shown.rating() as say:
        engine = RatingEngine(settings)
        shadow = engine.shadow_models(registered_model_names(settings))
        result.rating = _rate_twice(engine, shadow, say, spark)
    notify(DemoStep.RATE, StepPhase.FINISHED, result)

    notify(DemoStep.MONITOR, StepPhase.STARTED, result)
    with shown.rating() as say:
        cohorts = _rate(
            engine, DEMO_COHORT_DATES, shadow=shadow, spark=spark, say=say,
            features=_snapshot_frame(result), keep_features=True,
        )  # fmt: skip
    outcome = monitor_models(settings, DEMO_MONITOR_DATE, features=cohorts[-1].features)
    for cohort in cohorts:  # the report holds what is needed; free the memory
        cohort.features = None
    result.monitoring = MonitoringStep(cohorts=cohorts, outcome=outcome)
    notify(DemoStep.MONITOR, StepPhase.FINISHED, result)

    from credit_engine.early_warning import run_warnings

    notify(DemoStep.WARN, StepPhase.STARTED, result)
    result.warnings = run_warnings(settings, DEMO_MONITOR_DATE, actor="demo")
    notify(DemoStep.WARN, StepPhase.FINISHED, result)
    return result


def _rate(  # noqa: PLR0913 -- the options of rate_dates
    engine: RatingEngine,
    dates: Sequence[dt.date],
    *,
    shadow: list[LoadedModel],
    spark: Any,
    say: Callable[[str], None],
    features: pd.DataFrame | None = None,
    keep_decisions: bool = False,
    keep_features: bool = False,
) -> list[RatingResult]:
    """Rate at each date, oldest first: on DuckDB, or on Spark if ``spark``.

    On Spark each date is one Spark rating; ``features`` and
    ``keep_features`` are DuckDB's (the Spark results hold no feature rows).
    """
    from credit_engine.rating import rate_dates as rating_dates

    if spark is None:
        return rating_dates(
            engine, dates, actor="demo", shadow=shadow, features=features,
            keep_decisions=keep_decisions, keep_features=keep_features, progress=say,
        )  # fmt: skip
    from credit_engine.rating import rate_spark

    return [
        rate_spark(
            engine,
            spark,
            day,
            actor="demo",
            shadow=shadow,
            keep_decisions=keep_decisions,
            progress=say,
        )  # fmt: skip
        for day in sorted(set(dates))
    ]


def _snapshot_frame(result: DemoResult) -> pd.DataFrame | None:
    return None if result.features is None else result.features.frame


def _rate_twice(
    engine: RatingEngine,
    shadow: list[LoadedModel],
    say: Callable[[str], None],
    spark: Any = None,
) -> RatingOutcome:
    """Step 6: rate at both demo dates; count the migrations between them."""
    first_date, last_date = DEMO_RATING_DATES
    first, last = _rate(
        engine, DEMO_RATING_DATES, shadow=shadow, spark=spark, say=say,
        keep_decisions=True,
    )  # fmt: skip
    matrix = engine.store.migration_matrix(first_date, last_date)
    return RatingOutcome(
        first_date=first_date, last_date=last_date, first=first, last=last,
        migrations=matrix,
    )  # fmt: skip
