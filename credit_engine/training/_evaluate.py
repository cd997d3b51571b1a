"""Cross-validate model families on labels a user brings (binary or ordinal)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError
from credit_engine.training._fit import fit_estimator, make_estimator
from credit_engine.training._spec import ModelSpec

__all__ = ["EvaluationResult", "cross_validate_labels", "fit_and_rate", "target_kind"]

_SMALL_SAMPLE_SHARE = 0.05
"""Largest leaf minimum of the GBM, as a share of the training rows."""
_MIN_LEAF_ROWS = 5
"""Smallest leaf minimum of the GBM (rows)."""
_MIN_BIN_ROWS = 10
"""Smallest scorecard bin (rows): a weight of evidence from fewer is noise."""
_MAX_BIN_SHARE = 0.5
"""Largest ``min_bin_size`` optbinning accepts."""
_SMALL_SAMPLE_ROWS = 2_000
"""Below this many training rows the GBM keeps all of them for the trees."""
_SINGLE_THREAD_ROWS = 10_000
"""Below this many training rows the GBM runs on one thread."""


def target_kind(target: pd.Series) -> str:
    """``binary`` for two values, ``ordinal`` for 3 to 20 ordered integer grades.

    Raises
    ------
    DataContractError
        For one value, non-integer values or more than 20 levels.
    """
    values = pd.Series(target).dropna().unique()
    if len(values) < 2:
        raise DataContractError(
            f"The target has {len(values)} distinct value(s); it needs at least 2."
        )
    numeric = pd.to_numeric(pd.Series(values), errors="coerce")
    if numeric.isna().any() or not np.allclose(numeric, np.round(numeric)):
        raise DataContractError(
            "The target must be 0/1 or ordinal integer grades (0 = best); got "
            f"values such as {list(values[:5])}."
        )
    if len(values) == 2:
        return "binary"
    if len(values) > 20:
        raise DataContractError(
            f"The target has {len(values)} levels; ordinal grades allow at most 20."
        )
    return "ordinal"


def _sized_estimator(
    spec: ModelSpec, directions: Mapping[str, str], n_rows: int
) -> Any:
    """Return the spec's estimator, with leaf and bin minimums scaled to the sample.

    The zone's specs are tuned for tens of thousands of rows; on the few hundred
    rows a user may bring they would forbid any split or leave bins of a handful
    of rows. The rules, which change nothing on large samples:

    * GBM: the smallest leaf is at most 5 % of the rows, and at least 5 rows
      (``min_child_samples``); below 2,000 rows no slice is held out for
      calibration (the ranking is what cross-validation measures); below
      10,000 rows one thread (threads cost more than they save on small data,
      far more on a busy machine, and give the same trees).
    * Scorecard: every bin holds at least 10 rows (``min_bin_size`` at least
      ``10 / n_rows``, at most 0.5): on 98 rows the spec's 5 % would allow bins
      of 5 rows, about one event each, whose weights of evidence are noise.
    """
    estimator = make_estimator(spec, directions)
    if spec.family == "gbm":
        floor = max(_MIN_LEAF_ROWS, int(n_rows * _SMALL_SAMPLE_SHARE))
        estimator.set_params(
            min_child_samples=min(estimator.min_child_samples, floor),
            calibration=(
                None if n_rows < _SMALL_SAMPLE_ROWS else estimator.calibration
            ),
            n_jobs=1 if n_rows < _SINGLE_THREAD_ROWS else estimator.n_jobs,
            # Cross-validation groups are enterprises, not rating dates.
            calibration_split="random",
        )
    elif spec.family == "scorecard":
        sized = max(estimator.min_bin_size, _MIN_BIN_ROWS / max(n_rows, 1))
        # optbinning accepts at most 0.5 (two bins); fewer than 20 rows get that.
        estimator.set_params(min_bin_size=min(sized, _MAX_BIN_SHARE))
    return estimator


def _ordinal_proba(
    spec: ModelSpec,
    *,
    directions: Mapping[str, str],
    x_fit: pd.DataFrame,
    y_fit: np.ndarray,
    groups: np.ndarray,
    x_pred: pd.DataFrame,
    levels: np.ndarray,
) -> np.ndarray:
    """Class probabilities from one binary model per threshold ``y > level``.

    Frank and Hall's ordinal decomposition: every threshold model keeps the
    declared risk directions (grades are ordered best to worst).
    """
    exceed = np.zeros((len(x_pred), len(levels) - 1))
    for k, level in enumerate(levels[:-1]):
        target = (y_fit > level).astype(int)
        if target.min() == target.max():
            exceed[:, k] = float(target[0])
            continue
        model = fit_estimator(
            _sized_estimator(spec, directions, len(y_fit)), x_fit, target, groups
        )
        exceed[:, k] = model.predict_proba(x_pred)[:, 1]
    exceed = np.minimum.accumulate(exceed, axis=1)  # P(y > k) cannot rise with k
    upper = np.hstack([np.ones((len(x_pred), 1)), exceed])
    lower = np.hstack([exceed, np.zeros((len(x_pred), 1))])
    return np.clip(upper - lower, 0.0, 1.0)


@dataclass
class EvaluationResult:
    """Cross-validated figures per model family."""

    kind: str
    rows: int
    folds: int
    classes: list[Any]
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    predictions: dict[str, np.ndarray] = field(default_factory=dict)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready figures (no predictions)."""
        return {
            "target": {"kind": self.kind, "rows": self.rows, "classes": self.classes},
            "folds": self.folds,
            "models": self.models,
        }


def cross_validate_labels(
    frame: pd.DataFrame,
    features: Sequence[str],
    target: str,
    specs: Sequence[ModelSpec],
    *,
    directions: Mapping[str, str],
    folds: int = 5,
    seed: int = 0,
    groups: str | None = "uscc",
) -> EvaluationResult:
    """Stratified (grouped) k-fold cross-validation of each spec's family.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature rows with the target column.
    features : sequence of str
        Feature columns.
    target : str
        Binary (0/1) or ordinal (0 = best grade) column.
    specs : sequence of ModelSpec
        Model families and parameters to evaluate.
    directions : mapping
        Declared risk direction per feature.
    folds : int, default=5
        Folds; rows of one group (enterprise) stay in one fold.
    seed : int, default=0
        Seed of the fold assignment. With one row per group the folds are
        scikit-learn's ``StratifiedKFold(folds, shuffle=True,
        random_state=seed)`` on the rows in their order, so another model
        evaluated that way (a baseline) is compared on the very same folds;
        otherwise ``StratifiedGroupKFold`` with the same arguments.
    groups : str or None, default="uscc"
        Grouping column, if present.

    Returns
    -------
    EvaluationResult
        AUC (binary) or quadratic-weighted kappa and accuracy (ordinal), pooled
        over out-of-fold predictions, plus the per-fold values.
    """
    from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    data = frame.dropna(subset=[target]).reset_index(drop=True)
    y = pd.to_numeric(data[target]).round().astype(int).to_numpy()
    kind = target_kind(data[target])
    levels = np.unique(y)
    x = data[list(features)].astype(float)
    group_ids = (
        data[groups].to_numpy() if groups and groups in data else np.arange(len(data))
    )
    if np.bincount(np.searchsorted(levels, y)).min() < folds:
        raise DataContractError(
            f"Some target class has fewer than {folds} rows; use fewer --folds."
        )
    if len(np.unique(group_ids)) == len(group_ids):
        # One row per group: plain stratified folds, the same as any other
        # stratified k-fold CV with this seed on these rows (paired comparisons).
        plain = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = list(plain.split(x, y))
    else:
        grouped = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = list(grouped.split(x, y, group_ids))
    result = EvaluationResult(
        kind=kind, rows=len(data), folds=folds, classes=[int(v) for v in levels]
    )
    for spec in specs:
        oof = np.zeros((len(y), len(levels))) if kind == "ordinal" else np.zeros(len(y))
        per_fold = []
        for fit_idx, pred_idx in splits:
            x_fit, x_pred = x.iloc[fit_idx], x.iloc[pred_idx]
            if kind == "binary":
                model = fit_estimator(
                    _sized_estimator(spec, directions, len(fit_idx)),
                    x_fit,
                    y[fit_idx],
                    group_ids[fit_idx],
                )
                oof[pred_idx] = model.predict_proba(x_pred)[:, 1]
                per_fold.append(float(roc_auc_score(y[pred_idx], oof[pred_idx])))
            else:
                proba = _ordinal_proba(
                    spec,
                    directions=directions,
                    x_fit=x_fit,
                    y_fit=y[fit_idx],
                    groups=group_ids[fit_idx],
                    x_pred=x_pred,
                    levels=levels,
                )
                oof[pred_idx] = proba
                pred = _expected_grade(proba, levels)
                per_fold.append(
                    float(cohen_kappa_score(y[pred_idx], pred, weights="quadratic"))
                )
        if kind == "binary":
            figures: dict[str, Any] = {
                "auc": float(roc_auc_score(y, oof)),
                "auc_folds": per_fold,
            }
        else:
            pred = _expected_grade(oof, levels)
            figures = {
                "qwk": float(cohen_kappa_score(y, pred, weights="quadratic")),
                "accuracy": float(accuracy_score(y, pred)),
                "qwk_folds": per_fold,
            }
        result.models[spec.name] = {"family": spec.family, **figures}
        result.predictions[spec.name] = oof
    return result


def _expected_grade(proba: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Return the expected grade, rounded to the nearest level (ordinal-aware)."""
    expected = proba @ levels.astype(float)
    index = np.abs(expected[:, None] - levels[None, :]).argmin(axis=1)
    return np.asarray(levels[index])


def fit_and_rate(
    frame: pd.DataFrame,
    features: Sequence[str],
    target: str,
    spec: ModelSpec,
    to_rate: pd.DataFrame,
    *,
    directions: Mapping[str, str],
) -> pd.DataFrame:
    """Fit one family on all labelled rows and rate ``to_rate``.

    Returns
    -------
    pandas.DataFrame
        ``to_rate``'s keys with ``proba`` (binary: P(label = 1); ordinal: the
        expected grade) and ``predicted`` (the predicted label).
    """
    data = frame.dropna(subset=[target]).reset_index(drop=True)
    y = pd.to_numeric(data[target]).round().astype(int).to_numpy()
    x = data[list(features)].astype(float)
    x_new = to_rate[list(features)].astype(float)
    groups = data["uscc"].to_numpy() if "uscc" in data else np.arange(len(data))
    keys = [c for c in ("uscc", "as_of") if c in to_rate]
    out = to_rate[keys].reset_index(drop=True).copy()
    if target_kind(data[target]) == "binary":
        model = fit_estimator(_sized_estimator(spec, directions, len(y)), x, y, groups)
        out["proba"] = model.predict_proba(x_new)[:, 1]
        out["predicted"] = (out["proba"] > 0.5).astype(int)
        return out
    levels = np.unique(y)
    proba = _ordinal_proba(
        spec,
        directions=directions,
        x_fit=x,
        y_fit=y,
        groups=groups,
        x_pred=x_new,
        levels=levels,
    )
    out["proba"] = proba @ levels.astype(float)
    out["predicted"] = _expected_grade(proba, levels)
    for k, level in enumerate(levels):
        out[f"p_{level}"] = proba[:, k]
    return out
