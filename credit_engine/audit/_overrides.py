"""Overrides and rating runs written with their audit entry, in one transaction.

Each entry carries ``covers``: the digest of the rows as the database holds
them after the change (:mod:`credit_engine.audit._coverage`), so that an edit
made to them later, outside the engine, is found by ``audit verify``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import select

from credit_engine.audit._chain import AuditEntry, AuditKind
from credit_engine.audit._coverage import covers, decision_set, row_coverage
from credit_engine.audit._log import AuditLog, AuditTransaction
from credit_engine.store import RatingRun, overrides

__all__ = [
    "override_unit",
    "record_override",
    "record_override_revocation",
    "record_rating_run",
    "record_rating_run_streamed",
    "revocation_unit",
]

OverrideUnit = Callable[[AuditTransaction], tuple[int, AuditEntry]]


def override_unit(  # noqa: PLR0913, PLR0917 - mirrors OperationalStore.add_override
    uscc: str,
    tier: str,
    reason: str,
    actor: str,
    effective_from: dt.date,
    effective_to: dt.date | None = None,
    *,
    context: Mapping[str, Any] | None = None,
) -> OverrideUnit:
    """Return the unit of work of :func:`record_override`, for a transaction.

    ``unit(tx)`` inserts the override through ``tx.unit_of_work.overrides``
    and appends its entry (kind ``override``, with the row's digest) in the
    transaction ``tx``; it returns ``(override_id, entry)``. The API hands it
    to the :class:`~credit_engine.audit.AuditWriter`, the CLI runs it through
    :func:`record_override`.

    Parameters
    ----------
    uscc, tier, reason, actor, effective_from, effective_to
        As in :meth:`credit_engine.store.OperationalStore.add_override`.
    context : mapping, optional
        Added to the entry's payload (the API puts the caller's key and role
        there, under ``"by"``).
    """

    def unit(tx: AuditTransaction) -> tuple[int, AuditEntry]:
        override_id = tx.unit_of_work.overrides.add_override(
            uscc, tier, reason, actor, effective_from, effective_to
        )
        entry = tx.append(
            AuditKind.OVERRIDE,
            actor,
            {
                **(context or {}),
                "override_id": override_id,
                "uscc": uscc,
                "tier": tier,
                "reason": reason,
                "effective_from": effective_from.isoformat(),
                "effective_to": effective_to.isoformat() if effective_to else None,
                "covers": covers(
                    [row_coverage(tx.connection, "overrides", override_id)]
                ),
            },
            subject=uscc,
        )
        return override_id, entry

    return unit


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
    log's unit of work (:meth:`AuditLog.transaction`); the entry records the
    digest of the row written, so that a later edit of the row is detected.

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
    unit = override_unit(uscc, tier, reason, actor, effective_from, effective_to)
    with log.transaction() as tx:
        return unit(tx)


def revocation_unit(
    override_id: int,
    actor: str,
    reason: str,
    *,
    context: Mapping[str, Any] | None = None,
) -> Callable[[AuditTransaction], AuditEntry]:
    """Return the unit of work of :func:`record_override_revocation`."""

    def unit(tx: AuditTransaction) -> AuditEntry:
        tx.unit_of_work.overrides.revoke_override(override_id, actor, reason)
        cov = row_coverage(tx.connection, "overrides", override_id)
        uscc = tx.connection.execute(
            select(overrides.c.uscc).where(overrides.c.override_id == override_id)
        ).scalar_one()
        return tx.append(
            AuditKind.OVERRIDE_REVOKED,
            actor,
            {
                **(context or {}),
                "override_id": override_id,
                "reason": reason,
                "covers": covers([cov]),
            },
            subject=str(uscc),
        )

    return unit


def record_override_revocation(
    log: AuditLog, override_id: int, actor: str, reason: str
) -> AuditEntry:
    """Revoke an override and log it (kind ``override_revoked``) atomically.

    The row stays, with who revoked it, when and why; the entry records its
    digest after the change.

    Raises
    ------
    OverrideNotFoundError
        If no override has that id.
    OverrideError
        If it was already revoked, or ``actor``/``reason`` is empty.
    """
    with log.transaction() as tx:
        return revocation_unit(override_id, actor, reason)(tx)


def record_rating_run(
    log: AuditLog,
    run: RatingRun,
    decisions: pd.DataFrame | Sequence[Mapping[str, Any]],
) -> tuple[int, AuditEntry]:
    """Store a rating run with its decisions and log it (kind ``rating_run``).

    One transaction: the run, its decisions, and an entry recording the digest
    of the run's row and the rolling digest of all its decisions (by USCC). The
    log's head is locked only at the end, so other appends wait for the
    database's write lock (SQLite) but not for the whole insert (PostgreSQL).

    Parameters
    ----------
    log : AuditLog
        The audit log of the store the run goes to.
    run, decisions
        As in :meth:`credit_engine.store.OperationalStore.record_run`.

    Returns
    -------
    (int, AuditEntry)
        The new ``run_id`` and the entry.
    """
    with log.transaction() as tx:
        run_id = tx.unit_of_work.runs.record_run(run, decisions)
        return run_id, _log_run(tx, run, run_id)


def record_rating_run_streamed(
    log: AuditLog,
    run: RatingRun,
    chunks: Iterable[pd.DataFrame | Sequence[Mapping[str, Any]]],
    *,
    complete: Callable[[], RatingRun] | None = None,
) -> tuple[int, AuditEntry]:
    """Store a rating run, its decisions chunk by chunk, and log it, atomically.

    As :func:`record_rating_run`, in one transaction, but the decisions are
    inserted as ``chunks`` yields them (see
    :meth:`credit_engine.store.RatingRunRepository.record_run_streamed`), so
    the caller never holds them all; the entry is appended after the last
    chunk, from the run ``complete()`` returns and the decisions as stored. A
    failure in any chunk rolls the whole run back: no run, no decisions, no
    entry.

    Parameters
    ----------
    log : AuditLog
        The audit log of the store the run goes to.
    run : RatingRun
        The run as it started (its ``summary`` may be provisional).
    chunks : iterable of pandas.DataFrame or of sequences of mappings
        The decisions, one chunk at a time.
    complete : callable, optional
        Called after the last chunk; returns the finished run (``finished_at``
        and ``summary``).

    Returns
    -------
    (int, AuditEntry)
        The new ``run_id`` and the entry.
    """
    with log.transaction() as tx:
        run_id = tx.unit_of_work.runs.record_run_streamed(
            run, chunks, complete=complete
        )
        return run_id, _log_run(tx, run, run_id)


def _log_run(tx: AuditTransaction, run: RatingRun, run_id: int) -> AuditEntry:
    """Append the ``rating_run`` entry of a run just written in ``tx``."""
    conn = tx.connection
    decision_cov = decision_set(conn, run_id)
    return tx.append(
        "rating_run",
        run.actor,
        {
            "run_id": run_id,
            "as_of": run.as_of.isoformat(),
            "model": f"{run.model_name} v{run.model_version}",
            "policy": f"{run.policy_name} v{run.policy_version}",
            "n_rated": decision_cov["count"],
            "covers": covers(
                [row_coverage(conn, "rating_runs", run_id)], [decision_cov]
            ),
        },
        subject=run.as_of.isoformat(),
    )
