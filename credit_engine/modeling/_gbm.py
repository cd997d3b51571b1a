"""The risk model: LightGBM with monotone constraints and calibrated PDs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from credit_engine.modeling._crossfit import (
    apply_calibrator,
    candidate_params,
    cv_folds,
    fit_calibrator,
)
from credit_engine.modeling._directions import directions_for, lightgbm_constraint
from credit_engine.modeling._frames import (
    validated_frame,
    validated_training_data,
)
from credit_engine.modeling._paths import path_contributions, path_tables

__all__ = ["GBMClassifier"]


_ADDED_PARAMETERS: dict[str, Any] = {
    "calibration_folds": 3,
    "categorical_features": None,
    "tuning": None,
    "tuning_budget": 4,
    "categorical_features_": [],
    "best_params_": {},
    "tuning_results_": [],
}
"""Parameters and attributes added after the first registered versions."""

_MIN_CROSS_ROWS = 20
"""Fewer training rows than this are calibrated in-sample (no folds)."""


class GBMClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM classifier, monotone in the declared directions, then calibrated.

    Calibration is cross-fitted by default: every row gets a raw score from a
    booster fitted on the other folds (whole groups per fold when ``groups`` is
    given, e.g. every row of an enterprise), the calibrator is fitted on those
    out-of-fold scores and the booster is refitted on all rows (scikit-learn's
    ``CalibratedClassifierCV(ensemble=False)``). The older held-out slices are
    kept: ``random`` (a random share of the groups) and ``latest`` (the latest
    share of ordered groups, e.g. rating dates), where the booster is fitted on
    the rest and never sees the slice.

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
        Calibrator of the raw probabilities; None keeps them.
    calibration_split : {"cross", "random", "latest"}, default="cross"
        ``cross``: cross-fitted on ``calibration_folds`` folds, booster refitted
        on all rows. ``random``: a held-out random share (``calibration_size``)
        of the groups (or rows). ``latest``: the held-out latest share of the
        groups, which must then be ordered values such as rating dates, so the
        calibrator learns how the booster does on a later period.
    calibration_size : float, default=0.2
        Share of rows (or groups) held out by ``random`` and ``latest``.
    calibration_folds : int, default=3
        Folds of ``cross`` (fewer when the rarer class or the groups are few).
    categorical_features : sequence of str, optional
        Columns holding category codes (integers from 0; NaN for missing),
        split natively by LightGBM. They take no monotone constraint.
    tuning : mapping of str to sequence, optional
        A small grid of booster parameters to try (e.g. ``{"min_child_samples":
        [20, 100]}``), only with ``calibration_split="cross"``. The estimator's
        own parameters are always a candidate; the one with the best pooled
        out-of-fold AUC on the calibration folds is refitted on all rows.
    tuning_budget : int, default=4
        Largest number of candidates, the estimator's own included (a seeded
        sample of a larger grid). Each costs ``calibration_folds`` fits, but
        candidates differing only in ``n_estimators`` share their fits.
    random_state : int, default=0
        Seed of the folds, slices and LightGBM (results are deterministic).
    n_jobs : int, default=1
        LightGBM threads.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; the second is the adverse event.
    booster_ : lightgbm.LGBMClassifier
        The fitted booster (uncalibrated).
    calibrator_ : IsotonicRegression or LogisticRegression or None
        The calibrator (Platt works on the logit).
    monotone_constraints_ : list of int
        Constraint per feature (+1, -1, 0).
    categorical_features_ : list of str
        Columns split as categories.
    best_params_ : dict
        Values of the tuned parameters refitted on all rows (empty without a
        grid).
    tuning_results_ : list of dict
        Every candidate's parameters and pooled out-of-fold AUC.
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
        calibration_split: Literal["cross", "random", "latest"] = "cross",
        calibration_folds: int = 3,
        categorical_features: Sequence[str] | None = None,
        tuning: Mapping[str, Sequence[Any]] | None = None,
        tuning_budget: int = 4,
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
        self.calibration_folds = calibration_folds
        self.categorical_features = categorical_features
        self.tuning = tuning
        self.tuning_budget = tuning_budget
        self.random_state = random_state
        self.n_jobs = n_jobs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Versions pickled before cross-fitting lack the newer parameters.
        for name, value in _ADDED_PARAMETERS.items():
            state.setdefault(name, value)
        super().__setstate__(state)

    def _check_parameters(self) -> None:
        if self.calibration_split not in ("cross", "random", "latest"):
            raise ValueError(
                "The 'calibration_split' parameter of GBMClassifier must be 'cross', "
                f"'random' or 'latest'. Got {self.calibration_split!r} instead."
            )
        if self.calibration not in ("isotonic", "sigmoid", None):
            raise ValueError(
                "The 'calibration' parameter of GBMClassifier must be 'isotonic', "
                f"'sigmoid' or None. Got {self.calibration!r} instead."
            )
        if self.tuning and self.calibration_split != "cross":
            raise ValueError(
                "A tuning grid needs calibration_split='cross' (its folds score the "
                f"candidates); got calibration_split={self.calibration_split!r}."
            )

    def fit(
        self,
        X: Any,
        y: Any,
        sample_weight: np.ndarray | None = None,
        *,
        groups: Any = None,
    ) -> GBMClassifier:
        """Fit the booster and its calibrator (and pick among a tuning grid).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features; NaN is allowed (LightGBM learns where missing goes).
        y : array-like of shape (n_samples,)
            Binary outcome.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights.
        groups : array-like of shape (n_samples,), optional
            Group of each row: the enterprise (folds and the ``random`` slice
            take whole groups, so no group is on both sides) or, with
            ``calibration_split="latest"``, the rating date.

        Returns
        -------
        GBMClassifier
            The fitted estimator.
        """
        self._check_parameters()
        frame, self.classes_, y01, weights = validated_training_data(
            self, X, y, sample_weight
        )
        names = list(frame.columns)
        self.categorical_features_ = self._categorical(names)
        directions = directions_for(names, self.directions)
        for name, direction in zip(names, directions, strict=True):
            if name in self.categorical_features_ and direction != "none":
                raise ValueError(
                    f"Feature {name!r} is categorical and cannot be monotone "
                    f"{direction!r}; declare its direction 'none'."
                )
        self.monotone_constraints_ = [
            lightgbm_constraint(d, n) for d, n in zip(directions, names, strict=True)
        ]
        self.best_params_: dict[str, Any] = {}
        self.tuning_results_: list[dict[str, Any]] = []
        self.calibrator_ = None
        if self.calibration_split == "cross":
            self._fit_cross(frame, y01, weights, groups)
        else:
            self._fit_held_out(frame, y01, weights, groups)
        self.feature_importances_ = np.asarray(
            self.booster_.booster_.feature_importance(importance_type="gain"), float
        )
        self.path_tables_ = path_tables(self.booster_.booster_)
        return self

    def _categorical(self, names: list[str]) -> list[str]:
        if not self.categorical_features:
            return []
        unknown = [c for c in self.categorical_features if c not in names]
        if unknown:
            raise ValueError(
                f"categorical_features names {len(unknown)} column(s) not in X: "
                f"{list(unknown)[:5]}. Pass names of X's columns."
            )
        return [n for n in names if n in set(self.categorical_features)]

    def _fit_held_out(
        self,
        frame: pd.DataFrame,
        y01: np.ndarray,
        weights: np.ndarray | None,
        groups: Any,
    ) -> None:
        fit_idx, cal_idx = self._split(y01, groups)
        self.booster_ = self._fit_booster(frame, y01, weights, fit_idx)
        if self.calibration is not None and len(cal_idx):
            self.calibrator_ = fit_calibrator(
                self.calibration,
                self._raw_proba(frame.iloc[cal_idx]),
                y01[cal_idx],
                None if weights is None else weights[cal_idx],
            )

    def _fit_cross(
        self,
        frame: pd.DataFrame,
        y01: np.ndarray,
        weights: np.ndarray | None,
        groups: Any,
    ) -> None:
        candidates = candidate_params(
            self.tuning, self.tuning_budget, self.random_state
        )
        needs_folds = self.calibration is not None or len(candidates) > 1
        folds = (
            cv_folds(y01, groups, self.calibration_folds, self.random_state)
            if needs_folds and len(y01) >= _MIN_CROSS_ROWS
            else []
        )
        everything = np.arange(len(y01))
        if not folds:
            # Too few rows or events for folds: own parameters, in-sample calibration.
            self.booster_ = self._fit_booster(frame, y01, weights, everything)
            if self.calibration is not None:
                self.calibrator_ = fit_calibrator(
                    self.calibration, self._raw_proba(frame), y01, weights
                )
            return
        scored = self._out_of_fold(frame, y01, weights, folds, candidates)
        best = 0
        for i, (_, auc, _) in enumerate(scored):
            if auc > scored[best][1] + 1e-12:
                best = i
        overrides, _, raw = scored[best]
        self.best_params_ = {
            k: overrides.get(k, getattr(self, k)) for k in sorted(self.tuning or {})
        }
        self.tuning_results_ = [
            {"params": {**params}, "auc": auc} for params, auc, _ in scored
        ]
        self.booster_ = self._fit_booster(frame, y01, weights, everything, overrides)
        if self.calibration is not None:
            seen = ~np.isnan(raw)
            self.calibrator_ = fit_calibrator(
                self.calibration,
                raw[seen],
                y01[seen],
                None if weights is None else weights[seen],
            )

    def _out_of_fold(
        self,
        frame: pd.DataFrame,
        y01: np.ndarray,
        weights: np.ndarray | None,
        folds: list[tuple[np.ndarray, np.ndarray]],
        candidates: list[dict[str, Any]],
    ) -> list[tuple[dict[str, Any], float, np.ndarray]]:
        """Out-of-fold raw scores and pooled AUC of every candidate.

        Candidates that differ only in ``n_estimators`` share one booster per
        fold, read at each number of trees.
        """
        from sklearn.metrics import roc_auc_score

        shared: dict[str, list[int]] = {}
        for i, params in enumerate(candidates):
            key = repr(sorted((k, v) for k, v in params.items() if k != "n_estimators"))
            shared.setdefault(key, []).append(i)
        raws = [np.full(len(y01), np.nan) for _ in candidates]
        for members in shared.values():
            trees = [
                int(candidates[i].get("n_estimators", self.n_estimators))
                for i in members
            ]
            overrides = {**candidates[members[0]], "n_estimators": max(trees)}
            for fit_idx, pred_idx in folds:
                booster = self._fit_booster(frame, y01, weights, fit_idx, overrides)
                part = frame.iloc[pred_idx]
                for i, n_trees in zip(members, trees, strict=True):
                    raws[i][pred_idx] = booster.predict_proba(
                        part, num_iteration=n_trees
                    )[:, 1]
        scored = []
        for params, raw in zip(candidates, raws, strict=True):
            seen = ~np.isnan(raw)
            auc = float(
                roc_auc_score(
                    y01[seen],
                    raw[seen],
                    sample_weight=None if weights is None else weights[seen],
                )
            )
            scored.append((params, auc, raw))
        return scored

    def _fit_booster(
        self,
        frame: pd.DataFrame,
        y01: np.ndarray,
        weights: np.ndarray | None,
        rows: np.ndarray,
        overrides: Mapping[str, Any] | None = None,
    ) -> Any:
        options: dict[str, Any] = {}
        if self.categorical_features_:
            options["categorical_feature"] = list(self.categorical_features_)
        return self._booster(**dict(overrides or {})).fit(
            frame.iloc[rows],
            y01[rows],
            sample_weight=None if weights is None else weights[rows],
            **options,
        )

    def _raw_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.booster_.predict_proba(frame)[:, 1], dtype=float)

    def _booster(self, **overrides: Any) -> Any:
        from lightgbm import LGBMClassifier

        params = {
            "n_estimators": self.n_estimators,
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "subsample": self.subsample,
            "colsample_bytree": self.colsample_bytree,
            "reg_lambda": self.reg_lambda,
            **overrides,
        }
        return LGBMClassifier(
            **params,
            subsample_freq=1 if params["subsample"] < 1 else 0,
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
            p = apply_calibrator(str(self.calibration), self.calibrator_, p)
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
