"""Early-warning status moves written together with their audit entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from credit_engine.audit._chain import AuditEntry, AuditKind
from credit_engine.audit._log import AuditLog, AuditTransaction
from credit_engine.jsonable import to_jsonable

__all__ = [
    "acknowledge_warning",
    "acknowledge_warning_unit",
    "close_warning",
    "close_warning_unit",
]

WarningUnit = Callable[[AuditTransaction], tuple[dict[str, Any], AuditEntry]]
"""``unit(tx) -> (warning row, audit entry)``, run in one transaction."""


def _payload(
    row: dict[str, Any], note: str | None, context: Mapping[str, Any] | None
) -> dict[str, Any]:
    payload: dict[str, Any] = to_jsonable(
        {
            **(context or {}),
            "warning_id": row["warning_id"],
            "uscc": row["uscc"],
            "signal": row["signal"],
            "status": row["status"],
            "first_as_of": row["first_as_of"],
            "last_as_of": row["last_as_of"],
            "priority": row["priority"],
            "note": note,
        },
        where="warning transition",
    )
    return payload


def acknowledge_warning(
    log: AuditLog, warning_id: int, actor: str, note: str | None = None
) -> tuple[dict[str, Any], AuditEntry]:
    """Acknowledge a new warning and record it in the audit log, atomically.

    The status move (by the store's
    :class:`~credit_engine.store.WarningRepository`) and the audit entry (kind
    ``warning_acknowledged``, subject the enterprise's USCC) commit in one
    transaction of the operational store, or neither does.

    Parameters
    ----------
    log : AuditLog
        The audit log of the store holding the warning.
    warning_id : int
        The warning.
    actor : str
        Who acknowledges it (an API key's name, a CLI user).
    note : str, optional
        What is being done about it.

    Returns
    -------
    (dict, AuditEntry)
        The warning after the move (its columns) and the audit entry.

    Raises
    ------
    EarlyWarningNotFoundError
        If no warning has that id (nothing written).
    WarningTransitionError
        If it is not ``new`` (nothing written).
    EarlyWarningError
        Without an actor (nothing written).
    """
    with log.transaction() as tx:
        return acknowledge_warning_unit(warning_id, actor, note)(tx)


def acknowledge_warning_unit(
    warning_id: int,
    actor: str,
    note: str | None = None,
    *,
    context: Mapping[str, Any] | None = None,
) -> WarningUnit:
    """Return the unit of work of :func:`acknowledge_warning`, for a transaction.

    The API hands it to the :class:`~credit_engine.audit.AuditWriter` (the
    move commits with a batch of entries); ``context`` is added to the entry's
    payload (the caller's key and role, under ``"by"``).
    """

    def unit(tx: AuditTransaction) -> tuple[dict[str, Any], AuditEntry]:
        row = tx.unit_of_work.warnings.acknowledge(warning_id, actor, note)
        entry = tx.append(
            AuditKind.WARNING_ACKNOWLEDGED.value,
            actor,
            _payload(row, row["acknowledge_note"], context),
            subject=row["uscc"],
        )
        return row, entry

    return unit


def close_warning(
    log: AuditLog, warning_id: int, actor: str, note: str
) -> tuple[dict[str, Any], AuditEntry]:
    """Close a new or acknowledged warning with a note, audited, atomically.

    As :func:`acknowledge_warning`, with kind ``warning_closed``; the note
    (what was found, why it is closed) is required.

    Raises
    ------
    EarlyWarningNotFoundError
        If no warning has that id (nothing written).
    WarningTransitionError
        If it is already closed (nothing written).
    EarlyWarningError
        Without an actor or a non-empty note (nothing written).
    """
    with log.transaction() as tx:
        return close_warning_unit(warning_id, actor, note)(tx)


def close_warning_unit(
    warning_id: int,
    actor: str,
    note: str,
    *,
    context: Mapping[str, Any] | None = None,
) -> WarningUnit:
    """Return the unit of work of :func:`close_warning`, for a transaction.

    As :func:`acknowledge_warning_unit`.
    """

    def unit(tx: AuditTransaction) -> tuple[dict[str, Any], AuditEntry]:
        row = tx.unit_of_work.warnings.close(warning_id, actor, note)
        entry = tx.append(
            AuditKind.WARNING_CLOSED.value,
            actor,
            _payload(row, row["close_note"], context),
            subject=row["uscc"],
        )
        return row, entry

    return unit
