"""Training orchestration: labels, splits, fitting, validation and registration.

:func:`train_spec` reads a feature snapshot, keeps the rated population, attaches
12-month outcome labels (``_labels`` is the only code that looks past
``as_of``), splits out of time by rating date, fits the spec's model family,
fits its master scale, validates it and registers it as ``challenger``.
:func:`cross_validate_labels` evaluates the families on labels a user brings
(:func:`encode_target` reads the target, :func:`plan_columns` a plain table's
columns).
"""

from __future__ import annotations

from credit_engine.training._columns import ColumnPlan, plan_columns
from credit_engine.training._dataset import (
    ModellingTable,
    build_modelling_table,
    read_snapshot,
)
from credit_engine.training._evaluate import (
    EvaluationResult,
    cross_validate_labels,
    fit_and_rate,
    target_kind,
)
from credit_engine.training._fit import FittedModel, fit_and_validate, make_estimator
from credit_engine.training._labels import attach_labels
from credit_engine.training._outcomes import cohort_outcomes, outcome_observation_end
from credit_engine.training._spec import (
    EventRule,
    GateSpec,
    LabelSpec,
    ModelSpec,
    TuningSpec,
    load_model_spec,
    model_spec_names,
)
from credit_engine.training._splits import out_of_time_mask
from credit_engine.training._targets import TargetEncoding, encode_target
from credit_engine.training._train import (
    FEATURE_REFERENCES_KEY,
    VALIDATION_JSON_ARTIFACT,
    TrainedModel,
    default_snapshot_path,
    git_sha,
    train_spec,
)

__all__ = [
    "FEATURE_REFERENCES_KEY",
    "VALIDATION_JSON_ARTIFACT",
    "ColumnPlan",
    "EvaluationResult",
    "EventRule",
    "FittedModel",
    "GateSpec",
    "LabelSpec",
    "ModelSpec",
    "ModellingTable",
    "TargetEncoding",
    "TrainedModel",
    "TuningSpec",
    "attach_labels",
    "build_modelling_table",
    "cohort_outcomes",
    "cross_validate_labels",
    "default_snapshot_path",
    "encode_target",
    "fit_and_rate",
    "fit_and_validate",
    "git_sha",
    "load_model_spec",
    "make_estimator",
    "model_spec_names",
    "out_of_time_mask",
    "outcome_observation_end",
    "plan_columns",
    "read_snapshot",
    "target_kind",
    "train_spec",
]
