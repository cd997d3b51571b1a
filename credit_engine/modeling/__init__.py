"""Rating model families behind the scikit-learn API.

:class:`ScorecardClassifier` (optbinning bins, logistic regression, PDO points)
and :class:`GBMClassifier` (LightGBM with monotone constraints, calibrated) both
read one risk direction per feature; :class:`MasterScale` maps PDs to grades and
:class:`RatingModel` bundles a fitted family with its scale for scoring. No
MLflow here: the registry wraps these objects.
"""

from __future__ import annotations

from credit_engine.modeling._directions import (
    DIRECTIONS,
    directions_for,
    lightgbm_constraint,
    optbinning_trend,
)
from credit_engine.modeling._gbm import GBMClassifier
from credit_engine.modeling._master_scale import DEFAULT_GRADE, MasterScale
from credit_engine.modeling._rating_model import (
    OUTPUT_COLUMNS,
    RatingModel,
    any_flag_set,
    reason_columns,
)
from credit_engine.modeling._scaling import PdoScaling
from credit_engine.modeling._scorecard import ScorecardClassifier

__all__ = [
    "DEFAULT_GRADE",
    "DIRECTIONS",
    "OUTPUT_COLUMNS",
    "GBMClassifier",
    "MasterScale",
    "PdoScaling",
    "RatingModel",
    "ScorecardClassifier",
    "any_flag_set",
    "directions_for",
    "lightgbm_constraint",
    "optbinning_trend",
    "reason_columns",
]
