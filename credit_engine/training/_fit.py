"""Fit one model spec on a modelling table and validate it out of time."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError
from credit_engine.modeling import (
    GBMClassifier,
    MasterScale,
    RatingModel,
    ScorecardClassifier,
)
from credit_engine.monitoring import FeatureReference, build_feature_references
from credit_engine.training._dataset import ModellingTable
from credit_engine.training._spec import ModelSpec
from credit_engine.training._splits import out_of_time_mask
from credit_engine.validation import (
    GradeScale,
    ScoredSample,
    ValidationReport,
    freeze_bins,
    validate_model,
)

__all__ = [
    "FittedModel",
    "fit_and_validate",
    "fit_estimator",
    "make_estimator",
    "out_of_fold_proba",
]

Step = Callable[[str], None]


def make_estimator(spec: ModelSpec, directions: Mapping[str, str]) -> Any:
    """Return a fresh estimator of the spec's family (parameters, directions)."""
    params = dict(spec.params)
    if spec.family == "scorecard":
        return ScorecardClassifier(
            directions=dict(directions),
            pdo=spec.scaling.pdo,
            odds=spec.scaling.odds,
            base_points=spec.scaling.base_points,
            **params,
        )
    params.setdefault("random_state", spec.seed)
    return GBMClassifier(directions=dict(directions), **params)


@dataclass
class FittedModel:
    """A trained and validated model with what promotion and reports need.

    Attributes
    ----------
    spec : ModelSpec
        The spec it was trained from.
    model : RatingModel
        The fitted model (estimator, master scale, scaling, reasons).
    report : ValidationReport
        Out-of-time validation.
    oot_rows : pandas.DataFrame
        Out-of-time rows (keys, label, features) to compare a champion on.
    counts : dict
        Row counts at each step.
    timings : dict
        Seconds per step.
    feature_references : tuple of FeatureReference
        Frozen development distribution of each feature (quantile bins of the
        validation policy's ``n_score_bins``, missing values apart), stored in
        ``validation.json`` as ``feature_references`` for monitoring's CSI.
    """

    spec: ModelSpec
    model: RatingModel
    report: ValidationReport
    oot_rows: pd.DataFrame
    counts: dict[str, int]
    timings: dict[str, float] = field(default_factory=dict)
    feature_references: tuple[FeatureReference, ...] = ()


def fit_and_validate(
    spec: ModelSpec,
    table: ModellingTable,
    *,
    directions: Mapping[str, str],
    lineage: Mapping[str, Any],
    step: Step | None = None,
) -> FittedModel:
    """Split by as_of, fit on development, fit the master scale, validate OOT.

    Parameters
    ----------
    spec : ModelSpec
        What to train.
    table : ModellingTable
        Labelled rows in the rated population.
    directions : mapping
        Declared risk direction per feature.
    lineage : mapping
        Snapshot lineage (feature-set hash, lake state), stored with the model.
    step : callable, optional
        Told the name of each step as it starts (progress display).
    """
    say = step or (lambda _name: None)
    timings: dict[str, float] = {}
    rows, features = table.rows, table.features
    oot = out_of_time_mask(rows["as_of"], spec.split.oot_dates)
    dev_rows, oot_rows = rows[~oot], rows[oot]
    for name, part in (("development", dev_rows), ("out-of-time", oot_rows)):
        if part["label"].nunique() < 2:
            missing = "events" if part["label"].max() == 0 else "non-events"
            raise DataContractError(
                f"The {name} sample has no {missing}; a model cannot be fitted or "
                "validated on it. Use more rating dates."
            )
    say(f"fit {spec.family} on {len(dev_rows):,} development rows")
    start = time.perf_counter()
    estimator = make_estimator(spec, directions)
    x_dev = dev_rows[features].astype(float)
    fit_estimator(
        estimator,
        x_dev,
        dev_rows["label"].to_numpy(),
        _calibration_groups(spec, dev_rows),
    )
    timings["fit"] = time.perf_counter() - start

    say(f"out-of-fold PDs ({spec.master_scale.oof_folds} folds) for the master scale")
    start = time.perf_counter()
    y_dev = dev_rows["label"].to_numpy()
    oof = out_of_fold_proba(
        spec,
        directions,
        x=x_dev,
        y=y_dev,
        groups=dev_rows["uscc"].to_numpy(),
        calibration=_calibration_groups(spec, dev_rows),
    )
    proba_dev = estimator.predict_proba(x_dev)[:, 1]
    also = []
    if spec.master_scale.in_sample_dates > 0:
        latest = _latest_dates(dev_rows["as_of"], spec.master_scale.in_sample_dates)
        also.append((proba_dev[latest], y_dev[latest]))
    try:
        scale = MasterScale.fit(
            oof,
            y_dev,
            cumulative_shares=spec.master_scale.cumulative_shares,
            conservatism=spec.master_scale.conservatism,
            pd_floor=spec.master_scale.pd_floor,
            also=also,
        )
    except ValueError as exc:
        raise DataContractError(
            f"Cannot fit the master scale of {spec.name!r}: {exc} (development "
            f"rows: {len(dev_rows):,}, events: {int(y_dev.sum()):,})."
        ) from exc
    timings["master_scale"] = time.perf_counter() - start

    say("validate out of time")
    start = time.perf_counter()
    x_oot = oot_rows[features].astype(float)
    proba_oot = estimator.predict_proba(x_oot)[:, 1]
    score_edges = freeze_bins(proba_dev, spec.validation.n_score_bins)
    report = validate_model(
        model_name=spec.registered_name,
        dev=ScoredSample(
            y=dev_rows["label"].to_numpy(),
            proba=proba_dev,
            grade=scale.assign(proba_dev).astype(str),
            as_of=dev_rows["as_of"].to_numpy(),
        ),
        oot=ScoredSample(
            y=oot_rows["label"].to_numpy(),
            proba=proba_oot,
            grade=scale.assign(proba_oot).astype(str),
            as_of=oot_rows["as_of"].to_numpy(),
        ),
        scale=GradeScale(grades=scale.grades, pd=scale.grade_pd),
        features_dev=x_dev,
        features_oot=x_oot,
        policy=spec.validation,
        feature_iv=getattr(estimator, "feature_iv_", None),
        score_edges=score_edges,
    )
    # The development distributions monitoring compares cohorts with (CSI).
    references = build_feature_references(x_dev, n_bins=spec.validation.n_score_bins)
    timings["validate"] = time.perf_counter() - start
    counts = {**table.counts, "dev_rows": len(dev_rows), "oot_rows": len(oot_rows)}
    metadata = {
        "spec": spec.model_dump(mode="json"),
        "spec_sha256": spec.fingerprint(),
        "feature_set": spec.feature_set,
        "feature_set_sha256": lineage.get("definitions_sha256"),
        "lake_state": lineage.get("lake_state"),
        "as_of_dev": _dates(dev_rows["as_of"]),
        "as_of_oot": _dates(oot_rows["as_of"]),
        "counts": counts,
        "validation": report.summary(),
    }
    model = RatingModel(
        name=spec.name,
        family=spec.family,
        features=list(features),
        estimator=estimator,
        master_scale=scale,
        scaling=spec.scaling,
        default_state=list(spec.default_state),
        score_edges=[float(e) for e in np.asarray(score_edges)],
        n_reasons=spec.reasons,
        metadata=metadata,
    )
    # Every snapshot column, not only this model's features, so that a champion
    # trained on other features of the set can be compared on the same rows.
    drop = [c for c in ("event_date", "event_code") if c in oot_rows.columns]
    return FittedModel(
        spec=spec,
        model=model,
        report=report,
        oot_rows=oot_rows.drop(columns=drop).reset_index(drop=True),
        counts=counts,
        timings=timings,
        feature_references=references,
    )


def fit_estimator(estimator: Any, x: pd.DataFrame, y: np.ndarray, groups: Any) -> Any:
    """Fit either family; only LightGBM takes groups (its calibration slice)."""
    if isinstance(estimator, GBMClassifier):
        return estimator.fit(x, y, groups=groups)
    return estimator.fit(x, y)


def _calibration_groups(spec: ModelSpec, rows: pd.DataFrame) -> np.ndarray:
    """Return rating dates if the spec calibrates on the latest dates, else USCCs."""
    if spec.params.get("calibration_split") == "latest":
        return np.asarray(pd.to_datetime(rows["as_of"]).to_numpy())
    return np.asarray(rows["uscc"].to_numpy())


def out_of_fold_proba(
    spec: ModelSpec,
    directions: Mapping[str, str],
    *,
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    calibration: np.ndarray,
) -> np.ndarray:
    """Return PDs of development rows from models that did not see their enterprise.

    ``GroupKFold`` by enterprise (``groups``), so no enterprise's other rating
    dates leak into its own prediction; used to fit the master scale on honest
    PDs. ``calibration`` is what each fold's LightGBM calibrates on.
    """
    from sklearn.model_selection import GroupKFold

    oof = np.full(len(y), np.nan)
    folds = GroupKFold(n_splits=spec.master_scale.oof_folds)
    for fit_idx, pred_idx in folds.split(x, y, groups):
        model = fit_estimator(
            make_estimator(spec, directions),
            x.iloc[fit_idx],
            y[fit_idx],
            calibration[fit_idx],
        )
        oof[pred_idx] = model.predict_proba(x.iloc[pred_idx])[:, 1]
    return oof


def _latest_dates(as_of: pd.Series, count: int) -> np.ndarray:
    """Mask of the rows at the latest ``count`` distinct dates."""
    dates = np.sort(pd.to_datetime(as_of).unique())
    first = dates[-min(count, len(dates))]
    return np.asarray(pd.to_datetime(as_of).to_numpy() >= first)


def _dates(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values})
