"""The serving state's cache: encoded inputs equal the one JSON conversion."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from credit_engine.api._serving_cache import ServingCache, feature_fragment
from credit_engine.audit import Canonical
from credit_engine.config import default_definitions_dir
from credit_engine.decisioning import (
    FactInForce,
    ModelRating,
    Override,
    decide,
)
from credit_engine.jsonable import to_jsonable
from tests.unit.rating.test_payload import zone_context

DEFS = default_definitions_dir()
NAMES = ["zeta", "alpha", "Beta", "mid_1", "mid_10", "mid_2"]
ROWS = np.array(
    [
        [0.1, 1.0, math.nan, 5e-324, -0.0, 1e300],
        [math.inf, -math.inf, 2 / 3, math.nan, 3.0, 7.25],
        [math.nan] * 6,
    ]
)


def _rating() -> ModelRating:
    return ModelRating(
        "G3", 0.02, 650.0, False, ("customs_penalties__count_365d", None),
        {"samr_registration__age_years": None},
    )  # fmt: skip


def test_a_feature_row_encodes_as_the_json_conversion_does():
    order = sorted(range(len(NAMES)), key=NAMES.__getitem__)
    for row in ROWS:
        raw = {n: float(v) for n, v in zip(NAMES, row, strict=True)}
        expected = Canonical.of(to_jsonable(raw))
        got = feature_fragment(order, NAMES, row)
        assert got.text == expected.text
        assert got.value == expected.value
        assert list(got.value) == list(expected.value)


def test_the_cache_serves_the_same_inputs_and_one_decision_per_override():
    usccs = {f"9135020000000000{i}X": i for i in range(len(ROWS))}
    fact = FactInForce(
        code="SAFE_CLASS_B", department="SAFE", rule_set="SAFE_2012",
        since=dt.date(2025, 1, 1), ceiling="B", zh="外汇管理分类 B 类",
    )  # fmt: skip
    first = next(iter(usccs))
    cache = ServingCache(
        usccs=usccs, features=ROWS, feature_names=NAMES,
        ratings=[_rating()] * len(ROWS), facts={first: [fact]}, context=zone_context(),
    )  # fmt: skip
    order = sorted(range(len(NAMES)), key=NAMES.__getitem__)
    for uscc, i in usccs.items():
        inputs = cache.inputs(uscc)
        expected = feature_fragment(order, NAMES, ROWS[i])
        assert inputs.features.text == expected.text
        assert inputs.features.value == expected.value
        assert list(inputs.features.value) == list(expected.value)
    assert "外汇管理分类" in cache.inputs(first).facts.text
    plain = cache.decided(first, _rating(), None)
    assert cache.decided(first, _rating(), None) is plain  # made once
    override = Override(4, "A", "复核后上调", "supervisor-1")
    with_it = cache.decided(first, _rating(), override)
    assert with_it is not plain
    assert with_it.decision == decide(
        first, _rating(), [fact], override, zone_context()
    )
    # An equal override (as the index returns a new object each time) hits.
    assert (
        cache.decided(first, _rating(), Override(4, "A", "复核后上调", "supervisor-1"))
        is with_it
    )
    assert cache.decided(first, _rating(), None).decision == plain.decision
