"""Result objects of the monitor and the report that gathers them (no I/O here).

:meth:`MonitoringReport.to_json_dict` gives the stable JSON: top-level keys
``as_of``, ``models``, ``overrides``, ``data``, ``status``; each model holds
``score_psi``, ``grade_psi``, ``csi``, ``backtest``, ``auc_initial``,
``auc_current``, ``auc_change_p``, ``estimated``, ``hhi``, ``migration``,
``early_outcomes`` and,
beside them, ``model_name``, ``version``, ``role``, ``status``, ``lights``,
``observation_end``, ``horizon_days``, ``auc``, ``cohorts`` and ``shadow`` (a
challenger's tier agreement with the champion, shadow scoring). Rendering
(:func:`render_html`) and writing (:func:`write_report`) live apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from credit_engine.jsonable import to_jsonable
from credit_engine.monitoring._backtest import CohortBacktest, ConcentrationChange
from credit_engine.monitoring._discrimination import AucTest
from credit_engine.monitoring._early_outcomes import EarlyOutcomes
from credit_engine.monitoring._estimation import PerformanceEstimate
from credit_engine.monitoring._migration import MigrationMatrix
from credit_engine.monitoring._overrides import OverrideMonitoring
from credit_engine.monitoring._shadow import TierAgreement
from credit_engine.monitoring._stability import CsiResult, PsiPoint
from credit_engine.validation import Light

__all__ = [
    "MODEL_KEYS",
    "REPORT_KEYS",
    "AucSummary",
    "BacktestSummary",
    "CohortSummary",
    "EstimationSummary",
    "GradeStability",
    "MigrationResult",
    "ModelMonitoring",
    "MonitoringReport",
    "ScoreStability",
]

REPORT_KEYS: tuple[str, ...] = ("as_of", "models", "overrides", "data", "status")
"""Top-level keys of :meth:`MonitoringReport.to_json_dict`, in order."""

MODEL_KEYS: tuple[str, ...] = (
    "model_name",
    "version",
    "role",
    "status",
    "lights",
    "observation_end",
    "horizon_days",
    "cohorts",
    "score_psi",
    "grade_psi",
    "csi",
    "backtest",
    "auc_initial",
    "auc_current",
    "auc_change_p",
    "auc",
    "estimated",
    "hhi",
    "migration",
    "early_outcomes",
    "shadow",
)
"""Keys of each ``models.<name>`` entry, in order."""

Role = Literal["champion", "challenger"]


@dataclass(frozen=True)
class CohortSummary:
    """Rows of one cohort.

    Attributes
    ----------
    as_of : datetime.date
        Rating date.
    n : int
        Decisions.
    performing, in_default : int
        Rows not in default (monitored) and in default (grade ``GD``).
    matured : bool
        Whether ``as_of + horizon <= observation_end``.
    with_outcome : int
        Performing rows with an outcome (0 before maturity).
    mean_pd : float
        Mean PD of the performing rows.
    """

    as_of: dt.date
    n: int
    performing: int
    in_default: int
    matured: bool
    with_outcome: int
    mean_pd: float


@dataclass(frozen=True)
class ScoreStability:
    """PSI of the PD on frozen development bins, per cohort and latest.

    Attributes
    ----------
    as_of : datetime.date
        Latest cohort.
    value : float
        Its PSI.
    light : {"green", "amber", "red"}
        Its PSI band.
    edges : tuple of float
        The frozen bins.
    shares_dev, shares_now : tuple of float
        Share per bin (last: missing) in development and in the latest cohort.
    by_cohort : tuple of PsiPoint
        PSI of every cohort, oldest first.
    """

    as_of: dt.date
    value: float
    light: Light
    edges: tuple[float, ...]
    shares_dev: tuple[float, ...]
    shares_now: tuple[float, ...]
    by_cohort: tuple[PsiPoint, ...]


@dataclass(frozen=True)
class GradeStability:
    """PSI of the grade distribution, per cohort and latest.

    Attributes
    ----------
    as_of : datetime.date
        Latest cohort.
    value : float
        Its PSI.
    light : {"green", "amber", "red"}
        Its PSI band.
    shares_dev, shares_now : dict of str to float
        Share per grade in development and in the latest cohort.
    by_cohort : tuple of PsiPoint
        PSI of every cohort, oldest first.
    """

    as_of: dt.date
    value: float
    light: Light
    shares_dev: dict[str, float]
    shares_now: dict[str, float]
    by_cohort: tuple[PsiPoint, ...]


@dataclass(frozen=True)
class BacktestSummary:
    """Back-tests of every matured cohort.

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Worst light of the ``status_cohorts`` most recent matured cohorts
        (green when none has matured).
    status_cohorts : tuple of datetime.date
        The cohorts that set ``light``.
    cohorts : tuple of CohortBacktest
        One per matured cohort with outcomes, oldest first.
    """

    light: Light
    status_cohorts: tuple[dt.date, ...]
    cohorts: tuple[CohortBacktest, ...]


@dataclass(frozen=True)
class AucSummary:
    """The ECB AUC-drop test of every matured cohort.

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Light of the most recent tested cohort (green when none).
    by_cohort : tuple of AucTest
        One per matured cohort holding both classes, oldest first.
    """

    light: Light
    by_cohort: tuple[AucTest, ...]


@dataclass(frozen=True)
class EstimationSummary:
    """Estimated performance of every cohort (realised beside it once matured).

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Latest cohort's expected default rate against the initial default rate
        (``estimation.dr_ratio_*``).
    default_rate_initial : float
        Observed default rate at initial validation.
    level : float
        Coverage of the intervals.
    n_draws : int
        Monte Carlo draws per cohort.
    seed : int
        Seed of the draws (each cohort draws from ``[seed, as_of ordinal]``).
    by_cohort : tuple of PerformanceEstimate
        Oldest first.
    """

    light: Light
    default_rate_initial: float
    level: float
    n_draws: int
    seed: int
    by_cohort: tuple[PerformanceEstimate, ...]


@dataclass(frozen=True)
class MigrationResult:
    """Grade and tier migration between two cohorts.

    Attributes
    ----------
    light : {"green", "amber", "red"}
        Worst of the two matrices' lights (green when there is no pair).
    grade, tier : MigrationMatrix or None
        ``None`` with a single cohort (or no ``tier`` column).
    """

    light: Light
    grade: MigrationMatrix | None
    tier: MigrationMatrix | None


@dataclass(frozen=True)
class ModelMonitoring:
    """Monitoring of one model over its cohorts (see :func:`monitor_model`).

    Attributes
    ----------
    model_name : str
        Registered model name.
    version : str or None
        Model version.
    role : {"champion", "challenger"}
        Whether its grades decide (a challenger counts at most as
        ``status.challenger_cap`` in the report status).
    status : {"green", "amber", "red"}
        Worst of ``lights`` over ``status.model_parts``.
    lights : dict of str to str
        Light of each part: ``score_psi``, ``grade_psi``, ``csi``,
        ``backtest``, ``auc``, ``hhi``, ``migration``, ``estimated``,
        ``early_outcomes``.
    observation_end : datetime.date
        Last date outcomes were observed to.
    horizon_days : int
        Outcome horizon: a cohort is matured when ``as_of + horizon_days <=
        observation_end``.
    cohorts : tuple of CohortSummary
        Rows per cohort, oldest first.
    score_psi, grade_psi : ScoreStability, GradeStability
        Stability against development.
    csi : CsiResult
        CSI per feature of the latest cohort with features.
    backtest : BacktestSummary
        Per-grade tests of the matured cohorts.
    auc_initial : float
        AUC at initial validation.
    auc_current, auc_change_p : float or None
        AUC and ECB-test p-value of the most recent tested cohort.
    auc : AucSummary
        The test of every matured cohort.
    estimated : EstimationSummary
        Estimated (and realised) default rate and AUC per cohort.
    hhi : ConcentrationChange
        Grade HHI of the latest cohort against initial validation.
    migration : MigrationResult
        Grade and tier migration matrices.
    early_outcomes : EarlyOutcomes
        Adverse events of immature cohorts so far against their PDs, for the
        zone and per industry and district (nothing tested when the caller
        gave no early outcomes: see its ``notes``).
    shadow : TierAgreement or None
        A challenger's shadow tiers against the champion's (tier-agreement
        matrix, enterprises whose tier would change); ``None`` for a champion
        or when not compared. Informational: not a status part.
    """

    model_name: str
    version: str | None
    role: Role
    status: Light
    lights: dict[str, Light]
    observation_end: dt.date
    horizon_days: int
    cohorts: tuple[CohortSummary, ...]
    score_psi: ScoreStability
    grade_psi: GradeStability
    csi: CsiResult
    backtest: BacktestSummary
    auc_initial: float
    auc_current: float | None
    auc_change_p: float | None
    auc: AucSummary
    estimated: EstimationSummary
    hhi: ConcentrationChange
    migration: MigrationResult
    early_outcomes: EarlyOutcomes
    shadow: TierAgreement | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """Return the model's monitoring as JSON data (keys: :data:`MODEL_KEYS`)."""
        return {
            key: to_jsonable(
                getattr(self, key), where=f"models.{self.model_name}.{key}"
            )
            for key in MODEL_KEYS
        }


@dataclass(frozen=True)
class MonitoringReport:
    """The monitoring report of a rating system at one date (data only, no I/O).

    Build it with :func:`build_report`, which sets ``status`` by the rule of
    the thresholds file; render it with :func:`render_html` and write it with
    :func:`write_report`.

    Attributes
    ----------
    as_of : datetime.date
        Report date.
    models : dict of str to ModelMonitoring
        Monitoring per model (champion and challengers).
    overrides : OverrideMonitoring or None
        Overrides of the decisions; ``None`` when not monitored.
    data : dict of str to dict
        Freshness per source table, ``{table: {"status": light, ...}}`` as
        given by the data-freshness component.
    status : {"green", "amber", "red"}
        Overall status.
    thresholds_version : int
        Version of the thresholds file used (not part of the stable keys).
    notes : tuple of str
        What the report could not cover and why (a model without cohorts, data
        freshness not provided...); shown in the HTML, and written by callers
        beside the stable keys. Not part of :meth:`to_json_dict`.
    """

    as_of: dt.date
    models: dict[str, ModelMonitoring]
    overrides: OverrideMonitoring | None
    data: dict[str, dict[str, Any]]
    status: Light
    thresholds_version: int = field(default=0, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the report as JSON data with exactly the keys :data:`REPORT_KEYS`.

        Dates are ISO strings, NaN ``null`` and infinite bin edges ``"inf"`` /
        ``"-inf"`` (:func:`credit_engine.jsonable.to_jsonable`).
        """
        return {
            "as_of": self.as_of.isoformat(),
            "models": {name: m.to_json_dict() for name, m in self.models.items()},
            "overrides": to_jsonable(self.overrides, where="overrides"),
            "data": to_jsonable(_plain(self.data), where="data"),
            "status": self.status,
        }


def _plain(data: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(k): dict(v) for k, v in data.items()}
