"""Database backends for operational-store tests: SQLite files and real PostgreSQL.

``backend_url(backend, tmp_path)`` yields the URL of a fresh, empty database:

* ``"sqlite"``: a file under ``tmp_path``;
* ``"postgresql"``: a uniquely named database created on the test server and
  dropped afterwards, so tests stay isolated under ``pytest -n 2``.

The PostgreSQL server comes from ``CREDIT_ENGINE_TEST_POSTGRES_URL`` or from the
URL file that ``bash scripts/postgres-for-tests.sh`` writes
(``.credit-engine-test/postgres/url``). Without one the PostgreSQL tests skip,
or fail when ``CREDIT_ENGINE_REQUIRE_POSTGRES=1`` (CI).

Use it from a conftest::

    from tests.store_backends import BACKENDS, backend_url

    @pytest.fixture(params=BACKENDS)
    def store_url(request, tmp_path):
        with backend_url(request.param, tmp_path) as url:
            yield url
"""

from __future__ import annotations

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

REPO_ROOT = Path(__file__).resolve().parents[1]
URL_FILE = REPO_ROOT / ".credit-engine-test" / "postgres" / "url"
URL_ENV = "CREDIT_ENGINE_TEST_POSTGRES_URL"
REQUIRE_ENV = "CREDIT_ENGINE_REQUIRE_POSTGRES"
BACKENDS = ("sqlite", "postgresql")

_HOW_TO = (
    "Start a throwaway server with `bash scripts/postgres-for-tests.sh` (make test "
    f"does it) or set {URL_ENV}=postgresql://user@host:port/db."
)


def _normalized(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@functools.cache
def postgres_server_url() -> tuple[str | None, str]:
    """Return (URL of a reachable PostgreSQL test server or None, why not)."""
    url = os.environ.get(URL_ENV, "").strip()
    source = URL_ENV
    if not url and URL_FILE.is_file():
        url = URL_FILE.read_text().strip()
        source = str(URL_FILE.relative_to(REPO_ROOT))
    if not url:
        return None, (
            f"No PostgreSQL test server configured ({URL_ENV} unset, no "
            f"{URL_FILE.relative_to(REPO_ROOT)} file)."
        )
    url = _normalized(url)
    engine = create_engine(url, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        return None, (
            f"The PostgreSQL test server from {source} is unreachable "
            f"({type(cause).__name__}: {str(cause).strip().splitlines()[0]})."
        )
    finally:
        engine.dispose()
    return url, ""


def require_postgres() -> str:
    """Return the test server URL, or skip (fail when required) without one."""
    url, why = postgres_server_url()
    if url is None:
        message = f"{why} {_HOW_TO}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but PostgreSQL is unavailable: {message}")
        pytest.skip(message)
    return url


@contextlib.contextmanager
def temporary_postgres_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it afterwards."""
    name = f"ce_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield (
                make_url(server_url)
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextlib.contextmanager
def backend_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """Yield the URL of a fresh empty database on ``backend``."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
    elif backend == "postgresql":
        with temporary_postgres_database(require_postgres()) as url:
            yield url
    else:  # pragma: no cover - a typo in a parametrization
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a fresh empty database: a SQLite file, then a PostgreSQL database.

    Import it (and :func:`store`) into a ``conftest.py`` to run that folder's
    tests on both backends.
    """
    with backend_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """An OperationalStore with its schema, on each backend."""
    from credit_engine.store import OperationalStore

    with OperationalStore(store_url) as opened:
        opened.create_schema()
        yield opened
