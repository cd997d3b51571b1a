"""A decision's audit payload from pre-encoded parts (the serving date's fast path).

At the serving date an enterprise's feature row, model rating and statutory
facts do not change between requests, and its decision changes only with the
override in force. Encoding them to canonical JSON for every request was most
of a served decision's CPU. :class:`EncodedInputs` holds those inputs encoded
once (:class:`credit_engine.audit.Canonical` fragments),
:class:`EncodedDecision` a decision with its encoded form, and
:func:`encoded_payload` assembles the payload the audit writer splices: its
normalised value and canonical JSON are byte for byte those of
:func:`~credit_engine.rating.decision_payload` (tested over real decisions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credit_engine.audit import Canonical
from credit_engine.decisioning import (
    Decision,
    FactInForce,
    ModelRating,
    Override,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.rating._replay import override_dict, rating_dict

__all__ = ["EncodedDecision", "EncodedInputs", "encoded_payload"]


@dataclass(frozen=True)
class EncodedInputs:
    """The inputs of an enterprise's decisions at one date, encoded once.

    Attributes
    ----------
    features, model_rating, facts : Canonical
        ``inputs.features``, ``inputs.model_rating`` and ``inputs.facts`` of
        :func:`~credit_engine.rating.decision_payload`, JSON-ready and encoded
        (the facts as text only: decoded per entry, less memory).
        Shared by every entry built from them: never mutate their values.
    """

    features: Canonical
    model_rating: Canonical
    facts: Canonical

    @classmethod
    def encode(
        cls,
        features: Mapping[str, float | None] | Canonical,
        facts: Sequence[FactInForce],
        model_rating: ModelRating,
    ) -> EncodedInputs:
        """Convert and encode the inputs as :func:`decision_payload` does.

        ``features`` may be given already encoded (a caller encoding many rows
        at once, e.g. :class:`credit_engine.api.ServingState`).

        Raises
        ------
        TypeError, ValueError
            If a value has no JSON form.
        """
        where = "payload.inputs"
        return cls(
            features=features
            if isinstance(features, Canonical)
            else Canonical.of(to_jsonable(dict(features), f"{where}.features")),
            model_rating=Canonical.of(
                to_jsonable(rating_dict(model_rating), f"{where}.model_rating")
            ),
            facts=Canonical.of(
                to_jsonable([f.to_dict() for f in facts], f"{where}.facts"),
                keep_value=False,
            ),
        )


@dataclass(frozen=True)
class EncodedDecision:
    """A decision with its payload parts that depend on the override, encoded.

    Attributes
    ----------
    override : Override or None
        The override in force it was decided with (the cache key: a decision
        at a fixed date, rating and facts depends on nothing else).
    decision : Decision
        The decision.
    decision_json, override_json : Canonical
        ``decision`` (text only: decoded per entry) and ``inputs.override``
        of the payload.
    """

    override: Override | None
    decision: Decision
    decision_json: Canonical
    override_json: Canonical

    @classmethod
    def encode(cls, decision: Decision, override: Override | None) -> EncodedDecision:
        """Convert and encode ``decision`` and ``override`` as the payload does."""
        return cls(
            override=override,
            decision=decision,
            decision_json=Canonical.of(
                to_jsonable(decision.to_dict(), "payload.decision"), keep_value=False
            ),
            override_json=Canonical.of(
                to_jsonable(override_dict(override), "payload.inputs.override")
            ),
        )


def encoded_payload(inputs: EncodedInputs, decided: EncodedDecision) -> dict[str, Any]:
    """Return the payload of :func:`decision_payload`, as pre-encoded fragments.

    Give it (plus any other keys, e.g. ``by``) to
    :class:`credit_engine.audit.NewEntry`: the audit log splices the fragments'
    text, so the entry's payload and hash equal those of the payload built by
    :func:`~credit_engine.rating.decision_payload` from the same decision.
    """
    return {
        "decision": decided.decision_json,
        "inputs": {
            "features": inputs.features,
            "model_rating": inputs.model_rating,
            "facts": inputs.facts,
            "override": decided.override_json,
        },
    }
