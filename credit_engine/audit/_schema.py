"""The audit log's tables (declared with the store's schema) and its constants.

``audit_log`` holds the entries, one row per ``seq`` (1, 2, 3 ... without gaps);
``audit_head`` is a single row (``head_id = 1``) with the last ``seq`` and its
``entry_hash``, updated in the same transaction as every append, so that
deleting the newest entries is detected too. Both tables are declared in
:mod:`credit_engine.store` with every other table of the operational store and
created by its migrations (:meth:`OperationalStore.create_schema
<credit_engine.store.OperationalStore.create_schema>`).
"""

from __future__ import annotations

from credit_engine.store import AUDIT_HEAD_ID, audit_head, audit_log

__all__ = ["GENESIS_HASH", "HEAD_ID", "audit_head", "audit_log"]

GENESIS_HASH = "0" * 64
"""``prev_hash`` of the first entry (``seq`` 1)."""

HEAD_ID = AUDIT_HEAD_ID
"""Key of the single row of ``audit_head`` (the store's :data:`AUDIT_HEAD_ID`)."""
