"""Decisions at other dates, decided in worker processes (issue 14).

The same requests go to an app whose past dates run in worker processes
(``heavy_processes=1``, the default) and to one that runs them in its heavy
threads (``heavy_processes=0``): the answers and the audit entries must be the
same, errors must cross the process boundary as the same problems, and a
worker that dies costs one 503, not the service.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
import time

import pytest
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore
from credit_engine.rating import RatingEngine
from credit_engine.store import OperationalStore
from credit_engine.uscc import check_character

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

RATED = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def home(champion_home):
    return champion_home.model_copy(
        update={"database_url": f"sqlite:///{champion_home.home / 'past_dates.db'}"}
    )


@pytest.fixture(scope="module")
def store(home):
    opened = OperationalStore.from_settings(home)
    RatingEngine(home, store=opened).rate(RATED, actor="tester")
    return opened


@pytest.fixture(scope="module")
def key(store):
    return KeyStore(store).create("past-dates", "supervisor", created_by="tester")[1]


def _client(home, store, processes):
    settings = home.model_copy(update={"heavy_processes": processes})
    return TestClient(create_app(settings, store=store))


@pytest.fixture(scope="module")
def in_processes(home, store):
    with _client(home, store, 1) as c:
        assert c.app.state.services.past_dates is not None
        yield c


@pytest.fixture(scope="module")
def in_threads(home, store):
    with _client(home, store, 0) as c:
        assert c.app.state.services.past_dates is None
        yield c


def _workers() -> list[multiprocessing.Process]:
    return [p for p in multiprocessing.active_children() if p.is_alive()]


def _post(client, key, path, body):
    return client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})


def _entries(store, seqs):
    by_seq = {e.seq: e for e in AuditLog(store).entries(kind="decision")}
    return [by_seq[s] for s in seqs]


def test_a_worker_process_answers_as_the_serving_process_would(
    in_processes, in_threads, key, store
):
    asked = sorted(store.decisions_at(RATED)["uscc"])[:40]
    body = {"usccs": asked, "as_of": RATED.isoformat()}
    there = _post(in_processes, key, "/v1/scores:batch", body)
    here = _post(in_threads, key, "/v1/scores:batch", body)
    assert there.status_code == here.status_code == 200, (there.text, here.text)
    assert _workers(), "no worker process decided the batch"
    assert there.json()["data"] == here.json()["data"]
    assert there.json()["count"] == 40
    # The audit entries prepared in the worker are those the serving process
    # writes itself: same kind, subject, actor and payload (inputs included).
    a = _entries(store, there.json()["audit_seqs"])
    b = _entries(store, here.json()["audit_seqs"])
    assert [(e.kind, e.subject, e.actor) for e in a] == [
        (e.kind, e.subject, e.actor) for e in b
    ]
    assert [e.payload for e in a] == [e.payload for e in b]
    assert a[0].payload["inputs"]["features"], "the payload lost its feature row"
    assert AuditLog(store).verify().ok

    one = {"uscc": asked[0], "as_of": RATED.isoformat()}
    single_there = _post(in_processes, key, "/v1/scores", one)
    single_here = _post(in_threads, key, "/v1/scores", one)
    assert single_there.status_code == 200, single_there.text
    assert single_there.json()["decision"] == single_here.json()["decision"]
    assert single_there.json()["decision"] == there.json()["data"][0]


def _unknown_uscc() -> str:
    body = "91350200MA2YYYYY9"
    return body + check_character(body)


def test_an_error_in_the_worker_is_the_same_problem(in_processes, in_threads, key):
    stranger = _unknown_uscc()
    body = {"usccs": [stranger], "as_of": RATED.isoformat()}
    there = _post(in_processes, key, "/v1/scores:batch", body)
    here = _post(in_threads, key, "/v1/scores:batch", body)
    assert there.status_code == here.status_code == 404, there.text
    assert there.headers["content-type"] == "application/problem+json"
    assert there.json() == here.json()
    assert stranger in there.json()["detail"]


def test_a_dead_worker_costs_one_503_then_a_new_one_serves(in_processes, key, store):
    asked = sorted(store.decisions_at(RATED)["uscc"])[:5]
    body = {"usccs": asked, "as_of": RATED.isoformat()}
    assert _post(in_processes, key, "/v1/scores:batch", body).status_code == 200
    workers = _workers()
    assert workers
    for worker in workers:
        os.kill(worker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    failed = _post(in_processes, key, "/v1/scores:batch", body)
    assert failed.status_code == 503, failed.text
    assert failed.headers["retry-after"]
    assert "retry" in failed.json()["detail"]
    again = _post(in_processes, key, "/v1/scores:batch", body)
    assert again.status_code == 200, again.text
    # Serving-date scores never depended on the worker.
    assert _post(in_processes, key, "/v1/scores", {"uscc": asked[0]}).status_code == 200
    assert AuditLog(store).verify().ok


def test_a_job_over_its_time_bound_stops_the_worker_and_costs_one_503(
    in_processes, key, store
):
    # A job that hangs must not keep its heavy slot for ever: beyond
    # heavy_timeout_seconds its worker is killed, the request gets a 503, and
    # a new worker serves the next one.
    asked = sorted(store.decisions_at(RATED)["uscc"])[:5]
    body = {"usccs": asked, "as_of": RATED.isoformat()}
    assert _post(in_processes, key, "/v1/scores:batch", body).status_code == 200
    workers = _workers()
    assert workers
    past_dates = in_processes.app.state.services.past_dates
    bound = past_dates.timeout_seconds
    past_dates.timeout_seconds = 0.001  # no 5-code batch answers this fast
    try:
        late = _post(in_processes, key, "/v1/scores:batch", body)
    finally:
        past_dates.timeout_seconds = bound
    assert late.status_code == 503, late.text
    assert late.headers["retry-after"]
    assert "heavy_timeout_seconds" in late.json()["detail"]
    deadline = time.monotonic() + 30
    while any(w.is_alive() for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(w.is_alive() for w in workers), "the late worker was not stopped"
    again = _post(in_processes, key, "/v1/scores:batch", body)
    assert again.status_code == 200, again.text
    assert AuditLog(store).verify().ok
