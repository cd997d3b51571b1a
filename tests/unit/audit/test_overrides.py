"""An override and its audit entry commit together or not at all (both backends)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete

from credit_engine.audit import AuditLog, audit_head, record_override
from credit_engine.exceptions import AuditError, OverrideError
from credit_engine.store import OperationalStore
from credit_engine.uscc import check_character

USCC = "91350200MA2XYW000" + check_character("91350200MA2XYW000")


def _today() -> dt.date:
    """Today (UTC), asked when used: a module-level date goes stale at midnight."""
    return dt.datetime.now(dt.UTC).date()


def test_override_and_its_entry_are_written_together(log: AuditLog):
    override_id, entry = record_override(
        log, USCC, "C", "Smuggling probe", "sup", _today()
    )
    assert entry.kind == "override"
    assert entry.subject == USCC
    assert entry.payload["override_id"] == override_id
    assert log.store.overrides_in_force(_today())["override_id"].tolist() == [
        override_id
    ]
    assert log.verify().ok


def test_an_invalid_override_writes_no_entry(log: AuditLog):
    with pytest.raises(OverrideError, match="tier"):
        record_override(log, USCC, "Z", "Smuggling probe", "sup", _today())
    assert log.head()[0] == 0
    assert log.store.overrides_in_force(_today()).empty


def test_no_override_without_its_audit_entry(log: AuditLog):
    with log.store.engine.begin() as conn:
        conn.execute(delete(audit_head))
    with pytest.raises(AuditError, match="head row is missing"):
        record_override(log, USCC, "C", "Smuggling probe", "sup", _today())
    assert log.store.overrides_in_force(_today()).empty


def test_the_override_is_written_by_the_unit_of_work_not_the_facade(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
):
    def facade_not_used(*args: object, **kwargs: object) -> int:
        raise AssertionError("record_override must use the unit of work")

    monkeypatch.setattr(OperationalStore, "add_override", facade_not_used)
    override_id, entry = record_override(log, USCC, "B", "Appeal", "sup", _today())
    assert entry.payload["override_id"] == override_id
    assert log.store.overrides_of(USCC)["override_id"].tolist() == [override_id]


def test_the_audit_transaction_is_a_unit_of_work_of_the_store(log: AuditLog):
    with log.transaction() as tx:
        assert tx.connection is tx.unit_of_work.connection
        oid = tx.unit_of_work.overrides.add_override(
            USCC, "A", "Trusted trader", "sup", _today()
        )
        tx.append("override", "sup", {"override_id": oid}, subject=USCC)
        # Visible inside the transaction, through another repository method.
        assert tx.unit_of_work.overrides.overrides_of(USCC)["override_id"].tolist() == [
            oid
        ]
    assert log.store.overrides_in_force(_today())["override_id"].tolist() == [oid]
    assert log.verify().ok
