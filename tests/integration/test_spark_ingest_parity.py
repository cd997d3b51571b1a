"""Ingestion on Spark gives the same reports, quarantine and lake as on DuckDB.

The small simulated zone (its dirty rows included), then a batch of deliberately
bad rows (invalid USCCs, text in number and date columns, duplicates within the
batch and of the lake, key conflicts within the batch and with the lake), are
ingested with each engine into its own home; everything is compared through
DuckDB, order-insensitive. One Spark session per test session (the ``spark``
fixture), modules marked ``spark`` share one xdist worker.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from credit_engine.config import Settings
from credit_engine.data import (
    Lake,
    ingest_batch,
    ingest_batch_spark,
)
from credit_engine.exceptions import DataContractError
from credit_engine.pipeline import build_feature_snapshot
from tests.conftest import SPARK_ZONE
from tests.engine_parity import (
    assert_same_lakes,
    bad_batch,
    lake_rows,
    report_tables,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
]

AS_OF = [dt.date(2025, 6, 30), dt.date(2026, 3, 31)]


@pytest.fixture(scope="module")
def homes(spark, spark_zone, tmp_path_factory):
    zone = spark_zone
    """The zone, then the bad batch, ingested by each engine into its own home."""
    root = tmp_path_factory.mktemp("spark-ingest")
    bad_dir = root / "bad"
    written = bad_batch(Path(zone.out_dir), bad_dir)
    duck = Settings(home=root / "duck")
    on_spark = Settings(home=root / "spark")
    out: dict[str, object] = {"duck": duck, "spark": on_spark, "written": written}
    out["zone_duck"] = ingest_batch(Path(zone.out_dir), duck)
    out["zone_spark"] = ingest_batch_spark(Path(zone.out_dir), on_spark, spark)
    out["bad_duck"] = ingest_batch(bad_dir, duck)
    out["bad_spark"] = ingest_batch_spark(bad_dir, on_spark, spark)
    out["bad_dir"] = bad_dir
    return out


@pytest.mark.parametrize("batch", ["zone", "bad"])
def test_the_ingestion_reports_are_the_same(homes, batch):
    duck, spark = homes[f"{batch}_duck"], homes[f"{batch}_spark"]
    assert duck.batch_id == spark.batch_id
    assert duck.commit_seq == spark.commit_seq
    assert report_tables(duck) == report_tables(spark)
    assert (
        json.loads(Path(spark.json_report).read_text())["tables"]
        == (duck.to_json_dict()["tables"])
    )
    assert Path(spark.html_report).is_file()
    assert Path(spark.data_docs).is_file()  # GX Data Docs of the Spark validation


def test_the_bad_rows_are_quarantined_for_each_reason(homes):
    report = homes["bad_spark"]
    vat, samr = report.tables["vat_invoice"], report.tables["samr_registration"]
    for table in (vat, samr):
        assert table.rows_in == homes["written"][table.name]  # none lost
        assert table.rows_in == table.loaded + table.quarantined + table.duplicates
    assert vat.reasons["invalid_type"] == 5
    assert vat.reasons["invalid_uscc"] == 2
    assert vat.reasons["key_conflict"] == 3 + 1
    assert vat.duplicates == 28 + 2
    assert samr.reasons["invalid_uscc"] == 3
    assert samr.reasons["missing_required"] == 2
    assert samr.duplicates == 20


def test_the_lake_quarantine_and_duplicates_hold_the_same_rows(homes):
    # Key conflicts reason with the lake's rows: keys and reasons compared too.
    tables, compared = assert_same_lakes(homes["duck"], homes["spark"])
    assert len(tables) >= 15
    assert compared > 10_000
    spark = Lake(homes["spark"].lake_dir, homes["spark"].quarantine_dir)
    con = duckdb.connect()
    for name in ("vat_invoice", "samr_registration"):
        quarantined = lake_rows(
            con, spark.quarantine_files(name), "_source_file, _row_number, _reasons"
        )
        assert len(quarantined) > 0


def test_features_from_the_spark_lake_equal_those_from_the_duckdb_lake(homes, tmp_path):
    duck = build_feature_snapshot(
        homes["duck"], AS_OF, "credit_v1", tmp_path / "duck.parquet", engine="duckdb"
    )
    spark = build_feature_snapshot(
        homes["spark"], AS_OF, "credit_v1", tmp_path / "spark.parquet", engine="duckdb"
    )
    a, b = pd.read_parquet(duck.path), pd.read_parquet(spark.path)
    assert len(a) > 1.5 * SPARK_ZONE.enterprises  # two dates
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def _state(settings: Settings) -> tuple[str, list[str]]:
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    files = sorted(
        str(p.relative_to(settings.home))
        for root in (settings.lake_dir, settings.quarantine_dir)
        for p in root.rglob("*")
        if p.is_file() and p.name != ".lock"
    )
    return lake.state_hash(), files


def test_a_refused_batch_leaves_the_lake_unchanged(homes, spark, spark_zone, tmp_path):
    zone = spark_zone
    settings = homes["spark"]
    before = _state(settings)
    broken = tmp_path / "broken"
    broken.mkdir()
    table = pq.read_table(Path(zone.out_dir) / "vat_invoice.parquet").slice(0, 50)
    pq.write_table(table.drop_columns(["uscc"]), broken / "vat_invoice.parquet")
    pq.write_table(
        pq.read_table(Path(zone.out_dir) / "tax_filing.parquet").slice(0, 50),
        broken / "tax_filing.parquet",
    )
    with pytest.raises(DataContractError, match="missing required column"):
        ingest_batch_spark(broken, settings, spark)
    assert _state(settings) == before
    # Re-sending a committed batch commits nothing, on Spark as on DuckDB.
    again = ingest_batch_spark(homes["bad_dir"], settings, spark)
    assert again.already_ingested
    assert again.commit_seq is None
    assert all(t.duplicates == t.rows_in for t in again.tables.values())
    assert _state(settings)[0] == before[0]


def test_the_uscc_check_on_spark_is_the_python_check(spark):
    from credit_engine.data._spark_checks import uscc_valid_sql
    from credit_engine.uscc import valid_uscc_mask

    codes = [
        "91110000600037341L",
        "91110000600037341X",
        "91110000600037341",
        "9111000060003734IL",
        "91110000600037341l",
        "",
        "911100006000373410L",
    ]
    frame = spark.createDataFrame([(c,) for c in codes], "uscc STRING")
    got = [r[0] for r in frame.selectExpr(uscc_valid_sql("uscc")).collect()]
    assert got == valid_uscc_mask(codes).tolist()
