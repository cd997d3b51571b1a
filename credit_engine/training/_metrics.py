"""Figures of ``evaluate``: discrimination and precision/recall/F1 at thresholds."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["binary_figures", "expected_level", "ordinal_figures"]


def _at(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, Any]:
    """Precision, recall and F1 of ``proba >= threshold`` as the event."""
    flagged = proba >= threshold
    tp = int((flagged & (y == 1)).sum())
    fp = int((flagged & (y == 0)).sum())
    fn = int((~flagged & (y == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": float(threshold),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "flagged": int(flagged.sum()),
    }


def _best_f1(y: np.ndarray, proba: np.ndarray) -> dict[str, Any]:
    """Return the figures at the threshold with the best F1 (pooled out of fold)."""
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(y, proba)
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(
            precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0
        )[:-1]
    if len(thresholds) == 0:
        return _at(y, proba, 0.5)
    best = int(np.argmax(f1))
    return _at(y, proba, float(thresholds[best]))


def binary_figures(
    y: np.ndarray, proba: np.ndarray, folds: list[np.ndarray], threshold: float
) -> dict[str, Any]:
    """AUC (pooled and per fold), average precision, Brier, P/R/F1 at thresholds.

    Parameters
    ----------
    y : ndarray
        0/1 outcomes.
    proba : ndarray
        Out-of-fold probabilities of the event.
    folds : list of ndarray
        Row positions of each fold (for the per-fold AUC).
    threshold : float
        The chosen threshold.
    """
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    per_fold = [
        float(roc_auc_score(y[rows], proba[rows]))
        if len(np.unique(y[rows])) == 2
        else float("nan")
        for rows in folds
    ]
    return {
        "auc": float(roc_auc_score(y, proba)),
        "auc_folds": per_fold,
        "average_precision": float(average_precision_score(y, proba)),
        "brier": float(brier_score_loss(y, proba)),
        "events": int(y.sum()),
        "at_threshold": _at(y, proba, threshold),
        "best_f1": _best_f1(y, proba),
    }


def expected_level(proba: np.ndarray) -> np.ndarray:
    """Return the expected level (``proba @ [0..L-1]``) rounded to the nearest."""
    levels = np.arange(proba.shape[1], dtype=float)
    expected = proba @ levels
    return np.asarray(np.abs(expected[:, None] - levels[None, :]).argmin(axis=1))


def ordinal_figures(
    y: np.ndarray,
    proba: np.ndarray,
    folds: list[np.ndarray],
    threshold: float,
    labels: list[Any],
) -> dict[str, Any]:
    """Kappa, accuracy, per-level P/R/F1, and the worst level against the rest.

    Parameters
    ----------
    y : ndarray
        Level codes ``0 .. L-1`` (best first).
    proba : ndarray of shape (n, L)
        Out-of-fold probabilities of each level.
    folds : list of ndarray
        Row positions of each fold.
    threshold : float
        The chosen threshold on the probability of the worst level.
    labels : list
        Level labels, best first.
    """
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        precision_recall_fscore_support,
    )

    predicted = expected_level(proba)
    codes = list(range(proba.shape[1]))
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=codes, zero_division=0
    )
    worst = (y == codes[-1]).astype(int)
    return {
        "qwk": float(cohen_kappa_score(y, predicted, weights="quadratic")),
        "accuracy": float(accuracy_score(y, predicted)),
        "qwk_folds": [
            float(cohen_kappa_score(y[rows], predicted[rows], weights="quadratic"))
            for rows in folds
        ],
        "macro_precision": float(np.mean(precision)),
        "macro_recall": float(np.mean(recall)),
        "macro_f1": float(np.mean(f1)),
        "per_level": [
            {
                "level": label,
                "rows": int(n),
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
            }
            for label, p, r, f, n in zip(
                labels, precision, recall, f1, support, strict=True
            )
        ],
        "worst_vs_rest": {
            "level": labels[-1],
            **binary_figures(worst, proba[:, -1], folds, threshold),
        },
    }
