"""The command line, run in-process through Typer's runner (real files, real GX)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from credit_engine.cli import app

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_uscc_command_reports_the_expected_check_character():
    ok = runner.invoke(app, ["uscc", "91110000600037341L"])
    assert ok.exit_code == 0
    assert "valid" in ok.output
    bad = runner.invoke(app, ["uscc", "91110000600037341X"])
    assert bad.exit_code == 1
    assert "require 'L'" in " ".join(bad.output.split())


def test_demo_simulates_ingests_and_passes_its_self_check(tmp_path):
    result = runner.invoke(
        app, ["demo", "--enterprises", "150", "--no-models", "--home", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "Self-check" in result.output
    report = json.loads((tmp_path / "reports" / "latest-ingest.json").read_text())
    assert len(report["tables"]) == 20
    assert (tmp_path / "zone" / "records_truth" / "manifest.json").is_file()
    assert (tmp_path / "lake" / "_commits").is_dir()


def test_simulate_then_ingest_with_home_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CREDIT_ENGINE_HOME", str(tmp_path / "home"))
    out = tmp_path / "batch"
    sim = runner.invoke(
        app,
        ["simulate", "--enterprises", "120", "--start", "2024-01-01",
         "--end", "2024-12-31", "--seed", "5", "--out", str(out)],
    )  # fmt: skip
    assert sim.exit_code == 0, sim.output
    assert (tmp_path / "batch_truth" / "dirty_rows.parquet").is_file()
    report_path = tmp_path / "report.json"
    ing = runner.invoke(app, ["ingest", str(out), "--report-json", str(report_path)])
    assert ing.exit_code == 0, ing.output
    tables = json.loads(report_path.read_text())["tables"]
    for t in tables.values():
        assert t["rows_in"] == t["loaded"] + t["quarantined"] + t["duplicates"]
    assert (tmp_path / "home" / "lake" / "_commits").is_dir()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--start", "2025-13-01"],
         "'2025-13-01' is not a date; use YYYY-MM-DD"),
        (["simulate", "--start", "2025-01-01", "--end", "2024-01-01"],
         "end must be after start"),
        (["ingest", "does-not-exist"], "does-not-exist"),
    ],
)  # fmt: skip
def test_user_mistakes_get_a_clear_message_not_a_traceback(tmp_path, args, message):
    result = runner.invoke(app, [*args, "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
