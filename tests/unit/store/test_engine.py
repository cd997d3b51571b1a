"""Opening the store: URLs, SQLite pragmas, schema creation, settings, time zones."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from credit_engine.exceptions import ConfigurationError, StoreError
from credit_engine.store import OperationalStore, metadata, normalize_url
from tests.unit.store.factories import decision, make_run, uscc

SEP = dt.date(2025, 9, 30)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://ce@db:5432/ratings", "postgresql+psycopg"),
        ("postgres://ce@db/ratings", "postgresql+psycopg"),
        ("postgresql+psycopg://ce@db/ratings", "postgresql+psycopg"),
        ("sqlite:////srv/ce/store.db", "sqlite"),
        ("sqlite://", "sqlite"),
    ],
)
def test_urls_are_pinned_to_the_supported_drivers(url, driver):
    assert normalize_url(url).drivername == driver


def test_other_databases_are_refused_with_the_supported_list():
    with pytest.raises(
        ConfigurationError, match=r"uses the driver 'mysql\+pymysql'; supported are"
    ):
        OperationalStore("mysql+pymysql://ce:secret@db/ratings")


def test_an_unparseable_url_names_the_setting_to_fix():
    with pytest.raises(ConfigurationError, match="Set CREDIT_ENGINE_DATABASE_URL"):
        OperationalStore("not a url")


def test_the_password_never_shows():
    store = OperationalStore("postgresql://ce:secret@db.invalid/ratings")
    assert "secret" not in repr(store)
    assert "***" in repr(store)
    store.dispose()


def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path):
    with OperationalStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_create_schema_is_idempotent(store):
    store.create_schema()
    store.create_schema()
    tables = set(inspect(store.engine).get_table_names())
    assert {"rating_runs", "decisions", "overrides"} <= tables
    assert set(metadata.tables) <= tables
    indexes = {
        tuple(ix["column_names"])
        for ix in inspect(store.engine).get_indexes("decisions")
    }
    assert {("as_of", "uscc"), ("uscc", "as_of")} <= indexes


def test_a_store_without_schema_says_how_to_create_it(store_url):
    with OperationalStore(store_url) as store:
        with pytest.raises(
            StoreError, match=r"call OperationalStore.create_schema\(\)"
        ):
            store.rating_dates()


def test_from_settings_creates_the_folder_and_the_schema(settings_for, tmp_path):
    settings = settings_for(home=tmp_path / "deep" / "home")
    assert not settings.home.exists()
    with OperationalStore.from_settings(settings) as store:
        assert store.rating_dates() == []
    assert (tmp_path / "deep" / "home" / "credit_engine.db").is_file()


def test_from_settings_takes_the_database_url_on_each_backend(settings_for, store_url):
    settings = settings_for(database_url=store_url.replace("+psycopg", ""))
    with OperationalStore.from_settings(settings) as store:
        store.record_run(make_run(SEP), [decision(uscc(1))])
        assert store.rating_dates() == [SEP]
    # Reopening finds the data; create_schema leaves it alone.
    with OperationalStore.from_settings(settings) as store:
        assert store.rating_dates() == [SEP]


def test_instants_come_back_in_utc_whatever_the_session_time_zone(store, store_url):
    local = dt.timezone(dt.timedelta(hours=8))
    started = dt.datetime(2025, 10, 1, 9, 30, tzinfo=local)
    store.record_run(
        make_run(SEP, started_at=started, finished_at=started + dt.timedelta(hours=1)),
        [decision(uscc(1))],
    )
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"options": "-c timezone=Asia/Shanghai"})
    with OperationalStore(url) as other:
        if url.get_backend_name() == "postgresql":
            with other.engine.connect() as conn:
                zone = conn.execute(text("SHOW timezone")).scalar()
                assert zone == "Asia/Shanghai"
        runs = other.runs()
    assert runs.loc[0, "started_at"].isoformat() == "2025-10-01T01:30:00+00:00"
    assert runs.loc[0, "finished_at"].tzname() == "UTC"


def test_an_audit_append_on_sqlite_runs_no_connection_test(tmp_path):
    # A SQLite file connection cannot die in the pool: testing it at each
    # checkout ("SELECT 1") would be one more statement, and one more hand-over
    # of the interpreter lock, in each of the audit writer's transactions.
    from sqlalchemy import event

    from credit_engine.audit import AuditLog

    store = OperationalStore(f"sqlite:///{tmp_path / 'ping.db'}")
    log = AuditLog(store)
    log.append("test", "tester", {"n": 0})
    store.engine.dispose()  # the next checkout opens a traced connection
    statements: list[str] = []

    @event.listens_for(store.engine, "connect")
    def _trace(dbapi_connection, _record):
        dbapi_connection.set_trace_callback(statements.append)

    for n in range(1, 4):
        log.append("test", "tester", {"n": n})
    assert statements, "the trace saw nothing: the test is broken"
    assert not [s for s in statements if s.strip().upper() == "SELECT 1"], statements
    assert log.verify().ok
