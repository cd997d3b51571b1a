"""The model registry: MLflow tracking, registration, aliases and promotion.

This is the only package that imports MLflow. A model version is one pyfunc
(:class:`CreditRiskModel`) around a pickled
:class:`~credit_engine.modeling.RatingModel`. Training aliases it
``challenger``; :func:`promote` moves ``champion`` only when the spec's gates
pass, and every alias change is logged in the operational store's audit log
(kind ``model_promotion``) with who, when, why and the gates' results.
"""

from __future__ import annotations

from credit_engine.exceptions import ModelNotFoundError, PromotionRefusedError
from credit_engine.registry._aliases import (
    AliasChange,
    alias_history,
    alias_history_path,
    export_alias_history,
)
from credit_engine.registry._promote import (
    OOT_ROWS_ARTIFACT,
    GateResult,
    PromotionResult,
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
    "OOT_ROWS_ARTIFACT",
    "AliasChange",
    "CreditRiskModel",
    "GateResult",
    "LoadedModel",
    "ModelNotFoundError",
    "PromotionRefusedError",
    "PromotionResult",
    "RegisteredVersion",
    "alias_history",
    "alias_history_path",
    "alias_version",
    "export_alias_history",
    "load_rating_model",
    "mlflow_client",
    "promote",
    "register_model",
    "registered_versions",
    "set_alias",
    "version_run",
]
