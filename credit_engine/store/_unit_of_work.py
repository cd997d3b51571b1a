"""One transaction of the operational store, shared by its repositories."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection, Engine

from credit_engine.store._engine import translate_errors
from credit_engine.store._repo_decisions import DecisionRepository
from credit_engine.store._repo_overrides import OverrideRepository
from credit_engine.store._repo_runs import RatingRunRepository
from credit_engine.store._repo_warnings import WarningRepository

__all__ = ["UnitOfWork", "begin_write", "open_unit_of_work", "open_reader"]

# How long a SQLite writer waits for another process's write lock (a rating run
# writes 100,000 decisions in one transaction) before giving up.
SQLITE_BUSY_MS = 30_000


class UnitOfWork:
    """One open transaction and the store's repositories working in it.

    Everything written through :attr:`runs`, :attr:`decisions`,
    :attr:`overrides` or directly through :attr:`connection` commits together
    or rolls back together. Obtain one from
    :meth:`OperationalStore.unit_of_work
    <credit_engine.store.OperationalStore.unit_of_work>`; wrap a connection
    whose transaction someone else manages with ``UnitOfWork(connection)``.

    Parameters
    ----------
    connection : sqlalchemy.Connection
        The transaction's connection.

    Attributes
    ----------
    connection : sqlalchemy.Connection
        Write other rows (an audit entry, say) through it.
    runs : RatingRunRepository
        Rating runs and their decisions (writes, lists).
    decisions : DecisionRepository
        Queries on decisions.
    overrides : OverrideRepository
        Manual overrides.
    warnings : WarningRepository
        Early warnings: evaluations recorded, lists, status moves.

    Examples
    --------
    >>> import datetime as dt
    >>> from credit_engine.store import OperationalStore
    >>> with OperationalStore("sqlite://") as store:
    ...     store.create_schema()
    ...     with store.unit_of_work("record two overrides") as uow:
    ...         ids = [
    ...             uow.overrides.add_override(
    ...                 code, "D", "fraud case 117", "officer.li", dt.date(2025, 9, 1)
    ...             )
    ...             for code in ("91350200MA2Y0K3Q0N", "91110000600037341L")
    ...         ]
    ...     ids
    [1, 2]
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.runs = RatingRunRepository(connection)
        self.decisions = DecisionRepository(connection)
        self.overrides = OverrideRepository(connection)
        self.warnings = WarningRepository(connection)

    def __repr__(self) -> str:
        return f"UnitOfWork({self.connection.engine!r})"


def begin_write(
    conn: Connection,
    *,
    immediate: bool = False,
    durable: bool = True,
    busy_timeout_ms: int | None = None,
) -> str | None:
    """Begin the write transaction of ``conn``; return a statement to run after it.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection without an open transaction.
    immediate : bool, default=False
        On SQLite, take the database write lock now (``BEGIN IMMEDIATE``),
        waiting up to 30 s for another writer, instead of at the first write
        (where a busy database fails at once). Use it for read-then-write
        transactions that must serialise. PostgreSQL locks rows as they are
        written (or read ``FOR UPDATE``) either way.
    durable : bool, default=True
        ``False`` trades the last commits before a power loss for speed: SQLite
        commits with ``PRAGMA synchronous=NORMAL``, PostgreSQL with
        ``synchronous_commit = off``.
    busy_timeout_ms : int, optional
        How long to wait for another writer's lock before the store counts as
        unavailable (default: 30 s): SQLite's ``busy_timeout`` for an immediate
        transaction, PostgreSQL's ``lock_timeout`` for this transaction.

    Returns
    -------
    str or None
        A statement that restores the connection's settings once the
        transaction has ended (``None``: nothing to restore).
    """
    if conn.dialect.name != "sqlite":
        conn.begin()
        if not durable:
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        if busy_timeout_ms is not None:
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(busy_timeout_ms)}")
        return None
    dbapi = conn.connection
    wanted = SQLITE_BUSY_MS if busy_timeout_ms is None else int(busy_timeout_ms)
    if immediate and dbapi.info.get("ce_busy_timeout") != wanted:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {wanted}")
        dbapi.info["ce_busy_timeout"] = wanted
    restore = None
    if not durable:
        level = conn.exec_driver_sql("PRAGMA synchronous").scalar()
        conn.exec_driver_sql("PRAGMA synchronous = NORMAL")
        restore = f"PRAGMA synchronous = {int(level or 2)}"
    if immediate:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif not conn.in_transaction():
        conn.begin()
    return restore


@contextlib.contextmanager
def open_unit_of_work(
    engine: Engine,
    action: str,
    *,
    immediate: bool = False,
    durable: bool = True,
    busy_timeout_ms: int | None = None,
) -> Iterator[UnitOfWork]:
    """Open a connection, begin, yield a :class:`UnitOfWork`, commit or roll back.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store's engine.
    action : str
        What the transaction does, for error messages.
    immediate, durable : bool
        See :func:`begin_write`.
    busy_timeout_ms : int, optional
        See :func:`begin_write`.

    Yields
    ------
    UnitOfWork
        Committed when the block ends normally, rolled back if it raises.
    """
    with translate_errors(engine, action), engine.connect() as conn:
        restore = begin_write(
            conn, immediate=immediate, durable=durable, busy_timeout_ms=busy_timeout_ms
        )
        try:
            yield UnitOfWork(conn)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            if restore is not None:
                conn.exec_driver_sql(restore)
                conn.commit()


@contextlib.contextmanager
def open_reader(engine: Engine, action: str) -> Iterator[UnitOfWork]:
    """Yield a :class:`UnitOfWork` for reads; its transaction is rolled back.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store's engine.
    action : str
        What is read, for error messages.

    Yields
    ------
    UnitOfWork
    """
    with translate_errors(engine, action), engine.connect() as conn:
        yield UnitOfWork(conn)
