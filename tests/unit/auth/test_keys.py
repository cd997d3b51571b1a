"""API keys: creation, hashed storage, authentication, revocation, roles, cache."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, text, update

from credit_engine.audit import AuditLog
from credit_engine.auth import (
    ApiKeyNotFoundError,
    AuthenticationError,
    InvalidKeyRequestError,
    KeyStore,
    PermissionDeniedError,
    Role,
    api_keys,
    hash_key,
    require_role,
)


def test_create_authenticate_revoke_then_401(keys):
    info, key = keys.create("customs-gateway", "inspection_system", created_by="ops")
    assert key.startswith("ce_")
    assert len(key) == 46
    assert info.key_prefix == key[:8]
    assert (info.name, info.role, info.created_by, info.active) == (
        "customs-gateway", Role.INSPECTION_SYSTEM, "ops", True,
    )  # fmt: skip
    assert keys.authenticate(key) == info
    revoked = keys.revoke("customs-gateway", by="ops")
    assert (revoked.active, revoked.revoked_by) == (False, "ops")
    with pytest.raises(AuthenticationError, match="was revoked at") as caught:
        keys.authenticate(key)
    assert caught.value.http_status == 401
    assert caught.value.code == "unauthenticated"
    assert key not in str(caught.value)
    assert key[3:11] not in str(caught.value)


def test_revoke_by_id_and_twice(keys):
    info, _ = keys.create("ds-team", Role.DATA_SCIENTIST, created_by="ops")
    keys.revoke(info.key_id, by="ops")
    with pytest.raises(InvalidKeyRequestError, match="'ds-team' was already revoked"):
        keys.revoke(str(info.key_id), by="ops")
    with pytest.raises(ApiKeyNotFoundError, match="No API key named or numbered 'x'"):
        keys.revoke("x", by="ops")
    with pytest.raises(InvalidKeyRequestError, match="by must be a non-empty string"):
        keys.revoke("ds-team", by=" ")


def test_the_plaintext_key_is_nowhere_in_the_database(keys, store):
    _, key = keys.create("supervisors", "supervisor", created_by="ops")
    keys.revoke("supervisors", by="ops")
    with store.engine.connect() as conn:
        rows = [
            row
            for table in ("api_keys", "audit_log", "audit_head")
            for row in conn.execute(text(f"SELECT * FROM {table}")).all()
        ]
    dump = repr(rows)
    assert key not in dump
    assert key[8:] not in dump  # nor the secret part past the shown prefix
    with store.engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.key_hash)).scalar_one()
    assert stored == hash_key(key)
    assert all(not hasattr(k, "key_hash") for k in keys.list())


@pytest.mark.parametrize(
    "bad",
    ["", "ce_short", "ce_" + "A" * 42 + "!", "xx_" + "A" * 43, "ce_" + "A" * 44, None],
)
def test_malformed_keys_are_refused_without_echo(keys, bad):
    with pytest.raises(AuthenticationError, match="malformed") as caught:
        keys.authenticate(bad)
    if bad:
        assert bad not in str(caught.value)


def test_an_unknown_well_formed_key_is_refused(keys):
    keys.create("gw", "admin", created_by="ops")
    unknown = "ce_" + "A" * 43
    with pytest.raises(AuthenticationError, match="no such key") as caught:
        keys.authenticate(unknown)
    assert unknown not in str(caught.value)


def test_a_duplicate_name_is_a_clear_422(keys):
    keys.create("gw", "admin", created_by="ops")
    with pytest.raises(InvalidKeyRequestError, match="name is taken") as caught:
        keys.create("gw", "supervisor", created_by="ops")
    assert (caught.value.http_status, caught.value.code) == (422, "invalid_key_request")
    keys.revoke("gw", by="ops")
    with pytest.raises(
        InvalidKeyRequestError, match="names of revoked keys stay taken"
    ):
        keys.create("gw", "supervisor", created_by="ops")
    assert len(keys.list()) == 1


def test_a_bad_role_lists_the_roles(keys):
    with pytest.raises(
        InvalidKeyRequestError,
        match="unknown role 'boss'; roles are supervisor, inspection_system, "
        "data_scientist, admin, auditor",
    ):
        keys.create("gw", "boss", created_by="ops")


def test_bad_names_and_creators_are_listed_together(keys):
    with pytest.raises(InvalidKeyRequestError, match="Cannot create") as caught:
        keys.create("1abc", "admin", created_by="")
    message = str(caught.value)
    assert "name must start with a letter" in message
    assert "created_by must be a non-empty string" in message
    assert keys.list() == []


def test_list_shows_active_and_revoked_keys_oldest_first(keys):
    keys.create("a-key", "admin", created_by="ops")
    keys.create("b-key", "supervisor", created_by="ops")
    keys.revoke("a-key", by="root")
    listed = keys.list()
    assert [(k.name, k.active, k.revoked_by) for k in listed] == [
        ("a-key", False, "root"), ("b-key", True, None),
    ]  # fmt: skip
    assert [k.name for k in keys.list(include_revoked=False)] == ["b-key"]
    assert keys.get("b-key") == listed[1]
    assert keys.get(listed[1].key_id) == listed[1]
    assert listed[0].to_dict()["role"] == "admin"


def test_key_events_are_in_the_audit_log_without_the_key(keys, store):
    _, key = keys.create("gw", "inspection_system", created_by="ops")
    keys.revoke("gw", by="root")
    log = AuditLog(store)
    entries = log.entries()
    assert [(e.kind, e.actor, e.subject) for e in entries] == [
        ("key_created", "ops", "gw"), ("key_revoked", "root", "gw"),
    ]  # fmt: skip
    # Besides these fields, each entry holds the digest of the key's row
    # ("covers", issue 14): never the key, nor its hash.
    plain = [{k: v for k, v in e.payload.items() if k != "covers"} for e in entries]
    assert plain[0] == {
        "key_id": 1, "name": "gw", "role": "inspection_system",
        "key_prefix": key[:8],
    }  # fmt: skip
    assert plain[1] == {
        "key_id": 1,
        "name": "gw",
        "role": "inspection_system",
    }
    for e in entries:
        text = json.dumps(e.payload)
        assert key not in text
        assert hash_key(key) not in text
        assert [r["table"] for r in e.payload["covers"]["rows"]] == ["api_keys"]
    assert log.verify().ok


def test_a_failed_creation_logs_nothing(keys, store):
    keys.create("gw", "admin", created_by="ops")
    with pytest.raises(InvalidKeyRequestError, match="name is taken"):
        keys.create("gw", "admin", created_by="ops")
    assert [e.kind for e in AuditLog(store).entries()] == ["key_created"]


def test_the_cache_serves_within_the_ttl_and_revocation_elsewhere_lands_after_it(
    store, clock
):
    api = KeyStore(store, cache_ttl=5.0, clock=clock)  # the API process
    admin = KeyStore(store, cache_ttl=5.0, clock=clock)  # the admin CLI
    _, key = admin.create("gw", "inspection_system", created_by="ops")
    assert api.authenticate(key).name == "gw"
    admin.revoke("gw", by="ops")
    clock.advance(4.9)
    assert api.authenticate(key).name == "gw"  # still cached: within the TTL
    clock.advance(0.2)
    with pytest.raises(AuthenticationError, match="revoked"):
        api.authenticate(key)


def test_a_cached_key_costs_no_query(keys, store, clock):
    _, key = keys.create("gw", "admin", created_by="ops")
    keys.authenticate(key)
    statements: list[str] = []

    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            keys.authenticate(key)
        assert statements == []
        clock.advance(5.0)
        keys.authenticate(key)
        assert len(statements) == 1
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def test_revocation_through_the_same_store_is_immediate(keys):
    _, key = keys.create("gw", "admin", created_by="ops")
    keys.authenticate(key)
    keys.revoke("gw", by="ops")
    with pytest.raises(AuthenticationError, match="revoked"):
        keys.authenticate(key)


def test_a_zero_ttl_disables_the_cache(store, clock):
    uncached = KeyStore(store, cache_ttl=0, clock=clock)
    other = KeyStore(store, cache_ttl=0, clock=clock)
    _, key = uncached.create("gw", "admin", created_by="ops")
    uncached.authenticate(key)
    other.revoke("gw", by="ops")
    with pytest.raises(AuthenticationError, match="revoked"):
        uncached.authenticate(key)


def test_last_used_is_written_at_most_once_per_interval(store, clock):
    keys = KeyStore(store, cache_ttl=0, clock=clock, touch_interval=3600)
    info, key = keys.create("gw", "admin", created_by="ops")
    assert info.last_used_at is None
    keys.authenticate(key)
    first = keys.get("gw").last_used_at
    assert first is not None
    keys.authenticate(key)
    assert keys.get("gw").last_used_at == first
    earlier = first - dt.timedelta(hours=2)
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).values(last_used_at=earlier))
    keys.authenticate(key)
    assert keys.get("gw").last_used_at > first
    silent = KeyStore(store, cache_ttl=0, touch_interval=None)
    with store.engine.begin() as conn:
        conn.execute(update(api_keys).values(last_used_at=None))
    silent.authenticate(key)
    assert silent.get("gw").last_used_at is None


def test_require_role_names_the_needed_and_held_roles(keys):
    info, _ = keys.create("ds", "data_scientist", created_by="ops")
    require_role(info, Role.DATA_SCIENTIST, "admin")
    with pytest.raises(
        PermissionDeniedError,
        match="needs role supervisor or admin; the API key 'ds' has role "
        "data_scientist",
    ) as caught:
        require_role(info, Role.SUPERVISOR, Role.ADMIN)
    assert (caught.value.http_status, caught.value.code) == (403, "forbidden")


def test_failed_authentications_are_never_cached(keys, store, clock):
    _, key = keys.create("gw", "admin", created_by="ops")
    keys.revoke("gw", by="ops")
    unknown = "ce_" + "B" * 43
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    from sqlalchemy import event

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        for _ in range(2):
            with pytest.raises(AuthenticationError, match="revoked"):
                keys.authenticate(key)
            with pytest.raises(AuthenticationError, match="no such key"):
                keys.authenticate(unknown)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert len(statements) == 4  # every attempt asked the database


def test_threads_share_the_cache_safely(keys, store):
    import threading

    _, key = keys.create("gw", "inspection_system", created_by="ops")
    keys.authenticate(key)
    errors: list[BaseException] = []
    names: list[str] = []

    def work() -> None:
        try:
            for _ in range(200):
                names.append(keys.authenticate(key).name)
                if len(names) % 97 == 0:
                    keys.clear_cache()  # some requests go to the database
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert set(names) == {"gw"}
    assert len(names) == 800
