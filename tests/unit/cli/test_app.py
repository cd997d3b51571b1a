"""The command modules register themselves on one app, in the --help order."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

import credit_engine.cli as cli
from credit_engine import __version__
from credit_engine.cli import _app
from tests.processes import REPO_ROOT

HELP_ORDER = [
    "simulate", "ingest", "demo", "features", "contracts", "uscc", "adapt-cumcm",
    "train", "promote", "models", "evaluate", "rate", "migrations", "override",
    "freshness", "monitor", "warnings", "serve", "openapi", "report", "keys", "audit",
    "db", "mapping",
]  # fmt: skip


def test_the_package_exposes_the_one_app_and_main():
    assert cli.app is _app.app
    assert set(cli.__all__) == {"app", "main"}


def test_commands_keep_their_names_and_help_order():
    group = typer.main.get_command(cli.app)
    assert list(group.commands) == HELP_ORDER


def test_each_command_is_declared_by_its_own_module():
    where = {
        (info.name or info.callback.__name__): info.callback.__module__
        for info in cli.app.registered_commands
    }
    assert where["simulate"] == "credit_engine.cli._simulate"
    assert where["adapt-cumcm"] == "credit_engine.cli._cumcm"
    assert where["demo"] == "credit_engine.cli._demo"
    assert where["rate"] == "credit_engine.cli._rating"
    assert where["freshness"] == "credit_engine.cli._freshness"
    assert where["monitor"] == "credit_engine.cli._monitor"
    assert set(where.values()) <= {m.__name__ for m in cli._COMMAND_MODULES}


def test_version_option():
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == __version__


def test_python_dash_m_runs_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "credit_engine.cli", "uscc", "91110000600037341L"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout
