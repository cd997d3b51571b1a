"""Tamper-evident, append-only audit log in the operational store.

Every decision served, override, model reload, API-key change and early-warning
evaluation, read and status move is appended
as an :class:`AuditEntry` to the ``audit_log`` table, hash-chained:
``entry_hash = sha256(prev_hash + canonical JSON of {seq, recorded_at, kind,
actor, subject, payload})``, ``seq`` strictly consecutive from 1, and a single
``audit_head`` row updated in the same transaction. :meth:`AuditLog.verify`
recomputes the chain and names every edited, deleted, inserted or reordered
entry. The two tables (``audit_log``, ``audit_head``) are declared with every
other table of the operational store in :mod:`credit_engine.store` and created
by its migrations; :class:`AuditLog` writes through the store's unit of work.

Floats: the payload column is ``JSON`` (text as sent) on both backends, and the
payload is normalised through canonical JSON before hashing, so a payload reads
back exactly as hashed (``0.1``, ``1e-09``, ``12345.678901234`` included; tested
on SQLite and PostgreSQL). Do not migrate the column to ``JSONB``.

Examples
--------
>>> from credit_engine.store import OperationalStore
>>> log = AuditLog(OperationalStore("sqlite://"))
>>> _ = log.append("override", "officer.li", {"tier": "D"},
...                subject="91350200MA2Y0K3Q0N")
>>> [e.kind for e in log.entries(subject="91350200MA2Y0K3Q0N")]
['override']
>>> result = log.verify()
>>> result.ok, result.checked, result.head_seq
(True, 1, 1)
"""

from __future__ import annotations

from credit_engine.audit._anchor import (
    AnchorSigner,
    AnchorVerifier,
    Checkpoint,
    Ed25519Signer,
    Ed25519Verifier,
    HmacSigner,
    generate_ed25519_keypair,
    make_checkpoint,
    read_checkpoint,
    write_checkpoint,
)
from credit_engine.audit._chain import (
    GENESIS_HASH,
    AuditEntry,
    AuditKind,
    Canonical,
    NewEntry,
    PreparedEntry,
    WireEntry,
    canonical_json,
    chain_hash,
    iso_utc,
)
from credit_engine.audit._coverage import covers, decision_set, row_coverage, row_digest
from credit_engine.audit._log import AuditLog, AuditTransaction, prepare_entries
from credit_engine.audit._overrides import (
    override_unit,
    record_override,
    record_override_revocation,
    record_rating_run,
    record_rating_run_streamed,
    revocation_unit,
)
from credit_engine.audit._promotions import (
    PROMOTION_KIND,
    import_legacy_promotions,
    promotion_entries,
)
from credit_engine.audit._schema import audit_head, audit_log
from credit_engine.audit._verify import AuditVerification
from credit_engine.audit._warnings import (
    acknowledge_warning,
    acknowledge_warning_unit,
    close_warning,
    close_warning_unit,
)
from credit_engine.audit._writer import AuditWriter, WriterHealth
from credit_engine.exceptions import AuditEntryNotFoundError, AuditError

__all__ = [
    "GENESIS_HASH",
    "PROMOTION_KIND",
    "AnchorSigner",
    "AnchorVerifier",
    "AuditEntry",
    "AuditEntryNotFoundError",
    "AuditError",
    "AuditKind",
    "AuditLog",
    "AuditTransaction",
    "AuditVerification",
    "AuditWriter",
    "Canonical",
    "Checkpoint",
    "Ed25519Signer",
    "Ed25519Verifier",
    "HmacSigner",
    "NewEntry",
    "PreparedEntry",
    "WireEntry",
    "WriterHealth",
    "acknowledge_warning",
    "acknowledge_warning_unit",
    "audit_head",
    "audit_log",
    "canonical_json",
    "chain_hash",
    "covers",
    "decision_set",
    "generate_ed25519_keypair",
    "import_legacy_promotions",
    "prepare_entries",
    "close_warning",
    "close_warning_unit",
    "iso_utc",
    "make_checkpoint",
    "override_unit",
    "promotion_entries",
    "read_checkpoint",
    "record_override",
    "record_override_revocation",
    "record_rating_run",
    "record_rating_run_streamed",
    "revocation_unit",
    "row_coverage",
    "row_digest",
    "write_checkpoint",
]
