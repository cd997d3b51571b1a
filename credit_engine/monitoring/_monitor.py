"""Monitor one model (:func:`monitor_model`); gather a report (:func:`build_report`)."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring._backtest import (
    CohortBacktest,
    backtest_cohort,
    concentration_change,
)
from credit_engine.monitoring._cohorts import (
    _as_date,
    attach_outcomes,
    is_matured,
    prepare_decisions,
)
from credit_engine.monitoring._discrimination import AucTest, auc_change_test
from credit_engine.monitoring._early_outcomes import (
    EarlyOutcomes,
    early_outcome_cohorts,
    early_outcomes,
)
from credit_engine.monitoring._estimation import (
    PerformanceEstimate,
    estimate_performance,
)
from credit_engine.monitoring._lights import ratio_light, worst_light
from credit_engine.monitoring._migration import migration_matrix
from credit_engine.monitoring._reference import ModelReference
from credit_engine.monitoring._report import (
    AucSummary,
    BacktestSummary,
    CohortSummary,
    EstimationSummary,
    GradeStability,
    MigrationResult,
    ModelMonitoring,
    Role,
    ScoreStability,
)
from credit_engine.monitoring._stability import (
    CsiResult,
    PsiPoint,
    bin_shares,
    feature_stability,
    psi_from_shares,
)
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import Light, psi_light
from credit_engine.vocabulary import Tier

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["NO_EARLY_OUTCOMES", "NO_FEATURES", "NO_REFERENCES", "monitor_model"]

NO_REFERENCES = (
    "the model version holds no frozen feature references (trained before "
    "training stored them in validation.json); retrain it to monitor CSI"
)
"""Why CSI is unavailable for a model without feature references."""

NO_FEATURES = "no feature frame of the latest cohort was given"
"""Why CSI is unavailable when the caller passed no features."""

NO_EARLY_OUTCOMES = "no early outcomes of immature cohorts were given"
"""Why early outcomes are not tested when the caller passed none."""


def _features_csi(
    features: pd.DataFrame | None,
    reference: ModelReference,
    thresholds: MonitoringThresholds,
) -> CsiResult:
    if not reference.features:
        return CsiResult(None, "green", (), (), (), unavailable=NO_REFERENCES)
    if features is None:
        return CsiResult(None, "green", (), (), (), unavailable=NO_FEATURES)
    import pandas as pd

    missing = [c for c in ("uscc", "as_of") if c not in features.columns]
    if missing:
        raise DataContractError(
            f"The features frame lacks {missing}; it needs uscc, as_of and one column "
            "per feature."
        )
    as_of = pd.to_datetime(features["as_of"]).dt.normalize()
    latest = as_of.max()
    rows = features.loc[as_of == latest]
    return feature_stability(
        rows, reference.features, thresholds, as_of=_as_date(latest)
    )


def _migration(
    frame: pd.DataFrame,
    dates: list[Any],
    reference: ModelReference,
    thresholds: MonitoringThresholds,
    migration_from: dt.date | None,
) -> MigrationResult:
    if len(dates) < 2 and migration_from is None:
        return MigrationResult("green", None, None)
    import pandas as pd

    end = dates[-1]
    start = dates[-2] if migration_from is None else pd.Timestamp(migration_from)
    if start not in set(dates) or start >= end:
        raise DataContractError(
            f"migration_from={migration_from} must be a cohort date before the latest "
            f"({_as_date(end)}); cohorts: {[str(_as_date(d)) for d in dates[-6:]]}."
        )
    before = frame.loc[frame["as_of"] == start]
    after = frame.loc[frame["as_of"] == end]
    policy = thresholds.validation_policy()
    limit = thresholds.migration.min_row_count
    grade = migration_matrix(
        before,
        after,
        column="grade",
        labels=[*reference.grades, reference.default_grade],
        kind="grade",
        policy=policy,
        min_row_count=limit,
        exclude=[reference.default_grade],
    )
    tier = None
    if "tier" in frame.columns:
        tier = migration_matrix(
            before.assign(tier=before["tier"].astype(str)),
            after.assign(tier=after["tier"].astype(str)),
            column="tier",
            labels=list(Tier.values()),
            kind="tier",
            policy=policy,
            min_row_count=limit,
        )
    light = worst_light([grade.light, tier.light if tier else None])
    return MigrationResult(light, grade, tier)


def _early(
    frame: pd.DataFrame,
    *,
    dates: list[Any],
    reference: ModelReference,
    thresholds: MonitoringThresholds,
    observation_end: dt.date,
    early_labels: pd.DataFrame | None,
    segments: pd.DataFrame | None,
) -> EarlyOutcomes:
    import pandas as pd

    early = thresholds.early_outcomes
    if early_labels is None:
        return EarlyOutcomes(
            "green", tuple(early.windows_days), (), {"zone": 0, "segments": 0},
            notes=(NO_EARLY_OUTCOMES,),
        )  # fmt: skip
    picked = early_outcome_cohorts(
        [_as_date(d) for d in dates],
        observation_end=observation_end,
        horizon_days=reference.horizon_days,
        windows_days=early.windows_days,
        slack_days=early.slack_days,
    )
    labels = early_labels.assign(as_of=pd.to_datetime(early_labels["as_of"]))
    extra = None
    if segments is not None:
        extra = segments.assign(as_of=pd.to_datetime(segments["as_of"]))
    rows: dict[int, pd.DataFrame] = {}
    for window, cohort in picked.items():
        stamp = pd.Timestamp(cohort)
        perf = frame.loc[(frame["as_of"] == stamp) & ~frame["in_default"]]
        part = perf[["uscc", "as_of", "pd"]].merge(
            labels[["uscc", "as_of", "y"]], on=["uscc", "as_of"], how="left"
        )
        if extra is not None:
            given = [c for c in early.segments if c in extra.columns]
            part = part.merge(
                extra[["uscc", "as_of", *given]], on=["uscc", "as_of"], how="left"
            )
        if "district" in early.segments and "district" not in part.columns:
            part["district"] = part["uscc"].astype(str).str.slice(2, 8)
        for dimension in early.segments:
            if dimension not in part.columns:
                part[dimension] = pd.NA
        if "industry" in part.columns:
            level = 1 + early.industry_digits
            part["industry"] = part["industry"].astype("string").str.slice(0, level)
        rows[window] = part
    return early_outcomes(
        rows,
        observation_end=observation_end,
        horizon_days=reference.horizon_days,
        thresholds=thresholds,
    )


def monitor_model(
    cohorts: pd.DataFrame,
    reference: ModelReference,
    *,
    observation_end: dt.date,
    thresholds: MonitoringThresholds,
    seed: int,
    outcomes: pd.DataFrame | None = None,
    features: pd.DataFrame | None = None,
    role: Role = "champion",
    migration_from: dt.date | None = None,
    early_labels: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
) -> ModelMonitoring:
    """Monitor one model over its rated cohorts.

    For every cohort (rating date): score PSI and grade PSI against the frozen
    development distribution, and the default rate and AUC estimated from the
    PDs with intervals. For every matured cohort with outcomes: per-grade
    binomial and Jeffreys tests, the ECB AUC-drop test, and the realised default
    rate and AUC beside the estimate. For the latest cohort: grade HHI against
    initial validation, CSI per feature, and grade and tier migration from the
    previous cohort. For the cohorts rated about each window of
    ``early_outcomes.windows_days`` before ``observation_end`` (immature): the
    adverse events so far against the PDs, for the zone and per industry and
    district (:func:`~credit_engine.monitoring.early_outcomes`). Rows in
    default (``in_default``) are counted but not monitored (except as the
    default grade in the migration matrix).

    The "score" of the score PSI, the AUC and the estimates is the ``pd``
    column: the frozen development bins of ``validation.json`` are bins of the
    PD, and the points ``score`` is a decreasing function of it (same ranking),
    so the ``score`` column is not needed.

    Parameters
    ----------
    cohorts : pandas.DataFrame
        Stored decisions with at least ``uscc, as_of, pd, grade, in_default``
        (``tier`` adds the tier migration); one row per enterprise and date.
    reference : ModelReference
        The model's frozen development reference.
    observation_end : datetime.date
        Last date outcomes are observed to (the lake's observation end); a
        cohort is matured when ``as_of + reference.horizon_days <= observation_end``.
    thresholds : MonitoringThresholds
        Every threshold (``models/monitoring/thresholds.yaml``).
    seed : int
        Non-negative seed of the Monte Carlo draws; cohort ``as_of`` draws from
        ``SeedSequence([seed, as_of.toordinal()])``, so the same inputs and seed
        give the same result whatever the other cohorts.
    outcomes : pandas.DataFrame or None, default=None
        ``uscc, as_of, y`` of matured rows; outcomes of immature cohorts are
        ignored (not yet observable).
    features : pandas.DataFrame or None, default=None
        ``uscc, as_of`` and one column per referenced feature; CSI is computed
        on its latest ``as_of``. Without it, or without feature references in
        ``reference``, CSI is reported unavailable with the reason
        (``csi.unavailable``).
    role : {"champion", "challenger"}, default="champion"
        Recorded in the result; see :func:`build_report`.
    migration_from : datetime.date or None, default=None
        Start cohort of the migration matrices; the one before the latest when
        ``None`` (e.g. pass the cohort a year earlier for annual migrations).
    early_labels : pandas.DataFrame or None, default=None
        ``uscc, as_of, y`` of the immature cohorts picked by
        :func:`~credit_engine.monitoring.early_outcome_cohorts`: 1 when an
        adverse event of the model's label happened between ``as_of`` and
        ``observation_end``. Without it, early outcomes are not tested (their
        ``notes`` say so).
    segments : pandas.DataFrame or None, default=None
        ``uscc, as_of`` and the segment columns (``industry``: GB/T 4754 code
        at the cohort date); ``district`` is read from the USCC when absent.
        Enterprises without a segment are left out of that dimension.

    Returns
    -------
    ModelMonitoring

    Raises
    ------
    DataContractError
        If a frame lacks columns, repeats keys or does not fit the reference.
    """
    frame = prepare_decisions(
        cohorts, grades=reference.grades, default_grade=reference.default_grade
    )
    if outcomes is not None:
        frame["y"] = attach_outcomes(frame, outcomes)
    policy = thresholds.validation_policy()
    code_of = {g: i for i, g in enumerate(reference.grades)}
    dev_grades = np.asarray(reference.grade_shares_dev)
    summaries, score_points, grade_points = [], [], []
    estimates: list[PerformanceEstimate] = []
    backtests: list[CohortBacktest] = []
    auc_tests: list[AucTest] = []
    import pandas as pd

    groups = dict(list(frame.groupby("as_of", sort=True)))
    dates = [pd.Timestamp(str(d)) for d in groups]
    score_now = grade_now = np.zeros(0)
    for stamp, rows in groups.items():
        as_of = _as_date(stamp)
        perf = rows.loc[~rows["in_default"]]
        if perf.shape[0] == 0:
            raise DataContractError(
                f"Cohort {as_of} has no performing rows (all {rows.shape[0]} are in "
                "default); nothing to monitor."
            )
        proba = perf["pd"].to_numpy(dtype=np.float64)
        codes = perf["grade"].map(code_of).to_numpy(dtype=np.int64)
        score_now = bin_shares(proba, reference.score_edges)
        psi = psi_from_shares(reference.score_shares_dev, score_now)
        score_points.append(PsiPoint(as_of, psi, psi_light(psi, policy)))
        grade_now = np.bincount(codes, minlength=len(reference.grades)) / codes.size
        gpsi = psi_from_shares(dev_grades, grade_now)
        grade_points.append(PsiPoint(as_of, gpsi, psi_light(gpsi, policy)))
        matured = is_matured(
            as_of, horizon_days=reference.horizon_days, observation_end=observation_end
        )
        y = None
        known = np.zeros(perf.shape[0], dtype=bool)
        if matured and "y" in perf.columns:
            known = perf["y"].notna().to_numpy()
        if known.any():
            y = perf["y"].to_numpy()[known].astype(np.int64)
            backtests.append(
                backtest_cohort(
                    codes[known],
                    y,
                    grades=reference.grades,
                    grade_pd=reference.grade_pd,
                    thresholds=thresholds,
                    as_of=as_of,
                    outcomes_missing=int((~known).sum()),
                )
            )
            if 0 < y.sum() < y.size:
                auc_tests.append(
                    auc_change_test(
                        reference.auc_initial, y, proba[known], policy, as_of=as_of
                    )
                )
        sub = proba[known] if known.any() else proba
        estimates.append(
            estimate_performance(
                sub,
                level=thresholds.estimation.level,
                n_draws=thresholds.estimation.n_draws,
                seed=np.random.SeedSequence([seed, as_of.toordinal()]),
                as_of=as_of,
                y=y,
                default_rate_initial=reference.default_rate_initial,
            )
        )
        summaries.append(
            CohortSummary(
                as_of=as_of,
                n=int(rows.shape[0]),
                performing=int(perf.shape[0]),
                in_default=int(rows.shape[0] - perf.shape[0]),
                matured=matured,
                with_outcome=int(known.sum()),
                mean_pd=float(proba.mean()),
            )
        )
    latest = _as_date(dates[-1])
    latest_perf = frame.loc[(frame["as_of"] == dates[-1]) & ~frame["in_default"]]
    counts = np.bincount(
        latest_perf["grade"].map(code_of).to_numpy(dtype=np.int64),
        minlength=len(reference.grades),
    )
    status_cohorts = backtests[-thresholds.backtest.status_cohorts :]
    backtest = BacktestSummary(
        light=worst_light(b.light for b in status_cohorts),
        status_cohorts=tuple(b.as_of for b in status_cohorts),
        cohorts=tuple(backtests),
    )
    ratio = estimates[-1].default_rate_ratio
    estimated = EstimationSummary(
        light=(
            ratio_light(
                ratio,
                thresholds.estimation.dr_ratio_amber,
                thresholds.estimation.dr_ratio_red,
            )
            if not math.isnan(ratio) and ratio > 0
            else "green"
        ),
        default_rate_initial=reference.default_rate_initial,
        level=thresholds.estimation.level,
        n_draws=thresholds.estimation.n_draws,
        seed=seed,
        by_cohort=tuple(estimates),
    )
    auc = AucSummary(auc_tests[-1].light if auc_tests else "green", tuple(auc_tests))
    parts: dict[str, Light] = {
        "score_psi": score_points[-1].light,
        "grade_psi": grade_points[-1].light,
        "csi": (csi := _features_csi(features, reference, thresholds)).light,
        "backtest": backtest.light,
        "auc": auc.light,
        "hhi": (
            hhi := concentration_change(
                counts, reference.hhi_initial, thresholds, as_of=latest
            )
        ).light,
        "migration": (
            migration := _migration(frame, dates, reference, thresholds, migration_from)
        ).light,
        "estimated": estimated.light,
        "early_outcomes": (
            early := _early(
                frame, dates=dates, reference=reference, thresholds=thresholds,
                observation_end=observation_end, early_labels=early_labels,
                segments=segments,
            )
        ).light,
    }  # fmt: skip
    return ModelMonitoring(
        model_name=reference.model_name,
        version=reference.version,
        role=role,
        status=worst_light(parts[p] for p in thresholds.status.model_parts),
        lights=parts,
        observation_end=observation_end,
        horizon_days=reference.horizon_days,
        cohorts=tuple(summaries),
        score_psi=ScoreStability(
            as_of=latest,
            value=score_points[-1].psi,
            light=score_points[-1].light,
            edges=reference.score_edges,
            shares_dev=reference.score_shares_dev,
            shares_now=tuple(score_now.tolist()),
            by_cohort=tuple(score_points),
        ),
        grade_psi=GradeStability(
            as_of=latest,
            value=grade_points[-1].psi,
            light=grade_points[-1].light,
            shares_dev=dict(
                zip(reference.grades, reference.grade_shares_dev, strict=True)
            ),
            shares_now=dict(zip(reference.grades, grade_now.tolist(), strict=True)),
            by_cohort=tuple(grade_points),
        ),
        csi=csi,
        backtest=backtest,
        auc_initial=reference.auc_initial,
        auc_current=auc_tests[-1].auc_current if auc_tests else None,
        auc_change_p=auc_tests[-1].p_value if auc_tests else None,
        auc=auc,
        estimated=estimated,
        hhi=hhi,
        migration=migration,
        early_outcomes=early,
    )
