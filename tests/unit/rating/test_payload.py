"""The audit payload of a decision: one JSON conversion (credit_engine.jsonable)."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np

from credit_engine.config import default_definitions_dir
from credit_engine.decisioning import (
    DecisionContext,
    FactInForce,
    ModelRating,
    Override,
    ReasonCatalogue,
    decide,
    load_policy,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.rating import decision_payload

DEFS = default_definitions_dir()


def zone_context() -> DecisionContext:
    """The decision context of these tests (zone policy v1, SAFE rules, 2026-06-30)."""
    return DecisionContext(
        as_of=dt.date(2026, 6, 30),
        policy=load_policy(DEFS, "zone", 1),
        catalogue=ReasonCatalogue.load(DEFS),
        model_name="credit_engine.zone_risk_pd",
        model_version="3",
        rule_sets={"SAFE": "SAFE_2012"},
    )


def test_payload_is_plain_json_with_missing_as_null_and_infinities_kept():
    context = zone_context()
    fact = FactInForce(
        code="SAFE_CLASS_B",
        department="SAFE",
        rule_set="SAFE_2012",
        since=dt.date(2025, 1, 1),
        ceiling="B",
    )
    rating = ModelRating(
        "G3", 0.02, 650.0, False, ("customs_penalties__count_365d", None),
        {"samr_registration__age_years": math.nan},
    )  # fmt: skip
    override = Override(4, "C", "Under review", "supervisor-1")
    decision = decide("91350200MA2XYZ0001", rating, [fact], override, context)
    payload = decision_payload(
        decision,
        features={"a": np.float64(1.5), "b": math.nan, "c": math.inf, "d": -math.inf},
        facts=[fact],
        override=override,
        model_rating=rating,
    )
    # Plain JSON all the way down: dumping needs no default= and no NaN.
    assert json.loads(json.dumps(payload, allow_nan=False)) == payload
    assert payload["inputs"]["features"] == {
        "a": 1.5,
        "b": None,
        "c": "inf",
        "d": "-inf",
    }
    assert payload["inputs"]["model_rating"]["features"] == {
        "samr_registration__age_years": None
    }
    assert payload["inputs"]["override"] == {
        "override_id": 4, "tier": "C", "reason": "Under review", "actor": "supervisor-1"
    }  # fmt: skip
    assert payload["inputs"]["facts"][0]["ceiling"] == "B"
    assert payload["decision"]["as_of"] == "2026-06-30"
    assert payload["decision"]["decided_by"] == "OVERRIDE"
    assert payload["decision"] == to_jsonable(decision.to_dict())


def test_the_pre_encoded_payload_is_the_payload_byte_for_byte():
    from credit_engine.audit import NewEntry
    from credit_engine.audit._chain import prepare_entry
    from credit_engine.rating import EncodedDecision, EncodedInputs, encoded_payload

    context = zone_context()
    fact = FactInForce(
        code="SAFE_CLASS_B", department="SAFE", rule_set="SAFE_2012",
        since=dt.date(2025, 1, 1), ceiling="B", zh="外汇管理分类 B 类",
    )  # fmt: skip
    rating = ModelRating(
        "G3", 0.02, 650.0, False, ("customs_penalties__count_365d", None),
        {"samr_registration__age_years": math.nan},
    )  # fmt: skip
    features = {"z": 0.1, "a": np.float64(1.5), "b": math.nan, "c": math.inf}
    now = dt.datetime(2026, 6, 30, 1, tzinfo=dt.UTC)
    for override in (None, Override(4, "C", "复核中", "supervisor-1")):
        decision = decide("91350200MA2XYZ0001", rating, [fact], override, context)
        plain = decision_payload(
            decision, features=features, facts=[fact], override=override,
            model_rating=rating,
        )  # fmt: skip
        encoded = encoded_payload(
            EncodedInputs.encode(features, [fact], rating),
            EncodedDecision.encode(decision, override),
        )
        a = prepare_entry(NewEntry("decision", "k", {**plain, "by": {"k": 1}}), now)
        b = prepare_entry(NewEntry("decision", "k", {**encoded, "by": {"k": 1}}), now)
        assert b.payload_json == a.payload_json
        assert json.dumps(b.payload) == json.dumps(a.payload)
        assert '"c":"inf"' in b.payload_json
