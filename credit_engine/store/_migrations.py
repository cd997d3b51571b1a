"""Schema migrations of the operational store: Alembic, driven from code.

The revisions live in ``credit_engine/store/migrations/versions`` and ship in
the wheel; no ``alembic.ini`` is needed (:func:`alembic_config` builds the
configuration). :func:`upgrade_schema` is what
:meth:`OperationalStore.create_schema` runs:

1. if the database is already at the head revision, nothing else happens (one
   read, no lock, no import of Alembic: the API and every command call it at
   start);
2. otherwise it takes the database's schema lock (PostgreSQL: a transaction-scoped
   advisory lock; SQLite: ``BEGIN IMMEDIATE``, the write lock), so that two
   processes starting on one fresh database migrate it once, the second one
   waiting and then finding it done;
3. a store made by release 0.1.0 (its tables present, no ``alembic_version``)
   gets the tables that release would still have created, is compared with the
   baseline revision and stamped at it; a store that differs is refused,
   untouched: nothing is ever dropped or recreated;
4. ``upgrade head`` runs in the same transaction, which commits at the end.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import zlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import CheckConstraint, Connection, Engine, MetaData, inspect, text

from credit_engine.exceptions import StoreError
from credit_engine.store._engine import (
    create_store_engine,
    normalize_url,
    safe_url,
    translate_errors,
)
from credit_engine.store._schema import metadata
from credit_engine.store._unit_of_work import begin_write

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

__all__ = [
    "BASELINE_REVISION",
    "SCHEMA_REVISION",
    "SCRIPT_LOCATION",
    "SchemaRevision",
    "alembic_config",
    "current_revision",
    "head_revision",
    "revision_history",
    "run_environment",
    "schema_differences",
    "upgrade_schema",
]

SCRIPT_LOCATION = "credit_engine.store:migrations"
"""Where the migration scripts are: a package resource, found in any install."""

BASELINE_REVISION = "0001"
"""The revision that creates the schema of release 0.1.0 (stores made before
migrations existed are stamped at it)."""

SCHEMA_REVISION = "0007_console_indexes"
"""The head revision, i.e. the schema of :data:`credit_engine.store.metadata`.

Kept as a constant so that checking an up-to-date database at start imports
nothing of Alembic (about a second); a test checks it against the scripts. Set
it to the new ``rev_id`` whenever a revision is added."""

_VERSION_TABLE = "alembic_version"

# Any fixed 64-bit key; other applications sharing the database would have to
# pick the same one by accident.
_LOCK_KEY = zlib.crc32(b"credit_engine.store schema") + (0x4345 << 32)
_SHOWN = 8

_log = logging.getLogger("credit_engine.store")


class SchemaRevision(NamedTuple):
    """One migration: its id, the one it follows, and what it does."""

    revision: str
    down_revision: str | None
    message: str


def alembic_config(connection: Connection | None = None) -> Config:
    """Return the Alembic configuration of the store's migrations.

    Parameters
    ----------
    connection : sqlalchemy.Connection, optional
        The connection commands run on (``env.py`` uses it, and leaves its
        transaction to the caller when one is open). Commands that need no
        database (``history``, ``heads``, ``revision`` without autogenerate)
        work without it.

    Returns
    -------
    alembic.config.Config
        With ``script_location`` inside the installed package.

    Examples
    --------
    >>> from alembic import command
    >>> config = alembic_config()
    >>> config.get_main_option("script_location")
    'credit_engine.store:migrations'

    To write a new revision against a database at head (autogenerate compares
    it with :data:`credit_engine.store.metadata`)::

        with store.engine.begin() as conn:
            command.revision(alembic_config(conn), "add a column",
                             autogenerate=True, rev_id="0002")
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """Return the newest revision (the schema of this release).

    Examples
    --------
    >>> head_revision() == SCHEMA_REVISION
    True
    """
    head = _scripts().get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise StoreError(
            "The store's migration scripts are missing from the installed package "
            "(credit_engine/store/migrations/versions); reinstall credit-engine."
        )
    return head


def revision_history() -> list[SchemaRevision]:
    """Return every revision, oldest first.

    Examples
    --------
    >>> revision_history()[0].revision
    '0001'
    """
    revisions = [
        SchemaRevision(
            script.revision,
            _single(script.down_revision),
            (script.doc or "").strip(),
        )
        for script in _scripts().walk_revisions()
    ]
    return revisions[::-1]


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at (``None``: never migrated).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store's engine.

    Returns
    -------
    str or None

    Raises
    ------
    StoreError
        If the database cannot be read.
    """
    with (
        translate_errors(engine, "read the schema revision"),
        engine.connect() as conn,
    ):
        heads = _current_heads(conn)
    return ", ".join(heads) if heads else None


def _current_heads(conn: Connection) -> tuple[str, ...]:
    # What Alembic's MigrationContext.get_current_heads() reads, without
    # importing Alembic.
    if not inspect(conn).has_table(_VERSION_TABLE):
        return ()
    rows = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}"))
    return tuple(sorted(str(v) for v in rows.scalars()))


def upgrade_schema(engine: Engine) -> None:
    """Bring the database to the head revision (idempotent, safe to race).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The store's engine.

    Raises
    ------
    StoreError
        If the database cannot be reached, refuses the DDL, or holds tables of
        the store that match neither a revision nor release 0.1.0's schema.
    """
    with translate_errors(engine, "create the schema"):
        with engine.connect() as conn:
            if _current_heads(conn) == (SCHEMA_REVISION,):
                return
        from alembic import command

        with _schema_lock(engine) as conn:
            _refuse_unknown_revisions(conn)
            _adopt_unversioned_store(conn)
            command.upgrade(alembic_config(conn), "head")


def _refuse_unknown_revisions(conn: Connection) -> None:
    known = {script.revision for script in _scripts().walk_revisions()}
    unknown = [head for head in _current_heads(conn) if head not in known]
    if unknown:
        raise StoreError(
            f"The operational store at {safe_url(conn.engine.url)} is at schema "
            f"revision {', '.join(unknown)}, which this version of credit-engine "
            f"does not know (its newest is {head_revision()}): a newer release "
            "migrated it. Run that release (or newer) against this database; "
            "nothing was changed."
        )


@contextlib.contextmanager
def _schema_lock(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction that holds the schema lock; commit."""
    with engine.connect() as conn:
        begin_write(conn, immediate=True)
        try:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY}
                )
            yield conn
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def _baseline_metadata() -> MetaData:
    script = _scripts().get_revision(BASELINE_REVISION)
    if script is None:  # pragma: no cover - the package ships its revisions
        raise StoreError(f"The baseline revision {BASELINE_REVISION} is missing.")
    built = script.module.baseline_metadata()
    if not isinstance(built, MetaData):  # pragma: no cover - a bug
        raise TypeError("baseline_metadata() must return a MetaData; this is a bug")
    return built


def _adopt_unversioned_store(conn: Connection) -> None:
    """Stamp a store made by release 0.1.0 at the baseline, after checking it."""
    from alembic import command

    if _current_heads(conn):
        return
    baseline = _baseline_metadata()
    present = set(inspect(conn).get_table_names())
    found = sorted(present & set(baseline.tables))
    if not found:
        return  # an empty database (or only other applications' tables)
    missing = [t for t in baseline.sorted_tables if t.name not in present]
    # Release 0.1.0 created these on first use (the audit log, the API keys).
    baseline.create_all(conn, tables=missing)
    problems = schema_differences(conn, baseline)
    if problems:
        shown = "; ".join(problems[:_SHOWN])
        more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
        raise StoreError(
            f"The database at {safe_url(conn.engine.url)} holds the operational "
            f"store's tables {found} without a schema revision (no alembic_version "
            f"table), but they differ from the schema of release 0.1.0: {shown}"
            f"{more}. Nothing was changed. Repair these tables by hand to match "
            f"that schema, or point CREDIT_ENGINE_DATABASE_URL at an empty database "
            "and copy the data over."
        )
    _log.info(
        "Stamping the unversioned store at %s (tables %s, created %s) at revision %s",
        safe_url(conn.engine.url),
        found,
        [t.name for t in missing],
        BASELINE_REVISION,
    )
    command.stamp(alembic_config(conn), BASELINE_REVISION)


def schema_differences(conn: Connection, target: MetaData) -> list[str]:
    """List how the database's tables of ``target`` differ from it.

    Alembic's comparison (tables, columns, types, nullability, indexes, unique
    constraints, foreign keys) plus the names of the CHECK constraints, which
    Alembic does not compare. Tables of the database that ``target`` does not
    declare are ignored.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        A connection to the database.
    target : sqlalchemy.MetaData
        The expected tables.

    Returns
    -------
    list of str
        One sentence per difference; empty if none.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    names = set(target.tables)

    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return type_ != "table" or name in names

    migration = MigrationContext.configure(
        conn, opts={"compare_type": True, "include_name": include_name}
    )
    problems = [_describe(diff) for diff in compare_metadata(migration, target)]
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    for table in target.sorted_tables:
        if table.name not in present:
            continue
        expected = {
            str(c.name) for c in table.constraints if isinstance(c, CheckConstraint)
        }
        found = {str(c["name"]) for c in inspector.get_check_constraints(table.name)}
        if expected != found:
            problems.append(
                f"{table.name} has the CHECK constraints {sorted(found)}, expected "
                f"{sorted(expected)}"
            )
    return problems


def _describe(diff: Any) -> str:
    if isinstance(diff, list):
        return "; ".join(_describe(d) for d in diff)
    kind, *rest = diff
    if kind.startswith("modify_"):
        _, table, column, _, found, expected = rest
        return (
            f"{table}.{column} has {kind.removeprefix('modify_')} {found!r}, "
            f"expected {expected!r}"
        )
    if kind in ("add_column", "remove_column"):
        _, table, column = rest
        state = "is missing" if kind == "add_column" else "is not expected"
        return f"column {table}.{column.name} {state}"
    item = rest[-1]
    what = kind.split("_", 1)[1]
    name = getattr(item, "name", None) or item
    owner = getattr(getattr(item, "table", None), "name", None)
    where = f" on {owner}" if owner else ""
    state = "is missing" if kind.startswith("add_") else "is not expected"
    return f"{what} {name}{where} {state}"


def _single(value: str | Sequence[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return ", ".join(value)


def run_environment(config: Config) -> None:
    """Run the migrations Alembic asked for; the body of ``migrations/env.py``.

    Online, on ``config.attributes["connection"]`` if given (an open transaction
    is left to the caller), else on a connection to the ``sqlalchemy.url``
    option. Offline (``--sql``), the SQL is written for that URL's dialect.

    Parameters
    ----------
    config : alembic.config.Config
        The configuration of the running command.

    Raises
    ------
    StoreError
        If there is neither a connection nor a URL.
    """
    from alembic import context

    options: dict[str, Any] = {"target_metadata": metadata, "compare_type": True}
    connection = config.attributes.get("connection")
    url = config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    if connection is not None:
        _run_online(connection, options)
        return
    if not url:
        raise StoreError(
            "No database to migrate: run migrations through "
            "OperationalStore.create_schema(), or pass a connection with "
            "credit_engine.store.alembic_config(connection)."
        )
    engine = create_store_engine(normalize_url(url))
    try:
        with engine.connect() as own:
            _run_online(own, options)
    finally:
        engine.dispose()


def _run_online(connection: Connection, options: dict[str, Any]) -> None:
    from alembic import context

    # SQLite alters tables by copying them: later revisions need batch mode.
    context.configure(
        connection=connection,
        render_as_batch=connection.dialect.name == "sqlite",
        **options,
    )
    with context.begin_transaction():
        context.run_migrations()
