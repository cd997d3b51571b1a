"""Data freshness end to end on the small zone: outage, marks, serving, CLI.

The champion of the shared ``champion_home`` rates the zone's lake read as
frames, whole and with the customs tax-bill feed cut off after a day
(``tests/freshness_outage.py``); the API and the CLI run on the home itself.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from credit_engine.api import create_app
from credit_engine.auth import KeyStore
from credit_engine.cli import app as cli
from credit_engine.data import Lake
from credit_engine.decisioning import facts_by_uscc, model_ratings, policy_features
from credit_engine.freshness import (
    assess_freshness,
    freshness_date,
    lake_watermarks,
    load_freshness_policy,
)
from credit_engine.rating import RatingEngine, decision_payload, replay_decision
from credit_engine.store import OperationalStore
from tests.freshness_outage import check_outage, lake_tables, outage_from_tables
from tests.openapi_conformance import OpenApiConformance

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

STOP = dt.date(2026, 6, 30)
THROUGH = STOP + dt.timedelta(days=90)
STALE_DAY = dt.date(2026, 12, 4)


@pytest.fixture(scope="module")
def home(champion_home, tmp_path_factory):
    """The champion home with an operational store of this module's own."""
    db = tmp_path_factory.mktemp("freshness") / "store.db"
    return champion_home.model_copy(update={"database_url": f"sqlite:///{db}"})


@pytest.fixture(scope="module")
def store(home):
    opened = OperationalStore.from_settings(home)
    opened.create_schema()
    return opened


@pytest.fixture(scope="module")
def engine(home, store) -> RatingEngine:
    return RatingEngine(home, store=store)


@pytest.fixture(scope="module")
def lake_freshness(home, contracts):
    policy = load_freshness_policy(home.definitions_dir, contracts)
    marks = lake_watermarks(Lake(home.lake_dir), contracts)
    return marks, policy, freshness_date(marks, policy)


# ------------------------------------------------------------------ outage
def test_a_stopped_bill_feed_asserts_nothing_past_its_watermark(
    home, store, engine, contracts
):
    zone = outage_from_tables(
        lake_tables(Lake(home.lake_dir), contracts), contracts, "customs_tax_bill", STOP
    )

    def engine_for(sources):
        return RatingEngine(home, store=store, model=engine.loaded, sources=sources)

    figures = check_outage(engine_for, zone, THROUGH)
    # The test has teeth: the complete lake does see bills that became overdue
    # after the feed stopped, which the outage cannot assert.
    assert figures["not_asserted"] > 0, figures
    assert figures["knowledge_lag_days"] == 0, figures  # the bills bound it
    assert figures["item_outage"] <= figures["item_at_stop"]
    assert figures["rated"] > 500


def test_decisions_on_stale_sources_carry_the_marks_everywhere(engine, store):
    result = engine.rate(STALE_DAY, actor="tester")
    assert result.freshness is not None
    stale = result.freshness.stale_sources
    assert {s.table for s in stale} >= {"customs_tax_bill", "customs_declaration"}
    assert result.summary["stale_sources"] == {
        s.table: result.summary["rated"] for s in stale
    }
    stored = store.decisions_at(STALE_DAY)
    assert stored["stale_sources"].map(len).eq(len(stale)).all()
    assert stored.iloc[0]["reasons"][0] == "DATA-STALE"
    first = result.decisions[0]
    assert first.reasons[0].code == "DATA-STALE"
    # Features of the knowledge date: the decisions equal a rating then, but
    # for facts of records known since and the marks.
    knowledge = result.freshness.knowledge_date
    assert knowledge < STALE_DAY
    fresh = {d.uscc: d for d in engine.rate(knowledge, store=False).decisions}
    same_grade = sum(d.grade == fresh[d.uscc].grade for d in result.decisions)
    assert same_grade == len(result.decisions)


def _payload(engine, decision, features, facts):
    """The audit payload of one decided row, as the API logs it."""
    row = features[features["uscc"] == decision.uscc]
    rated = engine.loaded.model.rate(row)
    rated.insert(0, "uscc", row["uscc"].to_numpy())
    for name in policy_features(engine.policy):
        rated[name] = row[name].to_numpy()
    ((_, rating),) = list(model_ratings(rated, engine.policy))
    first = row.iloc[0]
    return decision_payload(
        decision,
        features={c: first[c] for c in engine.loaded.model.input_columns()},
        facts=facts_by_uscc(facts).get(decision.uscc, []),
        override=None,
        model_rating=rating,
    )


def test_a_decision_on_stale_sources_replays_and_old_payloads_still_do(home, engine):
    freshness = engine.freshness(STALE_DAY)
    features = engine.features(STALE_DAY, knowledge=freshness.knowledge_date)
    features = features.iloc[:1]
    facts = engine.facts(STALE_DAY)
    stale = freshness.stale_sources
    (marked,) = engine.decide(features, STALE_DAY, facts=facts, stale=stale)
    payload = _payload(engine, marked, features, facts)
    assert payload["decision"]["stale_sources"]
    assert replay_decision(home, payload, model=engine.loaded).ok
    # A payload logged before the field existed (no marks) replays too.
    (plain,) = engine.decide(features, STALE_DAY, facts=facts, stale=())
    old = _payload(engine, plain, features, facts)
    del old["decision"]["stale_sources"]
    assert replay_decision(home, old, model=engine.loaded).ok
    # The marks are inputs of the decision: a tampered mark no longer gives
    # the logged DATA-STALE reason.
    tampered = copy.deepcopy(payload)
    tampered["decision"]["stale_sources"][0]["age_days"] = 1
    result = replay_decision(home, tampered, model=engine.loaded)
    assert not result.ok
    assert any(
        line.startswith("decision.reasons[0].detail") for line in result.differences
    )


# ------------------------------------------------------------------ serving
def _client(home, store, as_of=None):
    return TestClient(create_app(home, store=store, as_of=as_of))


def test_serving_defaults_to_the_lake_s_freshness_date(home, store, lake_freshness):
    _, _, fresh_to = lake_freshness
    conformance = OpenApiConformance()
    with _client(home, store) as client:
        conformance.attach(client)
        state = client.app.state.services.scoring.state
        assert state.as_of == min(fresh_to, dt.datetime.now(dt.UTC).date())
        ready = client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert body["status"] == "ready"
        assert body["freshness"]["status"] == "fresh"
        assert body["freshness"]["serving_date"] == state.as_of.isoformat()
        assert body["freshness"]["serving_reason"].startswith("the lake's freshness")
        assert body["freshness"]["stale_sources"] == []


def test_serving_a_stale_date_is_degraded_marked_and_measured(home, store):
    conformance = OpenApiConformance()
    key = KeyStore(store).create(
        "fresh-inspector", "inspection_system", created_by="t"
    )[1]
    with _client(home, store, as_of=STALE_DAY) as client:
        conformance.attach(client)
        ready = client.get("/readyz")
        assert ready.status_code == 200  # degraded stays in the load balancer
        body = ready.json()
        assert body["status"] == "degraded"
        fresh = body["freshness"]
        assert fresh["status"] == "stale"
        assert "CUSTOMS" in fresh["stale_departments"]
        assert "customs_tax_bill (CUSTOMS) stale since" in fresh["reason"]
        bills = next(
            s for s in fresh["stale_sources"] if s["table"] == "customs_tax_bill"
        )
        assert bills["since"] is not None
        assert bills["allowed_lag_days"] == 3
        uscc = sorted(client.app.state.services.scoring.state.usccs)[0]
        r = client.post(
            "/v1/scores",
            json={"uscc": uscc},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 200, r.text
        decision = r.json()["decision"]
        assert "grade" not in decision  # the role's disclosure still applies ...
        marks = decision["stale_sources"]  # ... but the marks are always shown
        assert {m["table"] for m in marks} == {
            s["table"] for s in fresh["stale_sources"]
        }
        assert decision["reasons"][0]["code"] == "DATA-STALE"
        metrics = client.get("/metrics").text
        labels = 'department="CUSTOMS",table="customs_tax_bill"'
        assert f"credit_engine_source_stale{{{labels}}} 1.0" in metrics
        assert "credit_engine_source_age_days{" in metrics
        assert "credit_engine_source_watermark_timestamp_seconds{" in metrics
        assert f"credit_engine_serving_stale_sources {float(len(marks))}" in metrics


# --------------------------------------------------------------------- CLI
def test_cli_freshness_shows_tables_departments_and_the_freshness_date(
    home, tmp_path, lake_freshness
):
    _, _, fresh_to = lake_freshness
    out = tmp_path / "freshness.json"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["freshness", "--home", str(home.home), "--report-json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "customs_tax_bill" in result.output
    assert "Per department" in result.output
    assert (
        f"freshness date (the latest date no required table is stale) is {fresh_to}"
        in " ".join(result.output.split())
    )
    report = json.loads(out.read_text())
    assert report["freshness_date"] == fresh_to.isoformat()
    assert set(report["departments"]) == {"CUSTOMS", "TAX", "SAFE", "SAMR"}
    assert report["tables"]["customs_tax_bill"]["status"] == "stale"
    assert (
        runner.invoke(cli, ["freshness", "--home", str(home.home), "--check"]).exit_code
        == 1
    )
    past = runner.invoke(
        cli, ["freshness", "--home", str(home.home), "--as-of", "2026-06-30", "--check"]
    )
    assert past.exit_code == 0, past.output
    assert "known 2026-06-30" in past.output


def test_cli_rate_on_stale_sources_reports_and_shows_them(home, tmp_path):
    out = tmp_path / "rate.json"
    result = CliRunner().invoke(
        cli,
        ["rate", "--as-of", STALE_DAY.isoformat(), "--report-json", str(out),
         "--examples", "--home", str(home.home)],
        env={"CREDIT_ENGINE_DATABASE_URL": home.database_url},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["stale_sources"]["customs_tax_bill"] == report["rated"]
    text = " ".join(result.output.split())
    assert "stale data at 2026-12-04" in text
    assert "customs_tax_bill (CUSTOMS): last delivered" in text
    assert "stale sources" in text  # in the example decisions


def test_the_freshness_report_at_a_past_date_is_what_was_known_then(home, contracts):
    policy = load_freshness_policy(home.definitions_dir, contracts)
    marks = lake_watermarks(Lake(home.lake_dir), contracts, STOP)
    report = assess_freshness(marks, policy, STOP)
    assert report.stale_sources == ()
    assert all(
        t.watermark is None or t.watermark.date() <= STOP
        for t in report.tables.values()
    )
