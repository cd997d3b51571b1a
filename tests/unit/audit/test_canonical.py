"""Pre-encoded payload fragments (audit.Canonical): spliced, byte for byte the same."""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest

from credit_engine.audit import GENESIS_HASH, AuditError, Canonical, NewEntry
from credit_engine.audit._chain import prepare_entry, seal
from credit_engine.jsonable import to_jsonable

NOW = dt.datetime(2026, 6, 30, 8, 1, 2, 345678, tzinfo=dt.UTC)

FEATURES = to_jsonable(
    {
        "z_last": 0.1,
        "a_first": 1.0,
        "tiny": 5e-324,
        "huge": 1.7976931348623157e308,
        "neg": -0.0,
        "missing": math.nan,
        "edge": math.inf,
        "low_edge": -math.inf,
        "count": 3,
        "ratio": 2 / 3,
        "Upper": 7.25,
    }
)
FACTS = [
    {"code": "SAFE_CLASS_B", "zh": "外汇管理分类 B 类", "since": "2025-01-01",
     "detail": {"n": 2, "note": "引号 \" 反斜杠 \\ 换行 \n 制表 \t \u2028"}},
    {"code": "EMOJI", "zh": "🙂 é ß", "until": None, "favourable": True},
]  # fmt: skip
DECISION = {
    "uscc": "91350200MA2XYZ0001", "tier": "B", "pd": 0.0123456789,
    "measures": [{"code": "M1", "zh": "常规监管"}], "override_id": None,
}  # fmt: skip
BY = {"key": "gateway", "key_id": 7, "role": "inspection_system"}


def _plain() -> dict:
    return {
        "decision": DECISION,
        "inputs": {"features": FEATURES, "facts": FACTS, "model_rating": {"g": "G3"},
                   "override": None},
        "by": BY,
    }  # fmt: skip


def _encoded() -> dict:
    return {
        "decision": Canonical.of(DECISION),
        "inputs": {
            "features": Canonical.of(FEATURES),
            "facts": Canonical.of(FACTS),
            "model_rating": {"g": "G3"},  # a plain value beside fragments
            "override": Canonical.of(None),
        },
        "by": BY,
    }


def _prepared(payload: dict):
    return prepare_entry(
        NewEntry("decision", "gateway", payload, "91350200MA2XYZ0001"), NOW
    )


def test_a_spliced_payload_is_byte_for_byte_the_plain_one():
    plain, spliced = _prepared(_plain()), _prepared(_encoded())
    assert spliced.payload_json == plain.payload_json
    assert spliced.payload == plain.payload
    # What the store writes (SQLAlchemy's JSON type: json.dumps of the dict,
    # in its key order) is the same text too.
    assert json.dumps(spliced.payload) == json.dumps(plain.payload)
    assert seal(spliced, 5, GENESIS_HASH) == seal(plain, 5, GENESIS_HASH)
    # Non-ASCII kept, NaN null, infinities strings, floats in shortest repr.
    text = spliced.payload_json
    assert "外汇管理分类" in text
    assert "🙂" in text
    assert '"missing":null' in text
    assert '"edge":"inf"' in text
    assert '"tiny":5e-324' in text
    assert '"neg":-0.0' in text


def test_canonical_of_normalises_like_the_log():
    fragment = Canonical.of({"b": (1, 2), "a": {10: "x", 9: "y"}})
    # int keys become strings and are then sorted as strings.
    assert fragment.text == '{"a":{"10":"x","9":"y"},"b":[1,2]}'
    assert fragment.value == {"a": {"10": "x", "9": "y"}, "b": [1, 2]}
    # The value keeps the order JSON decoding gave it (ints sorted as ints),
    # as the plain path's payload does (what the store's JSON column writes).
    assert list(fragment.value["a"]) == ["9", "10"]


def test_plain_values_beside_fragments_are_normalised_as_before():
    # int keys inside a plain value: JSON turns them into strings, re-sorted.
    payload = {"frag": Canonical.of([1]), "plain": {10: (1, 2), 9: 2}}
    expected = {"frag": [1], "plain": {10: (1, 2), 9: 2}}
    assert _prepared(payload).payload_json == _prepared(expected).payload_json
    assert _prepared(payload).payload == _prepared(expected).payload


def test_what_has_no_json_form_is_refused_with_fragments_too():
    with pytest.raises(AuditError, match="not JSON-ready"):
        _prepared({"frag": Canonical.of(1), "bad": math.nan})
    with pytest.raises(AuditError, match="not JSON-ready"):
        _prepared({"frag": Canonical.of(1), "bad": dt.date(2026, 1, 1)})
    with pytest.raises(AuditError, match="keys of a mapping holding pre-encoded"):
        _prepared({"inner": {1: Canonical.of(1)}})
    with pytest.raises(ValueError, match="Out of range float"):
        Canonical.of(math.nan)


def test_a_text_only_fragment_decodes_the_same_value():
    kept = Canonical.of(FACTS)
    text_only = Canonical.of(FACTS, keep_value=False)
    assert text_only.text == kept.text
    assert text_only.value == kept.value
    assert text_only.value is not text_only.value  # a new value per access
    # With int keys the decoded order differs from a second decoding: kept.
    assert Canonical.of({10: 1, 9: 2}, keep_value=False).value == {"9": 2, "10": 1}
    assert list(Canonical.of({10: 1, 9: 2}, keep_value=False).value) == ["9", "10"]
    payload = {"frag": text_only, "by": BY}
    assert (
        _prepared(payload).payload_json
        == _prepared({"frag": FACTS, "by": BY}).payload_json
    )


@pytest.mark.parametrize("payload", [_plain, _encoded], ids=["plain", "spliced"])
def test_an_entry_sent_to_another_process_comes_back_equal(payload):
    # Decisions at other dates are prepared in a worker process and sent back
    # in wire form (strings and the timestamp): the entry rebuilt from it
    # writes, hashes and reads as the one prepared.
    import pickle

    from credit_engine.audit import PreparedEntry
    from credit_engine.store._json import json_serializer

    prepared = _prepared(payload())
    wire = pickle.loads(pickle.dumps(prepared.to_wire()))
    assert all(isinstance(part, str | dt.datetime | None) for part in wire)
    back = PreparedEntry.from_wire(wire)
    assert back == prepared
    assert json_serializer(back.payload) == prepared.payload_json
    assert seal(back, 9, GENESIS_HASH) == seal(prepared, 9, GENESIS_HASH)


def test_a_spliced_payload_is_decoded_only_when_read():
    # Served decisions: the entry is written as its text and answered by its
    # seq; nobody reads its payload, so it is never decoded. Read, it is the
    # plain path's payload, decoded once and kept.
    import pickle

    from credit_engine.audit._chain import stored_payload
    from credit_engine.store import EncodedJSON, JSONText
    from credit_engine.store._json import json_serializer

    plain, spliced = _prepared(_plain()), _prepared(_encoded())
    assert type(stored_payload(plain)) is EncodedJSON
    assert type(stored_payload(spliced)) is JSONText
    sealed = seal(spliced, 5, GENESIS_HASH)
    assert type(stored_payload(sealed)) is JSONText  # sealing does not decode
    assert json_serializer(stored_payload(sealed)) == plain.payload_json
    copied = pickle.loads(pickle.dumps(sealed))
    assert type(stored_payload(copied)) is JSONText
    # Read: equal to the plain entry's payload, the same object at each read.
    assert sealed.payload == plain.payload
    assert type(sealed.payload) is EncodedJSON
    assert sealed.payload is sealed.payload
    assert sealed.to_dict() == seal(plain, 5, GENESIS_HASH).to_dict()
    assert copied == seal(plain, 5, GENESIS_HASH)


def test_a_fragment_from_its_text_decodes_on_access():
    made = Canonical.of(FEATURES)
    from_text = Canonical.from_text(made.text)
    assert from_text.text == made.text
    assert from_text.value == made.value
    assert list(from_text.value) == list(made.value)
