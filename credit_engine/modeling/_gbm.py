"""The risk model: LightGBM with monotone constraints and calibrated PDs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from credit_engine.modeling._directions import directions_for, lightgbm_constraint
from credit_engine.modeling._frames import (
    validated_frame,
    validated_training_data,
)
from credit_engine.modeling._paths import path_contributions, path_tables

__all__ = ["GBMClassifier"]


def _logit(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-9, 1 - 1e-9)
    return np.asarray(np.log(q / (1 - q)))


class GBMClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM classifier, monotone in the declared directions, then calibrated.

    A share of the training rows (whole groups when ``groups`` is given, e.g.
    every row of an enterprise) is held out; the booster is fitted on the rest
    and an isotonic or Platt calibrator on the held-out slice.

    Parameters
    ----------
    directions : mapping or sequence of str, optional
        Risk direction per feature (``increasing``, ``decreasing``, ``none``).
        The predicted PD never falls as an ``increasing`` feature grows.
    n_estimators : int, default=300
        Boosting rounds.
    learning_rate : float, default=0.05
        Shrinkage.
    num_leaves : int, default=15
        Leaves per tree.
    min_child_samples : int, default=50
        Smallest leaf.
    subsample, colsample_bytree : float, default=0.8
        Row (per round) and column sampling shares.
    reg_lambda : float, default=1.0
        L2 penalty on leaf values.
    calibration : {"isotonic", "sigmoid"} or None, default="isotonic"
        Calibrator fitted on the held-out slice; None keeps raw probabilities.
    calibration_size : float, default=0.2
        Share of rows (or groups) held out for calibration.
    calibration_split : {"random", "latest"}, default="random"
        ``random``: a random share of the groups (or rows). ``latest``: the
        latest share of the groups, which must then be ordered values such as
        rating dates, so the calibrator learns how the booster does on a later
        period (out of time), as credit PDs are used.
    random_state : int, default=0
        Seed of the split and of LightGBM (results are deterministic).
    n_jobs : int, default=1
        LightGBM threads.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; the second is the adverse event.
    booster_ : lightgbm.LGBMClassifier
        The fitted booster (uncalibrated).
    calibrator_ : IsotonicRegression or LogisticRegression or None
        The calibrator fitted on the held-out slice (Platt works on the logit).
    monotone_constraints_ : list of int
        Constraint per feature (+1, -1, 0).
    feature_importances_ : ndarray
        Gain importance per feature.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 2))
    >>> y = (rng.random(3000) < 1 / (1 + np.exp(2 - X[:, 0]))).astype(int)
    >>> model = GBMClassifier(directions=["increasing", "none"], n_estimators=50)
    >>> p = model.fit(X, y).predict_proba(np.array([[-1.0, 0.0], [1.0, 0.0]]))[:, 1]
    >>> bool(p[0] <= p[1])
    True
    """

    def __init__(
        self,
        *,
        directions: Mapping[str, str] | Sequence[str] | None = None,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        min_child_samples: int = 50,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        calibration: Literal["isotonic", "sigmoid"] | None = "isotonic",
        calibration_size: float = 0.2,
        calibration_split: Literal["random", "latest"] = "random",
        random_state: int = 0,
        n_jobs: int = 1,
    ) -> None:
        self.directions = directions
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.calibration = calibration
        self.calibration_size = calibration_size
        self.calibration_split = calibration_split
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: np.ndarray | None = None,
        *,
        groups: Any = None,
    ) -> GBMClassifier:
        """Fit the booster, then the calibrator on a held-out slice.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features; NaN is allowed (LightGBM learns where missing goes).
        y : array-like of shape (n_samples,)
            Binary outcome.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights.
        groups : array-like of shape (n_samples,), optional
            Group of each row: the enterprise (the calibration slice takes whole
            groups, so no group is on both sides) or, with
            ``calibration_split="latest"``, the rating date.

        Returns
        -------
        GBMClassifier
            The fitted estimator.
        """
        if self.calibration_split not in ("random", "latest"):
            raise ValueError(
                "The 'calibration_split' parameter of GBMClassifier must be 'random' "
                f"or 'latest'. Got {self.calibration_split!r} instead."
            )
        if self.calibration not in ("isotonic", "sigmoid", None):
            raise ValueError(
                "The 'calibration' parameter of GBMClassifier must be 'isotonic', "
                f"'sigmoid' or None. Got {self.calibration!r} instead."
            )
        frame, self.classes_, y01, weights = validated_training_data(
            self, X, y, sample_weight
        )
        names = list(frame.columns)
        directions = directions_for(names, self.directions)
        self.monotone_constraints_ = [
            lightgbm_constraint(d, n) for d, n in zip(directions, names, strict=True)
        ]
        fit_idx, cal_idx = self._split(y01, groups)
        self.booster_ = self._booster().fit(
            frame.iloc[fit_idx],
            y01[fit_idx],
            sample_weight=None if weights is None else weights[fit_idx],
        )
        self.calibrator_ = None
        if self.calibration is not None and len(cal_idx):
            self.calibrator_ = self._fit_calibrator(
                self._raw_proba(frame.iloc[cal_idx]),
                y01[cal_idx],
                None if weights is None else weights[cal_idx],
            )
        self.feature_importances_ = np.asarray(
            self.booster_.booster_.feature_importance(importance_type="gain"), float
        )
        self.path_tables_ = path_tables(self.booster_.booster_)
        return self

    def _fit_calibrator(
        self, raw: np.ndarray, y01: np.ndarray, weights: np.ndarray | None
    ) -> Any:
        if self.calibration == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            return iso.fit(raw, y01, sample_weight=weights)
        from sklearn.linear_model import LogisticRegression

        platt = LogisticRegression(C=1e6)
        return platt.fit(_logit(raw)[:, None], y01, sample_weight=weights)

    def _raw_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.predict_proba(frame)[:, 1], dtype=float)

    def _booster(self) -> Any:
        from lightgbm import LGBMClassifier

        return LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            monotone_constraints=self.monotone_constraints_,
            monotone_constraints_method="advanced",
            random_state=self.random_state,
            n_jobs=self.n_jobs,
            deterministic=True,
            force_row_wise=True,
            verbosity=-1,
        )

    def _split(self, y01: np.ndarray, groups: Any) -> tuple[np.ndarray, np.ndarray]:
        n = len(y01)
        everything = np.arange(n)
        if self.calibration is None or self.calibration_size <= 0:
            return everything, everything[:0]
        if n < 20 or min(np.bincount(y01, minlength=2)) < 4:
            # Too few rows or events to hold any out: calibrate in-sample.
            return everything, everything
        from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

        splitter: Any
        if groups is not None and self.calibration_split == "latest":
            order = np.asarray(groups)
            distinct = np.unique(order)
            held = max(1, round(len(distinct) * self.calibration_size))
            cal_mask = order >= distinct[-held]
            fit_idx, cal_idx = everything[~cal_mask], everything[cal_mask]
            if len(fit_idx) == 0:
                return everything, everything
        elif groups is not None:
            splitter = GroupShuffleSplit(
                n_splits=1,
                test_size=self.calibration_size,
                random_state=self.random_state,
            )
            fit_idx, cal_idx = next(splitter.split(everything, y01, np.asarray(groups)))
        else:
            splitter = StratifiedShuffleSplit(
                n_splits=1,
                test_size=self.calibration_size,
                random_state=self.random_state,
            )
            fit_idx, cal_idx = next(splitter.split(everything, y01))
        if len(np.unique(y01[cal_idx])) < 2:
            return everything, everything
        return np.sort(fit_idx), np.sort(cal_idx)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Calibrated probabilities of each class; column 1 is the adverse event."""
        frame = validated_frame(self, X, reset=False)
        p = self._raw_proba(frame)
        if self.calibrator_ is not None:
            if self.calibration == "isotonic":
                p = np.asarray(self.calibrator_.predict(p), dtype=float)
            else:
                p = self.calibrator_.predict_proba(_logit(p)[:, None])[:, 1]
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """Return the more probable class of each row."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[(proba[:, 1] > 0.5).astype(int)])

    def risk_contributions(
        self, X: Any, *, method: Literal["path", "shap"] = "path"
    ) -> pd.DataFrame:
        """Contribution of each feature to the log-odds of the event.

        Positive values push risk up. Both methods are additive: a row's
        contributions sum to its raw score minus a baseline.

        Parameters
        ----------
        X : array-like
            Feature rows.
        method : {"path", "shap"}, default="path"
            ``path``: changes of node value along each tree's decision path,
            credited to the split feature (Saabas; XGBoost's
            ``approx_contribs``), at the cost of one leaf lookup per tree.
            ``shap``: exact TreeSHAP (LightGBM ``pred_contrib``), about 50
            predictions' work, run on every core.

        Returns
        -------
        pandas.DataFrame
            One column per feature, same index as ``X``.
        """
        frame = validated_frame(self, X, reset=False)
        if method == "shap":
            contrib = self.booster_.predict(frame, pred_contrib=True, num_threads=0)
            values = np.asarray(contrib)[:, :-1]
        elif method == "path":
            tables = getattr(self, "path_tables_", None)
            if tables is None:  # fitted before path tables were kept
                tables = path_tables(self.booster_.booster_)
            leaves = self.booster_.predict(frame, pred_leaf=True)
            values = path_contributions(tables, leaves)
        else:
            raise ValueError(f"method must be 'path' or 'shap', got {method!r}")
        return pd.DataFrame(values, columns=frame.columns, index=frame.index)
