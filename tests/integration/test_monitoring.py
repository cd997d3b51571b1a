"""Monitoring of the running engine: cohorts, shadow runs, report, MLflow, CLI.

An engine home of its own (the small zone's lake and the champion home's
feature snapshot) gets a risk champion (v1, promoted) and a challenger (v2,
other parameters, ``min_shadow_days: 60``); the zone is rated at several dates
with shadow runs, then monitored.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from credit_engine.api import create_app
from credit_engine.auth import KeyStore
from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.jsonable import to_jsonable
from credit_engine.monitoring import MODEL_KEYS, NO_REFERENCES, ModelReference
from credit_engine.pipeline import rate_dates
from credit_engine.rating import RatingEngine
from credit_engine.registry import (
    ShadowPeriod,
    monitoring_runs,
    promote,
    read_version_json,
    registered_versions,
)
from credit_engine.registry._promote import evaluate_gates
from credit_engine.store import OperationalStore, RunRole
from credit_engine.training import (
    VALIDATION_JSON_ARTIFACT,
    default_snapshot_path,
    load_model_spec,
    train_spec,
)
from credit_engine.watch import (
    FRESHNESS_UNKNOWN,
    lake_freshness_data,
    monitor,
    shadow_period,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

MODEL = "credit_engine.zone_risk_pd"
CHALLENGER_KEY = MODEL + "@challenger"
DATES = [
    dt.date(2025, 4, 30),
    dt.date(2025, 5, 31),
    dt.date(2025, 6, 30),
    dt.date(2025, 12, 31),
    dt.date(2026, 3, 31),
    dt.date(2026, 6, 30),
]
AS_OF = DATES[-1]
runner = CliRunner()


@pytest.fixture(scope="module")
def home(ingested_zone, champion_home, tmp_path_factory) -> Settings:
    """A home with a risk champion v1 and a challenger v2 (shadow gate 60 days)."""
    source, _ = ingested_zone
    settings = Settings(home=tmp_path_factory.mktemp("watch_home"))
    shutil.copytree(source.lake_dir, settings.lake_dir)
    shutil.copytree(source.quarantine_dir, settings.quarantine_dir)
    snapshot = default_snapshot_path(settings, "credit_v1")
    snapshot.parent.mkdir(parents=True)
    shutil.copy(default_snapshot_path(champion_home, "credit_v1"), snapshot)
    spec = load_model_spec(settings.definitions_dir / "models", "risk_gbm")
    spec = spec.model_copy(update={"params": {**spec.params, "min_child_samples": 40}})
    train_spec(spec, settings, actor="tester")
    promote(settings, MODEL, force=True, reason="monitoring tests", actor="tester")
    challenger = spec.model_copy(
        update={
            "params": {**spec.params, "num_leaves": 4, "n_estimators": 60},
            "gates": spec.gates.model_copy(update={"min_shadow_days": 60}),
        }
    )
    train_spec(challenger, settings, actor="tester")
    return settings


@pytest.fixture(scope="module")
def rated(home):
    return rate_dates(home, DATES, shadow=True, actor="tester")


@pytest.fixture(scope="module")
def outcome(home, rated):
    return monitor(home, AS_OF)


def test_training_stores_the_frozen_feature_distributions(home):
    validation = read_version_json(home, MODEL, "2", VALIDATION_JSON_ARTIFACT)
    assert validation is not None
    stored = validation["feature_references"]
    reference = ModelReference.from_validation_json(validation, horizon_days=365)
    assert len(reference.features) == len(stored) > 100
    assert {f.kind for f in reference.features} == {"numeric"}
    shares = reference.features[0]
    assert sum(shares.shares_dev) + shares.missing_share_dev == pytest.approx(1.0)


def test_each_date_has_one_served_run_and_the_challengers_shadow_run(home, rated):
    store = OperationalStore.from_settings(home)
    runs = store.runs()
    served = runs[runs["role"] == "served"]
    shadow = runs[runs["role"] == "shadow"]
    assert sorted(served["as_of"]) == DATES
    assert set(served["model_version"]) == {"1"}
    assert sorted(shadow["as_of"]) == DATES
    assert set(shadow["model_version"]) == {"2"}
    assert store.rating_dates() == DATES
    for result in rated:
        assert [s.role for s in result.shadow] == [RunRole.SHADOW]
        assert result.shadow[0].summary["rated"] == result.summary["rated"]


def test_one_feature_query_for_many_dates_decides_like_one_date(home, rated):
    alone = RatingEngine(home).rate(AS_OF, store=False)
    stored = OperationalStore.from_settings(home).decisions_at(AS_OF)
    got = {d.uscc: (d.tier, d.grade, round(d.pd, 12)) for d in alone.decisions}
    want = {
        row.uscc: (row.tier, row.grade, round(row.pd, 12))
        for row in stored.itertuples()
    }
    assert got == want


def test_shadow_runs_never_change_what_the_api_serves(home, rated, tmp_path):
    store = OperationalStore.from_settings(home)
    served_run = rated[-1].run_id
    keys = KeyStore(store)
    _, key = keys.create("watch-supervisor", "supervisor", created_by="tester")
    with TestClient(create_app(home, store=store)) as client:
        h = {"Authorization": f"Bearer {key}"}
        page = client.get("/v1/ratings", params={"page_size": 1000}, headers=h).json()
        assert page["run_id"] == served_run
        assert page["as_of"] == AS_OF.isoformat()
        stored = store.decisions_at(AS_OF)
        assert {r["uscc"]: r["tier"] for r in page["data"]} == dict(
            zip(stored["uscc"], stored["tier"], strict=True)
        )
        uscc = page["data"][0]["uscc"]
        history = client.get(f"/v1/enterprises/{uscc}/history", headers=h).json()
        assert [r["as_of"] for r in history["data"]] == [d.isoformat() for d in DATES]
        assert {r["model_version"] for r in history["data"]} == {"1"}


def test_the_report_has_its_stable_keys_and_every_part(outcome, home):
    data = outcome.to_json_dict()
    assert list(data)[:5] == ["as_of", "models", "overrides", "data", "status"]
    assert data["as_of"] == AS_OF.isoformat()
    assert data["status"] in {"green", "amber", "red"}
    # Data freshness of every table of the lake as it was known at AS_OF.
    assert data["data"] == to_jsonable(lake_freshness_data(home, AS_OF))
    assert set(data["data"]) == set(load_contracts(home.sources_dir))
    assert data["data"]["customs_tax_bill"]["department"] == "CUSTOMS"
    assert "red" not in {e["status"] for e in data["data"].values()}
    assert FRESHNESS_UNKNOWN not in data["notes"]
    assert any("zone_scorecard_pd has no champion" in n for n in data["notes"])
    assert set(data["models"]) == {MODEL, CHALLENGER_KEY}
    for key, entry in data["models"].items():
        assert tuple(entry) == MODEL_KEYS
        assert entry["role"] == ("challenger" if key == CHALLENGER_KEY else "champion")
        cohorts = {c["as_of"]: c for c in entry["cohorts"]}
        assert list(cohorts) == [d.isoformat() for d in DATES]
        matured = [d for d, c in cohorts.items() if c["matured"]]
        assert matured == ["2025-04-30", "2025-05-31", "2025-06-30"]
        assert all(cohorts[d]["with_outcome"] > 0 for d in matured)
        assert [b["as_of"] for b in entry["backtest"]["cohorts"]] == matured
        assert entry["auc_initial"] > 0.5
        assert entry["csi"]["as_of"] == AS_OF.isoformat()
        assert entry["csi"]["unavailable"] is None
        assert len(entry["estimated"]["by_cohort"]) == len(DATES)
        assert entry["migration"]["grade"]["from_as_of"] == "2026-03-31"
    assert data["models"][MODEL]["shadow"] is None
    shadow = data["models"][CHALLENGER_KEY]["shadow"]
    assert shadow["as_of"] == AS_OF.isoformat()
    assert (shadow["champion_version"], shadow["challenger_version"]) == ("1", "2")
    assert sum(map(sum, shadow["counts"])) == shadow["n"] > 500
    assert [p["as_of"] for p in shadow["by_date"]] == [d.isoformat() for d in DATES]
    assert shadow["changes_total"] == shadow["stricter"] + shadow["more_lenient"]
    assert len(shadow["changes"]) == min(50, shadow["changes_total"])
    overrides = data["overrides"]
    assert [c["as_of"] for c in overrides["by_cohort"]] == [
        d.isoformat() for d in DATES
    ]


def test_early_outcomes_test_the_windows_cohorts_read_from_the_lake(outcome, home):
    from credit_engine.simulation._reference import SECTOR_INDUSTRY
    from credit_engine.training import cohort_outcomes

    m = outcome.report.models[MODEL]
    early = m.early_outcomes
    end = m.observation_end
    zone = {t.window_days: t for t in early.tests if t.dimension == "zone"}
    assert {w: t.cohort for w, t in zone.items()} == {
        90: dt.date(2026, 3, 31),
        180: dt.date(2025, 12, 31),
    }
    store = OperationalStore.from_settings(home)
    spec = load_model_spec(home.definitions_dir / "models", "risk_gbm")
    for window, test in zone.items():
        rows = store.decisions_at(test.cohort)
        performing = rows.loc[~rows["in_default"].astype(bool), ["uscc", "as_of"]]
        assert test.rows == performing.shape[0]
        assert test.elapsed_days == (end - test.cohort).days
        so_far = spec.label.model_copy(update={"horizon_days": test.elapsed_days})
        labels = cohort_outcomes(
            performing, spec.model_copy(update={"label": so_far}), home,
            observed_until=end,
        )  # fmt: skip
        assert test.observed == int(labels["y"].sum()), window
        segments = [t for t in early.tests if t.window_days == window]
        # The industry in force at the cohort date, read from SAMR registration.
        industries = {t.segment for t in segments if t.dimension == "industry"}
        assert industries
        assert industries <= set(SECTOR_INDUSTRY)
        tested = [t for t in segments if t.dimension == "industry"]
        assert sum(t.rows for t in tested) <= test.rows
    assert m.lights["early_outcomes"] == early.light


def test_the_report_is_written_and_logged_against_the_champion(outcome, home):
    folder = home.reports_dir / "monitoring" / AS_OF.isoformat()
    assert outcome.files["json"] == folder / "monitoring.json"
    assert json.loads(outcome.files["json"].read_text()) == outcome.to_json_dict()
    html = outcome.files["html"].read_text()
    assert "Shadow scoring: tiers against the champion" in html
    assert '<h2 id="data">Data freshness</h2>' in html
    assert "customs_tax_bill" in html
    assert "No data freshness was given" not in html
    assert [(r.name, r.version, r.role) for r in outcome.logged] == [
        (MODEL, "1", "champion")
    ]
    logged = monitoring_runs(home, MODEL, "1")
    assert logged[-1].run_id == outcome.logged[0].run_id
    assert logged[-1].as_of == AS_OF.isoformat()
    assert logged[-1].status == outcome.report.models[MODEL].status
    versions = registered_versions(home)
    champion = next(r for r in versions if (r["name"], r["version"]) == (MODEL, "1"))
    assert champion["monitoring_as_of"] == AS_OF.isoformat()
    assert champion["monitoring_status"] == outcome.report.models[MODEL].status
    for finding in outcome.findings():
        assert finding.light in {"amber", "red"}


def test_csi_is_unavailable_for_a_version_trained_before_references(
    home, rated, monkeypatch, tmp_path
):
    import credit_engine.registry as registry

    real = registry.read_version_json

    def without_references(settings, name, version, artifact):
        data = real(settings, name, version, artifact)
        if data is not None and artifact == VALIDATION_JSON_ARTIFACT:
            data.pop("feature_references", None)
        return data

    monkeypatch.setattr(registry, "read_version_json", without_references)
    old = monitor(home, AS_OF, log=False, out=tmp_path)
    csi = old.report.models[MODEL].csi
    assert csi.unavailable == NO_REFERENCES
    assert old.report.models[MODEL].lights["csi"] == "green"
    assert "CSI unavailable" in (tmp_path / "monitoring.html").read_text()


def test_csi_of_a_large_cohort_is_computed_on_a_fixed_sample(
    home, rated, outcome, tmp_path
):
    # The same home with csi_max_rows lowered below the cohort's size.
    definitions = tmp_path / "definitions"
    for part in ("features", "models", "rules"):
        shutil.copytree(home.definitions_dir / part, definitions / part)
    path = definitions / "models" / "monitoring" / "thresholds.yaml"
    text = path.read_text(encoding="utf-8")
    assert "csi_max_rows: 20000" in text
    path.write_text(text.replace("csi_max_rows: 20000", "csi_max_rows: 200"))
    sampled = monitor(
        home.model_copy(update={"definitions_dir": definitions}), AS_OF,
        log=False, out=tmp_path / "report",
    )  # fmt: skip
    note = [n for n in sampled.report.notes if "fixed sample of 200" in n]
    assert note
    assert not any("fixed sample" in n for n in outcome.report.notes)
    full = outcome.report.models[MODEL].csi
    part = sampled.report.models[MODEL].csi
    assert part.unavailable is None
    assert part.as_of == full.as_of
    # Same features compared; a sample of a third of the cohort moves the CSI a
    # little, not its picture: the largest drifts stay the largest.
    assert {d.feature for d in part.features} == {d.feature for d in full.features}
    csi_full = {d.feature: d.csi for d in full.features}
    csi_part = {d.feature: d.csi for d in part.features}
    assert csi_full != csi_part
    top = [d.feature for d in full.features[:3]]
    assert all(csi_part[f] > 0.5 * csi_full[f] for f in top)


def test_the_min_shadow_days_gate_reads_the_shadow_runs(home, rated):
    store = OperationalStore.from_settings(home)
    period = shadow_period(store, MODEL, "2")
    assert period == ShadowPeriod(len(DATES), DATES[0], DATES[-1])
    gates = {"min_auc": 0.0, "max_psi": 1.0, "allow_red_grades": True,
             "max_auc_drop": 1.0, "min_shadow_days": 60}  # fmt: skip
    passed, _ = evaluate_gates(home, MODEL, "2", gates, shadow=period)
    shadow_gate = next(g for g in passed if g.gate == "min_shadow_days")
    assert shadow_gate.passed
    assert "6 shadow run(s), 2025-04-30 to 2026-06-30: 426 days" in shadow_gate.detail
    short = ShadowPeriod(1, AS_OF, AS_OF)
    refused, _ = evaluate_gates(home, MODEL, "2", gates, shadow=short)
    assert not next(g for g in refused if g.gate == "min_shadow_days").passed
    assert shadow_period(store, MODEL, "1") == ShadowPeriod(0, None, None)


def test_cli_monitor_prints_the_status_and_exits_by_it(home, rated, tmp_path):
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        ["monitor", "--as-of", AS_OF.isoformat(), "--home", str(home.home),
         "--out", str(out), "--report-json", str(tmp_path / "m.json"), "--no-log"],
    )  # fmt: skip
    data = json.loads((tmp_path / "m.json").read_text())
    assert result.exit_code == (1 if data["status"] == "red" else 0), result.output
    text = " ".join(result.output.split())
    assert f"Model monitoring at {AS_OF}" in text
    assert "status:" in text
    assert "Shadow scoring credit_engine.zone_risk_pd@challenger" in text
    assert (out / "monitoring.html").is_file()


def test_cli_models_shows_the_shadow_tier_agreement(home, rated):
    result = runner.invoke(app, ["models", "--home", str(home.home), "--changes", "3"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "Shadow scoring credit_engine.zone_risk_pd" in text
    assert "champion v1 tier × challenger v2 tier at 2026-06-30" in text
    assert "shadow decisions are never served" in text


def test_cli_rates_every_month_of_a_range_with_shadow_runs(home, rated, tmp_path):
    out = tmp_path / "runs.json"
    result = runner.invoke(
        app,
        ["rate", "--every", "month", "--from", "2025-10-01", "--to", "2025-11-30",
         "--shadow", "--home", str(home.home), "--report-json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    runs = json.loads(out.read_text())["runs"]
    assert [r["as_of"] for r in runs] == ["2025-10-31", "2025-11-30"]
    assert all(r["role"] == "served" for r in runs)
    assert [[s["model"]["version"] for s in r["shadow"]] for r in runs] == [
        ["2"],
        ["2"],
    ]
    bad = runner.invoke(app, ["rate", "--every", "month", "--home", str(home.home)])
    assert bad.exit_code == 2
    assert "--every month --from D1 --to D2" in " ".join(bad.output.split())
