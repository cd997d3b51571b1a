"""The model registry: MLflow tracking, registration, aliases and promotion.

This is the only package that imports MLflow. A model version is one pyfunc
(:class:`CreditRiskModel`) around a pickled
:class:`~credit_engine.modeling.RatingModel`. Training aliases it
``challenger``; :func:`promote` moves ``champion`` only when the spec's gates
pass, and every alias change is logged in the operational store's audit log
(kind ``model_promotion``) with who, when, why and the gates' results.
:func:`log_monitoring` logs a monitoring report against a version (a run of
its own, linked to the version's logged model); the ``min_shadow_days`` gate
judges the :class:`ShadowPeriod` the caller read from the store.
"""

from __future__ import annotations

from credit_engine.exceptions import ModelNotFoundError, PromotionRefusedError
from credit_engine.registry._aliases import (
    AliasChange,
    alias_history,
    alias_history_path,
    export_alias_history,
)
from credit_engine.registry._monitoring import (
    MONITORING_EXPERIMENT,
    MonitoringRun,
    log_monitoring,
    monitoring_runs,
    read_version_json,
)
from credit_engine.registry._promote import (
    OOT_ROWS_ARTIFACT,
    GateResult,
    PromotionResult,
    ShadowPeriod,
    promote,
)
from credit_engine.registry._pyfunc import CreditRiskModel
from credit_engine.registry._store import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    RegisteredVersion,
    alias_version,
    load_rating_model,
    mlflow_client,
    register_model,
    registered_versions,
    set_alias,
    version_run,
)

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "MONITORING_EXPERIMENT",
    "OOT_ROWS_ARTIFACT",
    "AliasChange",
    "CreditRiskModel",
    "GateResult",
    "LoadedModel",
    "ModelNotFoundError",
    "MonitoringRun",
    "PromotionRefusedError",
    "PromotionResult",
    "RegisteredVersion",
    "ShadowPeriod",
    "alias_history",
    "alias_history_path",
    "alias_version",
    "export_alias_history",
    "load_rating_model",
    "log_monitoring",
    "mlflow_client",
    "monitoring_runs",
    "promote",
    "read_version_json",
    "register_model",
    "registered_versions",
    "set_alias",
    "version_run",
]
