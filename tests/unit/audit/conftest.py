"""Fixtures of the audit-log tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credit_engine.audit import AuditLog
from credit_engine.store import OperationalStore
from tests.store_backends import BACKENDS, backend_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh empty database: a SQLite file, then a PostgreSQL database."""
    with backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[OperationalStore]:
    """An OperationalStore with its schema, on each backend."""
    with OperationalStore(store_url) as opened:
        opened.create_schema()
        yield opened


@pytest.fixture
def log(store: OperationalStore) -> AuditLog:
    """An empty audit log in the store."""
    return AuditLog(store)
