"""Console accounts (scrypt passwords) and sessions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from credit_engine.audit import AuditLog
from credit_engine.auth import (
    ConsoleAccounts,
    EndReason,
    InvalidKeyRequestError,
    Role,
    SessionStore,
    hash_password,
    session_hash,
    verify_password,
)
from credit_engine.exceptions import AuthenticationError, SessionExpiredError
from credit_engine.store import console_accounts, console_sessions

PASSWORD = "a long enough passphrase"


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_passwords_are_stored_as_scrypt_hashes(keys, store):
    info, _ = keys.create("officer.li", "supervisor", created_by="admin")
    ConsoleAccounts(store, keys=keys).set_password("officer.li", PASSWORD, by="admin")
    with store.engine.connect() as conn:
        stored = conn.scalar(select(console_accounts.c.password_hash))
    assert stored.startswith("scrypt$32768$8$1$")
    assert PASSWORD not in stored
    assert verify_password(PASSWORD, stored)
    assert not verify_password("nope", stored)
    assert not verify_password(PASSWORD, "md5$abc")  # malformed never matches
    entry = AuditLog(store).entries(kind="console_password_set")[0]
    assert entry.subject == "officer.li"
    assert PASSWORD not in str(entry.payload)


def test_the_same_password_hashes_differently_each_time():
    assert hash_password(PASSWORD, n=1024) != hash_password(PASSWORD, n=1024)


def test_sign_in_by_name_and_password(keys, store):
    accounts = ConsoleAccounts(store, keys=keys)
    keys.create("officer.li", "auditor", created_by="admin")
    accounts.set_password("officer.li", PASSWORD, by="admin")
    assert accounts.authenticate("officer.li", PASSWORD).role is Role.AUDITOR
    for name, password in (("officer.li", "wrong password"), ("nobody", PASSWORD)):
        with pytest.raises(AuthenticationError, match="name or password is not right"):
            accounts.authenticate(name, password)
    keys.revoke("officer.li", by="admin")
    with pytest.raises(AuthenticationError, match="was revoked at"):
        accounts.authenticate("officer.li", PASSWORD)


def test_a_password_is_refused_when_short_or_for_a_revoked_key(keys, store):
    accounts = ConsoleAccounts(store, keys=keys)
    keys.create("gone", "supervisor", created_by="admin")
    keys.revoke("gone", by="admin")
    with pytest.raises(
        InvalidKeyRequestError, match=r"at least 12 characters, got 5.*revoked"
    ):
        accounts.set_password("gone", "short", by="admin")


def test_a_session_lives_until_idle_expiry(keys, store):
    clock = Clock()
    info, _ = keys.create("officer.li", "supervisor", created_by="admin")
    sessions = SessionStore(store, clock=clock)
    token, opened = sessions.open(info, client="127.0.0.1")
    assert opened.expires_at - opened.created_at == dt.timedelta(hours=8)
    clock.now += dt.timedelta(minutes=29)
    assert sessions.check(token).role is Role.SUPERVISOR
    clock.now += dt.timedelta(minutes=29)  # touched 29 minutes in: still live
    assert sessions.check(token).name == "officer.li"
    clock.now += dt.timedelta(minutes=30)
    with pytest.raises(SessionExpiredError, match="without activity"):
        sessions.check(token)
    with pytest.raises(SessionExpiredError, match="without activity"):
        sessions.check(token)  # stays ended, with its reason
    with store.engine.connect() as conn:
        row = conn.execute(select(console_sessions)).one()
    assert row.session_hash == session_hash(token)
    assert row.end_reason == EndReason.IDLE


def test_revoking_a_key_ends_its_sessions_at_once(keys, store):
    info, _ = keys.create("officer.li", "supervisor", created_by="admin")
    sessions = SessionStore(store)
    tokens = [sessions.open(info)[0] for _ in range(2)]
    keys.revoke("officer.li", by="admin")
    with store.engine.connect() as conn:
        ends = list(conn.scalars(select(console_sessions.c.end_reason)))
    assert ends == ["key_revoked", "key_revoked"]
    for token in tokens:
        with pytest.raises(
            SessionExpiredError, match="key of this console session was revoked"
        ):
            sessions.check(token)


def test_sign_out_and_unknown_sessions(keys, store):
    info, _ = keys.create("officer.li", "admin", created_by="admin")
    sessions = SessionStore(store)
    token, _ = sessions.open(info)
    sessions.end(token)
    with pytest.raises(SessionExpiredError, match="signed out"):
        sessions.check(token)
    with pytest.raises(SessionExpiredError, match="no such console session"):
        sessions.check("not-a-session")
    assert sessions.end_for_key(info.key_id) == 0


def test_auditor_keys_are_allowed_by_the_database(keys):
    info, _ = keys.create("auditor-1", "auditor", created_by="admin")
    assert keys.get(info.key_id).role is Role.AUDITOR
