"""decisions.stale_sources (revision 0002_freshness), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import inspect

from credit_engine.exceptions import StoreError
from credit_engine.store import (
    BASELINE_REVISION,
    SCHEMA_REVISION,
    OperationalStore,
    alembic_config,
    current_revision,
    metadata,
)
from tests.unit.store.factories import decision, make_run, uscc
from tests.unit.store.schema_helpers import differences, load_release_store

SEP = dt.date(2025, 9, 30)
MARK = {
    "table": "customs_tax_bill",
    "department": "CUSTOMS",
    "watermark": "2025-06-30T10:59:45+00:00",
    "age_days": 92,
    "allowed_lag_days": 3,
}


def test_stale_marks_round_trip_and_absent_marks_read_as_empty(store):
    rows = [
        decision(uscc(1), stale_sources=[MARK]),
        decision(uscc(2)),  # a frame without marks: none
        decision(uscc(3), stale_sources=None),
    ]
    store.record_run(make_run(SEP), rows)
    got = store.decisions_at(SEP)
    assert got["stale_sources"].tolist() == [[MARK], [], []]
    assert store.latest_decision(uscc(1))["stale_sources"] == [MARK]
    assert store.decision_history(uscc(2))["stale_sources"].tolist() == [[]]


def test_marks_must_be_a_list_of_dicts(store):
    with pytest.raises(StoreError, match="stale_sources must be null or a list"):
        store.record_run(make_run(SEP), [decision(uscc(1), stale_sources="stale")])


def test_revision_0002_adds_the_column_and_old_rows_read_as_no_marks(store_url):
    # A store of release 0.1.0 with its decisions, upgraded in place.
    load_release_store(store_url)
    with OperationalStore(store_url) as store:
        store.create_schema()
        # upgraded to the head, past 0002_freshness (later revisions follow it)
        assert current_revision(store.engine) == SCHEMA_REVISION
        assert differences(store.engine, metadata) == []
        got = store.decisions_at(SEP)
        assert len(got) == 2
        assert got["stale_sources"].tolist() == [[], []]
        # Down to the baseline drops the column; up again restores it.
        with store.engine.connect() as conn:
            command.downgrade(alembic_config(conn), BASELINE_REVISION)
            conn.commit()
        columns = {c["name"] for c in inspect(store.engine).get_columns("decisions")}
        assert "stale_sources" not in columns
        assert current_revision(store.engine) == BASELINE_REVISION
        store.create_schema()
        assert differences(store.engine, metadata) == []
        assert store.decisions_at(SEP)["stale_sources"].tolist() == [[], []]
