"""Every console page for every role: status, and what is (not) in the HTML."""

from __future__ import annotations

import json

import pytest

from credit_engine.api._security import CLEARANCE
from credit_engine.auth import Role
from credit_engine.decisioning import Disclosure
from tests.unit.console.conftest import BOUND, PLAIN, overview_when_ready, sign_in
from tests.unit.store.factories import uscc

PAGES = {
    "/console/overview": {"supervisor", "admin", "auditor", "data_scientist"},
    "/console/enterprises": {"supervisor", "admin", "auditor"},
    f"/console/enterprises/{BOUND}": {"supervisor", "admin", "auditor"},
    "/console/warnings": {"supervisor", "admin", "auditor"},
    "/console/models": {"supervisor", "admin", "auditor", "data_scientist"},
    "/console/audit": {"admin", "auditor"},
}
CONSOLE_ROLES = ("supervisor", "admin", "auditor", "data_scientist")


@pytest.mark.parametrize("role", CONSOLE_ROLES)
@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_for_each_role(console, role, path):
    client = console.client()
    assert sign_in(client, console.secrets[role]).status_code == 303
    r = client.get(path)
    allowed = role in PAGES[path]
    assert r.status_code == (200 if allowed else 403), r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text
    if not allowed:
        assert "您的角色无权访问此页面" in r.text  # in the page's language
        assert f"you are signed in as &#39;{role}-1&#39;" in r.text  # and precisely
    # The navigation offers only the pages the role may open.
    assert ('href="/console/audit"' in r.text) == (role in PAGES["/console/audit"])
    assert ('href="/console/enterprises"' in r.text) == (
        role in PAGES["/console/enterprises"]
    )


def test_inspection_systems_cannot_sign_in(console):
    client = console.client()
    r = sign_in(client, console.secrets["inspection_system"])
    assert r.status_code == 403
    assert "inspection systems use the scoring API" in r.text
    assert "ce_console_session" not in r.headers.get("set-cookie", "")
    assert client.get("/console/overview", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("role", "form"), [("supervisor", True), ("admin", True), ("auditor", False)]
)
def test_the_override_form_is_only_for_roles_that_may_override(console, role, form):
    client = console.client()
    sign_in(client, console.secrets[role])
    html = client.get(f"/console/enterprises/{BOUND}").text
    assert ('id="override-form"' in html) == form
    assert ("/overrides" in html) == form


def test_the_profile_shows_why(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    html = client.get(f"/console/enterprises/{BOUND}").text
    assert '<html lang="zh-CN">' in html
    assert "厦门测试03贸易有限公司" in html  # the directory's name
    assert 'id="current-tier">D<' in html
    # Reasons with their department and zh/en texts from the rule sets and the
    # reason-code catalogue; the measure with its text and basis from the policy.
    assert "TAX_LEVEL_D" in html
    assert "税务" in html
    assert "Tax and fee credit level D" in html
    assert "TAX-01" in html
    assert "ZS-03" in html
    # Statutory facts on a timeline, the rating history as a chart.
    assert 'data-chart="facts"' in html
    assert 'data-chart="history"' in html
    assert "2026-01-05" in html
    assert 'id="field-pd">43.21 %' in html


def test_fields_a_role_may_not_see_are_not_in_the_html(console, monkeypatch):
    # Give auditors the departments' clearance (shared): the internal fields of
    # the zone policy's disclosure (PD, grade, score, model) must vanish from
    # the HTML and the chart data, not be hidden by CSS.
    monkeypatch.setitem(CLEARANCE, Role.AUDITOR, Disclosure.SHARED)
    client = console.client()
    sign_in(client, console.secrets["auditor"])
    html = client.get(f"/console/enterprises/{BOUND}").text
    for absent in (
        'id="field-pd"',
        'id="field-grade"',
        "43.21",
        "0.4321",
        "GD",
        "credit_engine.sme_pd",
    ):
        assert absent not in html, absent
    chart = json.loads(html.split('id="enterprise-data">')[1].split("</script>")[0])
    assert chart["history"]
    assert not {"pd", "grade"} & set(chart["history"][0])
    assert 'id="current-tier">D<' in html  # shared: still shown
    listing = client.get("/console/enterprises?tier=D").text
    assert "43.21" not in listing
    assert "GD" not in listing
    monkeypatch.setitem(CLEARANCE, Role.AUDITOR, Disclosure.INTERNAL)
    assert "43.21" in client.get(f"/console/enterprises/{BOUND}").text


def test_search_by_name_and_by_code(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    found = client.get("/console/enterprises", params={"q": "测试01"})
    assert found.status_code == 200
    assert PLAIN in found.text
    assert BOUND not in found.text
    r = client.get(
        "/console/enterprises", params={"q": PLAIN.lower()}, follow_redirects=False
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/console/enterprises/{PLAIN}"


def test_lists_are_paged_and_filtered(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    page = client.get("/console/enterprises", params={"page_size": 5, "page": 2})
    assert page.text.count('href="/console/enterprises/9135') == 5
    assert "第 2 / 8 页" in page.text
    partial = client.get(
        "/console/enterprises", params={"tier": "D"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in partial.text  # htmx gets the table only
    assert 'id="enterprise-table"' in partial.text


def test_overview_counts_in_sql_and_shows_the_migration(console):
    client = console.client()
    sign_in(client, console.secrets["data_scientist"])
    html = overview_when_ready(client).text
    assert 'id="migration-table"' in html
    assert 'data-chart="migration"' in html
    assert "思明区" in html
    assert "9610 跨境电商零售出口" in html
    assert 'id="freshness"' not in html or "not available" not in html


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/console/enterprises/91350200000000001X", 422, "check character"),
        (f"/console/enterprises/{uscc(999)}", 404, "No enterprise"),
        ("/console/enterprises?page=0", 422, "page must be between"),
        ("/console/enterprises?tier=E", 422, "tier must be one of"),
        ("/console/overview?from=2026-13-01", 422, "is not a date"),
        ("/console/overview?from=2025-01-01", 422, "No rating run is stored"),
        ("/console/audit?kind=DROP%20TABLE", 422, "lower_snake_case"),
        ("/console/no-such-page", 404, ""),
    ],
)
def test_errors_are_human_pages(console, path, status, words):
    client = console.client()
    sign_in(client, console.secrets["admin"])
    r = client.get(path)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert words in r.text
    assert "Traceback" not in r.text
    assert 'File "' not in r.text


def test_language_switch(console):
    client = console.client()
    sign_in(client, console.secrets["supervisor"])
    zh = client.get("/console/overview")
    assert '<html lang="zh-CN">' in zh.text
    assert "全区概览" in zh.text
    en = client.get("/console/overview?lang=en")
    assert '<html lang="en">' in en.text
    assert "Zone overview" in en.text
    assert client.cookies.get("ce_console_lang") == "en"
    assert '<html lang="en">' in client.get("/console/models").text  # remembered


def test_console_routes_are_not_in_the_api_document(console):
    paths = console.app.openapi()["paths"]
    assert not [p for p in paths if p.startswith("/console")]


def test_missing_assets_say_to_run_make_setup(console, tmp_path, monkeypatch):
    monkeypatch.setattr(console.state, "assets_dir", tmp_path)
    r = console.client().get("/console/login")
    assert r.status_code == 503
    assert "make setup" in r.text
    assert "echarts.min.js" in r.text


def test_security_headers(console):
    r = console.client().get("/console/login")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
