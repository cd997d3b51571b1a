"""Tables of the audit log, declared on the operational store's metadata.

``audit_log`` holds the entries, one row per ``seq`` (1, 2, 3 ... without gaps);
``audit_head`` is a single row (``head_id = 1``) with the last ``seq`` and its
``entry_hash``, updated in the same transaction as every append, so that
deleting the newest entries is detected too. Importing this module registers
both tables on :data:`credit_engine.store.metadata`, so
:meth:`OperationalStore.create_schema
<credit_engine.store.OperationalStore.create_schema>` creates them.
"""

from __future__ import annotations

from sqlalchemy import (
    CHAR,
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from credit_engine.store import UTCDateTime, metadata

__all__ = ["GENESIS_HASH", "HEAD_ID", "audit_head", "audit_log"]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry (``seq`` 1)."""

HEAD_ID = 1
"""Key of the single row of ``audit_head``."""

# SQLite: INTEGER PRIMARY KEY makes seq the rowid (no second index to maintain).
_Seq = BigInteger().with_variant(Integer(), "sqlite")

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _Seq, primary_key=True, autoincrement=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("subject", String(200), nullable=True),
    # JSON (not JSONB) keeps the text as sent: floats read back identically on
    # both backends (tested), so the hash is recomputed from the decoded payload.
    Column("payload", JSON, nullable=False),
    Column("prev_hash", CHAR(64), nullable=False),
    Column("entry_hash", CHAR(64), nullable=False),
    CheckConstraint("seq >= 1", name="seq"),
    CheckConstraint("length(kind) > 0", name="kind"),
    CheckConstraint("length(actor) > 0", name="actor"),
    Index(None, "subject", "seq"),
    Index(None, "kind", "seq"),
)
"""The hash-chained entries: what happened, to whom, by whom, when."""

audit_head = Table(
    "audit_head",
    metadata,
    Column("head_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", CHAR(64), nullable=False),
    CheckConstraint(f"head_id = {HEAD_ID}", name="single_row"),
    CheckConstraint("seq >= 0", name="seq"),
)
"""The newest ``seq`` and its ``entry_hash`` (one row; ``seq`` 0 for an empty log)."""
