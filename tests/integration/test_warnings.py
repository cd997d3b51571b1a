"""Early warning on simulated zones: the command, the queue, and its quality.

The small zone (600 enterprises) has no refund ring: its quality is measured
against the simulator's latent refund fraudsters and true adverse events. The
refund-ring scenario (``--scenario refund_ring``) is the yardstick of issue 12;
its test runs once the simulator has scenarios.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.audit import AuditLog
from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.early_warning import (
    WarningSetup,
    load_truth,
    month_ends,
    warning_history,
    warning_quality,
)
from credit_engine.store import OperationalStore

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def home(ingested_zone, tmp_path_factory) -> Settings:
    source, _ = ingested_zone
    settings = Settings(home=tmp_path_factory.mktemp("warnings_home"))
    shutil.copytree(source.lake_dir, settings.lake_dir)
    shutil.copytree(source.quarantine_dir, settings.quarantine_dir)
    return settings


def test_the_command_stores_the_warnings_and_continues_them(home, tmp_path):
    runner = CliRunner()
    report = tmp_path / "w.json"
    first = runner.invoke(
        app,
        ["warnings", "--as-of", "2025-12-31", "--home", str(home.home), "--top", "5",
         "--report-json", str(report)],
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    assert "Early warnings at 2025-12-31" in first.output
    assert "EW-01 not evaluated: no stored rating run" in first.output
    summary = json.loads(report.read_text())
    assert set(summary["by_signal"]) == {f"EW-0{i}" for i in range(1, 10)}
    assert summary["warnings"] == sum(summary["by_signal"].values())
    assert summary["stored"]["opened"] == summary["warnings"]
    second = runner.invoke(
        app,
        ["warnings", "--as-of", "2026-01-31", "--home", str(home.home), "--top", "0",
         "--report-json", str(report)],
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    again = json.loads(report.read_text())
    store = OperationalStore.from_settings(home)
    stored = store.count_warnings()
    assert stored == summary["warnings"] + again["stored"]["opened"]
    assert again["stored"]["continued"] > 0  # seen again, not duplicated
    log = AuditLog(store)
    kinds = [e.kind for e in log.entries()]
    assert kinds.count("warnings_evaluated") == 2
    assert log.verify().ok
    bad = runner.invoke(
        app, ["warnings", "--as-of", "2026-13-01", "--home", str(home.home)]
    )
    assert bad.exit_code == 2
    assert "is not a date" in bad.output


def test_quality_against_the_small_zones_truth(home, zone):
    setup = WarningSetup.load(home)
    dates = month_ends(dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    history = warning_history(setup.evaluate, dates)
    truth = load_truth(Path(zone.truth_dir), since=dates[0])
    assert truth.kind == "refund_fraud"
    quality = warning_quality(history, truth, top=10)
    summary = quality.summary()
    assert summary["evaluations"] == 12
    assert set(summary["by_signal"]) <= {f"EW-0{i}" for i in range(1, 10)}
    # The top of the queue is far worse than the zone: a true adverse event within
    # a year (or a refund fraudster) several times more often than the base rate
    # (0.4 against 0.10 when measured).
    events = truth.adverse
    first = pd.Series(dates[0], index=events.index)
    later = (events["effective_date"] >= first) & (
        events["effective_date"] <= dates[0] + dt.timedelta(days=365)
    )
    base = events.loc[later, "uscc"].nunique() / zone.enterprises
    assert quality.precision_at_top_adverse >= 2 * base, (quality.summary(), base)


@pytest.fixture(scope="module")
def ring_quality(tmp_path_factory):
    """Monthly warnings on a 2,000-enterprise zone with the refund ring (60 members
    from 2025-07-01), measured against the simulator's truth."""
    from credit_engine.data import ingest_batch, load_contracts
    from credit_engine.simulation import SimulationConfig, load_scenario, simulate_zone

    tmp = tmp_path_factory.mktemp("refund_ring")
    settings = Settings(home=tmp / "home")
    simulate_zone(
        SimulationConfig(enterprises=2000, seed=7),
        load_contracts(settings.sources_dir),
        tmp / "records",
        tmp / "truth",
        scenarios=[load_scenario("refund_ring")],
    )
    ingest_batch(tmp / "records", settings)
    setup = WarningSetup.load(settings)
    dates = month_ends(dt.date(2025, 7, 1), dt.date(2026, 3, 31))
    history = warning_history(setup.evaluate, dates)
    return warning_quality(history, load_truth(tmp / "truth"), top=100), history


def test_the_refund_ring_is_found_early(ring_quality):
    quality, _ = ring_quality
    print(json.dumps({k: v for k, v in quality.summary().items() if k != "by_signal"}))
    assert quality.truth_kind == "refund_ring"
    assert quality.targets == 60
    # Issue 12's targets: precision at the top 100 >= 0.5, median lead >= 60 days.
    # Measured (2026-12-04): precision 0.54, recall 0.97 (58 of 60), 0.90 ahead
    # of any statutory fact, median lead 126 days, 88 % of leads >= 60 days.
    assert quality.precision_at_top >= 0.5, quality.summary()
    assert quality.median_lead_days >= 60, quality.summary()
    # Most members are warned, and ahead of any statutory fact.
    assert quality.recall >= 0.8, quality.summary()
    assert quality.recall_ahead >= 0.7, quality.summary()
    assert quality.share_lead_60 >= 0.5, quality.summary()


def test_the_ring_fires_its_behavioural_signals(ring_quality):
    quality, _ = ring_quality
    # The scheme's own patterns carry the ring: the refund surge after a change
    # of legal representative or address, the unit-value jump, third-party
    # receipts. Each warns most members, and members are far more common among
    # the enterprises it warns than in the zone (60 of 2,000: 3 %); measured
    # 53/151, 55/105 and 53/211 enterprises.
    base = quality.targets / 2000
    for code in ("EW-04", "EW-08", "EW-09"):
        counts = quality.by_signal[code]
        assert counts["targets"] >= 0.6 * quality.targets, (code, counts)
        assert counts["targets"] >= 5 * base * counts["enterprises"], (code, counts)
