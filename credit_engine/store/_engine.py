"""Engine creation for the operational store: URL checks, SQLite pragmas, errors.

SQLite (the default) and PostgreSQL (production, through the psycopg 3 driver) are
the two supported backends; the same SQL runs on both.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    ProgrammingError,
    SQLAlchemyError,
)

from credit_engine.exceptions import (
    ConfigurationError,
    StoreError,
    StoreUnavailableError,
)
from credit_engine.store._json import json_serializer
from credit_engine.store._schema import metadata

__all__ = [
    "PG_CONNECT_TIMEOUT_S",
    "create_store_engine",
    "normalize_url",
    "safe_url",
    "sqlite_file",
    "translate_errors",
    "unavailable_reason",
]

PG_CONNECT_TIMEOUT_S = 5
"""Seconds a PostgreSQL connection attempt may take before the store is unavailable
(unless the URL sets ``connect_timeout`` itself)."""

_POSTGRES_DRIVER = "postgresql+psycopg"
_SUPPORTED = ("sqlite", "sqlite+pysqlite", _POSTGRES_DRIVER)


def normalize_url(url: str | URL) -> URL:
    """Parse a store URL and pin PostgreSQL URLs to the psycopg 3 driver.

    Parameters
    ----------
    url : str or sqlalchemy.engine.URL
        ``sqlite:///path``, ``sqlite://`` (in memory), ``postgresql://...``,
        ``postgres://...`` or ``postgresql+psycopg://...``.

    Returns
    -------
    sqlalchemy.engine.URL
        The URL with the driver ``postgresql+psycopg`` for PostgreSQL.

    Raises
    ------
    ConfigurationError
        If the URL cannot be parsed or names another database or driver.

    Examples
    --------
    >>> normalize_url("postgresql://ce@db:5432/ratings").drivername
    'postgresql+psycopg'
    >>> normalize_url("sqlite:///tmp/store.db").database
    'tmp/store.db'
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(
            f"Cannot parse the operational store URL {str(url)!r}: {exc}. Set "
            "CREDIT_ENGINE_DATABASE_URL to e.g. 'sqlite:////abs/path/store.db' or "
            "'postgresql://user@host:5432/dbname'."
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=_POSTGRES_DRIVER)
    if parsed.drivername not in _SUPPORTED:
        raise ConfigurationError(
            f"The operational store URL {safe_url(parsed)!r} uses the driver "
            f"{parsed.drivername!r}; supported are 'sqlite' and 'postgresql' "
            f"(driven by {_POSTGRES_DRIVER!r}). Change CREDIT_ENGINE_DATABASE_URL."
        )
    return parsed


def safe_url(url: URL) -> str:
    """Render ``url`` with its password masked, for messages and logs.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        Any URL.

    Returns
    -------
    str
        The URL with ``***`` in place of the password.

    Examples
    --------
    >>> safe_url(normalize_url("postgresql://ce:secret@db/ratings"))
    'postgresql+psycopg://ce:***@db/ratings'
    """
    return url.render_as_string(hide_password=True)


def sqlite_file(url: URL) -> Path | None:
    """Return the database file of a SQLite URL, or ``None`` (memory, PostgreSQL).

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        A normalized store URL.

    Returns
    -------
    pathlib.Path or None
        The file SQLite will open.

    Examples
    --------
    >>> sqlite_file(normalize_url("sqlite:////srv/ce/store.db"))
    PosixPath('/srv/ce/store.db')
    >>> sqlite_file(normalize_url("sqlite://")) is None
    True
    """
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


# How long a new SQLite connection keeps trying to switch a fresh file to WAL while
# other processes open it at the same moment (the switch takes an exclusive lock,
# and SQLite answers "database is locked" at once rather than waiting for it).
_WAL_SWITCH_DEADLINE_S = 10.0


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite leaves foreign keys off per connection; WAL lets readers (the API)
    # run while a rating run writes.
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys=ON")
        _switch_to_wal(cursor)
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # WAL is a property of the file: once one process switched it, the others find
    # it set and need no lock. Retry the switch with backoff, within a bound (the
    # CI once lost a run to three processes creating the same store together).
    deadline = time.monotonic() + _WAL_SWITCH_DEADLINE_S
    pause = 0.01
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            # The first read of a WAL file can meet another process's recovery,
            # which is also answered "locked" at once: read the schema here, once.
            cursor.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)


def create_store_engine(url: URL, *, echo: bool = False) -> Engine:
    """Create the SQLAlchemy engine of the store for a normalized URL.

    Parameters
    ----------
    url : sqlalchemy.engine.URL
        Output of :func:`normalize_url`.
    echo : bool, default=False
        Log every SQL statement (debugging).

    Returns
    -------
    sqlalchemy.Engine
        For SQLite, every new connection has foreign keys enforced and the WAL
        journal; nothing is connected until first use.
    """
    connect_args: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        # An unreachable server must make the store unavailable in seconds, not
        # hang a request (or the audit writer) for the TCP timeout.
        connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
    engine = create_engine(
        url,
        echo=echo,
        # A server connection may have died in the pool (restart, idle cut):
        # test it at checkout. A SQLite file connection cannot, and the test
        # would be one more statement (one more hand-over of the interpreter
        # lock) in every transaction, the audit writer's included.
        pool_pre_ping=url.get_backend_name() != "sqlite",
        connect_args=connect_args,
        json_serializer=json_serializer,  # pre-encoded payloads as they are
    )
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@contextlib.contextmanager
def translate_errors(engine: Engine, action: str) -> Iterator[None]:
    """Re-raise database failures as :class:`StoreError` with a safe message.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store's engine (for its URL and to check that the schema exists).
    action : str
        What was being done, e.g. ``"record a rating run"``.

    Yields
    ------
    None

    Raises
    ------
    StoreError
        Naming the action, the store URL (password masked) and the driver's error
        class; the original exception is chained for logs.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        raise _store_error(engine, action, exc) from exc


# Words of the drivers' messages, to the short cause a readiness report shows (the
# messages themselves can name hosts or files, so they are only logged).
_CAUSES = (
    ("locked", "locked"),
    ("busy", "locked"),
    ("lock timeout", "locked"),
    ("readonly", "read-only"),
    ("read-only", "read-only"),
    ("disk i/o", "disk I/O error"),
    ("disk is full", "disk full"),
    ("no space", "disk full"),
    ("unable to open", "cannot open the database"),
    ("connection", "unreachable"),
    ("could not connect", "unreachable"),
    ("timeout", "timeout"),
    ("server closed", "unreachable"),
    ("terminating", "unreachable"),
)


def unavailable_reason(exc: BaseException) -> str | None:
    """Return a short cause if ``exc`` means the store is unavailable, else None.

    Unavailable: the database is locked by another writer, read-only, out of
    disk, cannot be opened or reached, or a connection broke. Constraint
    violations, bad values and SQL errors are not (they are bugs or bad input).

    Parameters
    ----------
    exc : BaseException
        A SQLAlchemy error (or its driver cause).

    Returns
    -------
    str or None
        ``"locked"``, ``"read-only"``, ``"disk I/O error"``, ``"disk full"``,
        ``"cannot open the database"``, ``"unreachable"``, ``"timeout"`` or
        ``"unavailable"``; None if the error is not about availability (a
        missing table, a constraint, a bad value).

    Examples
    --------
    >>> import sqlite3
    >>> from sqlalchemy.exc import OperationalError
    >>> unavailable_reason(OperationalError("INSERT", {}, sqlite3.OperationalError(
    ...     "database is locked")))
    'locked'
    >>> unavailable_reason(ValueError("bad value")) is None
    True
    """
    if not isinstance(exc, DBAPIError) or isinstance(
        exc, IntegrityError | ProgrammingError | DataError
    ):
        return None
    if exc.connection_invalidated:
        return "unreachable"
    text = str(exc.orig or exc).lower()
    for word, cause in _CAUSES:
        if word in text:
            return cause
    if isinstance(exc, InterfaceError):
        return "unavailable"
    return None  # e.g. "no such table": not a matter of availability


def _store_error(engine: Engine, action: str, exc: SQLAlchemyError) -> StoreError:
    cause: BaseException = getattr(exc, "orig", None) or exc
    reason = unavailable_reason(exc)
    if reason is not None:
        return StoreUnavailableError(
            f"Could not {action} in the operational store at "
            f"{safe_url(engine.url)}: it is unavailable ({reason}). Retry shortly; "
            "the chained database error has details.",
            reason=reason,
        )
    detail = type(cause).__name__
    if isinstance(cause, TypeError | ValueError) or isinstance(exc, IntegrityError):
        # Our own bind processing (JSON encoding, naive datetimes) and constraint
        # violations describe the offending value, never the SQL: safe to show.
        detail += ": " + str(cause).strip().splitlines()[0]
    hint = _missing_schema_hint(engine) or " The chained database error has details."
    return StoreError(
        f"Could not {action} in the operational store at {safe_url(engine.url)}: "
        f"{detail}.{hint}"
    )


def _missing_schema_hint(engine: Engine) -> str:
    try:
        present = set(inspect(engine).get_table_names())
    except SQLAlchemyError:
        return " Check that the database server is running and reachable."
    missing = sorted(set(metadata.tables) - present)
    if missing:
        return (
            f" Tables {missing} do not exist: call OperationalStore.create_schema() "
            "(OperationalStore.from_settings does it for you)."
        )
    return ""
