"""What a serving state computes once so that a served decision costs little.

At the serving date an enterprise's feature row, model rating and facts are
fixed for the life of the state, and its decision depends only on the override
in force. :class:`ServingCache` (one per :class:`ServingState
<credit_engine.api._service.ServingState>`, built with it, dropped with it on
a reload) holds:

* per enterprise, built when the state loads, the canonical JSON of the audit
  payload's inputs: the feature row (its text only, decoded only if somebody
  reads an entry's payload: a served decision's entry is written as text and
  answered by its ``seq``), the model rating and the facts
  (:class:`~credit_engine.audit.Canonical`);
* per enterprise, the last decision made with its encoded form, keyed by the
  override it was decided with (:class:`~credit_engine.rating.EncodedDecision`),
  made at load without an override: a new, changed or revoked override is a
  different key, so the decision is made again at the next request (and
  kept); nothing needs invalidating when the override index changes;
* the decision context of the serving date (policy, catalogue, versions);
* the JSON of the decisions served lately as each reader may see them
  (:meth:`ServingCache.public_json`), in a bounded least-recently-used cache
  keyed by the cached decision and the reader's clearance: a changed
  override is another decision, so nothing needs invalidating.

The audit entries built from it are byte for byte those built from the
decision itself (tests compare both paths over real decisions).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from cachetools import LRUCache

from credit_engine.audit import Canonical, canonical_json
from credit_engine.decisioning import (
    DecisionContext,
    Disclosure,
    FactInForce,
    ModelRating,
    Override,
    decide,
)
from credit_engine.rating import EncodedDecision, EncodedInputs

__all__ = ["PUBLIC_JSON_MAX", "ServingCache", "feature_fragment"]

PUBLIC_JSON_MAX = 20_000
"""Decisions whose public JSON a serving cache keeps (per clearance, LRU)."""


def _ready(value: float) -> float | str | None:
    # As credit_engine.jsonable.to_jsonable converts a float.
    if math.isnan(value):
        return None
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def feature_fragment(order: Sequence[int], names: Sequence[str], row: Any) -> Canonical:
    """Encode one feature row as ``inputs.features`` of a decision payload.

    Parameters
    ----------
    order : sequence of int
        Positions of ``names`` in sorted name order.
    names : sequence of str
        Feature names (columns of ``row``).
    row : numpy.ndarray
        One row of floats.

    Returns
    -------
    Canonical
        Equal to ``Canonical.of(to_jsonable(features))`` (tested): keys in
        sorted order, NaN None, infinities ``"inf"``/``"-inf"``.
    """
    values = row.tolist()
    ready = {names[i]: _ready(values[i]) for i in order}
    return Canonical(ready, canonical_json(ready))


class ServingCache:
    """Encoded inputs and decisions of one serving state (see the module doc).

    Parameters
    ----------
    usccs : dict of str to int
        Enterprises with their row (the zone's).
    features : numpy.ndarray
        The zone's feature rows (encoded once; not kept).
    feature_names : list of str
        Their columns.
    ratings : list of ModelRating
        Model ratings by row.
    facts : dict of str to list of FactInForce
        Facts in force by enterprise.
    context : DecisionContext
        What every decision at the serving date is decided with.
    """

    def __init__(
        self,
        *,
        usccs: dict[str, int],
        features: np.ndarray,
        feature_names: list[str],
        ratings: Sequence[ModelRating],
        facts: dict[str, list[FactInForce]],
        context: DecisionContext,
        public_max: int = PUBLIC_JSON_MAX,
    ) -> None:
        self.context = context
        self._public: LRUCache[tuple[str, Disclosure], tuple[EncodedDecision, bytes]]
        self._public = LRUCache(maxsize=public_max)
        self._public_lock = threading.Lock()
        names = list(feature_names)
        order = sorted(range(len(names)), key=names.__getitem__)
        self.facts: dict[str, tuple[FactInForce, ...]] = {}
        self._inputs: dict[str, EncodedInputs] = {}
        for uscc, i in usccs.items():
            facts_in = tuple(facts.get(uscc, ()))
            self.facts[uscc] = facts_in
            encoded = EncodedInputs.encode(
                feature_fragment(order, names, features[i]), facts_in, ratings[i]
            )
            # The feature row's text only (its values would cost more memory
            # as Python objects than the text): decoded if somebody reads it.
            self._inputs[uscc] = EncodedInputs(
                Canonical.from_text(encoded.features.text),
                encoded.model_rating,
                encoded.facts,
            )
        # Every decision without an override, made now, so that a first
        # request for an enterprise costs what the next one does; one with an
        # override in force is decided again at its first request.
        self._decided: dict[str, EncodedDecision] = {
            uscc: EncodedDecision.encode(
                decide(uscc, ratings[i], self.facts[uscc], None, context), None
            )
            for uscc, i in usccs.items()
        }

    def inputs(self, uscc: str) -> EncodedInputs:
        """Return the encoded inputs of ``uscc`` (shared: read only)."""
        return self._inputs[uscc]

    def decided(
        self, uscc: str, rating: ModelRating, override: Override | None
    ) -> EncodedDecision:
        """Return the decision of ``uscc`` with ``override`` (made once per override).

        Parameters
        ----------
        uscc : str
            A served enterprise.
        rating : ModelRating
            Its model rating at the serving date.
        override : Override or None
            The override in force now.
        """
        known = self._decided.get(uscc)
        if known is not None and known.override == override:
            return known
        decision = decide(uscc, rating, self.facts[uscc], override, self.context)
        made = EncodedDecision.encode(decision, override)
        self._decided[uscc] = made  # one reference store: safe across threads
        return made

    def public_json(
        self,
        decided: EncodedDecision,
        clearance: Disclosure,
        render: Callable[[EncodedDecision], bytes],
    ) -> bytes:
        """Return ``render(decided)``, the decision's JSON for ``clearance``, kept.

        The answer is kept (least recently used first out, at most
        ``public_max`` per cache) for as long as ``decided`` is the decision
        in force: a new override makes another :class:`EncodedDecision`, whose
        JSON is rendered again.

        Parameters
        ----------
        decided : EncodedDecision
            A decision of this cache (:meth:`decided`).
        clearance : Disclosure
            What the reader may see.
        render : callable
            Renders the disclosed decision as the API answers it.
        """
        key = (decided.decision.uscc, clearance)
        with self._public_lock:
            known = self._public.get(key)
        if known is not None and known[0] is decided:
            return known[1]
        text = render(decided)
        with self._public_lock:
            self._public[key] = (decided, text)
        return text
