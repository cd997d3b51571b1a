"""Points-to-double-odds (PDO) scaling between probabilities and scores."""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PdoScaling"]

_EPS = 1e-9


class PdoScaling(BaseModel):
    """Score = offset + factor · ln(good:bad odds), ``factor = pdo / ln 2``.

    Parameters
    ----------
    pdo : float, default=20
        Points that double the good:bad odds.
    odds : float, default=50
        Good:bad odds at ``base_points``.
    base_points : float, default=600
        Score at ``odds``.

    Examples
    --------
    >>> s = PdoScaling(pdo=20, odds=50, base_points=600)
    >>> round(float(s.score(np.array([1 / 51]))[0]), 6)
    600.0
    >>> round(float(s.score(np.array([1 / 101]))[0]) - 600, 2)
    20.0
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pdo: float = Field(default=20.0, gt=0)
    odds: float = Field(default=50.0, gt=0)
    base_points: float = 600.0

    @property
    def factor(self) -> float:
        """Points per unit of log-odds."""
        return self.pdo / math.log(2.0)

    @property
    def offset(self) -> float:
        """Score at odds 1:1."""
        return self.base_points - self.factor * math.log(self.odds)

    def score(self, proba_default: np.ndarray) -> np.ndarray:
        """Scores for probabilities of default (higher score, lower risk)."""
        p = np.clip(np.asarray(proba_default, dtype=float), _EPS, 1 - _EPS)
        return np.asarray(self.offset + self.factor * np.log((1 - p) / p))

    def proba(self, score: np.ndarray) -> np.ndarray:
        """Probabilities of default for scores (inverse of :meth:`score`)."""
        log_odds = (np.asarray(score, dtype=float) - self.offset) / self.factor
        return np.asarray(1.0 / (1.0 + np.exp(log_odds)))

    def optbinning_params(self) -> dict[str, float]:
        """Return the same scaling as optbinning's ``pdo_odds`` parameters."""
        return {
            "pdo": self.pdo,
            "odds": self.odds,
            "scorecard_points": self.base_points,
        }
