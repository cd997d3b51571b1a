"""The console's read queries, counted in SQL on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.exceptions import StoreError
from credit_engine.store import ZoneQueries
from tests.unit.store.factories import decision, make_run, uscc

D1, D2 = dt.date(2026, 3, 31), dt.date(2026, 6, 30)
FACT = {
    "code": "TAX_LEVEL_D",
    "rule_set": "TAX_2025",
    "since": "2026-01-05",
    "until": None,
}


@pytest.fixture
def zone(store):
    rows = [
        decision(uscc(1), "A", reasons=["CUS-01"], facts=[]),
        decision(
            uscc(2),
            "D",
            decided_by="STATUTORY",
            joint_punishment=True,
            reasons=["TAX_LEVEL_D", "TAX-01"],
            facts=[FACT, {**FACT, "code": "X"}],
        ),
        decision(
            uscc(3), "D", decided_by="STATUTORY", reasons=["TAX_LEVEL_D"], facts=[FACT]
        ),
    ]
    store.record_run(make_run(D1), rows[:2])
    store.record_run(make_run(D2), rows[:2])  # superseded by the next run
    run = store.record_run(make_run(D2), rows)
    return ZoneQueries(store), run


def test_served_runs_are_the_latest_of_each_date(zone):
    queries, run = zone
    assert queries.served_runs() == [(D1, 1), (D2, run)]


def test_counts_of_a_run(zone):
    queries, run = zone
    assert sorted(queries.run_counts(run)) == [
        ("A", "MODEL", True, False, 1),
        ("D", "STATUTORY", False, False, 1),
        ("D", "STATUTORY", False, True, 1),
    ]
    assert sorted(queries.fact_counts(run)) == [("TAX_LEVEL_D", "D", 2), ("X", "D", 1)]
    assert sorted(queries.main_reason_counts(run)) == [
        ("CUS-01", "A", 1),
        ("TAX_LEVEL_D", "D", 2),
    ]
    assert sorted(queries.run_tiers(run)) == [
        (uscc(1), "A"),
        (uscc(2), "D"),
        (uscc(3), "D"),
    ]


def test_a_page_of_decisions_with_its_count(zone):
    queries, run = zone
    rows, count = queries.decision_page(run, tier="D", decided_by="STATUTORY", limit=1)
    assert count == 2
    assert [r["uscc"] for r in rows] == [uscc(2)]
    assert "facts" not in rows[0]
    assert rows[0]["reasons"] == ["TAX_LEVEL_D", "TAX-01"]
    rows, count = queries.decision_page(run, usccs=[uscc(3), uscc(9)], offset=0)
    assert count == 1
    assert rows[0]["uscc"] == uscc(3)
    with pytest.raises(StoreError, match="decided_by must be one of"):
        queries.decision_page(run, decided_by="LUCK")
