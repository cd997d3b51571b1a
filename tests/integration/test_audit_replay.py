"""Log decisions served for real, then replay them from the audit log.

The risk champion of the shared ``champion_home`` fixture (a store of this
module's own); decisions of the small zone are logged through
``decision_payload``, read back from the audit log and re-derived by
``replay_decision`` with the logged model, policy and rule-set versions.
"""

from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from credit_engine.audit import AuditLog
from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.decisioning import ModelRating, facts_by_uscc, overrides_by_uscc
from credit_engine.exceptions import AuditError, ModelNotFoundError
from credit_engine.rating import RatingEngine, decision_payload, replay_decision
from credit_engine.rules import statutory_facts

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

AS_OF = dt.date(2026, 6, 30)
MODEL = "credit_engine.zone_risk_pd"


@pytest.fixture(scope="module")
def home(champion_home) -> Settings:
    """The shared champion home with an operational store of this module's own."""
    db = champion_home.home / "replay_tests.db"
    return champion_home.model_copy(update={"database_url": f"sqlite:///{db}"})


def _env(home: Settings) -> dict[str, str]:
    """Point the CLI at this module's operational store."""
    return {"CREDIT_ENGINE_DATABASE_URL": home.database_url}


@pytest.fixture(scope="module")
def engine(home) -> RatingEngine:
    return RatingEngine(home)


@pytest.fixture(scope="module")
def served(engine):
    """Payloads of decisions served at AS_OF, as the API will log them.

    One enterprise gets an override first, so that an override is replayed too.
    """
    features = engine.features(AS_OF)
    first = engine.decide(features, AS_OF)
    plain = next(d for d in first if d.statutory_ceiling is None and d.tier in "BC")
    engine.store.add_override(
        plain.uscc, "A", "Appeal upheld after on-site review", "supervisor-1",
        AS_OF - dt.timedelta(days=30),
        created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )  # fmt: skip
    decisions = engine.decide(features, AS_OF)
    rated = engine.loaded.model.rate(features)
    facts = facts_by_uscc(
        statutory_facts(engine.sources(), AS_OF, rulebook=engine.rulebook)
    )
    overrides = overrides_by_uscc(engine.store.overrides_in_force(AS_OF))
    inputs = engine.loaded.model.input_columns()
    policy_features = sorted(
        {r.when.feature for r in engine.policy.rules if r.when.feature is not None}
    )
    by_layer = {}
    for i, d in enumerate(decisions):
        by_layer.setdefault(str(d.decided_by), i)
    payloads = {}
    for layer, i in by_layer.items():
        d, row, r = decisions[i], features.iloc[i], rated.iloc[i]
        assert row["uscc"] == d.uscc
        rating = ModelRating(
            grade=str(r["grade"]),
            pd=float(r["proba_default"]),
            score=float(r["score"]),
            in_default=bool(r["in_default"]),
            reasons=tuple(
                None if v is None or v != v else str(v)
                for k, v in r.items()
                if str(k).startswith("reason_")
            ),
            features={name: row[name] for name in policy_features},
        )
        payloads[layer] = decision_payload(
            d,
            features={c: row[c] for c in inputs},
            facts=facts.get(d.uscc, []),
            override=overrides.get(d.uscc),
            model_rating=rating,
        )
    assert {"OVERRIDE", "MODEL", "STATUTORY"} <= set(payloads)
    return payloads


@pytest.fixture(scope="module")
def logged(engine, served):
    """The served payloads appended to the home's audit log: layer -> seq."""
    log = AuditLog(engine.store)
    return {
        layer: log.append(
            "decision", "tester", payload, subject=payload["decision"]["uscc"]
        ).seq
        for layer, payload in served.items()
    }


def test_the_payload_is_json_ready_and_complete(served):
    payload = served["OVERRIDE"]
    json.dumps(payload, allow_nan=False)
    assert set(payload) == {"decision", "inputs"}
    assert set(payload["inputs"]) == {"features", "model_rating", "facts", "override"}
    assert payload["inputs"]["override"]["tier"] == "A"
    assert payload["decision"]["decided_by"] == "OVERRIDE"
    assert any(v is None for v in payload["inputs"]["features"].values())


@pytest.mark.parametrize("layer", ["MODEL", "OVERRIDE", "STATUTORY"])
def test_a_logged_decision_replays_exactly(home, engine, logged, layer):
    entry = AuditLog(engine.store).get(logged[layer])
    result = replay_decision(home, entry.payload)
    assert result.differences == []
    assert result.ok
    assert result.rederived["decision"]["tier"] == entry.payload["decision"]["tier"]
    assert result.logged["decision"] == entry.payload["decision"]


def test_a_tampered_tier_is_reported(home, engine, served):
    payload = copy.deepcopy(served["MODEL"])
    real = payload["decision"]["tier"]
    fake = "A" if real != "A" else "D"
    payload["decision"]["tier"] = fake
    result = replay_decision(home, payload, model=engine.loaded)
    assert not result.ok
    assert result.differences == [
        f"decision.tier: logged {fake!r}, re-derived {real!r}"
    ]


def test_a_tampered_model_output_and_feature_row_are_reported(home, engine, served):
    payload = copy.deepcopy(served["MODEL"])
    payload["inputs"]["model_rating"]["pd"] = 0.5
    result = replay_decision(home, payload, model=engine.loaded)
    assert [d.split(":")[0] for d in result.differences] == ["model_rating.pd"]
    payload = copy.deepcopy(served["MODEL"])
    feats = payload["inputs"]["features"]
    for name in feats:
        feats[name] = 0.0
    result = replay_decision(home, payload, model=engine.loaded)
    assert not result.ok
    assert any(d.startswith("model_rating.pd:") for d in result.differences)
    assert any(d.startswith("decision.pd:") for d in result.differences)


def test_a_payload_that_is_not_a_decision_is_refused(home):
    with pytest.raises(AuditError, match=r"the payload lacks \['decision', 'inputs'\]"):
        replay_decision(home, {"role": "admin"})


def test_a_model_version_no_longer_registered_is_named(home, served):
    payload = copy.deepcopy(served["MODEL"])
    payload["decision"]["model_version"] = "999"
    with pytest.raises(ModelNotFoundError, match="999"):
        replay_decision(home, payload)


def test_cli_replays_and_shows_an_entry(home, engine, served, logged):
    runner = CliRunner()
    seq = logged["STATUTORY"]
    result = runner.invoke(
        app, ["audit", "replay", str(seq), "--home", str(home.home)], env=_env(home)
    )
    assert result.exit_code == 0, result.output
    assert "matches" in result.output
    assert served["STATUTORY"]["decision"]["uscc"] in result.output
    payload = copy.deepcopy(served["MODEL"])
    real = payload["decision"]["tier"]
    payload["decision"]["tier"] = "A" if real != "A" else "D"
    tampered = AuditLog(engine.store).append(
        "decision", "tester", payload, subject=payload["decision"]["uscc"]
    )
    result = runner.invoke(
        app,
        ["audit", "replay", str(tampered.seq), "--home", str(home.home)],
        env=_env(home),
    )
    assert result.exit_code == 1, result.output
    assert "decision.tier" in result.output
    result = runner.invoke(
        app, ["audit", "show", str(seq), "--home", str(home.home)], env=_env(home)
    )
    assert result.exit_code == 0, result.output
    assert '"decision"' in result.output
    result = runner.invoke(
        app, ["audit", "verify", "--home", str(home.home)], env=_env(home)
    )
    assert result.exit_code == 0, result.output
    assert "audit log intact" in result.output
