"""Feed outages hold back delivery only: exactly the rows delivered inside them.

The outage zone stops the customs feed on 2025-11-01 (still down at the extract,
2025-12-31) and the tax feed from 2025-09-01 to 2025-11-01 (backlog delivered at
the end); everything else must be byte for byte the zone without scenarios.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.unit.simulation.scenario_zones import CUSTOMS_DOWN, TAX_BACKLOG

pytestmark = pytest.mark.xdist_group("scenarios")

CUSTOMS = [
    "customs_credit_level", "customs_declaration", "customs_inspection",
    "customs_penalty", "customs_registration", "customs_tax_bill",
]  # fmt: skip
TAX = [
    "export_refund_claim", "tax_credit_rating", "tax_filing", "tax_registration",
    "tax_violation", "vat_invoice",
]  # fmt: skip
STOP = pd.Timestamp(CUSTOMS_DOWN.start, tz="UTC")
TAX_STOP = pd.Timestamp(TAX_BACKLOG.start, tz="UTC")
TAX_RESUME = pd.Timestamp(TAX_BACKLOG.end, tz="UTC")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _row_hashes(frame: pd.DataFrame) -> np.ndarray:
    return np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy())


def test_an_outage_changes_no_other_table_and_not_the_truth(base_zone, outage_zone):
    base, out = base_zone.summary, outage_zone.summary
    for path in sorted(Path(base.out_dir).glob("*.parquet")):
        if path.stem not in CUSTOMS + TAX:
            assert _sha(path) == _sha(Path(out.out_dir) / path.name), path.stem
    for name in ("monthly", "adverse_events", "enterprises"):
        file = f"{name}.parquet"
        assert _sha(Path(base.truth_dir) / file) == _sha(Path(out.truth_dir) / file)
    dirty_base = base_zone.truth("dirty_rows")
    dirty_out = outage_zone.truth("dirty_rows")
    others = ~dirty_base["table"].isin(CUSTOMS)
    pd.testing.assert_frame_equal(
        dirty_base[others].reset_index(drop=True),
        dirty_out[~dirty_out["table"].isin(CUSTOMS)].reset_index(drop=True),
    )


@pytest.mark.parametrize("table", CUSTOMS)
def test_a_stopped_feed_loses_exactly_the_rows_delivered_after_it_stopped(
    table, base_zone, outage_zone
):
    base, out = base_zone.records(table), outage_zone.records(table)
    # A row whose ingested_at was blanked as dirty cannot be placed from the file.
    base_known = base.dropna(subset=["ingested_at"])
    before = base_known[base_known["ingested_at"] < STOP]
    assert len(before) < len(base_known) or table == "customs_registration"
    assert (out["ingested_at"].dropna() < STOP).all()
    np.testing.assert_array_equal(
        _row_hashes(out.dropna(subset=["ingested_at"])), _row_hashes(before)
    )
    withheld = outage_zone.truth("scenarios").query("table == @table")
    assert withheld["records_withheld"].item() == len(base) - len(out)


@pytest.mark.parametrize("table", CUSTOMS)
def test_dirty_rows_of_a_stopped_table_still_point_at_their_rows(
    table, base_zone, outage_zone
):
    def dirty_content(zone) -> pd.DataFrame:
        dirty = zone.truth("dirty_rows").query("table == @table")
        rows = zone.records(table).loc[dirty["row_number"]]
        frame = dirty[["kind", "column"]].reset_index(drop=True)
        frame["row"] = pd.util.hash_pandas_object(rows, index=False).to_numpy()
        frame["known"] = rows["ingested_at"].to_numpy()
        return frame[frame["known"].notna()]

    base, out = dirty_content(base_zone), dirty_content(outage_zone)
    kept = base[base["known"] < STOP]
    key = ["kind", "column", "row"]
    pd.testing.assert_frame_equal(
        kept.sort_values(key)[key].reset_index(drop=True),
        out.sort_values(key)[key].reset_index(drop=True),
    )


@pytest.mark.parametrize("table", TAX)
def test_a_resumed_feed_delivers_its_backlog_at_the_end_in_order(
    table, base_zone, outage_zone
):
    base, out = base_zone.records(table), outage_zone.records(table)
    assert len(base) == len(out)
    pd.testing.assert_frame_equal(
        base.drop(columns="ingested_at"), out.drop(columns="ingested_at")
    )
    was, now = base["ingested_at"], out["ingested_at"]
    held = (was >= TAX_STOP) & (was < TAX_RESUME)
    assert (now[held] >= TAX_RESUME).all()
    assert (now[held] < TAX_RESUME + pd.Timedelta(seconds=1)).all()
    moved = (now != was) & was.notna()
    assert (~held[moved] & (was[moved] >= TAX_RESUME)).sum() <= 5
    assert ((now - was)[moved & ~held] < pd.Timedelta(milliseconds=1)).all()
    assert not ((now >= TAX_STOP) & (now < TAX_RESUME)).any()
    # Every version of a record keeps its place: the latest stays the latest.
    key = ["uscc", "source_record_id"]
    rank_was = base.assign(t=was).groupby(key)["t"].rank(method="first")
    rank_now = base.assign(t=now).groupby(key)["t"].rank(method="first")
    pd.testing.assert_series_equal(rank_was, rank_now)
    delayed = outage_zone.truth("scenarios").query("table == @table")
    count = delayed["records_delayed"].item()
    assert held.sum() <= count <= held.sum() + was.isna().sum()


def test_a_payment_delivered_in_the_outage_leaves_an_unpaid_looking_bill(
    base_zone, outage_zone
):
    """The case the engine must not punish: the payment exists but never came."""
    bills = base_zone.clean("customs_tax_bill")
    paid_late = bills[bills["paid_date"].notna() & (bills["ingested_at"] >= STOP)]
    first = bills[bills["paid_date"].isna() & (bills["ingested_at"] < STOP)]
    cut = paid_late.merge(first, on=["uscc", "source_record_id"])
    assert len(cut) > 0
    seen = outage_zone.clean("customs_tax_bill")
    shown = seen[seen["source_record_id"].isin(cut["source_record_id"])]
    assert shown["paid_date"].isna().all()
    assert set(shown["source_record_id"]) == set(cut["source_record_id"])


def test_the_truth_lists_every_stopped_table_and_the_manifest_the_outages(
    outage_zone,
):
    feeds = outage_zone.truth("scenarios")
    assert set(feeds["role"]) == {"FEED_TABLE"}
    assert set(feeds["table"]) == set(CUSTOMS + TAX)
    customs = feeds[feeds["scenario"] == "customs_down"]
    assert set(customs["table"]) == set(CUSTOMS)
    assert customs["end_date"].isna().all()
    assert (customs["start_date"] == CUSTOMS_DOWN.start).all()
    tax = feeds[feeds["scenario"] == "tax_backlog"]
    assert (tax["end_date"] == TAX_BACKLOG.end).all()
    assert (tax["records_withheld"] == 0).all()
    manifest = json.loads(
        (Path(outage_zone.summary.truth_dir) / "manifest.json").read_text()
    )
    assert [s["name"] for s in manifest["scenarios"]] == ["customs_down", "tax_backlog"]
    assert manifest["scenarios"][0]["department"] == "CUSTOMS"
    assert manifest["scenario_counts"]["customs_down"]["records_withheld"] == int(
        customs["records_withheld"].sum()
    )
