"""``credit-engine report zone`` on the small simulated zone, with stored ratings."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zlib

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.config import Settings
from credit_engine.data import Lake, load_contracts
from credit_engine.store import OperationalStore, RatingRun
from credit_engine.vocabulary import Tier
from credit_engine.zone_statistics import SECTION_KEYS
from tests.unit.store.factories import decision

pytestmark = pytest.mark.integration

runner = CliRunner()
RATED = (dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30))


def _tier(uscc: str, as_of: dt.date) -> str:
    return Tier.values()[zlib.crc32(f"{uscc}{as_of}".encode()) % 4]


@pytest.fixture(scope="module")
def zone_home(ingested_zone, tmp_path_factory):
    """The small zone's lake with three rating runs of every enterprise."""
    source, _ = ingested_zone
    settings = Settings(home=tmp_path_factory.mktemp("zone_report_home"))
    shutil.copytree(source.lake_dir, settings.lake_dir)
    lake = Lake(settings.lake_dir)
    usccs = sorted(
        set(
            pd.concat(
                pd.read_parquet(f)["uscc"]
                for f in lake.table_files("samr_registration")
            )
        )
    )
    with OperationalStore.from_settings(settings) as store:
        for as_of in RATED:
            finished = dt.datetime.combine(as_of, dt.time(23), dt.UTC)
            run = RatingRun(
                as_of=as_of, started_at=finished - dt.timedelta(hours=1),
                finished_at=finished, actor="test", model_name="m", model_version="1",
                policy_name="zone", policy_version=2, rule_sets={}, lake_state="s",
            )  # fmt: skip
            rows = [decision(u, _tier(u, as_of)) for u in usccs]
            store.record_run(run, pd.DataFrame(rows))
    return settings, usccs


def test_report_zone_writes_html_json_and_csv(zone_home, tmp_path):
    settings, usccs = zone_home
    out = tmp_path / "report"
    extra = tmp_path / "zone.json"
    result = runner.invoke(
        app,
        ["report", "zone", "--from", "2026-01-01", "--to", "2026-06-30",
         "--period", "quarter", "--known-at", "2026-10-31", "--out", str(out),
         "--report-json", str(extra), "--home", str(settings.home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Treatment tiers" in result.output
    payload = json.loads((out / "zone_report.json").read_text(encoding="utf-8"))
    assert json.loads(extra.read_text(encoding="utf-8"))["sections"].keys() == (
        payload["sections"].keys()
    )
    assert (payload["from"], payload["to"], payload["period"]) == (
        "2026-01-01", "2026-06-30", "quarter",
    )  # fmt: skip
    assert payload["knowledge_cutoff"] == "2026-10-31"
    assert list(payload["sections"]) == list(SECTION_KEYS)
    tables = {
        name: pd.DataFrame(t["rows"])
        for s in payload["sections"].values()
        for name, t in s["tables"].items()
    }
    csv = sorted(p.stem for p in (out / "csv").glob("*.csv"))
    assert csv == sorted(tables)
    html = (out / "zone_report.html").read_text(encoding="utf-8")
    for key in SECTION_KEYS:
        assert f'id="{key}"' in html

    # The lake's freshness at the knowledge cutoff, one row per contract table.
    freshness = tables["freshness"]
    contracts = load_contracts(settings.sources_dir)
    assert sorted(freshness["table"]) == sorted(contracts)
    assert set(freshness["status"]) <= {"fresh", "late", "stale"}
    assert payload["sections"]["freshness"]["available"] is True

    # Every rated enterprise is counted once per period, in every breakdown.
    tiers = tables["tiers"].groupby("period")["enterprises"].sum()
    assert tiers.to_dict() == {"2026-Q1": len(usccs), "2026-Q2": len(usccs)}
    for name in ("tiers_by_district", "tiers_by_main_mode", "tiers_by_cbec_role"):
        assert tables[name].groupby("period")["enterprises"].sum().equals(tiers)
    summary = tables["migration_summary"]
    assert (summary["rated_both"] == len(usccs)).all()
    assert (
        (summary["upgrades"] + summary["downgrades"] + summary["unchanged"])
        .eq(summary["rated_both"])
        .all()
    )

    # Breakdowns add up to the totals.
    decl = tables["declarations"].set_index("period")
    for name in ("declarations_by_trade_mode", "declarations_by_district"):
        by = tables[name].groupby("period")[["declarations", "value_cny"]].sum()
        assert by["declarations"].equals(decl["declarations"])
        assert (by["value_cny"] - decl["value_cny"]).abs().max() < 1.0
    ent = tables["enterprises"].set_index("period")
    by_district = (
        tables["enterprises_by_district"].groupby("period")["registered"].sum()
    )
    assert by_district.equals(ent["registered"])


def test_declarations_match_an_independent_count_of_the_lake(zone_home, tmp_path):
    settings, _ = zone_home
    out = tmp_path / "monthly"
    result = runner.invoke(
        app,
        ["report", "zone", "--from", "2026-02-01", "--to", "2026-02-28",
         "--known-at", "2026-10-31", "--out", str(out), "--min-cell", "0",
         "--home", str(settings.home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    shared = pd.read_csv(out / "csv" / "declarations.csv")
    frame = pd.concat(
        pd.read_parquet(f)
        for f in Lake(settings.lake_dir).table_files("customs_declaration")
    )
    feb = frame[
        (frame["event_ts"] >= pd.Timestamp("2026-02-01", tz="UTC"))
        & (frame["event_ts"] < pd.Timestamp("2026-03-01", tz="UTC"))
        & (frame["ingested_at"] < pd.Timestamp("2026-11-01", tz="UTC"))
    ]
    assert shared["declarations"].tolist() == [len(feb)]
    assert shared["value_cny"].iloc[0] == pytest.approx(
        feb["value_cny"].sum(), abs=0.01
    )
    assert shared["enterprises"].tolist() == [feb["uscc"].nunique()]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2026-06-30", "--to", "2026-01-01"], "before it starts"),
        (["--from", "2026-01-01", "--to", "2026-06-30", "--period", "week"], "week"),
    ],
)
def test_report_zone_refuses_bad_requests(zone_home, args, message):
    settings, _ = zone_home
    result = runner.invoke(app, ["report", "zone", *args, "--home", str(settings.home)])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
