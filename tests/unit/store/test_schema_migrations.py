"""Alembic migrations of the store: empty databases, release-0.1.0 stores, races."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, Column, Integer, MetaData, event, select, text

import credit_engine.store
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore
from credit_engine.exceptions import StoreError
from credit_engine.store import (
    BASELINE_REVISION,
    SCHEMA_REVISION,
    OperationalStore,
    alembic_config,
    current_revision,
    head_revision,
    metadata,
    revision_history,
    schema_differences,
)
from tests.store_backends import REPO_ROOT
from tests.unit.store.factories import decision, make_run
from tests.unit.store.schema_helpers import (
    RELEASE_KEY,
    STORE_TABLES,
    backend_of,
    differences,
    fixture_statements,
    load_release_store,
    sqlite_ddl,
    statement_table,
    table_names,
)

SEP = dt.date(2025, 9, 30)
OCT = dt.date(2025, 10, 31)
U1, U2 = "91350200MA2Y0K3Q0N", "91110000600037341L"


# ------------------------------------------------------------------ revisions
def test_the_head_constant_names_the_newest_script():
    # Bump SCHEMA_REVISION to the new rev_id whenever a revision is added: the
    # start-up check compares the database with it.
    assert head_revision() == SCHEMA_REVISION
    history = revision_history()
    assert history[0].revision == BASELINE_REVISION
    assert history[0].down_revision is None
    assert history[-1].revision == SCHEMA_REVISION
    assert "release 0.1.0" in history[0].message


def test_the_scripts_ship_inside_the_package_and_need_no_ini(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no alembic.ini anywhere near
    scripts = ScriptDirectory.from_config(alembic_config())
    package = Path(credit_engine.store.__file__).parent
    assert Path(scripts.dir).resolve() == (package / "migrations").resolve()
    assert (package / "migrations" / "script.py.mako").is_file()
    assert [s.revision for s in scripts.walk_revisions()][-1] == BASELINE_REVISION


def test_the_baseline_renders_offline_sql_for_postgresql():
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", "postgresql+psycopg://ce@db/ratings")
    config.output_buffer = io.StringIO()
    command.upgrade(config, "head", sql=True)
    sql = config.output_buffer.getvalue()
    assert sql.count("CREATE TABLE") == len(STORE_TABLES) + 1  # + alembic_version
    assert "CONSTRAINT ck_decisions_tier CHECK (tier IN ('A', 'B', 'C', 'D'))" in sql
    assert "CREATE INDEX ix_decisions_as_of_uscc ON decisions (as_of, uscc)" in sql


# --------------------------------------------------------------- empty stores
def test_upgrade_head_on_an_empty_database_yields_exactly_the_models(store_url):
    with OperationalStore(store_url) as store:
        store.create_schema()
        assert differences(store.engine, metadata) == []
        assert current_revision(store.engine) == SCHEMA_REVISION
        assert table_names(store.engine) == STORE_TABLES | {"alembic_version"}


def test_the_comparison_sees_a_difference_when_there_is_one(store):
    # The check above is not vacuous on either backend.
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["overrides"].append_column(Column("extra", Integer))
    changed.tables["api_keys"].append_constraint(
        CheckConstraint("length(role) > 0", name="role_not_empty")
    )
    found = [d for d in differences(store.engine, changed) if isinstance(d, tuple)]
    assert any(d[0] == "add_column" and d[3].name == "extra" for d in found), found
    assert any(d[0] == "check_constraints" and d[1] == "api_keys" for d in found)


def test_the_baseline_creates_the_release_ddl_on_sqlite(tmp_path):
    # SQLite keeps each CREATE statement verbatim: the migration must emit what
    # release 0.1.0's create_all emitted, to the character.
    release = {
        statement_table(s) if s.startswith("CREATE TABLE") else s.split()[2]: " ".join(
            s.split()
        )
        for s in fixture_statements("sqlite")
        if s.startswith("CREATE")
    }
    with (
        OperationalStore(f"sqlite:///{tmp_path / 'store.db'}") as store,
        store.engine.begin() as conn,
    ):
        # The baseline alone: later revisions change the schema on purpose.
        command.upgrade(alembic_config(conn), BASELINE_REVISION)
    assert sqlite_ddl(tmp_path / "store.db") == release


def test_create_schema_on_a_current_store_only_reads(store):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        store.create_schema()
    finally:
        event.remove(store.engine, "before_cursor_execute", record)
    assert statements
    assert all(
        s.lstrip().upper().startswith(("SELECT", "PRAGMA")) for s in statements
    ), statements
    assert not any("advisory" in s or "IMMEDIATE" in s for s in statements)


def test_downgrading_the_baseline_drops_every_table(store):
    with store.engine.connect() as conn:
        command.downgrade(alembic_config(conn), "base")
        conn.commit()
    assert table_names(store.engine) & STORE_TABLES == set()
    assert current_revision(store.engine) is None
    store.create_schema()  # and back up again
    assert differences(store.engine, metadata) == []


# ------------------------------------------------------- release 0.1.0 stores
def test_a_release_0_1_0_store_is_upgraded_in_place_with_its_data(store_url):
    load_release_store(store_url)
    with OperationalStore(store_url) as store:
        assert current_revision(store.engine) is None
        store.create_schema()
        assert current_revision(store.engine) == SCHEMA_REVISION
        assert differences(store.engine, metadata) == []

        # The rows survived, and read back as before.
        runs = store.runs()
        assert runs["run_id"].tolist() == [1]
        assert runs.loc[0, "summary"]["seconds"] == 187.25
        got = store.decisions_at(SEP)
        assert got["uscc"].tolist() == [U2, U1]
        assert got["tier"].tolist() == ["D", "A"]
        assert got.loc[0, "facts"] == [
            {"code": "R_TAX_ARREARS", "amount": 12000.5, "months": [7, 8]}
        ]
        assert got.loc[0, "override_id"] == 1
        in_force = store.overrides_in_force(SEP)
        assert in_force["override_id"].tolist() == [1]
        assert in_force.loc[0, "created_at"] == dt.datetime(
            2025, 9, 1, 8, 30, tzinfo=dt.UTC
        )
        log = AuditLog(store)
        assert log.verify().ok
        assert log.head()[0] == 2
        keys = KeyStore(store, audit=log, cache_ttl=0)
        assert keys.authenticate(RELEASE_KEY).name == "customs-gateway"

        # New rows take the next ids (PostgreSQL sequences included).
        assert store.record_run(make_run(OCT), [decision(U1)]) == 2
        assert store.add_override(U1, "C", "probe", "sup", OCT) == 2
        # Issue 14: the first append to a store from before table coverage
        # records a coverage_baseline entry (seq 3) digesting its rows first.
        assert log.append("decision", "api", {"n": 1}).seq == 4
        assert log.get(3).kind == "coverage_baseline"
        assert log.verify().ok

    with OperationalStore(store_url) as again:  # a second start changes nothing
        again.create_schema()
        assert again.rating_dates() == [SEP, OCT]


def test_a_release_store_without_the_audit_and_key_tables_gets_them(store_url):
    # Release 0.1.0 created the audit and key tables on first use only.
    load_release_store(store_url, tables={"rating_runs", "overrides", "decisions"})
    with OperationalStore(store_url) as store:
        assert table_names(store.engine) & STORE_TABLES == {
            "rating_runs",
            "overrides",
            "decisions",
        }
        store.create_schema()
        assert current_revision(store.engine) == SCHEMA_REVISION
        assert differences(store.engine, metadata) == []
        assert store.decisions_at(SEP)["uscc"].tolist() == [U2, U1]
        assert AuditLog(store).verify().ok


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ("ALTER TABLE overrides ADD COLUMN note VARCHAR(20)", "column overrides.note"),
        ("DROP INDEX ix_decisions_uscc_as_of", "ix_decisions_uscc_as_of"),
    ],
)
def test_an_unversioned_store_that_differs_is_refused_and_left_alone(
    store_url, change, named
):
    load_release_store(store_url)
    with OperationalStore(store_url) as store:
        with store.engine.begin() as conn:
            conn.exec_driver_sql(change)
        before = table_names(store.engine)
        with pytest.raises(
            StoreError,
            match=r"without a schema revision \(no alembic_version table\), but they "
            r"differ from the schema of release 0\.1\.0: .*" + named,
        ):
            store.create_schema()
        assert table_names(store.engine) == before
        assert "alembic_version" not in before
        # Read the rows as release 0.1.0 stored them (no later column).
        with store.engine.connect() as conn:
            assert conn.scalars(text("SELECT run_id FROM rating_runs")).all() == [1]


def test_other_applications_tables_are_left_alone(store_url):
    with OperationalStore(store_url) as store:
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE other_app (id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO other_app (id) VALUES (7)"))
        store.create_schema()
        with store.engine.connect() as conn:
            # schema_differences ignores tables the store does not declare.
            assert schema_differences(conn, metadata) == []
            assert conn.execute(text("SELECT id FROM other_app")).scalar() == 7


# ---------------------------------------------------------------- races
_STARTER = textwrap.dedent(
    """
    import sys
    import alembic.command  # import before the barrier: race on the lock only
    from credit_engine.store import OperationalStore

    with OperationalStore(sys.argv[1]) as store:
        sys.stdout.write("ready\\n")
        sys.stdout.flush()
        sys.stdin.readline()
        store.create_schema()
        sys.stdout.write(str(store.rating_dates()) + "\\n")
    """
)


@pytest.mark.parametrize("release", [False, True], ids=["fresh", "release_0_1_0"])
def test_processes_starting_together_migrate_the_database_once(store_url, release):
    if release:
        load_release_store(store_url)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _STARTER, store_url],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for proc in procs:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        outputs.append(out.strip())
    expected = "[datetime.date(2025, 9, 30)]" if release else "[]"
    assert outputs == [expected] * 3
    with OperationalStore(store_url) as store:
        assert current_revision(store.engine) == SCHEMA_REVISION
        assert differences(store.engine, metadata) == []
        with store.engine.connect() as conn:
            versions = conn.execute(
                select(text("version_num")).select_from(text("alembic_version"))
            ).all()
        assert len(versions) == 1
        if release:
            assert store.runs()["run_id"].tolist() == [1]


def test_every_table_is_on_the_metadata_without_importing_audit_or_auth():
    code = (
        "import sys; from credit_engine.store import metadata; "
        "print(sorted(metadata.tables)); "
        "print(any(m.startswith(('credit_engine.audit', 'credit_engine.auth')) "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    assert out[0] == str(sorted(STORE_TABLES))
    assert out[1] == "False"


def test_backend_of_fixture_urls():
    assert backend_of("sqlite:///x.db") == "sqlite"
    assert backend_of("postgresql+psycopg://ce@db/x") == "postgresql"


def test_a_store_migrated_by_a_newer_release_is_refused_untouched(store):
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(
        StoreError,
        match=r"is at schema revision 9999, which this version of credit-engine does "
        r"not know \(its newest is " + head_revision() + r"\): a newer release "
        r"migrated it",
    ):
        store.create_schema()
    assert current_revision(store.engine) == "9999"


def test_revision_0005_keeps_the_keys_and_allows_auditors(tmp_path):
    # A store at 0001 with a key, upgraded: the key survives the table copy that
    # SQLite needs to change the role CHECK; auditors are then allowed; and the
    # downgrade restores the four roles.
    from sqlalchemy.exc import IntegrityError

    from credit_engine.auth import KeyStore

    url = f"sqlite:///{tmp_path / 'store.db'}"
    with OperationalStore(url) as store:
        with store.engine.begin() as conn:
            command.upgrade(alembic_config(conn), BASELINE_REVISION)
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_keys (name, role, key_prefix, key_hash, "
                    "created_at, created_by) "
                    "VALUES ('old', 'admin', 'ce_x', :h, :t, 'ops')"
                ),
                {"h": "0" * 64, "t": dt.datetime(2026, 1, 1)},
            )
        store.create_schema()
        assert current_revision(store.engine) == SCHEMA_REVISION
        keys = KeyStore(store)
        assert keys.get("old").role == "admin"
        keys.create("aud", "auditor", created_by="ops")
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM api_keys WHERE role = 'auditor'"))
            command.downgrade(alembic_config(conn), BASELINE_REVISION)
        with store.engine.begin() as conn:
            with pytest.raises(IntegrityError, match="CHECK constraint failed"):
                conn.execute(text("UPDATE api_keys SET role = 'auditor'"))
