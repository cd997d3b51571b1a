"""The supervisor console in a real headless Chromium, against a real server.

A uvicorn process serves the small zone's champion on 127.0.0.1 (the engine home
of ``champion_home``, rated at two dates); Playwright's Python package drives
Debian's ``chromium`` through ``executable_path`` (never a downloaded browser).
One browser per module, one context per role. Each page is screenshotted under
``.credit-engine-test/screenshots/`` (the path is printed) and checked with
axe-core (WCAG 2 A/AA, from ``node_modules``, installed by ``make setup``).

Without Chromium these tests skip, saying how to get it; with
``CREDIT_ENGINE_REQUIRE_BROWSER=1`` (CI) they fail instead.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from credit_engine.audit import AuditLog
from credit_engine.auth import ConsoleAccounts, KeyStore
from credit_engine.rating import RatingEngine
from credit_engine.store import OperationalStore, console_sessions

pytestmark = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.xdist_group("rating"),
    pytest.mark.timeout(600),
]

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / ".credit-engine-test" / "screenshots"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
DATES = (dt.date(2026, 3, 31), dt.date(2026, 6, 30))
PASSWORD = "zone supervisor passphrase"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "overview": "/console/overview",
    "enterprises": "/console/enterprises",
    "warnings": "/console/warnings",
    "models": "/console/models",
    "audit": "/console/audit",
}
ALLOWED = {
    "supervisor": {"overview", "enterprises", "profile", "warnings", "models"},
    "admin": {"overview", "enterprises", "profile", "warnings", "models", "audit"},
    "auditor": {"overview", "enterprises", "profile", "warnings", "models", "audit"},
    "data_scientist": {"overview", "models"},
}


def chromium_path() -> str:
    """Debian's Chromium, or skip (fail when CREDIT_ENGINE_REQUIRE_BROWSER=1)."""
    found = os.environ.get("CREDIT_ENGINE_TEST_CHROMIUM") or shutil.which("chromium")
    found = found or shutil.which("chromium-browser")
    if found:
        return found
    message = (
        "Chromium is not installed: run `bash scripts/chromium-for-tests.sh` (make "
        "test does; as root it apt-installs Debian's chromium) or set "
        "CREDIT_ENGINE_TEST_CHROMIUM."
    )
    if os.environ.get("CREDIT_ENGINE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CREDIT_ENGINE_REQUIRE_BROWSER=1 but {message}")
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def home(champion_home):
    """The champion home with its own store, rated at two dates, and keys."""
    settings = champion_home.model_copy(
        update={
            "database_url": f"sqlite:///{champion_home.home / 'console_browser.db'}"
        }
    )
    store = OperationalStore.from_settings(settings)
    engine = RatingEngine(settings, store=store)
    for day in DATES:
        engine.rate(day, actor="tester")
    keys = KeyStore(store, cache_ttl=0)
    secrets = {
        role: keys.create(f"{role}-b", role, created_by="tester")[1]
        for role in (
            "supervisor",
            "admin",
            "auditor",
            "data_scientist",
            "inspection_system",
        )
    }
    ConsoleAccounts(store, keys=keys).set_password(
        "supervisor-b", PASSWORD, by="tester"
    )
    frame = store.decisions_at(DATES[1])
    plain = frame[(frame["decided_by"] == "MODEL") & (frame["tier"].isin(["A", "B"]))]
    store.dispose()
    return {
        "settings": settings,
        "secrets": secrets,
        "uscc": str(plain["uscc"].iloc[0]),
    }


def serve(home: dict[str, Any], name: str, **env: str) -> Iterator[str]:
    """Run ``credit-engine serve``'s app under uvicorn on a free loopback port."""
    if not (
        REPO / "credit_engine" / "console" / "static" / "vendor" / "echarts.min.js"
    ).is_file():
        pytest.fail("The console's assets are missing: run `make setup` (npm).")
    port = free_port()
    settings = home["settings"]
    environment = {
        **os.environ,
        "CREDIT_ENGINE_HOME": str(settings.home),
        "CREDIT_ENGINE_DATABASE_URL": settings.database_url,
        "PYTHONPATH": str(REPO),
        **env,
    }
    log_path = settings.home / f"{name}.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "credit_engine.api:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the server exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("the server did not become ready in 300 s")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_for_overview(base: str, key: str, timeout: float = 120) -> None:
    """Wait until the overview's figures (prepared from the start) are ready."""
    with httpx.Client(base_url=base, timeout=10) as client:
        client.get("/console/login")
        token = client.cookies.get("ce_console_presession")
        r = client.post("/console/login", data={"csrf_token": token, "api_key": key})
        assert r.status_code == 303, r.text[:300]
        deadline = time.monotonic() + timeout
        while not client.get("/console/overview/status").json()["ready"]:
            if time.monotonic() > deadline:
                pytest.fail(f"the overview was not prepared in {timeout} s")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def server(home) -> Iterator[str]:
    """The service as deployed: the overview prepared from its start."""
    for base in serve(home, "console_server"):
        wait_for_overview(base, home["secrets"]["admin"])
        yield base


@pytest.fixture(scope="module")
def lazy_server(home) -> Iterator[str]:
    """The service with nothing prepared ahead: the first overview is prepared."""
    yield from serve(
        home, "console_lazy_server", CREDIT_ENGINE_CONSOLE_OVERVIEW_POLL_SECONDS="0"
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser: Any, *, axe: bool = False) -> Any:
    # bypass_csp lets axe-core be injected; the console's own pages never need it.
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, bypass_csp=axe, locale="zh-CN"
    )
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    return page


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/console/")
    page.fill("#api_key", key)
    page.click("form[aria-labelledby=with-key] button[type=submit]")
    page.wait_for_load_state("networkidle")


def shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def axe_violations(page: Any) -> list[str]:
    if not AXE.is_file():
        pytest.fail("axe-core is missing from node_modules: run `make setup`.")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async () => (await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']}))"
        ".violations.filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3)"
        ".join(', '))"
    )
    return list(result)


def test_sign_in_with_a_password_and_sign_out(browser, server):
    page = new_page(browser)
    page.goto(f"{server}/console/overview")
    assert "/console/login" in page.url  # not signed in: to the sign-in page
    shoot(page, "login")
    page.fill("#name", "supervisor-b")
    page.fill("#password", "not the password")
    page.click("form[aria-labelledby=with-password] button[type=submit]")
    assert page.locator("#login-error").is_visible()
    page.fill("#name", "supervisor-b")
    page.fill("#password", PASSWORD)
    page.click("form[aria-labelledby=with-password] button[type=submit]")
    page.wait_for_url("**/console/overview")
    cookie = next(
        c for c in page.context.cookies() if c["name"] == "ce_console_session"
    )
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    assert cookie["expires"] > time.time()
    page.click("header form button[type=submit]")  # sign out
    page.wait_for_url("**/console/login?signed_out=1")
    page.goto(f"{server}/console/overview")
    assert "/console/login" in page.url
    page.context.close()


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_page_for_each_role(browser, server, home, role):
    page = new_page(browser, axe=True)
    sign_in(page, server, home["secrets"][role])
    pages = {**PAGES, "profile": f"/console/enterprises/{home['uscc']}"}
    for name, path in pages.items():
        response = page.goto(f"{server}{path}")
        assert response is not None
        if name in ALLOWED[role]:
            assert response.status == 200, (role, name)
            if page.locator("[data-chart]").count():
                page.wait_for_selector("html[data-charts-ready='1']")
                assert page.locator("[data-chart] svg").count() >= 1
            shoot(page, f"{role}-{name}")
            violations = axe_violations(page)
            assert not violations, (role, name, violations)
        else:
            assert response.status == 403, (role, name)
            assert "无权访问" in page.content()
        assert not page.errors, page.errors  # type: ignore[attr-defined]
    page.context.close()


def test_inspection_systems_cannot_open_the_console(browser, server, home):
    page = new_page(browser)
    sign_in(page, server, home["secrets"]["inspection_system"])
    assert "无权访问" in page.content()
    assert "inspection systems use the scoring API" in page.content()
    page.context.close()


def test_find_an_enterprise_override_it_and_see_it_in_the_audit_log(
    browser, server, home
):
    uscc = home["uscc"]
    page = new_page(browser)
    sign_in(page, server, home["secrets"]["supervisor"])
    # Find it by name, with the keyboard: the search field, Enter.
    page.goto(f"{server}/console/enterprises")
    page.focus("#q")
    page.keyboard.type(uscc[:12])
    page.keyboard.press("Enter")
    page.wait_for_selector(f"a[href='/console/enterprises/{uscc}']")
    page.click(f"a[href='/console/enterprises/{uscc}']")
    page.wait_for_selector("#current-tier")
    before = page.inner_text("#current-tier")
    assert page.locator("#reasons, .empty").count() >= 1
    shoot(page, "profile-before-override")
    target = "D" if before != "D" else "C"
    page.select_option("#o-tier", target)
    page.fill("#o-reason", "浏览器测试：海关稽查案件 2026-117")
    page.click("#override-form button[type=submit]")
    page.wait_for_selector("#override-recorded")
    assert page.inner_text("#current-tier") == target  # decided now, with the override
    assert page.inner_text("#decided-by") in ("人工调整", "法定事实")
    assert "浏览器测试：海关稽查案件 2026-117" in page.inner_text("#override-table")
    shoot(page, "profile-after-override")
    page.context.close()
    audit = new_page(browser)
    sign_in(audit, server, home["secrets"]["auditor"])
    audit.goto(f"{server}/console/audit?actor=supervisor-b&kind=override")
    assert "浏览器测试：海关稽查案件 2026-117" in audit.inner_text("#audit-table")
    audit.goto(f"{server}/console/audit?actor=supervisor-b&kind=console_view")
    assert uscc in audit.inner_text("#audit-table")  # 查询留痕
    audit.click("#verify")
    audit.wait_for_selector("#verify-ok")
    shoot(audit, "audit")
    audit.context.close()


def test_the_language_switch(browser, server, home):
    page = new_page(browser)
    sign_in(page, server, home["secrets"]["admin"])
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "全区概览" in page.inner_text("h1")
    page.click("#lang-switch")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("h1") == "Zone overview"
    page.goto(f"{server}/console/models")  # remembered
    assert page.inner_text("h1") == "Models"
    shoot(page, "models-en")
    page.click("#lang-switch")
    assert page.get_attribute("html", "lang") == "zh-CN"
    page.context.close()


def test_a_forged_form_is_refused(browser, server, home):
    page = new_page(browser)
    sign_in(page, server, home["secrets"]["supervisor"])
    page.goto(f"{server}/console/enterprises/{home['uscc']}")
    page.eval_on_selector(
        "#override-form input[name=csrf_token]", "e => e.value = 'forged'"
    )
    page.fill("#o-reason", "forged")
    page.click("#override-form button[type=submit]")
    assert page.locator("h1").inner_text() == "无权访问"
    assert "security token is missing or out of date" in page.content()
    shoot(page, "csrf-refused")
    page.context.close()


def test_an_expired_session_sends_back_to_sign_in(browser, server, home):
    page = new_page(browser)
    sign_in(page, server, home["secrets"]["auditor"])
    assert page.url.endswith("/console/overview")
    store = OperationalStore(home["settings"].database_url)
    with store.engine.begin() as conn:  # two hours without activity
        conn.execute(
            update(console_sessions).values(
                last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
            )
        )
    store.dispose()
    page.goto(f"{server}/console/models")
    assert "/console/login" in page.url
    assert "ended=1" in page.url
    assert "会话已结束" in page.content()
    shoot(page, "session-ended")
    page.context.close()


def test_a_warning_acknowledged(browser, server, home):
    """Open the queue, open a warning with its evidence, acknowledge it with a note."""
    settings = home["settings"]
    uscc = home["uscc"]
    store = OperationalStore(settings.database_url)
    with store.unit_of_work("record warnings") as uow:
        recorded = uow.warnings.record_warnings(
            DATES[1],
            [
                {
                    "uscc": uscc,
                    "signal": "EW-02",
                    "priority": 9.5,  # first in the queue
                    "evidence": {
                        "facts": [{"code": "TAX_LEVEL_D", "department": "TAX",
                                   "since": "2026-06-02", "zh": "纳税信用D级",
                                   "en": "Tax credit level D"}],
                        "window_days": 90,
                    },
                }
            ],
            signals_version=1,
        )  # fmt: skip
    warning_id = recorded.warning_ids[0]
    page = new_page(browser, axe=True)
    sign_in(page, server, home["secrets"]["supervisor"])
    page.goto(f"{server}/console/warnings")
    assert not axe_violations(page)
    shoot(page, "warnings-queue")
    page.click(f"a[href='/console/warnings/{warning_id}']")
    page.wait_for_selector("#evidence")
    assert "纳税信用D级" in page.inner_text("#evidence")
    assert page.inner_text("#warning-status") == "待处理"
    assert not axe_violations(page)
    page.focus("#note")  # with the keyboard: the note, then the first button
    page.keyboard.type("浏览器测试：已联系企业核实")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#warning-done")
    assert page.inner_text("#warning-status") == "已确认"
    assert "浏览器测试：已联系企业核实" in page.inner_text("#warning-notes")
    shoot(page, "warning-acknowledged")
    page.context.close()
    row = store.get_warning(warning_id)
    entries = AuditLog(store).entries(
        actor="supervisor-b", kind="warning_acknowledged", newest_first=True, limit=5
    )
    store.dispose()
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", "supervisor-b")
    assert any(e.payload["warning_id"] == warning_id for e in entries)


def test_the_overview_says_preparing_then_shows_itself(browser, lazy_server, home):
    """Nothing prepared ahead: the first overview says so, then reloads itself."""
    page = new_page(browser, axe=True)
    # Hold the page's "ready yet?" questions until axe has read the page: on a
    # fast machine the figures are ready within a second, and the reload that
    # follows would tear the page away from under axe.
    held: list[Any] = []

    def hold(route: Any) -> None:
        held.append(route)

    page.route("**/console/overview/status*", hold)
    sign_in(page, lazy_server, home["secrets"]["supervisor"])
    # Signing in lands on the overview: the figures were not counted yet.
    notice = page.locator("#overview-preparing")
    assert notice.is_visible()
    assert notice.get_attribute("role") == "status"
    assert "正在准备全区概览" in notice.inner_text()
    assert page.locator("#overview-refresh").is_visible()  # without script, too
    assert page.locator("[data-chart]").count() == 0
    shoot(page, "overview-preparing")
    assert not axe_violations(page)
    # The page asks the server and reloads itself when the figures are ready.
    # Unrouting lets the held questions through to the server.
    page.unroute("**/console/overview/status*", hold)
    page.wait_for_selector("#migration-table", timeout=120_000)
    page.wait_for_selector("html[data-charts-ready='1']")
    assert page.locator("#overview-preparing").count() == 0
    assert page.locator("[data-chart] svg").count() >= 1
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    # A pair of dates asked for the first time: prepared in the background too.
    page.goto(f"{lazy_server}/console/overview?from={DATES[1]}&to={DATES[0]}")
    page.wait_for_selector("#migration-table", timeout=120_000)
    caption = page.inner_text("#migration-table caption")
    assert DATES[1].isoformat() in caption
    assert DATES[0].isoformat() in caption
    page.context.close()
