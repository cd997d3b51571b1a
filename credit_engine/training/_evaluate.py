"""Cross-validate model families on labels a user brings (binary or ordinal).

Each family is evaluated on the same folds; a family that fails is reported
with its error and the others' figures survive. Ordinal targets are modelled
by one binary model per threshold ``y > k`` (Frank and Hall).
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError
from credit_engine.training._fit import fit_estimator, make_estimator
from credit_engine.training._metrics import (
    binary_figures,
    expected_level,
    ordinal_figures,
)
from credit_engine.training._spec import ModelSpec
from credit_engine.training._targets import TargetEncoding, encode_target

__all__ = [
    "EvaluationResult",
    "cross_validate_labels",
    "fit_and_rate",
    "target_kind",
]

_SMALL_SAMPLE_SHARE = 0.05
"""Largest leaf minimum of the GBM, as a share of the training rows."""
_MIN_LEAF_ROWS = 5
"""Smallest leaf minimum of the GBM (rows)."""
_MIN_BIN_ROWS = 10
"""Smallest scorecard bin (rows): a weight of evidence from fewer is noise."""
_MAX_BIN_SHARE = 0.5
"""Largest ``min_bin_size`` optbinning accepts."""
_SINGLE_THREAD_ROWS = 10_000
"""Below this many training rows the GBM runs on one thread."""


def target_kind(target: pd.Series, order: Sequence[str] | None = None) -> str:
    """``binary`` for two classes, ``ordinal`` for 3 to 20 ordered grades.

    Raises
    ------
    DataContractError
        For one value, numbers that are not integers, text of unknown order,
        or more than 20 levels.
    """
    _, encoding = encode_target(
        pd.Series(target), column=str(getattr(target, "name", "target")),
        order=order, min_rows=1,
    )  # fmt: skip
    return encoding.kind


def _sized_estimator(
    spec: ModelSpec,
    directions: Mapping[str, str],
    n_rows: int,
    categorical: Sequence[str] = (),
) -> Any:
    """Return the spec's estimator, with leaf and bin minimums scaled to the sample.

    The zone's specs are tuned for tens of thousands of rows; on the few hundred
    rows a user may bring they would forbid any split or leave bins of a handful
    of rows. The rules, which change nothing on large samples:

    * GBM: the smallest leaf is at most 5 % of the rows, and at least 5 rows
      (``min_child_samples``; the same cap on a tuning grid's values);
      calibration is cross-fitted on folds of whole groups (no row is held
      out of the booster) and the spec's ``tuning`` grid, if any, is searched
      on the same folds; below 10,000 rows one thread (threads cost more than
      they save on small data, far more on a busy machine, and give the same
      trees).
    * Scorecard: every bin holds at least 10 rows (``min_bin_size`` at least
      ``10 / n_rows``, at most 0.5): on 98 rows the spec's 5 % would allow bins
      of 5 rows, about one event each, whose weights of evidence are noise.
    """
    estimator = make_estimator(spec, directions)
    if spec.family == "gbm":
        floor = max(_MIN_LEAF_ROWS, int(n_rows * _SMALL_SAMPLE_SHARE))
        grid: dict[str, list[Any]] | None = None
        if spec.tuning is not None and spec.tuning.grid:
            grid = {k: list(v) for k, v in spec.tuning.grid.items()}
            if "min_child_samples" in grid:
                grid["min_child_samples"] = sorted(
                    {min(int(v), floor) for v in grid["min_child_samples"]}
                )
        estimator.set_params(
            min_child_samples=min(estimator.min_child_samples, floor),
            n_jobs=1 if n_rows < _SINGLE_THREAD_ROWS else estimator.n_jobs,
            # Cross-validation groups are enterprises (or ids), not rating dates.
            calibration_split="cross",
            categorical_features=list(categorical) or None,
            tuning=grid,
            tuning_budget=spec.tuning.budget if spec.tuning is not None else 1,
        )
    elif spec.family == "scorecard":
        sized = max(estimator.min_bin_size, _MIN_BIN_ROWS / max(n_rows, 1))
        # optbinning accepts at most 0.5 (two bins); fewer than 20 rows get that.
        estimator.set_params(
            min_bin_size=min(sized, _MAX_BIN_SHARE),
            categorical_features=list(categorical) or None,
        )
    return estimator


def _level_proba(
    spec: ModelSpec,
    *,
    directions: Mapping[str, str],
    categorical: Sequence[str],
    x_fit: pd.DataFrame,
    y_fit: np.ndarray,
    groups: np.ndarray,
    x_pred: pd.DataFrame,
    n_levels: int,
) -> np.ndarray:
    """Probabilities of each level (binary: two columns).

    Ordinal targets: one binary model per threshold ``y > k`` (Frank and
    Hall), each keeping the declared risk directions (levels are ordered best
    to worst); ``P(y > k)`` is made non-increasing in ``k``.
    """
    exceed = np.zeros((len(x_pred), n_levels - 1))
    for k in range(n_levels - 1):
        target = (y_fit > k).astype(int)
        if target.min() == target.max():
            exceed[:, k] = float(target[0])
            continue
        model = fit_estimator(
            _sized_estimator(spec, directions, len(y_fit), categorical),
            x_fit,
            target,
            groups,
        )
        exceed[:, k] = model.predict_proba(x_pred)[:, 1]
    exceed = np.minimum.accumulate(exceed, axis=1)
    upper = np.hstack([np.ones((len(x_pred), 1)), exceed])
    lower = np.hstack([exceed, np.zeros((len(x_pred), 1))])
    return np.asarray(np.clip(upper - lower, 0.0, 1.0))


@dataclass
class EvaluationResult:
    """Cross-validated figures per model family, and the out-of-fold predictions.

    Attributes
    ----------
    kind : {"binary", "ordinal"}
        Target kind.
    rows : int
        Rows evaluated (with a target).
    folds : int
        Folds.
    classes : list
        Level labels, best first.
    encoding : TargetEncoding
        How the target was read (order, merged levels).
    models : dict
        Figures per spec; a failed family holds ``error`` instead.
    predictions : dict
        Out-of-fold probabilities per spec: the event's (binary) or each
        level's (ordinal, one column per level).
    index : ndarray
        Position in the input frame of each evaluated row.
    fold : ndarray
        Fold of each evaluated row.
    y : ndarray
        Level code of each evaluated row.
    threshold : float
        The chosen threshold.
    group : str or None
        Column the folds are grouped by.
    """

    kind: str
    rows: int
    folds: int
    classes: list[Any]
    encoding: TargetEncoding | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    predictions: dict[str, np.ndarray] = field(default_factory=dict)
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fold: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    threshold: float = 0.5
    group: str | None = None

    def succeeded(self) -> list[str]:
        """Specs whose evaluation ran to the end."""
        return [n for n, fig in self.models.items() if "error" not in fig]

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready figures (no predictions)."""
        return {
            "target": {"kind": self.kind, "rows": self.rows, "classes": self.classes},
            "target_levels": None
            if self.encoding is None
            else self.encoding.to_json_dict(),
            "folds": self.folds,
            "group": self.group,
            "threshold": self.threshold,
            "models": self.models,
        }

    def oof_frame(self, frame: pd.DataFrame, keys: Sequence[str] = ()) -> pd.DataFrame:
        """Out-of-fold predictions, one row per evaluated row of ``frame``.

        Columns: ``row`` (position in the input), the ``keys`` present, the
        target as given, its level, the fold, then per spec ``<spec>_proba``
        and ``<spec>_predicted`` (binary: at the chosen threshold) or
        ``<spec>_p_<level>`` per level, ``<spec>_expected`` and
        ``<spec>_predicted`` (ordinal).
        """
        rows = frame.iloc[self.index]
        out = pd.DataFrame({"row": self.index})
        for key in keys:
            if key in frame.columns:
                out[key] = rows[key].to_numpy()
        if self.encoding is not None:
            out["target"] = rows[self.encoding.column].to_numpy()
        out["level"] = np.asarray(self.classes, dtype=object)[self.y]
        out["fold"] = self.fold
        for name, proba in self.predictions.items():
            if self.kind == "binary":
                out[f"{name}_proba"] = proba
                out[f"{name}_predicted"] = (proba >= self.threshold).astype(int)
                continue
            for k, label in enumerate(self.classes):
                out[f"{name}_p_{label}"] = proba[:, k]
            out[f"{name}_expected"] = proba @ np.arange(proba.shape[1], dtype=float)
            out[f"{name}_predicted"] = np.asarray(self.classes, dtype=object)[
                expected_level(proba)
            ]
        return out


def _splits(
    y: np.ndarray, group_ids: np.ndarray, folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if len(np.unique(group_ids)) == len(group_ids):
        # One row per group: plain stratified folds, the same as any other
        # stratified k-fold CV with this seed on these rows (paired comparisons).
        plain = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(plain.split(np.zeros(len(y)), y))
    groups = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    return list(groups.split(np.zeros(len(y)), y, group_ids))


def _group_ids(data: pd.DataFrame, groups: str | None) -> np.ndarray:
    if not groups:
        return np.arange(len(data))
    if groups not in data.columns:
        raise DataContractError(
            f"The group column {groups!r} is not in the table; its columns are "
            f"{list(data.columns)[:12]}. Pass --group with one of them, or none."
        )
    values = data[groups].astype("string")
    codes = pd.factorize(values, use_na_sentinel=True)[0]
    # A row without a group is its own group.
    alone = codes < 0
    codes[alone] = codes.max() + 1 + np.arange(int(alone.sum()))
    return np.asarray(codes)


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
    categorical: Sequence[str] = (),
    order: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> EvaluationResult:
    """Stratified (grouped) k-fold cross-validation of each spec's family.

    Parameters
    ----------
    frame : pandas.DataFrame
        Feature rows (numbers or category codes) with the target column.
    features : sequence of str
        Feature columns.
    target : str
        Binary or ordinal target column: numbers or text (see
        :func:`credit_engine.training.encode_target` for the order).
    specs : sequence of ModelSpec
        Model families and parameters to evaluate.
    directions : mapping
        Declared risk direction per feature.
    folds : int, default=5
        Folds; rows of one group stay in one fold. Levels with fewer rows are
        merged into a neighbour (ordinal) or refused (binary).
    seed : int, default=0
        Seed of the fold assignment. With one row per group the folds are
        scikit-learn's ``StratifiedKFold(folds, shuffle=True,
        random_state=seed)`` on the rows in their order, so another model
        evaluated that way (a baseline) is compared on the very same folds;
        otherwise ``StratifiedGroupKFold`` with the same arguments.
    groups : str or None, default="uscc"
        Grouping column (must exist when given); rows without a group are
        groups of their own.
    categorical : sequence of str
        Feature columns holding category codes.
    order : sequence of str, optional
        The target's values, best first.
    threshold : float, default=0.5
        Threshold on the event probability (ordinal: on the worst level's) for
        precision, recall and F1, besides the best-F1 threshold.

    Returns
    -------
    EvaluationResult
        Per spec: AUC, average precision, Brier, P/R/F1 (binary) or kappa,
        accuracy, per-level P/R/F1 and the worst level against the rest
        (ordinal), pooled over out-of-fold predictions, plus per-fold values;
        or the error that stopped that family.
    """
    codes, encoding = encode_target(
        frame[target], column=target, order=order, min_rows=folds
    )
    index = np.flatnonzero(codes >= 0)
    data = frame.iloc[index].reset_index(drop=True)
    y = codes[index]
    n_levels = len(encoding.levels)
    x = data[list(features)].astype(float)
    group_ids = _group_ids(data, groups)
    splits = _splits(y, group_ids, folds, seed)
    fold = np.zeros(len(y), dtype=np.int64)
    for k, (_, pred_idx) in enumerate(splits):
        fold[pred_idx] = k
    result = EvaluationResult(
        kind=encoding.kind,
        rows=len(data),
        folds=folds,
        classes=list(encoding.levels),
        encoding=encoding,
        index=index,
        fold=fold,
        y=y,
        threshold=float(threshold),
        group=groups,
    )
    fold_rows = [pred for _, pred in splits]
    for spec in specs:
        try:
            proba = np.zeros((len(y), n_levels))
            for fit_idx, pred_idx in splits:
                proba[pred_idx] = _level_proba(
                    spec,
                    directions=directions,
                    categorical=categorical,
                    x_fit=x.iloc[fit_idx],
                    y_fit=y[fit_idx],
                    groups=group_ids[fit_idx],
                    x_pred=x.iloc[pred_idx],
                    n_levels=n_levels,
                )
            if encoding.kind == "binary":
                figures = binary_figures(y, proba[:, 1], fold_rows, threshold)
                result.predictions[spec.name] = proba[:, 1]
            else:
                figures = ordinal_figures(
                    y, proba, fold_rows, threshold, list(encoding.levels)
                )
                result.predictions[spec.name] = proba
            result.models[spec.name] = {"family": spec.family, **figures}
        except Exception as exc:  # noqa: BLE001 - one family's failure is reported
            where = traceback.extract_tb(exc.__traceback__)[-1]
            result.models[spec.name] = {
                "family": spec.family,
                "error": f"{type(exc).__name__}: {exc}",
                "where": f"{where.filename}:{where.lineno}",
            }
    return result


def fit_and_rate(
    frame: pd.DataFrame,
    features: Sequence[str],
    target: str,
    spec: ModelSpec,
    to_rate: pd.DataFrame,
    *,
    directions: Mapping[str, str],
    categorical: Sequence[str] = (),
    order: Sequence[str] | None = None,
    groups: str | None = None,
    keys: Sequence[str] = ("uscc", "as_of"),
    threshold: float = 0.5,
) -> pd.DataFrame:
    """Fit one family on all labelled rows and rate ``to_rate``.

    Returns
    -------
    pandas.DataFrame
        ``to_rate``'s ``keys`` with ``proba`` (binary: P(event); ordinal: the
        expected level, 0 = best) and ``predicted`` (binary: 1 when ``proba``
        reaches ``threshold``; ordinal: the level), and for ordinal targets
        ``p_<level>`` per level.
    """
    codes, encoding = encode_target(
        frame[target], column=target, order=order, min_rows=1
    )
    index = np.flatnonzero(codes >= 0)
    data = frame.iloc[index].reset_index(drop=True)
    y = codes[index]
    x = data[list(features)].astype(float)
    x_new = to_rate[list(features)].astype(float)
    group_ids = _group_ids(data, groups if groups in data.columns else None)
    present = [c for c in keys if c in to_rate.columns]
    out = to_rate[present].reset_index(drop=True).copy()
    proba = _level_proba(
        spec,
        directions=directions,
        categorical=categorical,
        x_fit=x,
        y_fit=y,
        groups=group_ids,
        x_pred=x_new,
        n_levels=len(encoding.levels),
    )
    labels = np.asarray(encoding.levels, dtype=object)
    if encoding.kind == "binary":
        out["proba"] = proba[:, 1]
        out["predicted"] = labels[(proba[:, 1] >= threshold).astype(int)]
        return out
    out["proba"] = proba @ np.arange(proba.shape[1], dtype=float)
    out["predicted"] = labels[expected_level(proba)]
    for k, label in enumerate(encoding.levels):
        out[f"p_{label}"] = proba[:, k]
    return out
