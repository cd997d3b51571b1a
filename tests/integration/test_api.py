"""The API on the small zone: every endpoint, role and error, the audit log, the swap.

Real components throughout: the champion from MLflow, the lake, SQLite, and for
the swap a real uvicorn server on loopback hit from several threads. Every
response any client here receives is checked against the committed OpenAPI
document (status, media type and body schema; ``tests/openapi_conformance.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore, Role
from credit_engine.rating import RatingEngine
from credit_engine.registry import CHAMPION, alias_version, mlflow_client, set_alias
from credit_engine.store import OperationalStore
from credit_engine.uscc import check_character
from tests.openapi_conformance import OpenApiConformance

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

OPENAPI = Path(__file__).resolve().parents[2] / "api" / "openapi.json"
MODEL = "credit_engine.zone_risk_pd"
RATED = dt.date(2026, 6, 30)


@pytest.fixture(scope="module")
def home(champion_home):
    """The champion home with an operational store of this module's own."""
    return champion_home.model_copy(
        update={"database_url": f"sqlite:///{champion_home.home / 'api_tests.db'}"}
    )


@pytest.fixture(scope="module")
def store(home):
    opened = OperationalStore.from_settings(home)
    RatingEngine(home, store=opened).rate(RATED, actor="tester")
    return opened


@pytest.fixture(scope="module")
def keys(store):
    ks = KeyStore(store)
    return {
        role: ks.create(f"{role}-key", role, created_by="tester")[1] for role in Role
    }


@pytest.fixture(scope="module")
def conformance():
    """Checks each response against api/openapi.json (tests/openapi_conformance)."""
    return OpenApiConformance()


@pytest.fixture(scope="module")
def client(home, store, keys, conformance):
    app = create_app(home, store=store)
    with TestClient(app) as c:
        yield conformance.attach(c)


def auth(keys, role):
    return {"Authorization": f"Bearer {keys[role]}"}


@pytest.fixture(scope="module")
def usccs(client, keys):
    state = client.app.state.services.scoring.state
    decisions = client.app.state.services.scoring.decide(sorted(state.usccs))
    plain = next(
        s.decision.uscc
        for s in decisions
        if s.decision.statutory_ceiling is None and s.decision.tier in "BC"
    )
    bound = next(
        s.decision.uscc for s in decisions if s.decision.statutory_ceiling == "D"
    )
    return {"all": sorted(state.usccs), "plain": plain, "bound": bound}


def test_health_ready_and_metrics_need_no_key(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert "credit_engine_ready 1.0" in metrics.text
    # Issue 14: without a key, nothing names the model (name, version, run).
    run_id = client.app.state.services.scoring.state.engine.loaded.run_id
    for text in (ready.text, metrics.text):
        assert MODEL not in text
        assert run_id not in text
        assert "model_version" not in text


def test_score_answers_the_decision_the_role_may_see(client, keys, usccs):
    uscc = usccs["plain"]
    r = client.post(
        "/v1/scores", json={"uscc": uscc}, headers=auth(keys, "inspection_system")
    )
    assert r.status_code == 200, r.text
    d = r.json()["decision"]
    assert d["uscc"] == uscc
    assert d["tier"] in "ABCD"
    assert {
        "green_channel",
        "measures",
        "reasons",
        "inspection_rate_factor",
        "decided_by",
        "policy_version",
        "rule_sets",
    } <= set(d)
    assert not {"pd", "grade", "score", "model_version"} & set(d)
    s = client.post("/v1/scores", json={"uscc": uscc}, headers=auth(keys, "supervisor"))
    full = s.json()["decision"]
    assert {"pd", "grade", "score", "model_version"} <= set(full)
    assert full["tier"] == d["tier"]
    assert s.json()["audit_seq"] == r.json()["audit_seq"] + 1


def test_a_single_score_answers_what_the_validated_path_answers(client, keys, usccs):
    # POST /v1/scores at the serving date sends the serving cache's bytes; a
    # batch of one goes through FastAPI's response model. Same JSON, for
    # several roles and a statute-bound decision. (After an override the cached
    # JSON is another decision's: test_override_takes_effect_below_statute...)
    svc = client.app.state.services
    codes = [usccs["plain"], usccs["bound"], *usccs["all"][:30]]
    for role in ("inspection_system", "supervisor", "admin"):
        for code in codes:
            one = client.post(
                "/v1/scores", json={"uscc": code}, headers=auth(keys, role)
            )
            batch = client.post(
                "/v1/scores:batch", json={"usccs": [code]}, headers=auth(keys, role)
            )
            assert one.status_code == batch.status_code == 200, (one.text, batch.text)
            assert one.headers["content-type"] == batch.headers["content-type"]
            assert one.json()["decision"] == batch.json()["data"][0]
            assert one.json()["audit_seq"] + 1 == batch.json()["audit_seqs"][0]
    cache = svc.scoring.state.cache
    assert cache is not None
    assert len(cache._public) >= len(set(codes))
    # A batch of more codes than are decided inline is decided, logged and
    # rendered in the heavy pool: the same decisions, in the order asked.
    many = usccs["all"][:60]
    heavy = client.post(
        "/v1/scores:batch",
        json={"usccs": many},
        headers=auth(keys, "inspection_system"),
    )
    assert heavy.status_code == 200, heavy.text
    body = heavy.json()
    assert body["count"] == len(many) == len(body["audit_seqs"])
    assert [d["uscc"] for d in body["data"]] == many
    for code, decision in zip(many[:10], body["data"], strict=False):
        one = client.post(
            "/v1/scores", json={"uscc": code}, headers=auth(keys, "inspection_system")
        )
        assert one.json()["decision"] == decision


def test_every_decision_served_is_in_the_audit_log_first(client, keys, usccs, store):
    r = client.post(
        "/v1/scores",
        json={"uscc": usccs["bound"]},
        headers=auth(keys, "inspection_system"),
    )
    seq = r.json()["audit_seq"]
    entry = AuditLog(store).get(seq)
    assert entry.kind == "decision"
    assert entry.subject == usccs["bound"]
    assert entry.actor == "inspection_system-key"
    assert entry.payload["decision"]["tier"] == r.json()["decision"]["tier"] == "D"
    assert AuditLog(store).verify().ok


def test_batch_scores_in_order_up_to_a_thousand(client, keys, usccs):
    asked = usccs["all"][:25]
    r = client.post(
        "/v1/scores:batch",
        json={"usccs": asked},
        headers=auth(keys, "inspection_system"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [d["uscc"] for d in body["data"]] == asked
    assert body["count"] == 25
    assert body["audit_seqs"] == list(
        range(body["audit_seqs"][0], body["audit_seqs"][0] + 25)
    )
    too_many = client.post(
        "/v1/scores:batch",
        json={"usccs": asked * 41},
        headers=auth(keys, "inspection_system"),
    )
    assert too_many.status_code == 422
    assert "1000" in too_many.json()["detail"]


def test_errors_are_problem_details_never_500(client, keys, usccs):
    h = auth(keys, "inspection_system")
    body17 = usccs["plain"][:17]
    good = check_character(body17)
    wrong = next(c for c in "0123456789ABC" if c != good)
    r = client.post("/v1/scores", json={"uscc": body17 + wrong}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert good in r.json()["detail"]
    assert r.json()["code"] == "invalid_uscc"
    unknown = "91350200MA2XYW000" + check_character("91350200MA2XYW000")
    r = client.post("/v1/scores", json={"uscc": unknown}, headers=h)
    assert (r.status_code, r.json()["code"]) == (404, "enterprise_not_found")
    for bad in ({}, {"uscc": 5}, {"uscc": "x", "extra": 1}, "not json"):
        r = client.post(
            "/v1/scores",
            content=json.dumps(bad) if isinstance(bad, dict) else bad,
            headers={**h, "content-type": "application/json"},
        )
        assert r.status_code == 422, (bad, r.text)
    future = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    r = client.post(
        "/v1/scores", json={"uscc": usccs["plain"], "as_of": future}, headers=h
    )
    assert r.status_code == 422
    assert "future" in r.json()["detail"]
    batch = client.post(
        "/v1/scores:batch", json={"usccs": [usccs["plain"], "123"]}, headers=h
    )
    assert batch.status_code == 422
    assert "usccs[1]" in batch.json()["detail"]
    assert client.get("/v1/nothing", headers=h).status_code == 404


def test_keys_and_roles(client, keys, usccs):
    body = {"uscc": usccs["plain"]}
    assert client.post("/v1/scores", json=body).status_code == 401
    r = client.post("/v1/scores", json=body, headers={"Authorization": "Bearer nope"})
    assert (r.status_code, r.json()["code"]) == (401, "unauthenticated")
    assert "nope" not in r.text
    r = client.post("/v1/scores", json=body, headers=auth(keys, "data_scientist"))
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    assert (
        client.post(
            "/v1/scores", json=body, headers={"X-API-Key": keys["admin"]}
        ).status_code
        == 200
    )
    inspection = auth(keys, "inspection_system")
    assert (
        client.get(
            f"/v1/enterprises/{usccs['plain']}/history", headers=inspection
        ).status_code
        == 403
    )
    assert client.get("/v1/ratings", headers=inspection).status_code == 403
    assert (
        client.post("/v1/admin/reload", headers=auth(keys, "supervisor")).status_code
        == 403
    )
    assert client.get("/v1/models", headers=inspection).status_code == 200


def test_supervisor_reads_rating_history_and_lists(client, keys, usccs):
    h = auth(keys, "supervisor")
    uscc = usccs["plain"]
    rating = client.get(f"/v1/enterprises/{uscc}/rating", headers=h)
    assert rating.status_code == 200
    assert rating.json()["decision"]["uscc"] == uscc
    history = client.get(f"/v1/enterprises/{uscc}/history", headers=h).json()
    assert [r["as_of"] for r in history["data"]] == [RATED.isoformat()]
    page = client.get(
        "/v1/ratings", params={"tier": "D", "page_size": 5}, headers=h
    ).json()
    assert page["as_of"] == RATED.isoformat()
    assert len(page["data"]) == min(5, page["count"])
    assert all(r["tier"] == "D" for r in page["data"])
    everything = client.get("/v1/ratings", params={"page_size": 1000}, headers=h).json()
    assert everything["count"] == len(usccs["all"]) == len(everything["data"])
    green = client.get("/v1/ratings", params={"green_channel": True}, headers=h).json()
    assert all(r["green_channel"] for r in green["data"])
    assert client.get("/v1/ratings", params={"tier": "E"}, headers=h).status_code == 422
    assert (
        client.get("/v1/ratings", params={"as_of": "2020-01-31"}, headers=h).status_code
        == 404
    )


def test_override_takes_effect_below_statute_and_is_audited(client, keys, usccs, store):
    h = auth(keys, "supervisor")
    plain, bound = usccs["plain"], usccs["bound"]
    r = client.post(
        f"/v1/enterprises/{plain}/overrides",
        json={"tier": "A", "reason": "Appeal upheld on site"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["decision"]["tier"] == "A"
    assert body["decision"]["decided_by"] == "OVERRIDE"
    assert AuditLog(store).get(body["audit_seq"]).kind == "override"
    r = client.post(
        f"/v1/enterprises/{bound}/overrides",
        json={"tier": "A", "reason": "Asked by the enterprise"},
        headers=h,
    )
    assert r.json()["decision"]["tier"] == "D"
    assert r.json()["decision"]["decided_by"] == "STATUTORY"
    scored = client.post(
        "/v1/scores", json={"uscc": plain}, headers=auth(keys, "inspection_system")
    ).json()
    assert scored["decision"]["decided_by"] == "OVERRIDE"
    history = client.get(f"/v1/enterprises/{plain}/history", headers=h).json()
    assert history["overrides"][-1]["reason"] == "Appeal upheld on site"
    bad = client.post(
        f"/v1/enterprises/{plain}/overrides",
        json={"tier": "Z", "reason": "x"},
        headers=h,
    )
    assert bad.status_code == 422
    assert "credit_engine_override_rate" in client.get("/metrics").text


def test_models_and_policy(client, keys):
    models = client.get("/v1/models", headers=auth(keys, "data_scientist")).json()
    assert models["serving"]["model_name"] == MODEL
    champion = [r for r in models["registered"] if "champion" in r["aliases"]]
    assert [r["version"] for r in champion] == [models["serving"]["model_version"]]
    policy = client.get("/v1/policy", headers=auth(keys, "data_scientist")).json()
    assert policy["policy"]["name"] == "zone"
    assert policy["rule_sets"]["CUSTOMS"] == "CUSTOMS_282"


def test_openapi_document_is_committed_and_current(home, store):
    app = create_app(home, store=store, load_on_start=False)
    current = json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False)
    assert OPENAPI.read_text(encoding="utf-8") == current + "\n", (
        "api/openapi.json is stale: run `credit-engine openapi --out api/openapi.json`"
    )


def test_no_model_means_503_with_the_reason(home, tmp_path, keys, conformance):
    empty = home.model_copy(
        update={
            "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'empty.db'}",
            "database_url": f"sqlite:///{tmp_path / 'store.db'}",
        }
    )
    store = OperationalStore.from_settings(empty)
    key = KeyStore(store).create("probe", "inspection_system", created_by="t")[1]
    with TestClient(create_app(empty, store=store)) as c:
        conformance.attach(c)
        ready = c.get("/readyz")
        assert ready.status_code == 503
        assert "champion" in ready.json()["detail"]
        r = c.post(
            "/v1/scores",
            json={"uscc": "91350200MA2XYW000" + check_character("91350200MA2XYW000")},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 503
        assert "champion" in r.json()["detail"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_reload_swaps_without_failing_requests_and_survives_a_bad_load(
    home, store, keys, usccs, conformance
):
    import uvicorn

    # What is tested is the swap, not the audit's bound: on a machine loaded
    # by other work (the reload's model load, three hammering clients and the
    # server share one interpreter here) a commit may wait past the default
    # 2 s, and that 503 would say nothing about the reload.
    app = create_app(home.model_copy(update={"audit_wait_seconds": 20.0}), store=store)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    statuses: list[int] = []
    nonconforming: list[str] = []
    stop = threading.Event()
    probe = conformance.attach(httpx.Client(base_url=base))

    def hammer() -> None:
        scorer = httpx.Client(base_url=base, headers=auth(keys, "inspection_system"))
        with conformance.attach(scorer) as c:
            while not stop.is_set():
                try:
                    r = c.post("/v1/scores", json={"uscc": usccs["plain"]})
                except AssertionError as exc:  # off the OpenAPI document
                    nonconforming.append(str(exc))
                    return
                statuses.append(r.status_code)

    workers = [threading.Thread(target=hammer) for _ in range(3)]
    for w in workers:
        w.start()
    try:
        admin = conformance.attach(
            httpx.Client(base_url=base, headers=auth(keys, "admin"), timeout=300)
        )
        ok = admin.post("/v1/admin/reload")
        assert ok.status_code == 200, ok.text
        assert ok.json()["reloaded"] is True
        # A failed load (no champion alias) keeps the old model serving.
        client = mlflow_client(home)
        version = alias_version(home, MODEL, CHAMPION)
        client.delete_registered_model_alias(MODEL, CHAMPION)
        try:
            bad = admin.post("/v1/admin/reload")
            assert bad.status_code == 503
            assert "champion" in bad.json()["error"]
            ready = probe.get("/readyz").json()
            assert ready["status"] == "ready"
            assert "reload failed" in ready["reason"]
            serving = admin.get("/v1/models").json()["serving"]
            assert serving["model_version"] == version
        finally:
            set_alias(home, MODEL, CHAMPION, version, actor="tester", reason="restore")
        again = admin.post("/v1/admin/reload")
        assert again.status_code == 200
        assert probe.get("/readyz").json()["reason"] is None
    finally:
        stop.set()
        for w in workers:
            w.join()
        server.should_exit = True
        thread.join(timeout=30)
        probe.close()
    assert not nonconforming, nonconforming[:3]
    assert statuses, "the request threads never ran"
    assert set(statuses) == {200}, sorted(set(statuses))


def test_a_past_date_is_decided_live_like_the_stored_rating_run(client, keys, store):
    """The API's live path (features and facts from the lake) equals the batch run."""
    stored = store.decisions_at(RATED).set_index("uscc")
    asked = sorted(stored.index)[:20]
    r = client.post(
        "/v1/scores:batch",
        json={"usccs": asked, "as_of": RATED.isoformat()},
        headers=auth(keys, "supervisor"),
    )
    assert r.status_code == 200, r.text
    for d in r.json()["data"]:
        row = stored.loc[d["uscc"]]
        assert d["as_of"] == RATED.isoformat()
        assert (d["tier"], d["grade"], d["decided_by"]) == (
            row["tier"],
            row["grade"],
            row["decided_by"],
        ), d["uscc"]
        assert d["pd"] == pytest.approx(row["pd"], rel=1e-9)
        assert [m["code"] for m in d["measures"]] == list(row["measures"])
        assert [x["code"] for x in d["reasons"]] == list(row["reasons"])
