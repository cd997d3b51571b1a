"""The early-warning repository on SQLite and PostgreSQL: record, dedup, list, moves."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from credit_engine.exceptions import (
    EarlyWarningError,
    EarlyWarningNotFoundError,
    StoreError,
    WarningTransitionError,
)
from credit_engine.store import (
    OperationalStore,
    RecordedWarnings,
    WarningStatus,
    warning_occurrences,
    warnings_table,
)
from tests.unit.store.factories import decision, make_run, uscc

U1, U2, U3 = "91350200MA2Y0K3Q0N", "91110000600037341L", uscc(3)
SEP, OCT, NOV, DEC = (
    dt.date(2025, 9, 30),
    dt.date(2025, 10, 31),
    dt.date(2025, 11, 30),
    dt.date(2025, 12, 31),
)


def fire(uscc: str, signal: str, priority: float = 3.0, **extra: object) -> dict:
    return {
        "uscc": uscc,
        "signal": signal,
        "priority": priority,
        "evidence": {"values": {"x": priority}},
        **extra,
    }


def record(
    store: OperationalStore, as_of: dt.date, rows: list[dict]
) -> RecordedWarnings:
    with store.unit_of_work("record warnings") as uow:
        return uow.warnings.record_warnings(as_of, rows, signals_version=1)


def test_a_first_evaluation_opens_one_new_warning_per_enterprise_and_signal(store):
    done = record(
        store,
        OCT,
        [fire(U1, "EW-04", 7.5, tier="C", grade="G5", pd=0.08), fire(U1, "EW-08", 7.5),
         fire(U2, "EW-02", 1.5)],
    )  # fmt: skip
    assert (done.opened, done.continued, done.already_closed) == (3, 0, 0)
    page = store.list_warnings()
    assert page["uscc"].tolist() == [U1, U1, U2]  # priority first
    row = store.get_warning(done.warning_ids[0])
    assert row["status"] == WarningStatus.NEW
    assert (row["first_as_of"], row["last_as_of"], row["times_seen"]) == (OCT, OCT, 1)
    assert (row["tier"], row["grade"], row["pd"]) == ("C", "G5", 0.08)
    assert row["evidence"] == {"values": {"x": 7.5}}
    assert store.warning_occurrences(done.warning_ids[0])[0]["as_of"] == OCT


def test_re_evaluating_later_continues_an_open_warning_instead_of_duplicating(store):
    first = record(store, OCT, [fire(U1, "EW-04", 3.0)])
    later = record(store, NOV, [fire(U1, "EW-04", 5.0), fire(U2, "EW-04", 3.0)])
    assert (later.opened, later.continued) == (1, 1)
    assert later.warning_ids[0] == first.warning_ids[0]
    row = store.get_warning(first.warning_ids[0])
    assert (row["first_as_of"], row["last_as_of"], row["times_seen"]) == (OCT, NOV, 2)
    assert row["priority"] == 5.0  # the latest date's evidence and priority
    assert row["evidence"] == {"values": {"x": 5.0}}
    dates = [o["as_of"] for o in store.warning_occurrences(first.warning_ids[0])]
    assert dates == [OCT, NOV]
    assert store.count_warnings() == 2


def test_re_evaluating_the_same_date_replaces_its_occurrence(store):
    first = record(store, OCT, [fire(U1, "EW-04", 3.0)])
    again = record(store, OCT, [fire(U1, "EW-04", 4.0)])
    assert again.warning_ids == first.warning_ids
    row = store.get_warning(first.warning_ids[0])
    assert row["times_seen"] == 1
    occurrences = store.warning_occurrences(first.warning_ids[0])
    assert [(o["as_of"], o["priority"]) for o in occurrences] == [(OCT, 4.0)]


def test_an_earlier_date_evaluated_late_widens_the_span_but_keeps_the_latest(store):
    first = record(store, NOV, [fire(U1, "EW-04", 5.0)])
    record(store, SEP, [fire(U1, "EW-04", 2.0)])
    row = store.get_warning(first.warning_ids[0])
    assert (row["first_as_of"], row["last_as_of"], row["times_seen"]) == (SEP, NOV, 2)
    assert row["priority"] == 5.0


def test_a_closed_warning_that_fires_again_later_opens_a_new_one(store):
    first = record(store, OCT, [fire(U1, "EW-04")])
    wid = first.warning_ids[0]
    with store.unit_of_work("close") as uow:
        uow.warnings.close(wid, "sup.li", "Checked: genuine new contract")
    rerun = record(store, OCT, [fire(U1, "EW-04")])  # the date it already covered
    assert (rerun.opened, rerun.already_closed, rerun.warning_ids) == (0, 1, [wid])
    assert store.get_warning(wid)["status"] == WarningStatus.CLOSED
    later = record(store, NOV, [fire(U1, "EW-04")])
    assert later.opened == 1
    assert later.warning_ids[0] != wid
    assert store.count_warnings(uscc=U1) == 2
    assert store.count_warnings(uscc=U1, status="new") == 1


def test_an_acknowledged_warning_stays_acknowledged_when_it_fires_again(store):
    wid = record(store, OCT, [fire(U1, "EW-04")]).warning_ids[0]
    with store.unit_of_work("acknowledge") as uow:
        uow.warnings.acknowledge(wid, "sup.li", "calling the firm")
    again = record(store, NOV, [fire(U1, "EW-04")])
    assert again.warning_ids == [wid]
    row = store.get_warning(wid)
    assert (row["status"], row["last_as_of"]) == (WarningStatus.ACKNOWLEDGED, NOV)


def test_filters_paging_and_counts(store):
    record(
        store,
        OCT,
        [fire(U1, "EW-04", 9.0, tier="D"), fire(U2, "EW-04", 3.0, tier="B"),
         fire(U3, "EW-02", 1.5)],
    )  # fmt: skip
    record(store, NOV, [fire(U2, "EW-08", 2.5, tier="B")])
    assert store.list_warnings(signal="EW-04")["uscc"].tolist() == [U1, U2]
    assert store.list_warnings(signal=["EW-02", "EW-08"])["signal"].tolist() == [
        "EW-08",
        "EW-02",
    ]
    assert store.list_warnings(tier="B")["signal"].tolist() == ["EW-04", "EW-08"]
    assert store.list_warnings(as_of=NOV)["signal"].tolist() == ["EW-08"]
    assert store.list_warnings(limit=1, offset=1)["uscc"].tolist() == [U2]
    assert store.count_warnings(status="new") == 4
    assert store.count_warnings(signal="EW-04", tier="D") == 1
    counts = store.warning_status_counts()
    assert counts.to_dict("records")[0] == {
        "signal": "EW-02",
        "status": "new",
        "count": 1,
    }


def test_ties_in_priority_go_to_the_higher_pd_unknown_last(store):
    record(
        store,
        OCT,
        [fire(U1, "EW-04", 3.0), fire(U2, "EW-04", 3.0, pd=0.01),
         fire(U3, "EW-04", 3.0, pd=0.2)],
    )  # fmt: skip
    assert store.list_warnings()["uscc"].tolist() == [U3, U2, U1]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"status": "open"}, "status must be one of"),
        ({"tier": "E"}, "tier must be one of"),
        ({"limit": 0}, "limit must be 1..10000"),
        ({"offset": -1}, "offset >= 0"),
    ],
)
def test_bad_queries_are_refused_with_the_allowed_values(store, kwargs, match):
    with pytest.raises(EarlyWarningError, match=match):
        store.list_warnings(**kwargs)


def test_malformed_firings_are_refused_whole(store):
    rows = [
        fire(U1, "EW-04"),
        fire(U1, "EW-04"),
        {**fire(U2, "EW-02"), "priority": None},
        {**fire(U3, "EW-02"), "evidence": "text"},
        fire(U3, "EW-05", tier="Z"),
    ]
    with pytest.raises(EarlyWarningError, match="Cannot record warnings") as err:
        record(store, OCT, rows)
    message = str(err.value)
    assert "fires EW-04 twice" in message
    assert "priority must be a finite number" in message
    assert "evidence must be a dict" in message
    assert "tier must be one of" in message
    assert store.count_warnings() == 0
    with pytest.raises(EarlyWarningError, match="lack column"):
        record(store, OCT, [{"uscc": U1, "signal": "EW-04"}])


def test_lifecycle_moves_and_refusals(store):
    wid = record(store, OCT, [fire(U1, "EW-04")]).warning_ids[0]
    at = dt.datetime(2025, 11, 3, 9, 30, tzinfo=dt.UTC)
    with store.unit_of_work("acknowledge") as uow:
        row = uow.warnings.acknowledge(wid, " sup.li ", "  looking  ", at=at)
    assert row["status"] == "acknowledged"
    assert (row["acknowledged_by"], row["acknowledge_note"]) == ("sup.li", "looking")
    assert row["acknowledged_at"] == at
    with pytest.raises(WarningTransitionError, match="already acknowledged by sup.li"):
        with store.unit_of_work("acknowledge") as uow:
            uow.warnings.acknowledge(wid, "sup.wang")
    with pytest.raises(EarlyWarningError, match="needs a note"):
        with store.unit_of_work("close") as uow:
            uow.warnings.close(wid, "sup.li", "   ")
    with store.unit_of_work("close") as uow:
        row = uow.warnings.close(wid, "sup.li", "Refund case opened, 2025-117")
    assert (row["status"], row["closed_by"]) == ("closed", "sup.li")
    assert row["acknowledged_by"] == "sup.li"  # the history stays on the row
    for move in ("acknowledge", "close"):
        with pytest.raises(WarningTransitionError, match="it was closed by sup.li"):
            with store.unit_of_work(move) as uow:
                getattr(uow.warnings, move)(wid, "sup.wang", "again")
    with pytest.raises(EarlyWarningNotFoundError, match="No warning with id 999"):
        store.get_warning(999)


def test_a_new_warning_may_be_closed_at_once(store):
    wid = record(store, OCT, [fire(U1, "EW-07")]).warning_ids[0]
    with store.unit_of_work("close") as uow:
        row = uow.warnings.close(wid, "sup.li", "Seasonal exporter, known pattern")
    assert row["status"] == "closed"
    assert row["acknowledged_at"] is None


def test_the_database_refuses_a_closed_warning_without_its_note(store):
    wid = record(store, OCT, [fire(U1, "EW-04")]).warning_ids[0]
    now = dt.datetime.now(dt.UTC)
    with pytest.raises((IntegrityError, StoreError)):
        with store.engine.begin() as conn:
            conn.execute(
                update(warnings_table)
                .where(warnings_table.c.warning_id == wid)
                .values(status="closed", closed_at=now, closed_by="x", close_note="")
            )
    with pytest.raises((IntegrityError, StoreError)):
        with store.engine.begin() as conn:
            conn.execute(
                update(warnings_table)
                .where(warnings_table.c.warning_id == wid)
                .values(status="forgotten")
            )


def test_occurrences_go_with_their_warning(store):
    wid = record(store, OCT, [fire(U1, "EW-04")]).warning_ids[0]
    with store.engine.begin() as conn:
        conn.execute(warnings_table.delete().where(warnings_table.c.warning_id == wid))
        left = conn.execute(select(warning_occurrences)).all()
    assert left == []
    with pytest.raises((IntegrityError, StoreError)):
        with store.engine.begin() as conn:
            conn.execute(
                insert(warning_occurrences),
                {"warning_id": 12345, "as_of": OCT, "priority": 1.0,
                 "evidence": {}, "recorded_at": dt.datetime.now(dt.UTC)},
            )  # fmt: skip


def test_ratings_near_and_closest_pick_the_stored_runs(store):
    for day, grade in ((dt.date(2025, 6, 30), "G2"), (SEP, "G3"), (DEC, "G5")):
        store.record_run(make_run(day), [decision(U1, grade=grade)])
    with store.unit_of_work("read") as uow:
        day, now = uow.warnings.ratings_near(dt.date(2026, 1, 15), max_age_days=31)
        assert day == DEC
        assert now[["uscc", "grade"]].to_dict("records") == [
            {"uscc": U1, "grade": "G5"}
        ]
        assert (
            uow.warnings.ratings_near(dt.date(2026, 3, 1), max_age_days=31)[0] is None
        )
        then, old = uow.warnings.ratings_closest_to(
            DEC - dt.timedelta(days=90), before=DEC, tolerance_days=45
        )
        assert then == SEP
        assert old["grade"].tolist() == ["G3"]
        none, _ = uow.warnings.ratings_closest_to(
            dt.date(2025, 3, 1), before=DEC, tolerance_days=10
        )
        assert none is None
