"""Fixtures of the API-key tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from credit_engine.auth import KeyStore
from credit_engine.store import OperationalStore
from tests.store_backends import BACKENDS, backend_url


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(store: OperationalStore, clock: FakeClock) -> KeyStore:
    """A key store with a 5-second cache on the fake clock."""
    return KeyStore(store, cache_ttl=5.0, clock=clock)
