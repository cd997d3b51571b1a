"""Model monitoring of the running engine: the store, the lake and MLflow wired in.

:mod:`credit_engine.monitoring` is the maths (pure functions over frames); this
package feeds it from the engine home and files the result:

- :func:`monitor` monitors every model spec's champion and challenger at a date
  (cohorts from the operational store's rating runs, frozen development
  references from the versions' ``validation.json``, outcomes of matured
  cohorts through :func:`credit_engine.training.cohort_outcomes`, features for
  CSI), the served decisions' overrides and data freshness; writes the HTML and
  JSON report under ``HOME/reports/monitoring/<as_of>/`` and logs it to MLflow
  against each champion (:func:`credit_engine.registry.log_monitoring`);
- :func:`findings` lists the amber and red items of a report, worst first;
- :func:`monitor_series` runs the report as of every date of a period, for the
  false-alarm rate of a healthy zone (:func:`alarm_rate`) and how soon a
  shock is seen (:func:`first_alarm`);
- :func:`shadow_period` and :func:`compare_shadow` read a challenger's shadow
  runs: the period the ``min_shadow_days`` promotion gate judges, and its
  tier-agreement matrix with the champion.

It sits above training and rating (it reads outcomes through training's public
API; import-linter forbids it the labels module itself) and below the pipeline
and the CLI.
"""

from __future__ import annotations

from credit_engine.watch._findings import Finding, findings
from credit_engine.watch._freshness import (
    FRESHNESS_UNKNOWN,
    FreshnessProvider,
    lake_freshness_data,
    unknown_freshness,
)
from credit_engine.watch._monitor import (
    DEFAULT_COHORTS,
    EXIT_RED,
    MonitoringOutcome,
    csi_sample,
    monitor,
    report_folder,
    thresholds_path,
)
from credit_engine.watch._series import (
    SeriesPoint,
    alarm_rate,
    first_alarm,
    monitor_series,
)
from credit_engine.watch._shadow import SHADOW_COLUMNS, compare_shadow, shadow_period
from credit_engine.watch._versions import (
    CHALLENGER_SUFFIX,
    ModelInCharge,
    models_in_charge,
    version_spec,
)

__all__ = [
    "CHALLENGER_SUFFIX",
    "DEFAULT_COHORTS",
    "EXIT_RED",
    "FRESHNESS_UNKNOWN",
    "SHADOW_COLUMNS",
    "Finding",
    "FreshnessProvider",
    "ModelInCharge",
    "MonitoringOutcome",
    "SeriesPoint",
    "alarm_rate",
    "csi_sample",
    "compare_shadow",
    "findings",
    "first_alarm",
    "lake_freshness_data",
    "models_in_charge",
    "monitor",
    "monitor_series",
    "report_folder",
    "shadow_period",
    "thresholds_path",
    "unknown_freshness",
    "version_spec",
]
