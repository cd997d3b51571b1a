"""Model monitoring: stability, back-testing, estimated performance, overrides.

Pure functions over frames of stored decisions (the operational store's
``decisions`` table), outcomes and features, returning typed results; no store,
no MLflow, no CLI. What credit-risk monitoring uses (ANCHORS.md §4.3) with the
IRB validation practice of ANCHORS.md §6:

- stability: PSI of the PD and of the grades on frozen development bins, CSI
  per feature against :class:`FeatureReference` (missing values in a bin of
  their own);
- back-testing of matured cohorts (``as_of + horizon <= observation_end``):
  one-sided binomial and Jeffreys tests per grade (ECB instructions), the ECB
  test of the current AUC against the AUC at initial validation (DeLong
  standard error), grade HHI against initial validation (ECB CV test), grade
  and tier migration with the ECB migration-matrix stability test;
- performance estimated from calibrated PDs while outcomes are not yet known
  (label delay): expected default rate and AUC with intervals, and the
  realised figures beside them once matured;
- early outcomes of immature cohorts: adverse events so far against the
  PD-implied expectation, for the zone and per industry and district
  (:func:`early_outcomes`), the one item that sees a shock confined to a
  segment before its cohorts mature;
- overrides: rate, direction and performance of overridden enterprises;
- shadow scoring: a challenger's tiers against the champion's
  (:func:`tier_agreement`: matrix, weighted kappa, enterprises whose tier
  would change).

Every threshold is data (``models/monitoring/thresholds.yaml``, loaded by
:func:`load_thresholds`). :func:`monitor_model` runs one model,
:func:`monitor_overrides` the overrides, :func:`build_report` gathers them into
a :class:`MonitoringReport` with an overall status; :func:`render_html` and
:func:`write_report` render and write it.

Importing this package is cheap: pandas, scipy, matplotlib, Jinja and YAML are
imported only when a function needs them.
"""

from __future__ import annotations

from credit_engine.monitoring._backtest import (
    CohortBacktest,
    ConcentrationChange,
    GradeBacktest,
    backtest_cohort,
    concentration_change,
    hhi_change_test,
)
from credit_engine.monitoring._build import build_report, data_light
from credit_engine.monitoring._cohorts import (
    DECISION_COLUMNS,
    OUTCOME_COLUMNS,
    OVERRIDE_COLUMNS,
    is_matured,
)
from credit_engine.monitoring._discrimination import (
    AucTest,
    auc_change_test,
    delong_auc,
    expected_auc,
)
from credit_engine.monitoring._early_outcomes import (
    EarlyOutcomes,
    EarlyOutcomeTest,
    early_outcome_cohorts,
    early_outcomes,
    expected_by_now,
)
from credit_engine.monitoring._estimation import (
    PerformanceEstimate,
    estimate_performance,
)
from credit_engine.monitoring._features import (
    FeatureReference,
    build_feature_references,
)
from credit_engine.monitoring._html import render_html, write_report
from credit_engine.monitoring._lights import (
    LIGHTS,
    cap_light,
    count_light,
    freshness_light,
    level_light,
    ratio_light,
    worst_light,
)
from credit_engine.monitoring._migration import (
    MigrationMatrix,
    MigrationSummary,
    migration_counts,
    migration_matrix,
    migration_stability_test,
    migration_summary,
)
from credit_engine.monitoring._monitor import (
    NO_EARLY_OUTCOMES,
    NO_FEATURES,
    NO_REFERENCES,
    monitor_model,
)
from credit_engine.monitoring._overrides import (
    OverrideCohort,
    OverrideMonitoring,
    OverridePerformance,
    monitor_overrides,
)
from credit_engine.monitoring._reference import GradeScaleLike, ModelReference
from credit_engine.monitoring._report import (
    MODEL_KEYS,
    REPORT_KEYS,
    AucSummary,
    BacktestSummary,
    CohortSummary,
    EstimationSummary,
    GradeStability,
    MigrationResult,
    ModelMonitoring,
    MonitoringReport,
    ScoreStability,
)
from credit_engine.monitoring._shadow import (
    AgreementPoint,
    TierAgreement,
    TierChange,
    tier_agreement,
)
from credit_engine.monitoring._stability import (
    CsiResult,
    FeatureDrift,
    PsiPoint,
    bin_shares,
    feature_csi,
    feature_stability,
    psi_from_shares,
)
from credit_engine.monitoring._thresholds import (
    BacktestThresholds,
    ConcentrationThresholds,
    CsiFeatureRule,
    DataThresholds,
    EstimationThresholds,
    MigrationThresholds,
    ModelPart,
    MonitoringThresholds,
    OverrideThresholds,
    StabilityThresholds,
    StatusRule,
    TestThresholds,
    load_thresholds,
    parse_thresholds,
)

__all__ = [
    "DECISION_COLUMNS",
    "LIGHTS",
    "MODEL_KEYS",
    "NO_EARLY_OUTCOMES",
    "NO_FEATURES",
    "NO_REFERENCES",
    "OUTCOME_COLUMNS",
    "OVERRIDE_COLUMNS",
    "REPORT_KEYS",
    "AgreementPoint",
    "AucSummary",
    "AucTest",
    "BacktestSummary",
    "BacktestThresholds",
    "CsiFeatureRule",
    "CohortBacktest",
    "EarlyOutcomeTest",
    "EarlyOutcomes",
    "CohortSummary",
    "ConcentrationChange",
    "ConcentrationThresholds",
    "CsiResult",
    "DataThresholds",
    "EstimationSummary",
    "EstimationThresholds",
    "FeatureDrift",
    "FeatureReference",
    "GradeBacktest",
    "GradeScaleLike",
    "GradeStability",
    "MigrationMatrix",
    "MigrationResult",
    "MigrationSummary",
    "MigrationThresholds",
    "ModelMonitoring",
    "ModelPart",
    "ModelReference",
    "MonitoringReport",
    "MonitoringThresholds",
    "OverrideCohort",
    "OverrideMonitoring",
    "OverridePerformance",
    "OverrideThresholds",
    "PerformanceEstimate",
    "PsiPoint",
    "ScoreStability",
    "StabilityThresholds",
    "StatusRule",
    "TestThresholds",
    "TierAgreement",
    "TierChange",
    "auc_change_test",
    "backtest_cohort",
    "bin_shares",
    "build_feature_references",
    "build_report",
    "data_light",
    "cap_light",
    "concentration_change",
    "count_light",
    "delong_auc",
    "early_outcome_cohorts",
    "early_outcomes",
    "estimate_performance",
    "expected_by_now",
    "expected_auc",
    "feature_csi",
    "feature_stability",
    "freshness_light",
    "hhi_change_test",
    "is_matured",
    "level_light",
    "load_thresholds",
    "migration_counts",
    "migration_matrix",
    "migration_stability_test",
    "migration_summary",
    "monitor_model",
    "monitor_overrides",
    "parse_thresholds",
    "psi_from_shares",
    "ratio_light",
    "render_html",
    "tier_agreement",
    "worst_light",
    "write_report",
]
