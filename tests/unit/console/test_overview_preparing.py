"""The zone overview is prepared in the background: pages never wait for its SQL."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.auth import KeyStore
from credit_engine.config import Settings
from credit_engine.console import Directory
from credit_engine.store import OperationalStore
from tests.unit.console.conftest import (
    D1,
    D2,
    console_state,
    directory,
    overview_when_ready,
    sign_in,
    zone_rows,
)
from tests.unit.store.factories import make_run

D3 = dt.date(2026, 9, 30)


def _zone(tmp_path: Any, **settings: Any) -> tuple[Any, OperationalStore, str]:
    conf = Settings(home=tmp_path, **settings)
    store = OperationalStore.from_settings(conf)
    for day in (D1, D2):
        store.record_run(
            make_run(day, policy_name="zone"), pd.DataFrame(zone_rows(day))
        )
    key = KeyStore(store, cache_ttl=0).create("sup", "supervisor", created_by="t")[1]
    app = create_app(conf, store=store, load_on_start=False)
    return app, store, key


def _wait(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def test_the_first_overview_says_preparing_then_shows_the_figures(tmp_path):
    # poll 0: nothing ahead, so the first page certainly misses the figures.
    app, store, key = _zone(tmp_path, console_overview_poll_seconds=0)
    console_state(app).directory.builder = lambda _s, _d: directory()
    client = TestClient(app)
    sign_in(client, key)
    first = client.get("/console/overview")
    assert first.status_code == 200
    assert 'id="overview-preparing"' in first.text
    assert "正在准备全区概览" in first.text
    assert 'role="status"' in first.text
    assert 'data-overview-status="/console/overview/status?from=2026-03-31' in (
        first.text
    )
    assert 'id="migration-table"' not in first.text
    html = overview_when_ready(client).text
    assert 'id="overview-preparing"' not in html
    assert 'id="migration-table"' in html
    assert "思明区" in html  # the breakdown by district
    status = client.get("/console/overview/status").json()
    assert status["ready"]
    assert status["pending"] == []
    assert status["preparer"]["state"] == "ready"
    # Another pair of dates: computed in the background too, then shown.
    same = client.get("/console/overview?from=2026-06-30&to=2026-06-30").text
    assert "请选择两个不同的评级日期" in same  # one date: no migration to prepare
    store.dispose()


def test_health_and_pages_answer_while_the_zone_is_being_counted(tmp_path):
    app, store, key = _zone(tmp_path, console_overview_poll_seconds=30)
    gate = threading.Event()
    entered = threading.Event()

    def slow_directory(_settings: Settings, _day: dt.date) -> Directory:
        entered.set()
        gate.wait(30)  # the lake read of a large zone, held until released
        return directory()

    state = console_state(app)
    state.directory.builder = slow_directory
    with TestClient(app) as client:  # runs the lifespan: preparation starts
        assert entered.wait(10), "the preparation did not start with the service"
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503  # no model: not a wait
        sign_in(client, key)
        page = client.get("/console/overview")
        assert time.perf_counter() - started < 5
        assert page.status_code == 200
        assert 'id="overview-preparing"' in page.text
        assert client.get("/console/overview/status").json()["ready"] is False
        assert state.preparer is not None
        assert state.preparer.status().state == "preparing"
        gate.set()
        html = overview_when_ready(client).text
        assert 'id="migration-table"' in html
        _wait(lambda: state.preparer.status().state == "ready")
        assert state.preparer.status().ready_seconds > 0
    # The lifespan's end stopped the thread.
    assert state.preparer._thread is not None
    assert not state.preparer._thread.is_alive()
    store.dispose()


def test_a_new_rating_run_is_counted_before_anyone_asks(tmp_path):
    app, store, key = _zone(tmp_path, console_overview_poll_seconds=0.1)
    state = console_state(app)
    state.directory.builder = lambda _s, _d: directory()
    with TestClient(app):
        _wait(
            lambda: (
                state.preparer is not None and state.preparer.status().state == "ready"
            )
        )
        run_id = store.record_run(
            make_run(D3, policy_name="zone"), pd.DataFrame(zone_rows(D2))
        )
        # No page is requested: the preparer finds the run and counts it.
        _wait(lambda: state.zone.peek(("summary", run_id)) is not None)
        _wait(lambda: state.zone.peek(("departments", run_id)) is not None)
        summary = state.zone.peek(("summary", run_id))
        assert summary.as_of == D3
        assert summary.total == len(zone_rows(D2))
    store.dispose()


def test_a_failed_count_is_reported_on_the_page_not_as_a_traceback(tmp_path):
    app, store, key = _zone(tmp_path, console_overview_poll_seconds=0)
    state = console_state(app)
    state.directory.builder = lambda _s, _d: directory()

    with store.engine.begin() as conn:  # a real failure of the counting SQL
        conn.exec_driver_sql("ALTER TABLE decisions RENAME TO decisions_moved")
    client = TestClient(app)
    sign_in(client, key)
    assert 'id="overview-preparing"' in client.get("/console/overview").text
    assert state.preparer is not None
    _wait(lambda: state.preparer.status().state == "failed")
    page = client.get("/console/overview").text
    assert "统计计算出错" in page
    assert (
        "Could not count a run&#39;s decisions" in page
        or "Could not count a run's decisions" in page
    )
    assert "do not exist" in page
    assert "Traceback" not in page
    state.preparer.stop()
    store.dispose()


@pytest.mark.parametrize("poll", [-1.0])
def test_the_poll_interval_cannot_be_negative(tmp_path, poll):
    with pytest.raises(ValueError, match="console_overview_poll_seconds"):
        Settings(home=tmp_path, console_overview_poll_seconds=poll)
