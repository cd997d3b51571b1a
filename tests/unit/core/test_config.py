from __future__ import annotations

from pathlib import Path

import pytest

from credit_engine.config import Settings
from credit_engine.exceptions import ConfigurationError


def test_everything_lives_under_the_home_by_default(tmp_path):
    s = Settings(home=tmp_path)
    for folder in (s.lake_dir, s.quarantine_dir, s.reports_dir, s.staging_dir):
        assert folder.parent == tmp_path
    assert s.mlflow_tracking_uri == f"sqlite:///{tmp_path}/mlflow/mlflow.db"
    assert s.database_url == f"sqlite:///{tmp_path}/credit_engine.db"


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDIT_ENGINE_HOME", str(tmp_path / "zone"))
    assert Settings().lake_dir == tmp_path / "zone" / "lake"


def test_explicit_folders_override_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDIT_ENGINE_LAKE_DIR", str(tmp_path / "elsewhere"))
    s = Settings(home=tmp_path / "home")
    assert s.lake_dir == tmp_path / "elsewhere"
    assert s.quarantine_dir == tmp_path / "home" / "quarantine"


def test_a_file_as_home_is_refused(tmp_path):
    target = tmp_path / "not-a-dir"
    target.write_text("x")
    with pytest.raises(ConfigurationError, match="is not a directory"):
        Settings(home=target)


def test_definitions_are_found_in_the_checkout():
    assert (Settings().sources_dir / "customs_declaration.yaml").is_file()
    assert Settings().definitions_dir == Path(__file__).resolve().parents[3]


def test_relative_paths_become_absolute_at_start_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = Settings(home=Path("rel-home"), reports_dir=Path("r"))
    assert s.home == tmp_path / "rel-home"
    assert s.lake_dir == tmp_path / "rel-home" / "lake"
    assert s.reports_dir == tmp_path / "r"
    assert s.database_url == f"sqlite:///{tmp_path}/rel-home/credit_engine.db"
