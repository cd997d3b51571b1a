"""A warning's status move and its audit entry commit together (both backends)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from credit_engine.audit import (
    AuditLog,
    acknowledge_warning,
    audit_head,
    close_warning,
)
from credit_engine.exceptions import (
    AuditError,
    EarlyWarningError,
    EarlyWarningNotFoundError,
    WarningTransitionError,
)

USCC = "91350200MA2Y0K3Q0N"
OCT = dt.date(2025, 10, 31)


@pytest.fixture
def warning_id(log: AuditLog) -> int:
    with log.store.unit_of_work("record warnings") as uow:
        done = uow.warnings.record_warnings(
            OCT,
            [{"uscc": USCC, "signal": "EW-04", "priority": 3.0, "evidence": {"a": 1}}],
            signals_version=1,
        )
    return done.warning_ids[0]


def test_acknowledge_then_close_each_with_its_entry(log: AuditLog, warning_id: int):
    row, entry = acknowledge_warning(log, warning_id, "sup.li", "Calling the firm")
    assert row["status"] == "acknowledged"
    assert (entry.kind, entry.actor, entry.subject) == (
        "warning_acknowledged",
        "sup.li",
        USCC,
    )
    assert entry.payload["warning_id"] == warning_id
    assert entry.payload["note"] == "Calling the firm"
    row, entry = close_warning(log, warning_id, "sup.wang", "Case 2025-117 opened")
    assert row["status"] == "closed"
    assert entry.kind == "warning_closed"
    assert entry.payload["status"] == "closed"
    assert entry.payload["last_as_of"] == OCT.isoformat()
    assert [e.kind for e in log.entries(subject=USCC)] == [
        "warning_acknowledged",
        "warning_closed",
    ]
    assert log.verify().ok


def test_refused_moves_write_nothing(log: AuditLog, warning_id: int):
    close_warning(log, warning_id, "sup.li", "Dismissed: known seasonal exporter")
    head = log.head()
    with pytest.raises(WarningTransitionError, match="closed by sup.li"):
        acknowledge_warning(log, warning_id, "sup.wang")
    with pytest.raises(WarningTransitionError, match="never moves again"):
        close_warning(log, warning_id, "sup.wang", "again")
    with pytest.raises(EarlyWarningNotFoundError, match="No warning with id 404"):
        acknowledge_warning(log, 404, "sup.wang")
    assert log.head() == head


def test_closing_needs_a_note_and_nothing_is_written_without(
    log: AuditLog, warning_id: int
):
    with pytest.raises(EarlyWarningError, match="needs a note"):
        close_warning(log, warning_id, "sup.li", "")
    assert log.head()[0] == 0
    assert log.store.get_warning(warning_id)["status"] == "new"


def test_no_move_without_its_audit_entry(log: AuditLog, warning_id: int):
    with log.store.engine.begin() as conn:
        conn.execute(delete(audit_head))
    with pytest.raises(AuditError, match="head row is missing"):
        acknowledge_warning(log, warning_id, "sup.li")
    assert log.store.get_warning(warning_id)["status"] == "new"
