"""``credit-engine db upgrade|current|history``."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from credit_engine.cli import app as credit_engine_app
from credit_engine.store import head_revision
from tests.unit.store.schema_helpers import load_release_store


@pytest.fixture
def app() -> typer.Typer:
    return credit_engine_app


def test_current_then_upgrade_then_current(app, tmp_path):
    runner = CliRunner()
    home = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    load_release_store(f"sqlite:///{tmp_path / 'home' / 'credit_engine.db'}")
    before = runner.invoke(app, ["db", "current", "--home", home])
    assert before.exit_code == 0, before.output
    assert "no revision (empty, or made by release 0.1.0)" in before.output
    upgraded = runner.invoke(app, ["db", "upgrade", "--home", home])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"at {head_revision()} (head)" in upgraded.output
    after = runner.invoke(app, ["db", "current", "--home", home])
    assert f"{head_revision()} (head)" in after.output


def test_history_lists_the_baseline(app):
    result = CliRunner().invoke(app, ["db", "history"])
    assert result.exit_code == 0, result.output
    assert "0001" in result.output
    assert "release 0.1.0" in result.output


def test_a_refused_store_is_a_clean_error(app, tmp_path):
    (tmp_path / "credit_engine.db").write_bytes(b"not a database")
    result = CliRunner().invoke(app, ["db", "upgrade", "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert "error (store_error): Could not create the schema" in " ".join(
        result.output.split()
    )
