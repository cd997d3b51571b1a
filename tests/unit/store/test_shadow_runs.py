"""Shadow runs: recorded beside served runs, never read as the zone's decisions.

Every query of "the latest run of a date" (decisions, latest decision, history,
migrations, counts, override rate, rating dates) must give the same answer with
or without shadow runs, whatever their ``run_id``; only the cohort queries of
monitoring read them, per model version.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import text

from credit_engine.exceptions import NoRatingsError, StoreError
from credit_engine.store import (
    COHORT_COLUMNS,
    OperationalStore,
    RunRole,
    alembic_config,
    current_revision,
    head_revision,
    metadata,
)
from tests.unit.store.factories import decision, make_run, uscc
from tests.unit.store.schema_helpers import differences

SEP = dt.date(2025, 9, 30)
OCT = dt.date(2025, 10, 31)
NOV = dt.date(2025, 11, 30)
CHAMPION = {"model_name": "credit_engine.zone_risk_pd", "model_version": "1"}
CHALLENGER = {"model_name": "credit_engine.zone_risk_pd", "model_version": "2"}


def _served(store, as_of, tiers, **fields):
    rows = [decision(code, tier, decided_by="MODEL") for code, tier in tiers.items()]
    return store.record_run(make_run(as_of, **CHAMPION, **fields), rows)


def _shadow(store, as_of, tiers, model=CHALLENGER, **fields):
    rows = [decision(code, tier, grade="G6", pd=0.2) for code, tier in tiers.items()]
    return store.record_run(
        make_run(as_of, role=RunRole.SHADOW, **model, **fields), rows
    )


def _everything_shown(store, as_of_dates, code):
    """What the store shows as the zone's decisions (every latest-run query)."""
    shown = {
        "dates": store.rating_dates(),
        "latest": store.latest_decision(code),
        "history": store.decision_history(code).to_dict("records"),
    }
    for day in as_of_dates:
        shown[day] = {
            "decisions": store.decisions_at(day).to_dict("records"),
            "count": store.count_decisions(day),
            "count_d": store.count_decisions(day, tier="D"),
            "override_rate": store.override_rate(day),
        }
    shown["migrations"] = store.migration_matrix(*as_of_dates[:2]).to_dict()
    return shown


def test_a_shadow_run_never_changes_what_is_served_or_shown(store):
    code = uscc(1)
    tiers = {uscc(1): "B", uscc(2): "A", uscc(3): "C"}
    _served(store, SEP, tiers)
    _served(store, OCT, {**tiers, uscc(3): "B"})
    before = _everything_shown(store, [SEP, OCT], code)

    # Shadow runs after the served ones (higher run_id), at both dates, with
    # every tier different, one more enterprise, and one at a date never served.
    worse = dict.fromkeys([*tiers, uscc(4)], "D")
    _shadow(store, SEP, worse)
    _shadow(store, OCT, worse)
    _shadow(store, NOV, worse)

    assert _everything_shown(store, [SEP, OCT], code) == before
    assert store.rating_dates() == [SEP, OCT]
    assert store.latest_decision(uscc(4)) is None
    assert store.decision_history(uscc(4)).empty
    with pytest.raises(NoRatingsError, match="No rating run was recorded for 2025-11"):
        store.decisions_at(NOV)


def test_a_later_served_run_still_supersedes_an_earlier_one(store):
    _served(store, SEP, {uscc(1): "B"})
    _shadow(store, SEP, {uscc(1): "D"})
    latest = _served(store, SEP, {uscc(1): "A"})
    got = store.decisions_at(SEP)
    assert got["run_id"].tolist() == [latest]
    assert got["tier"].tolist() == ["A"]


def test_runs_carry_their_role_and_filter_by_it(store):
    served = _served(store, SEP, {uscc(1): "B"})
    shadow = _shadow(store, SEP, {uscc(1): "D"})
    runs = store.runs()
    assert runs["role"].tolist() == ["served", "shadow"]
    assert store.runs(role="shadow")["run_id"].tolist() == [shadow]
    assert store.runs(role=RunRole.SERVED)["run_id"].tolist() == [served]
    with pytest.raises(StoreError, match=r"run role is one of \['served', 'shadow'\]"):
        store.runs(role="staging")


def test_a_run_role_is_checked_when_the_run_is_built():
    with pytest.raises(StoreError, match="role must be one of"):
        make_run(SEP, role="live")
    assert make_run(SEP).role is RunRole.SERVED
    assert make_run(SEP, role="shadow").role is RunRole.SHADOW


def test_the_database_refuses_an_unknown_role(store):
    _served(store, SEP, {uscc(1): "B"})
    with pytest.raises(Exception, match="(?i)check"), store.engine.begin() as conn:
        conn.execute(text("UPDATE rating_runs SET role = 'live'"))


def test_model_run_ids_prefer_the_served_run_of_a_version(store):
    first = _shadow(store, SEP, {uscc(1): "B"}, model=CHAMPION)
    served = _served(store, SEP, {uscc(1): "B"})
    _shadow(store, SEP, {uscc(1): "C"}, model=CHAMPION)  # later, still shadow
    only_shadow = _shadow(store, OCT, {uscc(1): "C"}, model=CHAMPION)
    challenger = _shadow(store, OCT, {uscc(1): "D"})
    assert first < served
    assert store.model_run_ids(**CHAMPION) == {
        SEP: (served, RunRole.SERVED),
        OCT: (only_shadow, RunRole.SHADOW),
    }
    assert store.model_run_ids(**CHALLENGER) == {OCT: (challenger, RunRole.SHADOW)}
    assert store.model_run_ids(**CHAMPION, since=OCT) == {
        OCT: (only_shadow, RunRole.SHADOW)
    }
    assert store.model_run_ids(**CHAMPION, until=SEP, role="shadow") == {
        SEP: (served + 1, RunRole.SHADOW)
    }
    assert store.model_run_ids("credit_engine.unknown", "1") == {}


def test_model_cohorts_read_one_run_per_date_of_a_version(store):
    _served(store, SEP, {uscc(2): "B", uscc(1): "A"})
    _shadow(store, SEP, {uscc(1): "D", uscc(2): "D"})
    _served(store, OCT, {uscc(1): "C"})
    _shadow(store, OCT, {uscc(1): "D"})
    champion = store.model_cohorts(**CHAMPION)
    assert list(champion.columns) == list(COHORT_COLUMNS)
    assert champion[["as_of", "uscc", "tier"]].values.tolist() == [
        [SEP, uscc(1), "A"],
        [SEP, uscc(2), "B"],
        [OCT, uscc(1), "C"],
    ]
    challenger = store.model_cohorts(**CHALLENGER, until=SEP, columns=["uscc", "pd"])
    assert list(challenger.columns) == ["uscc", "pd"]
    assert challenger["pd"].tolist() == [0.2, 0.2]
    empty = store.model_cohorts("credit_engine.unknown", "9")
    assert empty.empty
    assert list(empty.columns) == list(COHORT_COLUMNS)
    with pytest.raises(StoreError, match=r"Unknown decision columns \['colour'\]"):
        store.model_cohorts(**CHAMPION, columns=["uscc", "colour"])


def test_served_cohorts_and_run_decisions(store):
    _served(store, SEP, {uscc(1): "A"})
    shadow = _shadow(store, SEP, {uscc(1): "D"})
    _served(store, OCT, {uscc(1): "B"})
    served = store.served_cohorts()
    assert served[["as_of", "tier"]].values.tolist() == [[SEP, "A"], [OCT, "B"]]
    assert store.served_cohorts(since=OCT)["tier"].tolist() == ["B"]
    assert store.served_cohorts(until=SEP)["tier"].tolist() == ["A"]
    assert store.run_decisions(shadow)["tier"].tolist() == ["D"]
    assert store.run_decisions(999).empty
    assert isinstance(store.run_decisions(shadow, columns=["uscc"]), pd.DataFrame)


def test_runs_recorded_before_revision_0004_become_served(store_url):
    with OperationalStore(store_url) as store:
        with store.engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0001")
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO rating_runs (as_of, started_at, finished_at, actor, "
                    "model_name, model_version, policy_name, policy_version, "
                    "rule_sets, lake_state, n_rated, summary) VALUES ('2025-09-30', "
                    "'2025-10-01 02:00:00', '2025-10-01 02:05:00', 'job', 'm', '1', "
                    "'p', 1, '{}', 'x', 0, '{}')"
                )
            )
        store.create_schema()
        assert current_revision(store.engine) == head_revision()
        assert differences(store.engine, metadata) == []
        assert store.runs()["role"].tolist() == ["served"]
        assert store.rating_dates() == [SEP]


def test_downgrading_0004_drops_the_role_and_upgrading_restores_it(store):
    _served(store, SEP, {uscc(1): "A"})
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    with store.engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM rating_runs")).keys()
        assert "role" not in columns
    store.create_schema()
    assert differences(store.engine, metadata) == []
    assert store.runs()["role"].tolist() == ["served"]
    assert store.decisions_at(SEP)["tier"].tolist() == ["A"]
