"""A fitted rating model: estimator, master scale, scaling and reasons in one object.

This is what the registry stores and what scoring calls: feature rows in,
``proba_default``, ``score``, ``grade`` and reasons out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.modeling._master_scale import MasterScale
from credit_engine.modeling._scaling import PdoScaling

__all__ = ["OUTPUT_COLUMNS", "RatingModel", "any_flag_set", "reason_columns"]

OUTPUT_COLUMNS = ("proba_default", "score", "grade", "in_default")
"""Columns of :meth:`RatingModel.rate` before the reasons."""


def any_flag_set(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Rows where any of the 0/1 flag ``columns`` is set (null counts as unset)."""
    if not columns:
        return np.zeros(len(frame), dtype=bool)
    values = frame[list(columns)].astype(float).fillna(0.0).to_numpy()
    return np.asarray((values >= 0.5).any(axis=1))


def reason_columns(k: int) -> list[str]:
    """Names of the reason columns: ``reason_1`` .. ``reason_k``."""
    return [f"reason_{i + 1}" for i in range(k)]


@dataclass
class RatingModel:
    """Everything needed to rate enterprises from their feature rows.

    Parameters
    ----------
    name : str
        Spec name (e.g. ``scorecard``).
    family : str
        ``scorecard`` or ``gbm``.
    features : list of str
        Feature columns the estimator was fitted on, in order.
    estimator : object
        A fitted :class:`ScorecardClassifier` or :class:`GBMClassifier`.
    master_scale : MasterScale
        PD bands to grades.
    scaling : PdoScaling
        PD to score.
    default_state : list of str
        Flag features: a row with any of them at 1 is in default (grade GD).
    score_edges : list of float
        Frozen development bins of the PD (for PSI monitoring).
    n_reasons : int
        Reasons given per row.
    reason_method : {"path", "shap"}
        How a LightGBM model ranks its reasons: decision-path credits (one
        leaf lookup per tree; the default, affordable for a whole zone) or
        exact TreeSHAP (about 50 predictions' work). The scorecard always
        uses its point shortfalls.
    metadata : dict
        Spec, lineage and training figures (JSON-ready).
    """

    name: str
    family: str
    features: list[str]
    estimator: Any
    master_scale: MasterScale
    scaling: PdoScaling
    default_state: list[str] = field(default_factory=list)
    score_edges: list[float] = field(default_factory=list)
    n_reasons: int = 3
    metadata: dict[str, Any] = field(default_factory=dict)
    reason_method: str = "path"

    def _matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ValueError(
                f"Model {self.name!r} is missing {len(missing)} input feature(s): "
                f"{missing[:5]}. Build them with feature set "
                f"{self.metadata.get('feature_set', '?')!r}."
            )
        return frame[self.features].astype(float)

    def in_default(self, frame: pd.DataFrame) -> np.ndarray:
        """Whether each row is in a default state (any flag feature at 1)."""
        return any_flag_set(frame, self.default_state)

    def proba_default(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of an adverse event within the horizon."""
        matrix = self._matrix(frame)
        return np.asarray(self.estimator.predict_proba(matrix)[:, 1], dtype=float)

    def score(self, frame: pd.DataFrame, proba: np.ndarray | None = None) -> np.ndarray:
        """Score of each row: the PD scaled by points to double the odds.

        For the scorecard this is the sum of its points (same scaling, tested),
        without binning the rows a second time.
        """
        p = self.proba_default(frame) if proba is None else proba
        return self.scaling.score(p)

    def reasons(self, frame: pd.DataFrame, k: int | None = None) -> pd.DataFrame:
        """Return the ``k`` features pushing each row's risk up most.

        Scorecard: largest point shortfalls against each feature's best bin.
        LightGBM: largest positive contributions to the log-odds, by
        ``reason_method`` (decision-path credits or TreeSHAP).
        Slots past the last risk-raising feature are None.
        """
        k = self.n_reasons if k is None else k
        options = {"method": self.reason_method} if self.family == "gbm" else {}
        contrib = self.estimator.risk_contributions(self._matrix(frame), **options)
        values = contrib.to_numpy(dtype=float)
        names = np.asarray(contrib.columns, dtype=object)
        order = np.argsort(-values, axis=1, kind="stable")[:, :k]
        top = np.take_along_axis(values, order, axis=1)
        chosen = np.where(top > 1e-9, names[order], np.asarray(None, dtype=object))
        if chosen.shape[1] < k:  # fewer features in the model than reasons asked
            pad = np.full((len(chosen), k - chosen.shape[1]), None, dtype=object)
            chosen = np.hstack([chosen, pad])
        return pd.DataFrame(chosen, columns=reason_columns(k), index=frame.index)

    def rate(self, frame: pd.DataFrame, *, with_reasons: bool = True) -> pd.DataFrame:
        """Rate feature rows: PD, score, grade (GD when in default) and reasons.

        Parameters
        ----------
        frame : pandas.DataFrame
            Feature rows with at least the model's features (and flags).
        with_reasons : bool, default=True
            Add ``reason_1`` .. ``reason_k``.

        Returns
        -------
        pandas.DataFrame
            Same index as ``frame``.
        """
        proba = self.proba_default(frame)
        flags = self.in_default(frame)
        result = pd.DataFrame(
            {
                "proba_default": proba,
                "score": self.score(frame, proba),
                "grade": self.master_scale.assign(proba, flags).astype(str),
                "in_default": flags,
            },
            index=frame.index,
        )
        if with_reasons:
            result = result.join(self.reasons(frame))
        return result

    def input_columns(self) -> list[str]:
        """Columns a caller must send: the features and the default flags."""
        return list(dict.fromkeys([*self.features, *self.default_state]))

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (no estimator)."""
        return {
            "name": self.name,
            "family": self.family,
            "features": list(self.features),
            "default_state": list(self.default_state),
            "master_scale": self.master_scale.to_dict(),
            "scaling": self.scaling.model_dump(),
            "score_edges": list(self.score_edges),
            "n_reasons": self.n_reasons,
            "metadata": self.metadata,
        }
