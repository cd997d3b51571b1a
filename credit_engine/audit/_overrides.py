"""Overrides written together with their audit entry, in one transaction."""

from __future__ import annotations

import datetime as dt

from credit_engine.audit._chain import AuditEntry
from credit_engine.audit._log import AuditLog

__all__ = ["record_override"]


def record_override(  # noqa: PLR0917 - mirrors OperationalStore.add_override
    log: AuditLog,
    uscc: str,
    tier: str,
    reason: str,
    actor: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
) -> tuple[int, AuditEntry]:
    """Record a supervisor override and its audit entry atomically.

    Both commit in one transaction of the operational store, or neither does:
    an override can never exist without its entry in the audit log. The
    override is written by the store's override repository in the audit
    log's unit of work (:meth:`AuditLog.transaction`).

    Parameters
    ----------
    log : AuditLog
        The audit log of the operational store that receives the override.
    uscc, tier, reason, actor, effective_from, effective_to
        As in :meth:`credit_engine.store.OperationalStore.add_override`.

    Returns
    -------
    (int, AuditEntry)
        The new ``override_id`` and the audit entry (kind ``override``).

    Raises
    ------
    InvalidUsccError, OverrideError
        If the override is invalid (nothing is written).
    AuditError
        If the audit log cannot be appended to (nothing is written).
    """
    with log.transaction() as tx:
        override_id = tx.unit_of_work.overrides.add_override(
            uscc, tier, reason, actor, effective_from, effective_to
        )
        entry = tx.append(
            "override",
            actor,
            {
                "override_id": override_id,
                "uscc": uscc,
                "tier": tier,
                "reason": reason,
                "effective_from": effective_from.isoformat(),
                "effective_to": effective_to.isoformat() if effective_to else None,
            },
            subject=uscc,
        )
    return override_id, entry
