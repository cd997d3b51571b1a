"""Input handling shared by the estimators: arrays or frames in, named frames out."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = [
    "as_frame",
    "binary_target",
    "feature_names",
    "validated_frame",
    "validated_training_data",
]


def feature_names(estimator: BaseEstimator) -> list[str]:
    """Names of the fitted columns (``x0``, ``x1``… when fitted on an array)."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is not None:
        return [str(n) for n in names]
    return [f"x{i}" for i in range(int(estimator.n_features_in_))]


def as_frame(values: np.ndarray, names: list[str]) -> pd.DataFrame:
    """Wrap a validated float array as a frame with the fitted column names."""
    return pd.DataFrame(np.asarray(values, dtype=float), columns=names)


def validated_frame(estimator: BaseEstimator, X: Any, *, reset: bool) -> pd.DataFrame:
    """Validate ``X`` the scikit-learn way (NaN allowed) and return a named frame.

    With ``reset=False`` the estimator must be fitted, and the number and names
    of the columns must match those seen in ``fit``.
    """
    if not reset:
        check_is_fitted(estimator)
    values = validate_data(
        estimator, X, reset=reset, ensure_all_finite="allow-nan", dtype=np.float64
    )
    return as_frame(values, feature_names(estimator))


def validated_training_data(
    estimator: BaseEstimator, X: Any, y: Any, sample_weight: Any = None
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate ``X`` and a binary ``y`` together for ``fit``.

    Returns
    -------
    tuple
        The named feature frame, the two classes, ``y`` as 0/1 (1 = the second
        class, the adverse event) and the weights as floats (or None).

    Raises
    ------
    ValueError
        If shapes disagree, ``y`` is not binary, or the weights leave one class
        (naming what was found).
    """
    values, y_checked = validate_data(
        estimator, X, y, ensure_all_finite="allow-nan", dtype=np.float64
    )
    weights = None
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype=float)
        if weights.shape != (len(y_checked),):
            raise ValueError(
                f"sample_weight must have shape ({len(y_checked)},), one weight per "
                f"row of X; got shape {weights.shape}."
            )
        if not (weights > 0).any():
            raise ValueError(
                "Sample weights must contain at least one non-zero number; all "
                f"{len(weights)} are zero or negative."
            )
        y_checked = np.asarray(y_checked)
        if len(np.unique(y_checked[weights > 0])) < 2:
            raise ValueError(
                "The rows with positive sample_weight hold only one class; a binary "
                "classifier needs weighted rows of both classes."
            )
    classes, y01 = binary_target(y_checked)
    return as_frame(values, feature_names(estimator)), classes, y01, weights


def binary_target(y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, y01)`` for a binary target.

    Raises
    ------
    ValueError
        If the target is not binary, naming what was found.
    """
    kind = type_of_target(y, input_name="y", raise_unknown=True)
    classes = np.unique(y)
    if len(classes) < 2:
        raise ValueError(
            f"y has only one class ({classes.tolist()}); a binary classifier "
            "needs rows of both classes (events and non-events)."
        )
    if kind != "binary":
        raise ValueError(
            "Only binary classification is supported: y must hold exactly two "
            f"classes (event = the larger one); got target type {kind!r} with "
            f"{len(classes)} classes. Grade-like targets are modelled as PD "
            "and mapped to grades by a master scale."
        )
    return classes, (np.asarray(y) == classes[1]).astype(np.int64)
