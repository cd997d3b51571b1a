"""Train → validate → register → promote on the small simulated zone, for real.

Real DuckDB, optbinning, LightGBM and an MLflow SQLite store under a temporary
engine home; the last test serves a registered model with stock
``mlflow models serve`` over HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest

from credit_engine.data import Lake
from credit_engine.exceptions import PromotionRefusedError
from credit_engine.features import (
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    write_snapshot,
)
from credit_engine.registry import (
    CHALLENGER,
    CHAMPION,
    alias_history,
    alias_version,
    load_rating_model,
    promote,
)
from credit_engine.training import (
    attach_labels,
    default_snapshot_path,
    load_model_spec,
    train_spec,
)

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("training")]

DATES = [
    dt.date(2025, 2, 28),
    dt.date(2025, 3, 31),
    dt.date(2025, 4, 30),
    dt.date(2025, 5, 31),
    dt.date(2025, 6, 30),
    dt.date(2025, 7, 31),
    dt.date(2025, 8, 31),
    dt.date(2025, 9, 30),
]


def _spec(settings, name, **params):
    spec = load_model_spec(settings.definitions_dir / "models", name)
    # 600 enterprises: thin grades may be red by chance; the calibration gate
    # itself is checked in test_calibration_gate_follows_the_red_grade_count.
    gates = spec.gates.model_copy(update={"min_auc": 0.55, "allow_red_grades": True})
    update = {"gates": gates}
    if params:
        update["params"] = {**spec.params, **params}
    return spec.model_copy(update=update)


@pytest.fixture(scope="module")
def zone_home(ingested_zone):
    settings, _ = ingested_zone
    definitions = load_definitions(settings.definitions_dir)
    sources = LakeSources(
        Lake(settings.lake_dir, settings.quarantine_dir), definitions.contracts
    )
    resolved = definitions.resolve("credit_v1")
    spine = enterprise_spine(sources, definitions, DATES)
    frame = build_feature_frame(
        spine, resolved, definitions=definitions, sources=sources
    )
    path = default_snapshot_path(settings, "credit_v1")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_snapshot(frame, path, resolved=resolved, sources=sources, as_of=DATES)
    return settings, definitions, sources


@pytest.fixture(scope="module")
def trained(zone_home):
    settings, _, _ = zone_home
    return {
        name: train_spec(_spec(settings, name, **params), settings, actor="tester")
        for name, params in (
            ("scorecard", {}),
            ("risk_gbm", {"min_child_samples": 40}),
        )
    }


def test_labels_from_the_lake_agree_with_the_simulator_truth(zone_home, truth):
    settings, definitions, sources = zone_home
    spec = load_model_spec(settings.definitions_dir / "models", "scorecard")
    spine = enterprise_spine(sources, definitions, DATES[:3])
    labels = attach_labels(
        spine, spec.label, contracts=definitions.contracts, sources=sources
    )
    events = truth["adverse_events"]
    events = events.assign(effective=pd.to_datetime(events["effective_date"]).dt.date)
    expected = []
    for row in labels.itertuples():
        end = row.as_of + dt.timedelta(days=spec.label.horizon_days)
        mine = events[events["uscc"] == row.uscc]
        expected.append(
            int(((mine["effective"] > row.as_of) & (mine["effective"] <= end)).any())
        )
    agreement = float((labels["label"].to_numpy() == np.array(expected)).mean())
    assert labels["label"].mean() > 0.03
    assert agreement > 0.97, agreement


def test_incomplete_outcome_windows_are_dropped(zone_home):
    settings, definitions, sources = zone_home
    spec = load_model_spec(settings.definitions_dir / "models", "scorecard")
    spine = pd.DataFrame(
        {"uscc": ["x", "x"], "as_of": [dt.date(2025, 9, 30), dt.date(2025, 10, 31)]}
    )
    labels = attach_labels(
        spine, spec.label, contracts=definitions.contracts, sources=sources
    )
    assert labels["as_of"].tolist() == [dt.date(2025, 9, 30)]


def test_training_registers_validated_challengers(trained, zone_home):
    settings, _, _ = zone_home
    for name, result in trained.items():
        summary = result.to_json_dict()
        assert summary["version"] == "1"
        assert 0.6 < summary["auc"] <= 1.0, (name, summary["auc"])
        assert set(summary["calibration"]) == {f"G{i}" for i in range(1, 8)}
        assert alias_version(settings, summary["registered_name"], CHALLENGER) == "1"
        report = result.report_dir / "validation.html"
        assert report.is_file()
        assert "<img" in report.read_text(encoding="utf-8")
        data = json.loads((result.report_dir / "validation.json").read_text())
        assert data["oot"]["discrimination"]["rows"] == summary["rows"]["oot_rows"]
    points = trained["scorecard"].report_dir / "points_table.csv"
    assert {"Variable", "Bin", "Points"} <= set(pd.read_csv(points).columns)


def test_registered_model_carries_lineage_and_rates_like_the_trained_one(
    trained, zone_home
):
    settings, _, _ = zone_home
    from credit_engine.registry import mlflow_client

    result = trained["risk_gbm"]
    name = result.registered.name
    mv = mlflow_client(settings).get_model_version(name, "1")
    for tag in ("git_sha", "feature_set_sha256", "lake_state", "model_spec_sha256"):
        assert mv.tags[tag], tag
    loaded = load_rating_model(settings, name, alias=None, version="1")
    rows = result.fitted.oot_rows.head(50)
    pd.testing.assert_frame_equal(
        loaded.model.rate(rows), result.fitted.model.rate(rows)
    )


def test_promotion_gates_accept_a_good_model_and_refuse_a_worse_one(trained, zone_home):
    settings, _, _ = zone_home
    name = trained["scorecard"].registered.name
    first = promote(settings, name, actor="alice", reason="first champion")
    assert first.promoted
    assert alias_version(settings, name, CHAMPION) == "1"

    # A challenger without the champion's ten strongest characteristics.
    iv = trained["scorecard"].fitted.model.estimator.feature_iv_
    strongest = tuple(sorted(iv, key=iv.get, reverse=True)[:10])
    worse_spec = _spec(settings, "scorecard").model_copy(
        update={"exclude_features": strongest}
    )
    worse = train_spec(worse_spec, settings, actor="bob")
    assert worse.registered.version == "2"
    assert alias_version(settings, name, CHALLENGER) == "2"
    with pytest.raises(PromotionRefusedError, match="vs_champion") as refused:
        promote(settings, name, actor="bob")
    assert alias_version(settings, name, CHAMPION) == "1"
    failed = {g.gate for g in refused.value.result.failed()}
    assert "vs_champion" in failed
    with pytest.raises(PromotionRefusedError, match="needs a --reason"):
        promote(settings, name, actor="bob", force=True)
    forced = promote(
        settings, name, actor="carol", force=True, reason="audit drill: forced"
    )
    assert forced.promoted
    history = alias_history(settings, name)
    champion_moves = [c for c in history if c.alias == CHAMPION]
    assert [(c.from_version, c.to_version, c.actor) for c in champion_moves] == [
        (None, "1", "alice"),
        ("1", "2", "carol"),
    ]
    assert champion_moves[1].reason.startswith("FORCED")
    assert any(not g["passed"] for g in champion_moves[1].gates)
    # Put the good model back, through the gates, for the tests that follow.
    back = promote(settings, name, version="1", actor="alice", reason="roll back")
    assert back.promoted


def test_calibration_gate_follows_the_red_grade_count(trained, zone_home):
    from credit_engine.registry import version_run
    from credit_engine.registry._promote import evaluate_gates

    settings, _, _ = zone_home
    name = trained["risk_gbm"].registered.name
    red = int(version_run(settings, name, "1").data.metrics["oot_red_grades"])
    assert red == len(trained["risk_gbm"].to_json_dict()["red_grades"])
    gates = {"min_auc": 0.5, "max_psi": 0.25, "max_auc_drop": 0.01}
    strict, _ = evaluate_gates(
        settings, name, "1", {**gates, "allow_red_grades": False}
    )
    lenient, _ = evaluate_gates(
        settings, name, "1", {**gates, "allow_red_grades": True}
    )
    by_gate = {g.gate: g for g in strict}
    assert by_gate["calibration"].passed is (red == 0)
    assert {g.gate: g for g in lenient}["calibration"].passed
    assert by_gate["min_auc"].passed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_registered_model_serves_under_stock_mlflow_models_serve(trained, zone_home):
    settings, _, _ = zone_home
    result = trained["risk_gbm"]
    port = _free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri,
        # mlflow execs `uvicorn`, which lives beside this interpreter.
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
    }
    mlflow_cli = [sys.executable, "-m", "mlflow"]
    server = subprocess.Popen(
        [
            *mlflow_cli,
            "models",
            "serve",
            "-m",
            f"models:/{result.registered.name}/1",
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping") as r:
                    if r.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(
                        server.stderr.read().decode()[-2000:]
                    ) from None
                time.sleep(0.5)
        rows = result.fitted.oot_rows.head(5)[result.fitted.model.input_columns()]
        payload = {"dataframe_split": json.loads(rows.to_json(orient="split"))}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            served = pd.DataFrame(json.loads(response.read())["predictions"])
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = result.fitted.model.rate(rows.reset_index(drop=True))
    np.testing.assert_allclose(served["proba_default"], expected["proba_default"])
    assert served["grade"].tolist() == expected["grade"].tolist()


def test_cli_train_promote_and_models(trained, zone_home, tmp_path):
    from typer.testing import CliRunner

    from credit_engine.cli import app

    settings, _, _ = zone_home
    runner = CliRunner()
    home = ["--home", str(settings.home)]
    figures = tmp_path / "train.json"
    trained_cli = runner.invoke(
        app, ["train", "--model", "risk_gbm", "--report-json", str(figures), *home]
    )
    assert trained_cli.exit_code == 0, trained_cli.output
    (model,) = json.loads(figures.read_text())["models"]
    assert model["registered_name"] == "credit_engine.zone_risk_pd"
    assert {"version", "auc", "ks", "brier", "psi", "calibration"} <= set(model)
    assert set(model["calibration"].values()) <= {"green", "amber", "red", "empty"}
    missing = runner.invoke(app, ["promote", "risk_gbm", "--version", "99", *home])
    assert missing.exit_code == 2
    assert "No version 99" in " ".join(missing.output.split())
    listing = runner.invoke(app, ["models", "--history", *home])
    assert listing.exit_code == 0, listing.output
    assert "Alias history" in listing.output
