"""A zone rated at one date, in memory: what the serving state decides from.

:func:`rate_zone` runs the steps of :meth:`RatingEngine.rate
<credit_engine.rating.RatingEngine.rate>` (freshness, features of the
knowledge date, the model, statutory facts) without storing anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from credit_engine.decisioning import (
    FactInForce,
    ModelRating,
    facts_by_uscc,
    model_ratings,
    policy_features,
)
from credit_engine.freshness import FreshnessReport, StaleSource
from credit_engine.rating import RatingEngine

__all__ = ["RatedZone", "rate_zone"]


@dataclass(frozen=True)
class RatedZone:
    """Enterprises rated at one date: feature rows, model ratings, facts.

    ``freshness`` is the sources' freshness at ``as_of``; its stale sources
    mark every decision (the features then are those of its knowledge date).
    """

    as_of: dt.date
    usccs: dict[str, int]
    features: np.ndarray
    feature_names: list[str]
    ratings: list[ModelRating]
    facts: dict[str, list[FactInForce]]
    freshness: FreshnessReport | None = None

    @property
    def stale_sources(self) -> tuple[StaleSource, ...]:
        """Required sources stale at ``as_of`` (every decision is marked)."""
        return () if self.freshness is None else self.freshness.stale_sources


def rate_zone(
    engine: RatingEngine, as_of: dt.date, *, usccs: Sequence[str] | None = None
) -> RatedZone:
    """Rate every enterprise known at ``as_of`` (or only ``usccs``), no storing.

    The same steps as :meth:`RatingEngine.rate`: freshness at ``as_of``, the
    features of its knowledge date, the model, the statutory facts with
    absence counted to the watermarks.
    """
    freshness = engine.freshness(as_of)
    frame = engine.features(
        as_of, usccs=usccs, knowledge=freshness.knowledge_date
    ).reset_index(drop=True)
    names = list(engine.loaded.model.input_columns())
    if frame.empty:  # nobody asked for is known at that date: nothing to rate
        return RatedZone(
            as_of, {}, np.empty((0, len(names))), names, [], {}, freshness=freshness
        )
    rated = engine.loaded.model.rate(frame)
    rated.insert(0, "uscc", frame["uscc"].to_numpy())
    for name in policy_features(engine.policy):
        rated[name] = frame[name].to_numpy()
    facts = engine.facts(as_of, usccs=None if usccs is None else list(usccs))
    return RatedZone(
        as_of=as_of,
        usccs={str(u): i for i, u in enumerate(frame["uscc"])},
        features=frame[names].astype(float).to_numpy(),
        feature_names=names,
        ratings=[r for _, r in model_ratings(rated, engine.policy)],
        facts=facts_by_uscc(facts),
        freshness=freshness,
    )
