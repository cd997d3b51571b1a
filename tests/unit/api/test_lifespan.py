"""The app survives nested and repeated lifespans (test clients, schema loaders)."""

from __future__ import annotations

import sys

from fastapi.testclient import TestClient

from credit_engine.api import create_app
from credit_engine.audit import AuditLog
from credit_engine.auth import KeyStore, Role
from credit_engine.config import Settings
from credit_engine.store import OperationalStore


def test_nested_and_repeated_lifespans_keep_the_audit_writer_running(tmp_path):
    settings = Settings(home=tmp_path / "home")
    store = OperationalStore.from_settings(settings)
    store.create_schema()
    token = KeyStore(store).create("ops", Role.ADMIN, created_by="t")[1]
    admin = {"Authorization": f"Bearer {token}"}
    app = create_app(settings, store=store, load_on_start=False)
    services = app.state.services
    with TestClient(app) as outer:
        first = services.writer
        with TestClient(app) as inner:  # e.g. a schema loader's own client
            assert inner.get("/healthz").status_code == 200
        assert services.writer is first
        assert not first.closed  # the inner lifespan's end stopped nothing
        # A reload is audited through the writer (no model here: 503, logged).
        assert outer.post("/v1/admin/reload", headers=admin).status_code == 503
        assert outer.get("/readyz").json()["detail"] != ""
    assert first.closed
    before = AuditLog(store).head()[0]
    with TestClient(app) as again:  # a new lifespan gets a new writer
        assert services.writer is not first
        assert again.post("/v1/admin/reload", headers=admin).status_code == 503
    assert AuditLog(store).head()[0] > before


def test_the_switch_interval_and_audit_durability_follow_the_settings(tmp_path):
    before = sys.getswitchinterval()
    settings = Settings(
        home=tmp_path / "home", api_switch_interval_ms=2.5, audit_durability="process"
    )
    app = create_app(settings, load_on_start=False)
    assert app.state.services.audit.durable is False
    with TestClient(app):
        assert sys.getswitchinterval() == 0.0025
    assert sys.getswitchinterval() == before  # restored when the API stops
    default = create_app(Settings(home=tmp_path / "other"), load_on_start=False)
    assert default.state.services.audit.durable is True
