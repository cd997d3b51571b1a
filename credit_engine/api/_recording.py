"""Audit entries of API requests, through the group-commit writer.

Every route that serves a decision, discloses stored decisions or changes
state records it here before answering:

* :func:`record` appends entries (awaiting their commit, at most
  ``Settings.audit_wait_seconds``; 503 ``store_unavailable`` beyond);
* :func:`decision_entries` builds the entries of served decisions (the
  decision and every input needed to replay it);
* every entry's payload gets ``"by": {"key", "key_id", "role"}`` of the caller.

New routers use :func:`record` (or ``services.writer.run(unit)`` for a state
change that must commit with its entry, as overrides do) and nothing else.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from credit_engine.api._security import principal_stamp
from credit_engine.api._service import ServedDecision
from credit_engine.audit import AuditEntry, AuditKind, Canonical, NewEntry
from credit_engine.auth import ApiKeyInfo
from credit_engine.rating import decision_payload

__all__ = ["decision_entries", "entry", "record"]


def entry(
    principal: ApiKeyInfo,
    kind: str,
    payload: Mapping[str, Any],
    *,
    subject: str | None = None,
) -> NewEntry:
    """Return an entry by ``principal`` (key name as actor; key, role in ``by``)."""
    return NewEntry(
        kind, principal.name, {**payload, "by": principal_stamp(principal)}, subject
    )


def decision_entries(
    principal: ApiKeyInfo, served: Sequence[ServedDecision]
) -> list[NewEntry]:
    """Return the ``decision`` entries of decisions served to ``principal``."""
    by = _stamp(principal)
    return [
        NewEntry(AuditKind.DECISION, principal.name, {**_payload(s), "by": by},
                 s.decision.uscc)
        for s in served
    ]  # fmt: skip


@functools.lru_cache(maxsize=256)
def _stamp(principal: ApiKeyInfo) -> Canonical:
    """Return the caller's stamp, encoded once per key (shared: read only)."""
    return Canonical.of(principal_stamp(principal))


def _payload(served: ServedDecision) -> dict[str, Any]:
    if served.payload is not None:
        return served.payload  # pre-encoded (serving date)
    if served.features is None:
        raise TypeError("a ServedDecision without a payload needs its features")
    return decision_payload(
        served.decision,
        features=served.features,
        facts=served.facts,
        override=served.override,
        model_rating=served.rating,
    )


async def record(services: Any, entries: Sequence[NewEntry]) -> list[AuditEntry]:
    """Append ``entries`` and wait until they are durable (bounded wait).

    Raises
    ------
    StoreUnavailableError
        503: the store cannot take them now (locked, read-only, unreachable,
        queue full) or did not within ``Settings.audit_wait_seconds``.
    """
    written: list[AuditEntry] = await services.writer.append(entries)
    return written
