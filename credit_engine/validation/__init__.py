"""Validation pack of a rating system: discrimination, calibration, stability.

Pure functions over numpy arrays and pandas frames, in the spirit of Basel/IRB
validation practice (ANCHORS.md §6): AUC, Gini and KS; binomial and Jeffreys
tests per grade with a traffic light, Hosmer-Lemeshow over the scale; grade
concentration (HHI); PSI of score and grades on frozen development bins and CSI
per feature; information value; rank ordering of default rates.
:func:`validate_model` runs everything on a development and an out-of-time
sample and returns a :class:`ValidationReport` (results only, no I/O);
:func:`write_validation_report` writes its JSON and a self-contained HTML page.
Thresholds live in :class:`ValidationPolicy`.

Importing this package is cheap and has no side effects: scipy, scikit-learn,
pandas, Jinja and matplotlib are imported only when a function needs them.
"""

from __future__ import annotations

from credit_engine.validation._calibration import (
    binomial_test,
    hosmer_lemeshow,
    jeffreys_interval,
    jeffreys_test,
)
from credit_engine.validation._discrimination import (
    information_value,
    ks_statistic,
    roc_auc,
)
from credit_engine.validation._policy import (
    GradeLight,
    IvBand,
    Light,
    ValidationPolicy,
    iv_band,
    psi_light,
    traffic_light,
)
from credit_engine.validation._results import (
    AsOfDiscrimination,
    Calibration,
    Concentration,
    CurveData,
    Discrimination,
    FeatureIV,
    FeatureStability,
    GradeCalibration,
    RankBreak,
    RankOrdering,
    SampleValidation,
    Stability,
    ValidationReport,
)
from credit_engine.validation._samples import GradeScale, ScoredSample
from credit_engine.validation._stability import (
    PSI_FLOOR,
    freeze_bins,
    hhi,
    normalised_hhi,
    psi,
    psi_categorical,
)
from credit_engine.validation._validate import validate_model
from credit_engine.validation._write import ValidationFiles, write_validation_report

__all__ = [
    "PSI_FLOOR",
    "AsOfDiscrimination",
    "Calibration",
    "Concentration",
    "CurveData",
    "Discrimination",
    "FeatureIV",
    "FeatureStability",
    "GradeCalibration",
    "GradeLight",
    "GradeScale",
    "IvBand",
    "Light",
    "RankBreak",
    "RankOrdering",
    "SampleValidation",
    "ScoredSample",
    "Stability",
    "ValidationFiles",
    "ValidationPolicy",
    "ValidationReport",
    "binomial_test",
    "freeze_bins",
    "hhi",
    "hosmer_lemeshow",
    "information_value",
    "iv_band",
    "jeffreys_interval",
    "jeffreys_test",
    "ks_statistic",
    "normalised_hhi",
    "psi",
    "psi_categorical",
    "psi_light",
    "roc_auc",
    "traffic_light",
    "validate_model",
    "write_validation_report",
]
