"""Repositories sharing one unit of work: one transaction, several writers."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, func, select

from credit_engine.exceptions import OverrideError, StoreError
from credit_engine.store import (
    DecisionRepository,
    OverrideRepository,
    RatingRunRepository,
    UnitOfWork,
    overrides,
)
from tests.unit.store.factories import T0, decision, make_run, uscc

SEP = dt.date(2025, 9, 30)


class Boom(Exception):
    pass


def test_several_repositories_commit_together(store):
    with store.unit_of_work("record an override and the run applying it") as uow:
        oid = uow.overrides.add_override(
            uscc(1), "D", "fraud case 117", "officer.li", SEP, created_at=T0
        )
        run_id = uow.runs.record_run(
            make_run(SEP),
            [decision(uscc(1), "D", decided_by="OVERRIDE", override_id=oid)],
        )
        # Reads in the same transaction see the uncommitted rows.
        assert uow.decisions.count_decisions(SEP) == 1
        assert uow.decisions.decisions_at(SEP)["override_id"].tolist() == [oid]
    assert store.runs()["run_id"].tolist() == [run_id]
    assert store.decisions_at(SEP).loc[0, "override_id"] == oid
    assert store.override_rate(SEP) == 1.0


def test_a_failure_anywhere_in_the_unit_rolls_every_repository_back(store):
    def write_then_fail() -> None:
        with store.unit_of_work("record an override and a run") as uow:
            uow.overrides.add_override(uscc(1), "D", "fraud", "officer.li", SEP)
            uow.runs.record_run(make_run(SEP), [decision(uscc(2))])
            raise Boom("after both writes")

    with pytest.raises(Boom, match="after both writes"):
        write_then_fail()
    assert store.runs().empty
    assert store.overrides_of(uscc(1)).empty


def test_a_repository_error_rolls_back_the_earlier_writes(store):
    def write_twice() -> None:
        with store.unit_of_work() as uow:
            uow.runs.record_run(make_run(SEP), [decision(uscc(2))])
            uow.overrides.add_override(uscc(1), "Z", "fraud", "officer.li", SEP)

    with pytest.raises(OverrideError, match="tier must be one of"):
        write_twice()
    assert store.rating_dates() == []


def test_other_rows_written_through_the_connection_join_the_transaction(store):
    row = {
        "uscc": uscc(2),
        "tier": "C",
        "reason": "written beside the repository",
        "actor": "officer.li",
        "effective_from": SEP,
        "created_at": T0,
    }

    def write_then_fail() -> None:
        with store.unit_of_work() as uow:
            uow.overrides.add_override(uscc(1), "D", "fraud", "officer.li", SEP)
            uow.connection.execute(overrides.insert(), row)
            raise Boom("no")

    with pytest.raises(Boom, match="no"):
        write_then_fail()
    with store.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(overrides)) == 0


def test_repositories_work_on_a_transaction_someone_else_manages(store):
    with store.engine.begin() as conn:
        uow = UnitOfWork(conn)
        assert isinstance(uow.runs, RatingRunRepository)
        assert isinstance(uow.decisions, DecisionRepository)
        assert isinstance(uow.overrides, OverrideRepository)
        oid = OverrideRepository(conn).add_override(
            uscc(1), "B", "appeal granted", "officer.li", SEP, created_at=T0
        )
        uow.overrides.revoke_override(oid, "officer.wu", "appeal withdrawn")
    history = store.overrides_of(uscc(1))
    assert history["override_id"].tolist() == [oid]
    assert history.loc[0, "revoked_by"] == "officer.wu"


def test_immediate_takes_the_sqlite_write_lock_at_the_start(store):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        with store.unit_of_work("lock first", immediate=True, durable=False) as uow:
            uow.overrides.add_override(uscc(1), "D", "fraud", "officer.li", SEP)
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    begins = [s for s in statements if s.startswith("BEGIN")]
    if store.engine.dialect.name == "sqlite":
        assert begins == ["BEGIN IMMEDIATE"]
        assert statements[-1].startswith("PRAGMA synchronous = ")  # restored
    else:
        assert "SET LOCAL synchronous_commit TO OFF" in statements
    assert len(store.overrides_of(uscc(1))) == 1


def test_database_failures_name_the_unit_of_work(store):
    def write() -> None:
        with store.unit_of_work("write the run twice") as uow:
            uow.connection.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(StoreError, match=r"Could not write the run twice in the "):
        write()
