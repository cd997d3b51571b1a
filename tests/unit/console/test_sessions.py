"""Sign-in, sessions, CSRF, expiry, revocation, throttling: the refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from credit_engine.audit import AuditLog
from credit_engine.store import console_sessions
from tests.unit.console.conftest import BOUND, PASSWORD, csrf_of, sign_in


@pytest.fixture(autouse=True)
def _fresh_throttle(console):
    console.state.throttle._failures.clear()  # noqa: SLF001 - one test's failures
    yield
    console.state.throttle._failures.clear()  # noqa: SLF001


def test_the_session_cookie_is_httponly_strict_and_expires(console):
    r = sign_in(console.client(), console.secrets["supervisor"])
    cookie = next(
        c
        for c in r.headers.get_list("set-cookie")
        if c.startswith("ce_console_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/console" in cookie
    assert "Max-Age=28800" in cookie  # 8 hours, the absolute lifetime
    assert "Secure" not in cookie  # http on localhost (docs/console.md)
    secure = sign_in(
        console.client().__class__(console.app, base_url="https://testserver"),
        console.secrets["supervisor"],
    )
    assert "Secure" in ";".join(secure.headers.get_list("set-cookie"))


def test_the_store_keeps_only_the_hash_of_the_session_id(console):
    client = console.client()
    sign_in(client, console.secrets["admin"])
    token = client.cookies.get("ce_console_session")
    with console.store.engine.connect() as conn:
        hashes = list(conn.scalars(select(console_sessions.c.session_hash)))
    assert token not in hashes
    assert all(len(h) == 64 for h in hashes)


def test_sign_in_with_a_name_and_password(console):
    client = console.client()
    client.get("/console/login")
    pre = client.cookies.get("ce_console_presession")
    bad = client.post(
        "/console/login",
        data={"csrf_token": pre, "name": "supervisor-1", "password": "wrong password!"},
    )
    assert bad.status_code == 401
    assert "The name or password is not right" in bad.text
    pre = client.cookies.get("ce_console_presession")
    ok = client.post(
        "/console/login",
        data={"csrf_token": pre, "name": "supervisor-1", "password": PASSWORD},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/console/enterprises").status_code == 200


def test_sign_in_needs_the_form_token(console):
    client = console.client()
    client.get("/console/login")
    r = client.post("/console/login", data={"api_key": console.secrets["admin"]})
    assert r.status_code == 403
    assert "sign-in form is out of date" in r.text


def test_forms_without_the_csrf_token_are_refused(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    url = f"/console/enterprises/{BOUND}/overrides"
    form = {"tier": "C", "reason": "csrf probe"}
    r = client.post(url, data=form)
    assert r.status_code == 403
    assert "security token is missing or out of date" in r.text
    wrong = client.post(url, data={**form, "csrf_token": "x" * 43})
    assert wrong.status_code == 403
    token = csrf_of(client.get("/console/overview").text)
    foreign = client.post(
        url,
        data={**form, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert "evil.example" in foreign.text
    cross = client.post(
        url,
        data={**form, "csrf_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert "csrf probe" not in console.store.overrides_of(BOUND).to_string()


def test_an_expired_session_is_refused(console, monkeypatch):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    token = csrf_of(client.get("/console/overview").text)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)  # idle limit: 30
    monkeypatch.setattr(console.state.sessions, "clock", lambda: later)
    page = client.get("/console/overview", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith(
        "/console/login?next=%2Fconsole%2Foverview"
    )
    assert "ended=1" in page.headers["location"]
    post = client.post(
        f"/console/enterprises/{BOUND}/overrides",
        data={"tier": "C", "reason": "late", "csrf_token": token},
    )
    assert post.status_code == 401
    assert "ended after a period without activity" in post.text
    with console.store.engine.connect() as conn:
        reasons = set(conn.scalars(select(console_sessions.c.end_reason)))
    assert "idle" in reasons


def test_the_absolute_lifetime_ends_an_active_session(console, monkeypatch):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    start = dt.datetime.now(dt.UTC)
    for minutes in range(20, 8 * 60, 20):  # active every 20 minutes
        moment = start + dt.timedelta(minutes=minutes)
        monkeypatch.setattr(console.state.sessions, "clock", lambda m=moment: m)
        assert client.get("/console/models").status_code == 200
    moment = start + dt.timedelta(hours=8, minutes=1)
    monkeypatch.setattr(console.state.sessions, "clock", lambda: moment)
    r = client.get("/console/models", follow_redirects=False)
    assert r.status_code == 303


def test_revoking_the_key_ends_its_sessions(console):
    info, key = console.keys.create("short-lived", "supervisor", created_by="tester")
    client = console.client()
    sign_in(client, key)
    assert client.get("/console/overview").status_code == 200
    console.app.state.services.keys.revoke("short-lived", by="admin")
    r = client.get("/console/overview", follow_redirects=False)
    assert r.status_code == 303
    assert "ended=1" in r.headers["location"]
    with console.store.engine.connect() as conn:
        ends = set(
            conn.scalars(
                select(console_sessions.c.end_reason).where(
                    console_sessions.c.key_id == info.key_id
                )
            )
        )
    assert ends == {"key_revoked"}


def test_sign_out_ends_the_session(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    html = client.get("/console/overview").text
    r = client.post(
        "/console/logout", data={"csrf_token": csrf_of(html)}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/console/login?signed_out=1"
    assert client.get("/console/overview", follow_redirects=False).status_code == 303
    kinds = [
        e.kind
        for e in AuditLog(console.store).entries(
            actor="supervisor-1", newest_first=True, limit=5
        )
    ]
    assert "console_sign_out" in kinds


def test_failed_sign_ins_are_throttled(console):
    client = console.client()
    for _ in range(5):
        client.get("/console/login")
        pre = client.cookies.get("ce_console_presession")
        r = client.post(
            "/console/login",
            data={"csrf_token": pre, "name": "admin-1", "password": "not the password"},
        )
        assert r.status_code == 401
    client.get("/console/login")
    pre = client.cookies.get("ce_console_presession")
    r = client.post(
        "/console/login", data={"csrf_token": pre, "api_key": console.secrets["admin"]}
    )
    assert r.status_code == 429  # the address is throttled, even with a good key
    assert "try again in" in r.text


def test_next_is_kept_to_the_console(console):
    client = console.client()
    client.get("/console/login")
    pre = client.cookies.get("ce_console_presession")
    r = client.post(
        "/console/login",
        data={
            "csrf_token": pre,
            "next": "https://evil.example/",
            "api_key": console.secrets["admin"],
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/console/overview"
