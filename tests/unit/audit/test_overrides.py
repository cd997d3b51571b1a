"""An override and its audit entry commit together or not at all (both backends)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from credit_engine.audit import AuditLog, audit_head, record_override
from credit_engine.exceptions import AuditError, OverrideError
from credit_engine.uscc import check_character

USCC = "91350200MA2XYW000" + check_character("91350200MA2XYW000")
DAY = dt.datetime.now(dt.UTC).date()  # overrides count from the day recorded


def test_override_and_its_entry_are_written_together(log: AuditLog):
    override_id, entry = record_override(log, USCC, "C", "Smuggling probe", "sup", DAY)
    assert entry.kind == "override"
    assert entry.subject == USCC
    assert entry.payload["override_id"] == override_id
    assert log.store.overrides_in_force(DAY)["override_id"].tolist() == [override_id]
    assert log.verify().ok


def test_an_invalid_override_writes_no_entry(log: AuditLog):
    with pytest.raises(OverrideError, match="tier"):
        record_override(log, USCC, "Z", "Smuggling probe", "sup", DAY)
    assert log.head()[0] == 0
    assert log.store.overrides_in_force(DAY).empty


def test_no_override_without_its_audit_entry(log: AuditLog):
    with log.store.engine.begin() as conn:
        conn.execute(delete(audit_head))
    with pytest.raises(AuditError, match="head row is missing"):
        record_override(log, USCC, "C", "Smuggling probe", "sup", DAY)
    assert log.store.overrides_in_force(DAY).empty
