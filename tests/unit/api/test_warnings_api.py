"""The early-warning endpoints for every role; every response against the OpenAPI.

No model is needed: the queue lives in the operational store. Each response any
client here receives is checked against the committed ``api/openapi.json``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore, Role
from credit_engine.config import Settings
from credit_engine.store import OperationalStore
from tests.openapi_conformance import OpenApiConformance

# One worker runs the module: the last test counts the responses checked.
pytestmark = pytest.mark.xdist_group("warnings_api")

U1, U2 = "91350200MA2Y0K3Q0N", "91110000600037341L"
OCT, NOV = dt.date(2025, 10, 31), dt.date(2025, 11, 30)


_CONFORMANCE = OpenApiConformance()


@pytest.fixture
def conformance():
    # One checker per process: xdist may interleave other modules' tests with
    # this group's, which would tear a module-scoped fixture down and reset it.
    return _CONFORMANCE


@pytest.fixture
def env(tmp_path, conformance):
    settings = Settings(home=tmp_path / "home")
    store = OperationalStore.from_settings(settings)
    keys = KeyStore(store)
    secrets = {
        role: keys.create(f"{role}-key", role, created_by="t")[1] for role in Role
    }
    with store.unit_of_work("seed warnings") as uow:
        uow.warnings.record_warnings(
            OCT,
            [
                {"uscc": U1, "signal": "EW-04", "priority": 5.5, "tier": "C",
                 "grade": "G5", "pd": 0.09,
                 "evidence": {"values": {"ew_refunds__claimed_90d": 900000}}},
                {"uscc": U1, "signal": "EW-08", "priority": 5.5, "tier": "C",
                 "evidence": {"values": {"ew_signals__export_unit_value_growth": 2.4}}},
                {"uscc": U2, "signal": "EW-02", "priority": 1.5, "tier": "B",
                 "evidence": {"facts": [{"code": "SAMR_ABNORMAL_LIST"}]}},
            ],
            signals_version=1,
        )  # fmt: skip
        uow.warnings.record_warnings(
            NOV,
            [{"uscc": U1, "signal": "EW-04", "priority": 5.5, "tier": "C",
              "evidence": {"values": {"ew_refunds__claimed_90d": 1200000}}}],
            signals_version=1,
        )  # fmt: skip
    app = create_app(settings, store=store, load_on_start=False)
    with TestClient(app) as client:
        yield conformance.attach(client), secrets, store


def auth(secrets, role):
    return {"Authorization": f"Bearer {secrets[role]}"}


def test_supervisors_page_through_the_queue_most_urgent_first(env):
    client, secrets, store = env
    r = client.get("/v1/warnings", headers=auth(secrets, "supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 3
    assert [(w["uscc"], w["signal"]) for w in body["data"]] == [
        (U1, "EW-04"),
        (U1, "EW-08"),
        (U2, "EW-02"),
    ]
    first = body["data"][0]
    assert first["signal_name"]["en"].startswith("Refund surge")
    assert first["department"] == "CROSS"
    assert (first["first_as_of"], first["last_as_of"], first["times_seen"]) == (
        "2025-10-31",
        "2025-11-30",
        2,
    )
    assert first["evidence"]["values"]["ew_refunds__claimed_90d"] == 1200000
    assert [s["code"] for s in body["signals"]][:2] == ["EW-01", "EW-02"]
    entry = AuditLog(store).get(body["audit_seq"])
    assert (entry.kind, entry.actor) == ("warnings_read", "supervisor-key")
    assert entry.payload["count"] == 3
    assert len(entry.payload["warning_ids"]) == 3


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("signal=EW-02", [U2]),
        ("tier=C", [U1, U1]),
        ("status=new&as_of=2025-11-30", [U1]),
        (f"uscc={U2}", [U2]),
        ("page=2&page_size=2", [U2]),
        ("status=closed", []),
    ],
)
def test_filters(env, query, expected):
    client, secrets, _ = env
    r = client.get(f"/v1/warnings?{query}", headers=auth(secrets, "admin"))
    assert r.status_code == 200, r.text
    assert [w["uscc"] for w in r.json()["data"]] == expected


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("signal=EW-99", "Unknown signal 'EW-99'; the signals are EW-01, EW-02"),
        ("tier=E", "tier"),
        ("status=open", "status"),
        ("page=0", "page"),
        ("page_size=5000", "page_size"),
        ("as_of=2025-13-01", "as_of"),
        ("uscc=91350200MA2Y0K3Q0X", "check character"),
    ],
)
def test_bad_filters_are_422_naming_what_is_allowed(env, query, detail):
    client, secrets, _ = env
    r = client.get(f"/v1/warnings?{query}", headers=auth(secrets, "supervisor"))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert detail in r.json()["detail"]


def test_auditors_read_the_queue_and_its_case_file_as_they_read_ratings(env):
    client, secrets, store = env
    wid = client.get("/v1/warnings", headers=auth(secrets, "supervisor")).json()[
        "data"
    ][0]["warning_id"]
    client.post(
        f"/v1/warnings/{wid}:acknowledge",
        json={"note": "calling the legal representative"},
        headers=auth(secrets, "supervisor"),
    )
    r = client.get("/v1/warnings", headers=auth(secrets, "auditor"))
    assert r.status_code == 200
    row = r.json()["data"][0]
    assert row["status"] == "acknowledged"
    assert row["acknowledge_note"] == "calling the legal representative"
    assert row["evidence"]
    full = client.get(f"/v1/warnings/{wid}", headers=auth(secrets, "auditor")).json()
    assert full["warning"]["acknowledged_by"] == "supervisor-key"
    assert [o["as_of"] for o in full["occurrences"]] == ["2025-10-31", "2025-11-30"]
    assert full["signal"]["explanation"]["zh"]
    entry = AuditLog(store).get(full["audit_seq"])
    assert (entry.kind, entry.subject) == ("warnings_read", U1)
    auditor = auth(secrets, "auditor")
    close = f"/v1/warnings/{wid}:close"
    refused = client.post(close, json={"note": "x"}, headers=auditor)
    assert refused.status_code == 403  # auditors change nothing


def test_data_scientists_see_no_warnings_as_they_see_no_ratings(env):
    client, secrets, _ = env
    ds = auth(secrets, "data_scientist")
    for path in ("/v1/warnings", "/v1/warnings/1", "/v1/ratings"):
        r = client.get(path, headers=ds)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path


def test_inspection_systems_and_anonymous_callers_are_refused(env):
    client, secrets, _ = env
    inspection = auth(secrets, "inspection_system")
    for method, path, body in [
        ("GET", "/v1/warnings", None),
        ("GET", "/v1/warnings/1", None),
        ("POST", "/v1/warnings/1:acknowledge", {}),
        ("POST", "/v1/warnings/1:close", {"note": "x"}),
    ]:
        r = client.request(method, path, json=body, headers=inspection)
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), path
        assert client.request(method, path, json=body).status_code == 401
    ds = auth(secrets, "data_scientist")
    r = client.post("/v1/warnings/1:acknowledge", json={}, headers=ds)
    assert r.status_code == 403
    assert "supervisor" in r.json()["detail"]
    assert (
        client.post("/v1/warnings/1:close", json={"note": "x"}, headers=ds).status_code
        == 403
    )


def test_the_lifecycle_is_audited_and_illegal_moves_are_409(env):
    client, secrets, store = env
    sup = auth(secrets, "supervisor")
    wid = client.get("/v1/warnings?signal=EW-08", headers=sup).json()["data"][0][
        "warning_id"
    ]
    r = client.post(f"/v1/warnings/{wid}:acknowledge", headers=sup)  # no body: no note
    assert r.status_code == 200, r.text
    assert r.json()["warning"]["status"] == "acknowledged"
    assert r.json()["warning"]["acknowledged_by"] == "supervisor-key"
    again = client.post(f"/v1/warnings/{wid}:acknowledge", json={}, headers=sup)
    assert again.status_code == 409
    assert "already acknowledged by supervisor-key" in again.json()["detail"]
    empty = client.post(f"/v1/warnings/{wid}:close", json={"note": "   "}, headers=sup)
    assert empty.status_code == 422
    assert (
        client.post(f"/v1/warnings/{wid}:close", json={}, headers=sup).status_code
        == 422
    )
    done = client.post(
        f"/v1/warnings/{wid}:close",
        json={"note": "Goods re-weighed: genuine high-value line"},
        headers=auth(secrets, "admin"),
    )
    assert done.status_code == 200
    assert done.json()["warning"]["status"] == "closed"
    assert done.json()["warning"]["closed_by"] == "admin-key"
    for move, body in ((":acknowledge", {}), (":close", {"note": "again"})):
        r = client.post(f"/v1/warnings/{wid}{move}", json=body, headers=sup)
        assert r.status_code == 409
        assert r.json()["code"] == "warning_transition_refused"
        assert "closed by admin-key" in r.json()["detail"]
    kinds = [e.kind for e in AuditLog(store).entries(subject=U1)]
    assert kinds.count("warning_acknowledged") == 1
    assert kinds.count("warning_closed") == 1
    assert AuditLog(store).verify().ok


def test_unknown_warnings_are_404_and_bad_ids_422(env):
    client, secrets, _ = env
    sup = auth(secrets, "supervisor")
    r = client.get("/v1/warnings/9999", headers=sup)
    assert (r.status_code, r.json()["code"]) == (404, "warning_not_found")
    assert client.post("/v1/warnings/9999:acknowledge", headers=sup).status_code == 404
    r = client.post("/v1/warnings/9999:close", json={"note": "x"}, headers=sup)
    assert r.status_code == 404
    assert client.get("/v1/warnings/abc", headers=sup).status_code == 422
    r = client.post("/v1/warnings/1:close", json={"note": "x", "extra": 1}, headers=sup)
    assert r.status_code == 422


def test_every_response_here_was_checked_against_the_document(conformance):
    assert conformance.checked > 30
