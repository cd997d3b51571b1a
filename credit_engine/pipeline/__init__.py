"""The main job as library calls: simulate, ingest, features, models, rate.

Each step is one function that prints nothing and returns a typed result;
:func:`run_demo` runs the seven steps on the default zone and returns a
:class:`DemoResult`, failures included as data. Callers that show progress pass
a :class:`PipelineProgress`; the CLI renders everything with Rich.

Importing this package is cheap: the packages doing the work (simulation,
features, training, registry, rating) are imported when a step runs.
"""

from __future__ import annotations

from credit_engine.pipeline._demo import (
    DEMO_COHORT_DATES,
    DEMO_FEATURE_DATES,
    DEMO_FEATURE_SET,
    DEMO_MONITOR_DATE,
    DEMO_RATING_DATES,
    DEMO_WINDOW,
    OnStep,
    rate_and_monitor,
    run_demo,
)
from credit_engine.pipeline._progress import PipelineProgress, SilentProgress
from credit_engine.pipeline._results import (
    DemoResult,
    DemoStep,
    FeatureSnapshot,
    MonitoringStep,
    PromotionOutcome,
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
    rate_dates,
    rate_enterprises,
    registered_model_names,
    simulate_records,
    simulation_config,
    train_models,
)

__all__ = [
    "DEMO_COHORT_DATES",
    "DEMO_FEATURE_DATES",
    "DEMO_FEATURE_SET",
    "DEMO_MONITOR_DATE",
    "DEMO_RATING_DATES",
    "DEMO_WINDOW",
    "DemoResult",
    "DemoStep",
    "FeatureSnapshot",
    "MonitoringStep",
    "OnStep",
    "PipelineProgress",
    "PromotionOutcome",
    "RatingOutcome",
    "SilentProgress",
    "StepPhase",
    "build_feature_snapshot",
    "check_ingestion",
    "ingest_records",
    "month_ends",
    "monitor_models",
    "promote_challenger",
    "rate_and_monitor",
    "rate_dates",
    "rate_enterprises",
    "registered_model_names",
    "run_demo",
    "simulate_records",
    "simulation_config",
    "train_models",
]
