"""Watermarks of the lake: per table and department, point in time, from commits."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_engine.data import Lake, TableCommit
from credit_engine.features import FrameSources
from credit_engine.freshness import lake_watermarks, source_watermarks
from credit_engine.vocabulary import Department


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def bills(contracts, ingested: list[str]) -> pa.Table:
    """One customs tax bill version per ingestion time."""
    contract = contracts["customs_tax_bill"]
    n = len(ingested)
    times = [ts(t).to_pydatetime() for t in ingested]
    columns = {
        "uscc": ["91350200MA2XYZ0001"] * n,
        "source_record_id": [f"B{i}" for i in range(n)],
        "entry_id": ["370320250000000001"] * n,
        "event_ts": [t - dt.timedelta(hours=3) for t in times],
        "tax_type": ["DUTY"] * n,
        "amount_cny": [100.0] * n,
        "due_date": [dt.date(2026, 1, 1)] * n,
        "paid_date": [None] * n,
        "ingested_at": times,
    }
    return pa.table(columns, schema=contract.arrow_schema())


def test_watermarks_are_point_in_time_and_roll_up_per_department(contracts):
    table = bills(contracts, ["2026-06-01 10:00", "2026-06-29 10:00", "2026-07-02"])
    sources = FrameSources({"customs_tax_bill": table}, contracts)
    now = source_watermarks(sources)
    mark = now.tables["customs_tax_bill"]
    assert mark.latest_ingested_at == dt.datetime(2026, 7, 2, tzinfo=dt.UTC)
    assert mark.rows == 3
    assert mark.department is Department.CUSTOMS
    # What was known by the end of 2026-06-30: not the version of 2026-07-02.
    then = source_watermarks(sources, dt.date(2026, 6, 30))
    mark = then.tables["customs_tax_bill"]
    assert mark.latest_ingested_at == dt.datetime(2026, 6, 29, 10, tzinfo=dt.UTC)
    assert mark.latest_event_at == dt.datetime(2026, 6, 29, 7, tzinfo=dt.UTC)
    assert (mark.rows, mark.watermark_date) == (2, dt.date(2026, 6, 29))
    # A table with no record has no watermark; its department has no oldest.
    empty = then.tables["customs_penalty"]
    assert (empty.latest_ingested_at, empty.rows) == (None, 0)
    customs = then.departments[Department.CUSTOMS]
    assert customs.oldest is None
    assert customs.latest == dt.datetime(2026, 6, 29, 10, tzinfo=dt.UTC)
    assert set(customs.tables) >= {"customs_tax_bill", "customs_penalty"}
    assert then.instants()["customs_tax_bill"] == mark.latest_ingested_at
    assert set(then.departments) == set(Department)


def test_only_committed_batches_count_and_their_commits_are_reported(
    tmp_path, contracts
):
    lake = Lake(tmp_path / "lake")
    part = tmp_path / "staging" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(bills(contracts, ["2026-06-01 10:00", "2026-06-29 10:00"]), part)
    target = "customs/customs_tax_bill/batch=b1/part-0.parquet"
    manifest = lake.commit(
        {part: lake.lake_dir / target},
        batch_id="b1",
        started_at=dt.datetime.now(dt.UTC),
        input_dir=tmp_path,
        tables={
            "customs_tax_bill": TableCommit(
                department="customs", rows_in=2, loaded=2, quarantined=0,
                duplicates=0, reasons={}, lake_files=(target,),
            )
        },
    )  # fmt: skip
    # A file of a batch whose commit marker was never written is invisible.
    orphan = lake.lake_dir / "customs/customs_tax_bill/batch=b2/part-0.parquet"
    orphan.parent.mkdir(parents=True)
    pq.write_table(bills(contracts, ["2026-09-01"]), orphan)
    marks = lake_watermarks(lake, contracts)
    mark = marks.tables["customs_tax_bill"]
    assert mark.latest_ingested_at == dt.datetime(2026, 6, 29, 10, tzinfo=dt.UTC)
    assert (mark.rows, mark.batches) == (2, 1)
    assert mark.last_batch_at == manifest.committed_at
    assert marks.tables["vat_invoice"].batches == 0
    assert marks.lineage == lake.state_hash()
    # The same lake at a date: point in time.
    early = lake_watermarks(lake, contracts, dt.date(2026, 6, 15))
    assert early.tables["customs_tax_bill"].rows == 1
    assert early.as_of == dt.date(2026, 6, 15)


@pytest.mark.parametrize("as_of", [None, dt.date(2026, 6, 30)])
def test_a_lake_with_nothing_committed_has_no_watermark(tmp_path, contracts, as_of):
    marks = lake_watermarks(Lake(tmp_path / "none"), contracts, as_of)
    assert all(m.latest_ingested_at is None for m in marks.tables.values())
    assert all(m.rows == 0 for m in marks.tables.values())


def test_an_engine_home_is_judged_in_one_call(tmp_path):
    from credit_engine.config import Settings
    from credit_engine.freshness import freshness_lights, lake_freshness

    report = lake_freshness(Settings(home=tmp_path), at=dt.date(2026, 12, 4))
    assert report.at == dt.date(2026, 12, 4)
    assert report.freshness_date is None  # nothing was ever delivered
    assert report.status.value == "stale"
    lights = freshness_lights(report)
    assert set(lights) == set(report.tables)
    # required tables never delivered are red; optional sources (court, IP,
    # news: a zone may not have them) are at most amber
    required = {t for t, f in report.tables.items() if f.required}
    assert {lights[t]["status"] for t in required} == {"red"}
    assert {lights[t]["status"] for t in set(lights) - required} == {"amber"}
    assert lake_freshness(Settings(home=tmp_path), dt.date(2026, 6, 30)).at == (
        dt.date(2026, 6, 30)
    )
