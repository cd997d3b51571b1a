"""Decisions served from the pre-encoded cache log exactly what they always did.

The serving state encodes each enterprise's inputs once and keeps its decision
per override (credit_engine.api._serving_cache). Every decision of the
champion home's zone is served both ways (the cache, and the plain path that
decides and converts each request): the decisions, the stored payload text,
the canonical JSON hashed and the chain hashes must be identical.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.api import ScoringService
from credit_engine.api._recording import decision_entries
from credit_engine.audit import GENESIS_HASH, AuditLog, canonical_json
from credit_engine.audit._chain import prepare_entry, seal
from credit_engine.auth import KeyStore
from credit_engine.store import OperationalStore
from credit_engine.store._json import json_serializer

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

NOW = dt.datetime(2026, 12, 4, 9, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def home(champion_home):
    db = champion_home.home / "encoded_tests.db"
    return champion_home.model_copy(update={"database_url": f"sqlite:///{db}"})


@pytest.fixture(scope="module")
def service(home):
    store = OperationalStore.from_settings(home)
    store.create_schema()
    svc = ScoringService(home, store=store)
    assert svc.load() is not None, svc.not_ready_reason
    svc.overrides.refresh()
    return svc


@pytest.fixture(scope="module")
def principal(service):
    return KeyStore(service.store).create(
        "gateway-1", "inspection_system", created_by="t"
    )[0]


def _both(service, usccs):
    state = service.state
    fast = service.decide(usccs)
    plain = service._decide_in(state.engine, state.zone, usccs, live=True)
    assert all(s.payload is not None for s in fast)
    assert all(s.payload is None for s in plain)
    return fast, plain


def _assert_same_entries(principal, fast, plain):
    for f, p in zip(
        decision_entries(principal, fast),
        decision_entries(principal, plain),
        strict=True,
    ):
        a, b = prepare_entry(f, NOW), prepare_entry(p, NOW)
        assert a.payload_json == b.payload_json
        assert a.payload == b.payload
        # The stored text: the canonical text itself, whichever path made it.
        assert json_serializer(a.payload) == json_serializer(b.payload)
        assert json_serializer(a.payload) == a.payload_json
        assert seal(a, 42, GENESIS_HASH) == seal(b, 42, GENESIS_HASH)


def test_every_served_decision_logs_byte_for_byte_what_it_did(service, principal):
    usccs = sorted(service.state.usccs)
    fast, plain = _both(service, usccs)
    for f, p in zip(fast, plain, strict=True):
        assert f.decision == p.decision
        # The fast path's feature row is in its payload's fragments (compared
        # with the plain path's through the entries below), not kept apart.
        assert f.features is None
        assert p.features is not None
        assert (f.rating, f.facts, f.override) == (p.rating, p.facts, p.override)
    _assert_same_entries(principal, fast, plain)
    # What the comparison covered: missing features (null), non-ASCII text,
    # statutory facts, every decision layer but overrides (next test).
    texts = [
        prepare_entry(e, NOW).payload_json for e in decision_entries(principal, fast)
    ]
    assert any(":null" in t for t in texts)
    assert all(not t.isascii() for t in texts)
    assert any('"facts":[{' in t for t in texts)
    assert {"MODEL", "STATUTORY"} <= {str(s.decision.decided_by) for s in fast}


def test_the_entries_chain_and_verify_like_any_other(service, principal):
    usccs = sorted(service.state.usccs)[:25]
    log = AuditLog(service.store)
    written = log.append_many(decision_entries(principal, service.decide(usccs)))
    read = [log.get(e.seq) for e in written]
    assert [e.payload for e in read] == [e.payload for e in written]
    assert [e.entry_hash for e in read] == [e.entry_hash for e in written]
    assert log.verify().ok
    # The store holds each payload's canonical text, written as encoded.
    with service.store.engine.connect() as conn:
        stored = dict(
            conn.exec_driver_sql(
                "SELECT seq, payload FROM audit_log WHERE seq >= ?",
                (written[0].seq,),
            ).all()
        )
    for entry in written:
        assert stored[entry.seq] == canonical_json(entry.payload)


def test_an_override_recomputes_the_cached_decision_and_its_entry(service, principal):
    state = service.state
    fast, _ = _both(service, sorted(state.usccs))
    uscc = next(
        s.decision.uscc
        for s in fast
        if str(s.decision.decided_by) == "MODEL" and s.decision.tier != "A"
    )
    before = service.decide([uscc])[0].decision
    row = {
        "override_id": 9_001, "uscc": uscc, "tier": "A", "reason": "复核后上调",
        "actor": "supervisor-1", "effective_from": state.as_of - dt.timedelta(days=3),
        "effective_to": None, "created_at": NOW - dt.timedelta(days=1),
        "revoked_at": None,
    }  # fmt: skip
    service.overrides.add(row)
    fast, plain = _both(service, [uscc])
    assert str(fast[0].decision.decided_by) == "OVERRIDE"
    assert fast[0].decision.tier == "A"
    assert fast[0].decision.override_id == 9_001
    assert fast[0].decision == plain[0].decision
    _assert_same_entries(principal, fast, plain)
    # Revoked: the decision without it again (the cache key is the override).
    service.overrides.add({**row, "revoked_at": NOW - dt.timedelta(hours=1)})
    fast, plain = _both(service, [uscc])
    assert fast[0].decision == before == plain[0].decision
    _assert_same_entries(principal, fast, plain)
