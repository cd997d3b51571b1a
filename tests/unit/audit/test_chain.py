"""The hash chain's building blocks: canonical JSON, ISO instants, entry hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from credit_engine.audit import GENESIS_HASH, canonical_json, chain_hash, iso_utc
from credit_engine.audit._chain import sha256_holding_gil

AT = dt.datetime(2026, 6, 30, 9, 15, 0, 123456, tzinfo=dt.UTC)


def test_canonical_json_sorts_keys_drops_whitespace_and_keeps_unicode():
    value = {"b": [1, 0.1, None, True], "a": {"z": "厦门", "y": 1e-9}}
    assert canonical_json(value) == '{"a":{"y":1e-09,"z":"厦门"},"b":[1,0.1,null,true]}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_canonical_json_refuses_non_finite_floats(bad):
    with pytest.raises(ValueError, match="Out of range float"):
        canonical_json({"x": bad})


def test_iso_utc_converts_to_utc_with_microseconds():
    xiamen = dt.timezone(dt.timedelta(hours=8))
    assert iso_utc(dt.datetime(2026, 7, 1, 8, tzinfo=xiamen)) == (
        "2026-07-01T00:00:00.000000+00:00"
    )


@pytest.mark.parametrize(
    ("actor", "subject", "payload"),
    [
        ("admin", None, {}),
        ('o"fficer\\li', "91350200MA2Y0K3Q0N", {"pd": 0.1, "n": [1, 2, {"k": "v"}]}),
        ("监管员", "键", {"zh": "海关", "tiny": 1e-9, "big": 12345.678901234}),
    ],
)
def test_chain_hash_is_sha256_of_prev_hash_and_canonical_content(
    actor, subject, payload
):
    content = {
        "seq": 7,
        "recorded_at": iso_utc(AT),
        "kind": "decision",
        "actor": actor,
        "subject": subject,
        "payload": payload,
    }
    expected = hashlib.sha256(
        (GENESIS_HASH + canonical_json(content)).encode("utf-8")
    ).hexdigest()
    got = chain_hash(
        GENESIS_HASH, seq=7, recorded_at=AT, kind="decision", actor=actor,
        subject=subject, payload=payload,
    )  # fmt: skip
    assert got == expected


def test_every_hashed_field_changes_the_hash():
    base = {
        "seq": 3, "recorded_at": AT, "kind": "decision", "actor": "a",
        "subject": "s", "payload": {"tier": "A"},
    }  # fmt: skip
    reference = chain_hash(GENESIS_HASH, **base)
    changes = {
        "seq": 4,
        "recorded_at": AT + dt.timedelta(microseconds=1),
        "kind": "override",
        "actor": "b",
        "subject": None,
        "payload": {"tier": "B"},
    }
    for name, value in changes.items():
        assert chain_hash(GENESIS_HASH, **{**base, name: value}) != reference, name
    assert chain_hash("1" * 64, **base) != reference


def test_the_hash_can_be_recomputed_with_the_standard_library_alone():
    # What an external auditor would run on an exported row.
    row = {"seq": 1, "recorded_at": iso_utc(AT), "kind": "key_created",
           "actor": "admin", "subject": "gw", "payload": {"role": "admin"}}  # fmt: skip
    text = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256((GENESIS_HASH + text).encode()).hexdigest() == chain_hash(
        GENESIS_HASH, seq=1, recorded_at=AT, kind="key_created", actor="admin",
        subject="gw", payload={"role": "admin"},
    )  # fmt: skip


@pytest.mark.parametrize("size", [0, 1, 2046, 2047, 2048, 4094, 4095, 10_000, 100_001])
def test_hashing_in_pieces_gives_sha256(size):
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    assert sha256_holding_gil(data) == hashlib.sha256(data).hexdigest()
