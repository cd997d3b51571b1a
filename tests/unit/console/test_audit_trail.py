"""查询留痕 and overrides: every profile viewed and every override is audited."""

from __future__ import annotations

from credit_engine.audit import AuditLog
from tests.unit.console.conftest import BOUND, PLAIN, csrf_of, sign_in


def test_each_profile_viewed_is_in_the_audit_log(console):
    log = AuditLog(console.store)
    before = log.head()[0]
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    client.get(f"/console/enterprises/{PLAIN}")
    client.get(f"/console/enterprises/{BOUND}")
    views = [
        e
        for e in log.entries(kind="console_view", newest_first=True, limit=10)
        if e.seq > before
    ]
    assert [e.subject for e in views] == [BOUND, PLAIN]
    entry = views[0]
    assert entry.actor == "auditor-1"
    assert entry.payload["role"] == "auditor"
    assert entry.payload["uscc"] == BOUND
    assert entry.payload["shown"]["tier"] == "D"
    assert isinstance(entry.payload["key_id"], int)
    assert log.verify().ok


def test_an_override_goes_to_the_store_and_the_audit_log_together(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    html = client.get(f"/console/enterprises/{PLAIN}").text
    r = client.post(
        f"/console/enterprises/{PLAIN}/overrides",
        data={
            "tier": "C",
            "reason": "海关稽查案件 2026-117",
            "effective_from": "2026-07-01",
            "csrf_token": csrf_of(html),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert r.headers["location"].endswith("#overrides")
    stored = console.store.overrides_of(PLAIN)
    row = stored.iloc[-1]
    assert (row["tier"], row["reason"], row["actor"]) == (
        "C",
        "海关稽查案件 2026-117",
        "supervisor-1",
    )
    entry = AuditLog(console.store).entries(
        kind="override", newest_first=True, limit=1
    )[0]
    assert entry.subject == PLAIN
    assert entry.actor == "supervisor-1"
    assert entry.payload["override_id"] == int(row["override_id"])
    page = client.get(r.headers["location"])
    assert "海关稽查案件 2026-117" in page.text
    assert 'id="override-recorded"' in page.text
    # And an admin finds it on the audit page, filtered by actor and kind.
    admin = console.client()
    sign_in(admin, console.secrets["admin"])
    audit = admin.get(
        "/console/audit", params={"actor": "supervisor-1", "kind": "override"}
    )
    assert "海关稽查案件 2026-117" in audit.text
    assert f"<code>{PLAIN}</code>" in audit.text


def test_an_override_needs_a_reason_and_a_valid_period(console):
    client = console.client()
    sign_in(client, console.secrets["admin"])
    token = csrf_of(client.get(f"/console/enterprises/{PLAIN}").text)
    before = len(console.store.overrides_of(PLAIN))
    r = client.post(
        f"/console/enterprises/{PLAIN}/overrides",
        data={"tier": "B", "reason": "  ", "csrf_token": token},
    )
    assert r.status_code == 422
    assert "必须填写理由" in r.text
    assert 'aria-invalid="true"' in r.text
    r = client.post(
        f"/console/enterprises/{PLAIN}/overrides",
        data={
            "tier": "B",
            "reason": "x",
            "effective_from": "2026-08-01",
            "effective_to": "2026-07-01",
            "csrf_token": token,
        },
    )
    assert r.status_code == 422
    assert "失效日期须晚于生效日期" in r.text
    r = client.post(
        f"/console/enterprises/{PLAIN}/overrides",
        data={"tier": "Z", "reason": "x", "csrf_token": token},
    )
    assert r.status_code == 422
    assert len(console.store.overrides_of(PLAIN)) == before


def test_auditors_cannot_record_overrides(console):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    token = csrf_of(client.get(f"/console/enterprises/{PLAIN}").text)
    r = client.post(
        f"/console/enterprises/{PLAIN}/overrides",
        data={"tier": "A", "reason": "no", "csrf_token": token},
    )
    assert r.status_code == 403


def test_the_audit_page_verifies_the_chain(console):
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    page = client.get("/console/audit")
    assert str(AuditLog(console.store).head()[1]) in page.text
    r = client.get("/console/audit/verify", headers={"HX-Request": "true"})
    assert 'id="verify-ok"' in r.text
    assert "<html" not in r.text
