"""Fixtures of the API-key tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from credit_engine.auth import KeyStore
from credit_engine.store import OperationalStore


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def keys(store: OperationalStore, clock: FakeClock) -> KeyStore:
    """A key store with a 5-second cache on the fake clock."""
    return KeyStore(store, cache_ttl=5.0, clock=clock)
