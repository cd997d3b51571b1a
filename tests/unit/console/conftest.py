"""A console on a small stored zone: two rating runs, keys of every role, no model.

No champion is loaded (``load_on_start=False``): the profile shows the latest
stored decision, as the console does whenever the service serves no model. The
directory (names, districts, trade modes) is injected instead of read from a
lake. The browser tests (tests/integration/test_console_browser.py) use a real
champion and lake.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.auth import ConsoleAccounts, KeyStore, Role
from credit_engine.config import Settings
from credit_engine.console import ConsoleState, Directory
from credit_engine.store import OperationalStore
from tests.unit.store.factories import decision, make_run, uscc

D1, D2 = dt.date(2026, 3, 31), dt.date(2026, 6, 30)
N = 40
PASSWORD = "correct horse battery staple"
BOUND = uscc(3)  # a statutory D with facts and reasons
PLAIN = uscc(1)


def zone_rows(day: dt.date) -> list[dict[str, Any]]:
    rows = []
    for i in range(N):
        tier = "ABCD"[(i + (day == D2)) % 4]
        extra: dict[str, Any] = {
            "measures": ["ZS-01"],
            "reasons": ["CUS-01"],
            "facts": [],
            "pd": 0.0123 + i / 1000,
            "grade": "G3",
        }
        if i % 4 == 3 or uscc(i) == BOUND:
            tier = "D"
            extra = {
                "decided_by": "STATUTORY",
                "statutory_ceiling": "D",
                "grade": "GD",
                "pd": 0.4321,
                "measures": ["ZS-03"],
                "reasons": ["TAX_LEVEL_D", "TAX-01"],
                "facts": [
                    {
                        "code": "TAX_LEVEL_D",
                        "rule_set": "TAX_2025",
                        "since": "2026-01-05",
                        "until": None,
                        "detail": "2025",
                    },
                    {
                        "code": "SAFE_CLASS_A",
                        "rule_set": "SAFE_2012",
                        "since": "2014-01-01",
                        "until": None,
                        "detail": "INITIAL",
                    },
                ],
                "joint_punishment": i % 8 == 7,
            }
        rows.append(decision(uscc(i), tier, model_tier=tier, **extra))
    return rows


@dataclass
class Console:
    app: FastAPI
    store: OperationalStore
    keys: KeyStore
    secrets: dict[str, str]
    state: ConsoleState
    settings: Settings

    def client(self) -> TestClient:
        return TestClient(self.app)


def console_state(app: FastAPI) -> ConsoleState:
    mount = next(r for r in app.routes if getattr(r, "path", "") == "/console")
    state: ConsoleState = mount.app.state.console  # type: ignore[attr-defined]
    return state


def directory() -> Directory:
    frame = pd.DataFrame(
        {
            "name": [f"厦门测试{i:02d}贸易有限公司" for i in range(N)],
            "district": ["350203", "350206"] * (N // 2),
            "industry": ["F5141"] * N,
            "status": ["IN_BUSINESS"] * N,
            "trade_mode": ["9610", "0110", "none", "9710"] * (N // 4),
        },
        index=pd.Index([uscc(i) for i in range(N)], name="uscc"),
    )
    return Directory(frame, "test")


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Console:
    home = tmp_path_factory.mktemp("console_home")
    settings = Settings(home=home)
    store = OperationalStore.from_settings(settings)
    for day in (D1, D2):
        store.record_run(
            make_run(day, policy_name="zone"), pd.DataFrame(zone_rows(day))
        )
    keys = KeyStore(store, cache_ttl=0)
    made = {str(r): keys.create(f"{r}-1", r, created_by="tester")[1] for r in Role}
    ConsoleAccounts(store, keys=keys).set_password(
        "supervisor-1", PASSWORD, by="tester"
    )
    app = create_app(settings, store=store, load_on_start=False)
    state = console_state(app)
    state.directory.builder = lambda _settings, _day: directory()
    return Console(app, store, keys, made, state, settings)


def sign_in(client: TestClient, key: str) -> Any:
    """Sign in with an API key through the form; return the final response."""
    client.get("/console/login")
    token = client.cookies.get("ce_console_presession")
    return client.post(
        "/console/login",
        data={"csrf_token": token, "api_key": key, "next": "/console/overview"},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def overview_when_ready(
    client: TestClient, query: str = "", timeout: float = 60.0
) -> Any:
    """GET the overview once its figures are ready (they are counted in the background).

    Polls ``/console/overview/status`` as the page's script does; fails if
    the figures are not ready within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/console/overview/status{query}").json()
        if status["ready"]:
            return client.get(f"/console/overview{query}")
        if time.monotonic() > deadline:
            raise AssertionError(f"the overview was not ready in {timeout} s: {status}")
        time.sleep(0.05)
