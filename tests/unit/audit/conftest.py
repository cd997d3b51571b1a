"""Fixtures of the audit-log tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from credit_engine.audit import AuditLog
from credit_engine.store import OperationalStore


@pytest.fixture
def log(store: OperationalStore) -> AuditLog:
    """An empty audit log in the store."""
    return AuditLog(store)
