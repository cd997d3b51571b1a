"""Rate the small zone for real: lake → features → champion → facts → decisions → store.

A risk model is trained and promoted in an engine home of its own (a copy of
the ingested lake), then every enterprise is rated at the last day of customs
Order 251 and a quarter into Order 282, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.features import LakeSources, load_definitions
from credit_engine.rating import RatingEngine
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore
from tests.store_backends import backend_url

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

BEFORE, AFTER = dt.date(2026, 3, 31), dt.date(2026, 6, 30)
BARRED = [
    "CUSTOMS_DISHONEST",
    "CUSTOMS_SERIOUS_DISHONEST",
    "SAMR_SERIOUS_LIST",
    "TAX_MAJOR_VIOLATION",
]


@pytest.fixture(scope="module")
def home(champion_home):
    """The shared champion home; this module owns its default operational store."""
    return champion_home


@pytest.fixture(scope="module")
def engine(home) -> RatingEngine:
    return RatingEngine(home)


@pytest.fixture(scope="module")
def rated(engine):
    return {d: engine.rate(d, actor="tester") for d in (BEFORE, AFTER)}


def test_every_known_enterprise_is_rated_and_counted(rated, engine):
    for as_of, result in rated.items():
        summary = result.summary
        assert summary["rated"] == len(result.decisions) > 500
        assert sum(summary["tiers"].values()) == summary["rated"]
        assert sum(summary["decided_by"].values()) == summary["rated"]
        assert set(summary["decided_by"]) == {
            "STATUTORY",
            "OVERRIDE",
            "POLICY",
            "MODEL",
        }
        stored = engine.store.decisions_at(as_of)
        assert len(stored) == summary["rated"]
        assert stored["tier"].value_counts().to_dict() == {
            k: v for k, v in summary["tiers"].items() if v
        }


def test_rule_sets_follow_the_rating_date(rated):
    before = rated[BEFORE].decisions[0].rule_sets
    after = rated[AFTER].decisions[0].rule_sets
    assert (before["CUSTOMS"], after["CUSTOMS"]) == ("CUSTOMS_251", "CUSTOMS_282")
    assert before["TAX"] == after["TAX"] == "TAX_2025"


def test_dishonest_or_serious_listed_never_get_a_nor_green_channel(rated, home):
    rulebook = RuleBook.load(home.definitions_dir)
    definitions = load_definitions(home.definitions_dir)
    sources = LakeSources.from_settings(home, definitions.contracts)
    for as_of, result in rated.items():
        facts = statutory_facts(sources, as_of, rulebook=rulebook)
        barred = set(
            facts.loc[
                facts["code"].isin(BARRED),
                "uscc",
            ]
        )  # fmt: skip
        assert barred, "the zone should have dishonest or listed enterprises"
        by_uscc = {d.uscc: d for d in result.decisions}
        for uscc in barred & set(by_uscc):
            d = by_uscc[uscc]
            assert d.tier == "D", (uscc, d.tier, d.decided_by)
            assert not d.green_channel
            assert d.reasons[0].source == "STATUTORY"
        punished = {d.uscc for d in result.decisions if d.joint_punishment}
        grounded = set(facts.loc[facts["joint_punishment"].astype(bool), "uscc"])
        assert punished == grounded & set(by_uscc)


def test_green_channel_only_for_trusted_in_the_top_band(rated):
    for result in rated.values():
        for d in result.decisions:
            if d.green_channel:
                codes = {f.code for f in d.facts}
                assert d.tier == "A"
                assert d.grade in ("G1", "G2")
                assert codes & {"TAX_LEVEL_A", "TAX_LEVEL_B"}
                assert codes & {"CUSTOMS_ADV_CERT", "CUSTOMS_CERT"}
                assert "SAFE_CLASS_A" in codes
                assert "GC-01" in {m.code for m in d.measures}


def test_migration_matrix_accounts_for_every_enterprise(rated, engine):
    matrix = engine.store.migration_matrix(BEFORE, AFTER)
    before = pd.Series(rated[BEFORE].summary["tiers"])
    after = pd.Series(rated[AFTER].summary["tiers"])
    tiers = ["A", "B", "C", "D"]
    rows = matrix.loc[tiers].sum(axis=1)
    cols = matrix.loc[:, tiers].sum(axis=0)
    assert rows.to_dict() == before.to_dict()
    assert cols.to_dict() == after.to_dict()


def test_rating_is_deterministic(engine, rated):
    again = engine.rate(AFTER, store=False)
    first = [d.to_record() for d in rated[AFTER].decisions]
    assert [d.to_record() for d in again.decisions] == first


def test_override_takes_effect_point_in_time_below_statute(engine, rated):
    decisions = rated[AFTER].decisions
    plain = next(d for d in decisions if d.tier in "BC" and d.statutory_ceiling is None)
    bound = next(d for d in decisions if d.statutory_ceiling == "D")
    store = engine.store
    for d in (plain, bound):
        store.add_override(
            d.uscc, "A", "Appeal upheld after on-site review", "supervisor-1",
            AFTER - dt.timedelta(days=30),
            created_at=dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
        )  # fmt: skip
    # Recorded on 2026-06-01: invisible to a re-rating of 2026-03-31.
    old = {d.uscc: d for d in engine.rate(BEFORE, store=False).decisions}
    assert old[plain.uscc].decided_by != "OVERRIDE"
    new = {
        d.uscc: d for d in engine.rate(AFTER, usccs=[plain.uscc, bound.uscc]).decisions
    }
    assert (new[plain.uscc].tier, new[plain.uscc].decided_by) == ("A", "OVERRIDE")
    assert (new[bound.uscc].tier, new[bound.uscc].decided_by) == ("D", "STATUTORY")
    assert new[bound.uscc].override_id is not None


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_decisions_round_trip_through_each_backend(engine, rated, backend, tmp_path):
    decisions = rated[AFTER].decisions
    with backend_url(backend, tmp_path) as url, OperationalStore(url) as store:
        store.create_schema()
        original, engine.store = engine.store, store
        try:
            run_id = engine.record(
                AFTER, decisions, actor="tester",
                started_at=dt.datetime.now(dt.UTC),
            )  # fmt: skip
        finally:
            engine.store = original
        back = store.decisions_at(AFTER)
        assert store.runs()["run_id"].tolist() == [run_id]
        assert len(back) == len(decisions)
        first = back.iloc[0].to_dict()
        expected = next(d for d in decisions if d.uscc == first["uscc"]).to_record()
        for key in ("tier", "grade", "decided_by", "measures", "reasons", "rule_sets"):
            assert first[key] == expected[key], key


def test_cli_rate_writes_the_report_and_migrations_print(home, rated, tmp_path):
    runner = CliRunner()
    out = tmp_path / "rate.json"
    result = runner.invoke(
        app,
        ["rate", "--as-of", AFTER.isoformat(), "--report-json", str(out),
         "--examples", "--home", str(home.home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert set(report) == {
        "as_of", "rated", "tiers", "green_channel", "decided_by", "stale_sources",
        "green_channel_by_tier", "joint_punishment", "joint_punishment_by_tier",
        "tier_labels",
    }  # fmt: skip
    # The per-tier counts the tables print add up to the run's totals.
    assert sum(report["green_channel_by_tier"].values()) == report["green_channel"]
    assert (
        sum(report["joint_punishment_by_tier"].values()) == report["joint_punishment"]
    )
    assert {t for t, n in report["tiers"].items() if n} == set(report["tier_labels"])
    assert report["as_of"] == AFTER.isoformat()
    assert report["stale_sources"] == {}  # every source is current at AFTER
    assert (
        report["tiers"] == rated[AFTER].summary["tiers"]
        or report["decided_by"]["OVERRIDE"] > 0
    )  # the override test may have run first
    assert "Which layer decided" in result.output
    result = runner.invoke(
        app,
        ["migrations", "--from", BEFORE.isoformat(), "--to", AFTER.isoformat(),
         "--home", str(home.home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Tier migrations 2026-03-31 → 2026-06-30" in result.output
    result = runner.invoke(
        app,
        ["migrations", "--from", "2020-01-31", "--to", AFTER.isoformat(),
         "--home", str(home.home)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "2020-01-31" in result.output
    assert "2026-06-30" in result.output


def test_cli_override_validates_its_input(home):
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["override", "--uscc", "91350200MA2XYZ0009", "--tier", "A", "--reason", "x",
         "--actor", "s1", "--home", str(home.home)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "check character" in result.output.lower() or "uscc" in result.output.lower()
    result = runner.invoke(
        app,
        ["override", "--uscc", "91350200MA2XYZ0009", "--tier", "E", "--reason", "x",
         "--actor", "s1", "--home", str(home.home)],
    )  # fmt: skip
    assert result.exit_code == 2
