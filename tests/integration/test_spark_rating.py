"""Statutory facts and batch rating on Spark equal DuckDB's (local Spark).

Facts: the same compiled query on both engines, at dates under both customs
regimes (Order 251 until 2026-03-31, Order 282 from 2026-04-01), with the
watermarks measured by the query and given by the freshness check.
Rating: ``credit-engine rate --engine spark`` (features and facts as Spark
jobs, the registered model scoring on the executors through mapInPandas,
decisions there too) stores the same run and decisions as the DuckDB path.
Shares the ``spark`` xdist group (one JVM) with the other Spark modules.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.features import LakeSources, load_definitions
from credit_engine.freshness import (
    FreshnessStatus,
    assess_freshness,
    load_freshness_policy,
    source_watermarks,
    source_watermarks_spark,
)
from credit_engine.rating import RatingEngine
from credit_engine.rules import (
    RuleBook,
    facts_frame,
    statutory_facts,
    statutory_facts_spark,
)
from credit_engine.store import DECISION_COLUMNS, OperationalStore
from tests.conftest import SPARK_ZONE

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
]

# (date, watermarks given?): both customs regimes, both ways of measuring silence.
FACT_DATES = [
    (dt.date(2024, 12, 31), False),
    (dt.date(2026, 3, 31), True),
    (dt.date(2026, 6, 30), False),
]
RATED = dt.date(2026, 6, 30)
# About two facts in force per enterprise at each date (248 on 120 at 2024-12-31).
MIN_FACTS = int(1.5 * SPARK_ZONE.enterprises)


@pytest.fixture(scope="module")
def lake(spark_ingested_zone):
    settings, _ = spark_ingested_zone
    definitions = load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    return sources, RuleBook.load(settings.definitions_dir)


def test_statutory_facts_are_the_same_on_both_engines(spark, lake):
    sources, book = lake
    regimes = set()
    for as_of, given in FACT_DATES:
        marks = source_watermarks(sources, as_of).instants() if given else None
        duck = statutory_facts(sources, as_of, rulebook=book, watermarks=marks)
        frame = statutory_facts_spark(
            spark, sources, as_of, rulebook=book, watermarks=marks
        )
        on_spark = facts_frame(frame.toArrow())
        assert len(duck) > MIN_FACTS, as_of
        pd.testing.assert_frame_equal(duck, on_spark, check_exact=True)
        regimes |= set(duck["rule_set"])
    assert {"CUSTOMS_251", "CUSTOMS_282", "TAX_2014", "TAX_2025"} <= regimes


def test_facts_of_no_enterprise_are_an_empty_frame_of_the_same_schema(spark, lake):
    sources, book = lake
    frame = statutory_facts_spark(spark, sources, RATED, rulebook=book, usccs=[])
    empty = facts_frame(frame.toArrow())
    duck = statutory_facts(sources, RATED, rulebook=book, usccs=[])
    pd.testing.assert_frame_equal(duck, empty)


def test_watermarks_and_freshness_are_the_same_on_both_engines(spark, lake):
    sources, _ = lake
    policy = load_freshness_policy(Settings().definitions_dir, sources.contracts)
    before, late = dt.date(1900, 1, 1), dt.date(2027, 9, 30)  # late: stale feeds
    marks, judged = {}, {}
    for as_of in (None, before, dt.date(2024, 12, 31), RATED, late):
        duck = source_watermarks(sources, as_of)
        marks[as_of] = source_watermarks_spark(spark, sources, as_of)
        assert marks[as_of] == duck, as_of
        day = as_of or late
        judged[as_of] = assess_freshness(marks[as_of], policy, day)
        assert judged[as_of] == assess_freshness(duck, policy, day), as_of
    # The dates tell different things: nothing known, records, stale feeds.
    assert all(w.rows == 0 for w in marks[before].tables.values())
    assert all(w.latest_ingested_at is None for w in marks[before].tables.values())
    assert marks[RATED].tables["vat_invoice"].rows > 0
    assert marks[RATED].tables["vat_invoice"].latest_ingested_at.tzinfo is not None

    def stale(report):
        tables = report.tables.items()
        return {n for n, t in tables if t.status is FreshnessStatus.STALE}

    assert stale(judged[RATED]) < stale(judged[late])


@pytest.fixture(scope="module")
def home(spark_champion_home, tmp_path_factory, monkeypatch_module):
    """The champion home with an operational store of this module's own."""
    store = tmp_path_factory.mktemp("spark_rating_store") / "store.db"
    monkeypatch_module.setenv("CREDIT_ENGINE_DATABASE_URL", f"sqlite:///{store}")
    return Settings(home=spark_champion_home.home)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_rate_on_spark_stores_the_decisions_duckdb_stores(
    spark, home, tmp_path, monkeypatch
):
    duck = RatingEngine(home).rate(RATED, actor="tester")
    # The CLI asks for the session of the settings: the fixture's is reused.
    from credit_engine.engines import SparkConfig, _spark

    monkeypatch.setattr(
        SparkConfig, "from_settings", classmethod(lambda cls, s: _spark._SESSION_CONFIG)
    )
    report = tmp_path / "rate.json"
    args = ["rate", "--as-of", RATED.isoformat(), "--engine", "spark"]
    args += [
        "--actor",
        "tester",
        "--report-json",
        str(report),
        "--home",
        str(home.home),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(report.read_text())
    assert summary == duck.summary
    assert summary["rated"] > 0.9 * SPARK_ZONE.enterprises

    store = OperationalStore.from_settings(home)
    runs = store.runs()
    assert len(runs) == 2
    first, second = runs.to_dict("records")
    assert first["run_id"] == duck.run_id
    for key in ("as_of", "model_name", "model_version", "policy_name",
                "policy_version", "rule_sets", "lake_state", "n_rated", "summary",
                "role", "actor"):  # fmt: skip
        assert first[key] == second[key], key
    by_duck = store.run_decisions(first["run_id"], columns=DECISION_COLUMNS)
    by_spark = store.run_decisions(second["run_id"], columns=DECISION_COLUMNS)
    assert len(by_spark) == summary["rated"]
    ignore = ["decision_id", "run_id"]
    pd.testing.assert_frame_equal(
        by_duck.drop(columns=ignore).reset_index(drop=True),
        by_spark.drop(columns=ignore).reset_index(drop=True),
        check_exact=True,
    )
    # Every decision layer and statutory fact went through both engines.
    assert set(by_spark["decided_by"]) >= {"STATUTORY", "POLICY", "MODEL"}
    assert by_spark["facts"].map(len).sum() > MIN_FACTS


def test_a_decision_the_store_refuses_mid_stream_leaves_no_run(
    spark, home, monkeypatch
):
    # The decisions go into the store batch by batch as Spark's partitions
    # arrive; the database refusing one row of the third batch (a trigger: a
    # real constraint, not a mock) must roll back the run and the two batches
    # already inserted, and log nothing.
    from credit_engine.audit import AuditLog
    from credit_engine.exceptions import StoreError
    from credit_engine.rating import _spark as rating_on_spark
    from credit_engine.rating import rate_spark

    engine = RatingEngine(home)
    usccs = [d.uscc for d in engine.rate(RATED, store=False).decisions]
    assert len(usccs) > 60
    target = usccs[60]
    monkeypatch.setattr(rating_on_spark, "STORE_BATCH", 25)
    store = OperationalStore.from_settings(home)
    runs = store.runs()
    counts = {r: len(store.run_decisions(r)) for r in runs["run_id"]}
    head = AuditLog(store).head()
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON decisions "
            f"WHEN NEW.uscc = '{target}' "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"
        )
    try:
        with pytest.raises(StoreError, match=f"record the rating run of {RATED}"):
            rate_spark(engine, spark, RATED, actor="tester", keep_decisions=False)
    finally:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER refuse_one")
    pd.testing.assert_frame_equal(store.runs(), runs)
    assert {r: len(store.run_decisions(r)) for r in runs["run_id"]} == counts
    assert AuditLog(store).head() == head
    # Without the trigger the same run is stored whole, in batches of 25.
    result = rate_spark(engine, spark, RATED, actor="tester", keep_decisions=False)
    assert result.decisions == []
    stored = store.run_decisions(result.run_id, columns=DECISION_COLUMNS)
    assert stored["uscc"].tolist() == usccs
    assert stored.sort_values("decision_id")["uscc"].tolist() == usccs
    assert result.summary == engine.rate(RATED, store=False).summary
    assert AuditLog(store).verify().ok
