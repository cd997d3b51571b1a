"""Spark and DuckDB give the same feature snapshots, point in time (local Spark).

One Spark session for the test session (the ``spark`` fixture); the modules
marked ``spark`` share one xdist worker. CI sets CREDIT_ENGINE_REQUIRE_SPARK=1
so these fail, not skip, when Spark cannot start.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow.parquet as pq
import pytest

from credit_engine.config import Settings
from credit_engine.features import (
    LakeSources,
    enterprise_spine,
    enterprise_spine_spark,
    load_definitions,
    read_snapshot_lineage,
)
from credit_engine.pipeline import build_feature_snapshot
from tests.conftest import SPARK_ZONE
from tests.engine_parity import assert_same_cells, natural_log_features

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
]

AS_OF = [dt.date(2025, 6, 30), dt.date(2026, 3, 31)]


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


def test_the_feature_snapshot_is_the_same_on_both_engines(
    spark, spark_ingested_zone, defs, tmp_path, monkeypatch
):
    settings, _ = spark_ingested_zone
    for key, value in {"SHUFFLE_PARTITIONS": "1"}.items():
        monkeypatch.setenv(f"CREDIT_ENGINE_SPARK_{key}", value)
    duck = build_feature_snapshot(
        settings, AS_OF, "credit_v1", tmp_path / "duck.parquet", engine="duckdb"
    )
    # The fixture's session is reused: same Spark configuration as the settings'.
    from credit_engine.engines import SparkConfig, _spark

    monkeypatch.setattr(
        SparkConfig, "from_settings", classmethod(lambda cls, s: _spark._SESSION_CONFIG)
    )
    on_spark = build_feature_snapshot(
        settings, AS_OF, "credit_v1", tmp_path / "spark.parquet", engine="spark"
    )
    assert on_spark.frame is None  # nothing collected to the driver
    a, b = pd.read_parquet(duck.path), pd.read_parquet(on_spark.path)
    assert len(a) > 1.5 * SPARK_ZONE.enterprises  # two dates (235 rows)
    assert_same_cells(a, b, natural_log_features(defs, "credit_v1"))
    assert pq.read_schema(duck.path).remove_metadata() == (
        pq.read_schema(on_spark.path).remove_metadata()
    )
    lineage = read_snapshot_lineage(on_spark.path)
    assert lineage["engine"] == "spark"
    assert lineage["rows"] == len(b)
    # The lineage's record counts (a Spark job of their own) are DuckDB's.
    assert sum(lineage["source_records"].values()) > 0
    for key in (
        "feature_set",
        "definitions_sha256",
        "lake_state",
        "as_of",
        "known_enterprises",
        "source_records",
        "empty_sources",
    ):
        assert lineage[key] == duck.lineage[key], key
    summary = on_spark.per_date()
    pd.testing.assert_frame_equal(
        summary.reset_index(drop=True), duck.per_date().reset_index(drop=True)
    )


def test_the_spine_is_the_same_on_both_engines(spark, spark_ingested_zone, defs):
    settings, _ = spark_ingested_zone
    sources = LakeSources.from_settings(settings, defs.contracts)
    dates = [dt.date(2023, 11, 30), *AS_OF]
    duck = enterprise_spine(sources, defs, dates)
    rows = enterprise_spine_spark(spark, sources, defs, dates).frame.toArrow()
    on_spark = (
        rows.sort_by([("uscc", "ascending"), ("as_of", "ascending")])
        .to_pandas()
        .assign(as_of=lambda f: pd.to_datetime(f["as_of"]).dt.date)
    )
    pd.testing.assert_frame_equal(duck, on_spark, check_dtype=False)
