"""Cross-fitting helpers of the LightGBM family: folds, calibrators, tuning grid.

Cross-fitted calibration (scikit-learn's ``CalibratedClassifierCV(cv=k,
ensemble=False)``): every training row gets a raw score from a booster that did
not see it (k folds, whole groups per fold), the calibrator is fitted on those
out-of-fold scores, and the booster is refitted on all rows. No row is wasted
on a held-out slice. The same out-of-fold scores choose among a small, budgeted
grid of candidate parameters when one is declared.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "apply_calibrator",
    "candidate_params",
    "cv_folds",
    "fit_calibrator",
    "logit",
]

TUNABLE = frozenset(
    {
        "n_estimators",
        "learning_rate",
        "num_leaves",
        "min_child_samples",
        "subsample",
        "colsample_bytree",
        "reg_lambda",
    }
)
"""Parameters a tuning grid may vary (the booster's, never the calibration's)."""


def logit(p: np.ndarray) -> np.ndarray:
    """Log-odds of probabilities clipped to ``[1e-9, 1 - 1e-9]``."""
    q = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


def cv_folds(
    y01: np.ndarray, groups: Any, n_folds: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds, whole groups per fold when ``groups`` is given.

    The number of folds is lowered to what the rarer class (and the number of
    groups) allows; fewer than two possible folds gives an empty list.
    """
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    counts = np.bincount(y01, minlength=2)
    k = min(n_folds, int(counts.min()))
    index = np.arange(len(y01))
    if groups is not None:
        group_ids = np.asarray(groups)
        k = min(k, len(np.unique(group_ids)))
        if k < 2:
            return []
        grouped = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        folds = list(grouped.split(index, y01, group_ids))
    else:
        if k < 2:
            return []
        plain = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
        folds = list(plain.split(index, y01))
    # A fold whose fitting part holds one class cannot train a classifier.
    return [(fit, pred) for fit, pred in folds if len(np.unique(y01[fit])) == 2]


def fit_calibrator(
    kind: str, raw: np.ndarray, y01: np.ndarray, weights: np.ndarray | None
) -> Any:
    """Fit an isotonic regression or a Platt (logistic on the logit) calibrator."""
    if kind == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        return iso.fit(raw, y01, sample_weight=weights)
    from sklearn.linear_model import LogisticRegression

    platt = LogisticRegression(C=1e6)
    return platt.fit(logit(raw)[:, None], y01, sample_weight=weights)


def apply_calibrator(kind: str, calibrator: Any, raw: np.ndarray) -> np.ndarray:
    """Calibrated probabilities of raw booster probabilities."""
    if kind == "isotonic":
        return np.asarray(calibrator.predict(raw), dtype=float)
    return np.asarray(calibrator.predict_proba(logit(raw)[:, None])[:, 1], dtype=float)


def candidate_params(
    tuning: Mapping[str, Sequence[Any]] | None, budget: int, seed: int
) -> list[dict[str, Any]]:
    """Candidate parameter overrides: first none (the estimator's own), then the grid.

    The grid is the product of the listed values; when it holds more than
    ``budget - 1`` combinations, a seeded sample of them is taken, so the
    search costs at most ``budget`` candidates and is the same for a seed.

    Raises
    ------
    ValueError
        If the grid names a parameter that cannot be tuned, or lists no value.
    """
    if not tuning:
        return [{}]
    unknown = sorted(set(tuning) - TUNABLE)
    if unknown:
        raise ValueError(
            f"The tuning grid names {unknown}, which cannot be tuned; use some of "
            f"{sorted(TUNABLE)}."
        )
    empty = sorted(k for k, v in tuning.items() if len(list(v)) == 0)
    if empty:
        raise ValueError(f"The tuning grid lists no value for {empty}.")
    names = sorted(tuning)
    grid = [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(list(tuning[n]) for n in names))
    ]
    room = max(0, int(budget) - 1)
    if len(grid) > room:
        rng = np.random.default_rng(seed)
        picked = sorted(rng.choice(len(grid), size=room, replace=False).tolist())
        grid = [grid[i] for i in picked]
    return [{}, *grid]
