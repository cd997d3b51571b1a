"""The graded credit model (scorecard family).

Optbinning bins with declared directions, then a logistic regression, scaled to
points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from credit_engine.modeling._directions import directions_for, optbinning_trend
from credit_engine.modeling._frames import (
    validated_frame,
    validated_training_data,
)
from credit_engine.modeling._scaling import PdoScaling

__all__ = ["ScorecardClassifier"]


class ScorecardClassifier(ClassifierMixin, BaseEstimator):
    """Binned logistic scorecard with monotone bins and PDO points.

    Each feature is binned by optbinning's optimal binning with the event rate
    forced monotone in the declared direction, replaced by its weight of
    evidence, and the strongest ``max_features`` (by information value) enter
    an L2 logistic regression. Points are scaled by points-to-double-odds, so
    the score of a row is the sum of its points per feature.

    Parameters
    ----------
    directions : mapping or sequence of str, optional
        Risk direction per feature (``increasing``, ``decreasing``, ``none``),
        by name or one per column. ``none`` lets the data pick the sign.
    max_features : int, default=30
        Features kept, highest information value first.
    min_iv : float, default=0.02
        Features under this information value are dropped (unless none pass).
    max_n_prebins : int, default=20
        Pre-bins per feature before optimisation.
    min_bin_size : float, default=0.05
        Smallest bin as a share of rows.
    C : float, default=1.0
        Inverse L2 strength of the logistic regression.
    pdo, odds, base_points : float, default=20, 50, 600
        Score scaling: ``base_points`` at good:bad ``odds``; ``pdo`` points
        double the odds.
    categorical_features : sequence of str, optional
        Columns holding category codes (NaN for missing): binned as categories
        (grouped by event rate), not as numbers.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        Class labels; the second is the adverse event.
    scorecard_ : optbinning.Scorecard
        The fitted optbinning scorecard.
    selected_features_ : list of str
        Features in the scorecard.
    feature_iv_ : dict
        Information value of every feature on the training data.
    max_points_ : dict
        Largest points each selected feature can give.
    used_features_ : list of str
        Features binned (every column but those excluded).
    excluded_features_ : dict
        Columns left out before binning, with the reason (``all missing``,
        ``constant``): they carry no information and optbinning cannot bin an
        empty column.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 2))
    >>> y = (rng.random(2000) < 1 / (1 + np.exp(2 - X[:, 0]))).astype(int)
    >>> model = ScorecardClassifier(directions=["increasing", "none"]).fit(X, y)
    >>> bool(model.predict_proba(X[:1])[0, 1] > 0)
    True
    """

    def __init__(
        self,
        *,
        directions: Mapping[str, str] | Sequence[str] | None = None,
        max_features: int = 30,
        min_iv: float = 0.02,
        max_n_prebins: int = 20,
        min_bin_size: float = 0.05,
        C: float = 1.0,
        pdo: float = 20.0,
        odds: float = 50.0,
        base_points: float = 600.0,
        categorical_features: Sequence[str] | None = None,
    ) -> None:
        self.directions = directions
        self.max_features = max_features
        self.min_iv = min_iv
        self.max_n_prebins = max_n_prebins
        self.min_bin_size = min_bin_size
        self.C = C
        self.pdo = pdo
        self.odds = odds
        self.base_points = base_points
        self.categorical_features = categorical_features

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.classifier_tags.multi_class = False
        return tags

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Versions pickled before categorical features lack the parameter.
        state.setdefault("categorical_features", None)
        super().__setstate__(state)

    @property
    def scaling(self) -> PdoScaling:
        """The points scaling of this scorecard."""
        return PdoScaling(pdo=self.pdo, odds=self.odds, base_points=self.base_points)

    def fit(
        self, X: Any, y: Any, sample_weight: np.ndarray | None = None
    ) -> ScorecardClassifier:
        """Bin, select and fit the scorecard.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features; NaN means no record and gets its own bin.
        y : array-like of shape (n_samples,)
            Binary outcome.
        sample_weight : array-like of shape (n_samples,), optional
            Row weights.

        Returns
        -------
        ScorecardClassifier
            The fitted estimator.
        """
        frame, self.classes_, y01, weights = validated_training_data(
            self, X, y, sample_weight
        )
        all_names = list(frame.columns)
        all_trends = directions_for(all_names, self.directions)
        categorical = set(self.categorical_features or ())
        unknown = sorted(categorical - set(all_names))
        if unknown:
            raise ValueError(
                f"categorical_features names {len(unknown)} column(s) not in X: "
                f"{unknown[:5]}. Pass names of X's columns."
            )
        self.excluded_features_ = _uninformative(frame)
        names = [n for n in all_names if n not in self.excluded_features_]
        if not names:
            raise ValueError(
                f"None of the {len(all_names)} feature(s) can be binned: every one "
                f"is all missing or constant ({self.excluded_features_}). Pass "
                "columns with at least two distinct values."
            )
        self.used_features_ = names
        trends = [
            t for n, t in zip(all_names, all_trends, strict=True) if n in set(names)
        ]
        frame = frame[names]
        try:
            scorecard = self._fit_scorecard(
                frame=frame,
                y01=y01,
                names=names,
                trends=trends,
                weights=weights,
                use_min_iv=True,
            )
        except ValueError:
            # No feature reached min_iv: keep the strongest ones instead.
            scorecard = self._fit_scorecard(
                frame=frame,
                y01=y01,
                names=names,
                trends=trends,
                weights=weights,
                use_min_iv=False,
            )
        self.scorecard_ = scorecard
        process = scorecard.binning_process_
        self.selected_features_ = [str(n) for n in process.get_support(names=True)]
        summary = process.summary()
        self.feature_iv_ = {
            str(r.name): float(r.iv) for r in summary.itertuples(index=False)
        }
        table = scorecard.table(style="summary")
        self.max_points_ = {
            str(k): float(v)
            for k, v in table.groupby("Variable")["Points"].max().items()
        }
        return self

    def _fit_scorecard(
        self,
        *,
        frame: pd.DataFrame,
        y01: np.ndarray,
        names: list[str],
        trends: list[str],
        weights: np.ndarray | None,
        use_min_iv: bool,
    ) -> Any:
        from optbinning import BinningProcess, Scorecard
        from sklearn.linear_model import LogisticRegression

        criteria: dict[str, Any] = {"top": self.max_features, "strategy": "highest"}
        if use_min_iv:
            criteria["min"] = self.min_iv
        categorical = [n for n in names if n in set(self.categorical_features or ())]
        process = BinningProcess(
            names,
            categorical_variables=categorical or None,
            max_n_prebins=self.max_n_prebins,
            min_bin_size=self.min_bin_size,
            selection_criteria={"iv": criteria},
            binning_fit_params={
                n: {"monotonic_trend": optbinning_trend(t, n)}
                for n, t in zip(names, trends, strict=True)
            },
        )
        scorecard = Scorecard(
            binning_process=process,
            estimator=LogisticRegression(C=self.C, max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params=self.scaling.optbinning_params(),
        )
        return scorecard.fit(frame, y01, sample_weight=weights)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of each class; column 1 is the adverse event."""
        frame = self._used(validated_frame(self, X, reset=False))
        return np.asarray(self.scorecard_.predict_proba(frame))

    def predict(self, X: Any) -> np.ndarray:
        """Return the more probable class of each row."""
        proba = self.predict_proba(X)
        return np.asarray(self.classes_[(proba[:, 1] > 0.5).astype(int)])

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the adverse event."""
        p = np.clip(self.predict_proba(X)[:, 1], 1e-12, 1 - 1e-12)
        return np.asarray(np.log(p / (1 - p)))

    def points(self, X: Any) -> pd.DataFrame:
        """Points per selected feature for each row (they sum to the score)."""
        frame = self._used(validated_frame(self, X, reset=False))
        result: pd.DataFrame = self.scorecard_.transform(frame)
        return result[self.selected_features_].astype(float)

    def score_points(self, X: Any) -> np.ndarray:
        """Scorecard score of each row: higher is safer."""
        frame = self._used(validated_frame(self, X, reset=False))
        return np.asarray(self.scorecard_.score(frame), dtype=float)

    def _used(self, frame: pd.DataFrame) -> pd.DataFrame:
        # Versions fitted before columns could be excluded bin every column.
        used = getattr(self, "used_features_", None)
        return frame if used is None else frame[used]

    def risk_contributions(self, X: Any) -> pd.DataFrame:
        """Point shortfall per feature: the points a row misses against the best bin.

        Reasons are the features with the largest shortfalls.
        """
        points = self.points(X)
        best = pd.Series(self.max_points_)[points.columns]
        return best - points

    def points_table(self) -> pd.DataFrame:
        """Return the scorecard: one row per feature bin (counts, WoE, IV, points)."""
        check_is_fitted(self)
        table: pd.DataFrame = self.scorecard_.table(style="detailed")
        return table


def _uninformative(frame: pd.DataFrame) -> dict[str, str]:
    """Columns that are all missing, or one value with no missing: the reason each."""
    out: dict[str, str] = {}
    for name in frame.columns:
        values = frame[name]
        present = values.dropna()
        if present.empty:
            out[str(name)] = "all missing"
        elif present.nunique() == 1 and len(present) == len(values):
            out[str(name)] = "constant"
    return out
