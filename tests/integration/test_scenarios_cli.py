"""`credit-engine simulate --scenario`: by name and by file, then ingested cleanly.

A zone with a shipped feed outage (by name) and a small refund ring (from a YAML
file) is simulated through the CLI and ingested: the truth lists both scenarios,
and ingesting the tables the outage cut still catches exactly the dirty rows
the simulator recorded (an outage removes rows after the dirty rows are
injected, so their row numbers must have been renumbered).
"""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.data import Lake, ingest_batch
from credit_engine.simulation import audit_ingestion

pytestmark = pytest.mark.integration

runner = CliRunner()


def test_simulate_with_scenarios_by_name_and_file_then_ingest(tmp_path):
    ring = tmp_path / "small_ring.yaml"
    ring.write_text(
        yaml.safe_dump(
            {
                "kind": "refund_ring",
                "description": "A small ring for the CLI test.",
                "start": "2026-02-01",
                "size": 10,
                "new_shells": 2,
            }
        )
    )
    out = tmp_path / "zone" / "records"
    result = runner.invoke(
        app,
        ["simulate", "--enterprises", "300", "--start", "2026-01-01",
         "--end", "2026-09-30", "--seed", "3", "--out", str(out),
         "--scenario", "feed_outage_customs", "--scenario", str(ring),
         "--home", str(tmp_path / "home")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    truth = tmp_path / "zone" / "records_truth"
    manifest = json.loads((truth / "manifest.json").read_text())
    names = [s["name"] for s in manifest["scenarios"]]
    assert names == ["feed_outage_customs", "small_ring"]
    scenarios = pd.read_parquet(truth / "scenarios.parquet")
    assert set(scenarios["scenario"]) == set(names)
    assert (scenarios["role"] == "RING_SHELL").sum() == 2
    withheld = scenarios.loc[scenarios["role"] == "FEED_TABLE", "records_withheld"]
    assert withheld.sum() > 0

    # Ingest the tables the outage cut (the others are as without scenarios).
    stopped = sorted(scenarios.loc[scenarios["role"] == "FEED_TABLE", "table"])
    batch, batch_truth = tmp_path / "customs", tmp_path / "customs_truth"
    batch.mkdir()
    batch_truth.mkdir()
    for table in stopped:
        shutil.copy(out / f"{table}.parquet", batch / f"{table}.parquet")
    dirty = pd.read_parquet(truth / "dirty_rows.parquet")
    dirty[dirty["table"].isin(stopped)].to_parquet(batch_truth / "dirty_rows.parquet")
    settings = Settings(home=tmp_path / "home")
    report = ingest_batch(batch, settings)
    assert sorted(report.tables) == stopped
    audit = audit_ingestion(
        batch_truth, Lake(settings.lake_dir, settings.quarantine_dir), report
    )
    assert audit.ok, audit


def test_an_unknown_scenario_is_a_clear_error(tmp_path):
    result = runner.invoke(
        app,
        ["simulate", "--enterprises", "50", "--scenario", "tsunami",
         "--home", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "No scenario named 'tsunami'" in text
    assert "Traceback" not in result.output
