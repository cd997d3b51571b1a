"""The demo on Spark (``credit-engine demo --engine spark``) gives DuckDB's outputs.

Two parts, to stay cheap in CI (the demo's promotion gates refuse the models
of a small zone, so a small demo never reaches its rating steps by itself):

- the command with ``--no-models``, on each engine into its own home, on the
  Spark tests' zone size and seed: the same ingestion report, lake, quarantine
  and duplicates, and the same monthly feature snapshot (cell by cell);
- the demo's steps 6-8 (:func:`credit_engine.pipeline.rate_and_monitor`) on the
  Spark zone's champion home, once per engine with a store of its own: the
  same decisions at every rating and cohort date, the same migrations, the same
  monitoring lights and the same early warnings.

Shares the ``spark`` xdist group (one JVM) with the other Spark modules.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.features import load_definitions, read_snapshot_lineage
from credit_engine.pipeline import (
    DEMO_COHORT_DATES,
    DEMO_FEATURE_DATES,
    DEMO_FEATURE_SET,
    DEMO_RATING_DATES,
    DemoResult,
    DemoStep,
    build_feature_snapshot,
    rate_and_monitor,
)
from credit_engine.store import DECISION_COLUMNS, OperationalStore
from credit_engine.vocabulary import Engine
from tests.conftest import SPARK_ZONE
from tests.engine_parity import (
    assert_same_cells,
    assert_same_lakes,
    natural_log_features,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
]


@pytest.fixture(scope="module")
def reuse_session(spark):
    """The commands ask for the session of the settings: the fixture's is reused."""
    from credit_engine.engines import SparkConfig, _spark

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            SparkConfig,
            "from_settings",
            classmethod(lambda cls, s: _spark._SESSION_CONFIG),
        )
        yield spark


def _demo(home: Path, *engine: str) -> str:
    args = ["demo", "--no-models", "--enterprises", str(SPARK_ZONE.enterprises)]
    args += ["--seed", str(SPARK_ZONE.seed), *engine, "--home", str(home)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return re.sub(r"\s+", " ", result.output)


@pytest.fixture(scope="module")
def demos(reuse_session, tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_demo")
    return {
        "duck": (Settings(home=root / "duck"), _demo(root / "duck")),
        "spark": (
            Settings(home=root / "spark"),
            _demo(root / "spark", "--engine", "spark"),
        ),
    }


def test_the_demo_says_where_each_step_runs(demos):
    _, out = demos["spark"]
    assert "engine spark: ingestion, features and ratings run on Spark" in out
    assert "runs on: this machine (the simulator has no Spark form)" in out
    assert "runs on: Spark (the self-check against the simulator's truth" in out
    assert "3/8 build point-in-time features (12 monthly rating dates) " in out
    assert "runs on: Spark " in out
    assert "runs on:" not in demos["duck"][1]


def test_the_demo_ingests_the_same_on_both_engines(demos):
    duck, _ = demos["duck"]
    spark, _ = demos["spark"]
    reports = [
        json.loads((s.reports_dir / "latest-ingest.json").read_text())["tables"]
        for s in (duck, spark)
    ]
    assert reports[0] == reports[1]
    assert sum(t["quarantined"] for t in reports[0].values()) > 0
    _, compared = assert_same_lakes(duck, spark)
    assert compared > 10_000


def test_the_demo_builds_the_same_snapshot_on_both_engines(demos):
    duck, _ = demos["duck"]
    spark, _ = demos["spark"]
    name = f"{DEMO_FEATURE_SET}_monthly.parquet"
    a = pd.read_parquet(duck.home / "features" / name)
    b = pd.read_parquet(spark.home / "features" / name)
    assert sorted(pd.to_datetime(a["as_of"]).dt.date.unique()) == list(
        DEMO_FEATURE_DATES
    )
    ln = natural_log_features(load_definitions(duck.definitions_dir), "credit_v1")
    assert_same_cells(a, b, ln)
    assert read_snapshot_lineage(spark.home / "features" / name)["engine"] == "spark"


def _own_store(home: Settings, root: Path) -> Settings:
    root.mkdir(parents=True)
    return home.model_copy(
        update={
            "database_url": f"sqlite:///{root / 'store.db'}",
            "reports_dir": root / "reports",
        }
    )


@pytest.fixture(scope="module")
def rated(reuse_session, spark_champion_home, tmp_path_factory):
    """The demo's steps 6-8 on the champion home, once per engine."""
    root = tmp_path_factory.mktemp("spark_demo_rating")
    duck = _own_store(spark_champion_home, root / "duck")
    spark = _own_store(spark_champion_home, root / "spark")
    # As in the demo: DuckDB rates the snapshot's cohort dates from its features;
    # the Spark demo's snapshot has no frame on the driver.
    snapshot = build_feature_snapshot(
        duck, list(DEMO_FEATURE_DATES), DEMO_FEATURE_SET, root / "snapshot.parquet",
        engine="duckdb",
    )  # fmt: skip
    by_duck = rate_and_monitor(duck, DemoResult(features=snapshot))
    by_spark = rate_and_monitor(spark, DemoResult(engine=Engine.SPARK))
    return {"duck": (duck, by_duck), "spark": (spark, by_spark)}


def _decisions(settings: Settings, as_of: dt.date) -> pd.DataFrame:
    store = OperationalStore.from_settings(settings)
    runs = store.runs()
    served = runs.loc[
        (pd.to_datetime(runs["as_of"]).dt.date == as_of) & (runs["role"] == "served")
    ]
    assert len(served) == 1, (as_of, runs[["as_of", "role"]])
    frame = store.run_decisions(int(served["run_id"].iloc[0]), columns=DECISION_COLUMNS)
    return frame.drop(columns=["decision_id", "run_id"]).reset_index(drop=True)


def test_the_demo_rates_monitors_and_warns_the_same_on_both_engines(rated):
    duck, by_duck = rated["duck"]
    spark, by_spark = rated["spark"]
    assert by_spark.rating is not None
    assert by_duck.rating is not None
    dates = sorted({*DEMO_RATING_DATES, *DEMO_COHORT_DATES})
    for as_of in dates:
        a, b = _decisions(duck, as_of), _decisions(spark, as_of)
        assert len(a) > 0.9 * SPARK_ZONE.enterprises, as_of
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert by_spark.rating.last.summary == by_duck.rating.last.summary
    pd.testing.assert_frame_equal(by_spark.rating.migrations, by_duck.rating.migrations)
    assert len(by_spark.rating.last.decisions) == by_duck.rating.last.summary["rated"]
    assert {"STATUTORY", "POLICY", "MODEL"} <= {
        d.decided_by for d in by_spark.rating.last.decisions
    }

    assert by_spark.monitoring is not None
    assert by_duck.monitoring is not None
    report_s = by_spark.monitoring.outcome.report
    report_d = by_duck.monitoring.outcome.report
    assert report_s.status == report_d.status
    assert report_s.models.keys() == report_d.models.keys()
    for key, model in report_s.models.items():
        assert model.lights == report_d.models[key].lights, key

    assert by_spark.warnings is not None
    assert by_duck.warnings is not None
    pd.testing.assert_frame_equal(
        by_spark.warnings.evaluation.warnings.reset_index(drop=True),
        by_duck.warnings.evaluation.warnings.reset_index(drop=True),
        check_exact=True,
    )
    # everything but the timings
    summaries = [
        {k: v for k, v in run.summary().items() if k != "seconds"}
        for run in (by_spark.warnings, by_duck.warnings)
    ]
    assert summaries[0] == summaries[1]
    assert summaries[0]["warnings"] > 0


def test_each_step_says_where_it_runs():
    on_spark = {step: step.runs_on(Engine.SPARK) for step in DemoStep}
    assert [s for s, where in on_spark.items() if where.startswith("Spark")] == [
        DemoStep.INGEST,
        DemoStep.FEATURES,
        DemoStep.RATE,
        DemoStep.MONITOR,
    ]
    assert {step.runs_on(Engine.DUCKDB) for step in DemoStep} == {"DuckDB"}
