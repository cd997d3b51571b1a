"""Helpers of the schema tests: load the release-0.1.0 fixture, compare schemas."""

from __future__ import annotations

import re
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, MetaData, create_engine, inspect

from tests.store_backends import REPO_ROOT

FIXTURES = REPO_ROOT / "tests" / "fixtures" / "store_release_0_1_0"
RELEASE_KEY = "ce_Fixture0Release010Key_ForUpgradeTests-00000"
STORE_TABLES = {
    "rating_runs",
    "decisions",
    "overrides",
    "audit_log",
    "audit_head",
    "api_keys",
    "console_accounts",
    "console_sessions",
    "warnings",
    "warning_occurrences",
}


def backend_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def fixture_statements(backend: str) -> list[str]:
    """The statements of the fixture file of ``backend`` (comments dropped)."""
    text = (FIXTURES / f"{backend}.sql").read_text()
    body = "\n".join(
        line for line in text.splitlines() if not line.lstrip().startswith("--")
    )
    return [s.strip() for s in re.split(r";\s*$", body, flags=re.M) if s.strip()]


def statement_table(statement: str) -> str | None:
    """The table a CREATE/INSERT/setval statement is about."""
    match = re.search(
        r"(?:CREATE TABLE|INSERT INTO|\bON|pg_get_serial_sequence\(')\s*(\w+)",
        statement,
    )
    return match.group(1) if match else None


def load_release_store(url: str, *, tables: set[str] | None = None) -> None:
    """Create the store release 0.1.0 would have left at ``url`` (no migrations)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in fixture_statements(backend_of(url)):
                if tables is None or statement_table(statement) in tables:
                    conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def differences(engine: Engine, target: MetaData) -> list[object]:
    """Alembic's differences between the database and ``target``, plus CHECKs."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs: list[object] = list(compare_metadata(context, target))
        inspector = inspect(conn)
        for table in target.sorted_tables:
            expected = {
                c.name for c in table.constraints if isinstance(c, CheckConstraint)
            }
            found = {c["name"] for c in inspector.get_check_constraints(table.name)}
            if expected != found:
                diffs.append(("check_constraints", table.name, found, expected))
    return diffs


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def sqlite_ddl(path: Path) -> dict[str, str]:
    """``name -> sql`` of every table and index in a SQLite file, blanks squeezed."""
    import sqlite3

    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name != 'alembic_version'"
        ).fetchall()
    return {name: " ".join(sql.split()) for name, sql in rows}
