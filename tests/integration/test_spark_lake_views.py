"""The lake's tables as Spark views (LakeSources.register_spark, local Spark)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from credit_engine.config import Settings
from credit_engine.data import ingest_batch, load_contracts
from credit_engine.features import FrameSources, LakeSources, _sources

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
]

TABLE = "tax_violation"


def _loaded(reports) -> int:
    return sum(r.tables[TABLE].loaded for r in reports)


def _batch(root: Path, frame) -> Path:
    root.mkdir()
    frame.to_parquet(root / f"{TABLE}.parquet", index=False)
    return root


def test_a_table_is_read_again_only_when_its_files_change(
    spark, spark_clean, tmp_path, monkeypatch
):
    settings = Settings(home=tmp_path / "home")
    contracts = load_contracts(settings.sources_dir)
    records = spark_clean[TABLE]
    first, second = records.iloc[:5], records.iloc[5:12]
    loaded = [ingest_batch(_batch(tmp_path / "b1", first), settings)]
    sources = LakeSources.from_settings(settings, contracts)
    schemas_read: list[str] = []
    read_schema = _sources.pq.read_schema

    def counting(path, *args, **kwargs):
        schemas_read.append(str(path))
        return read_schema(path, *args, **kwargs)

    monkeypatch.setattr(_sources.pq, "read_schema", counting)

    sources.register_spark(spark, [TABLE])
    assert spark.table(TABLE).count() == _loaded(loaded) > 0
    read_once = len(schemas_read)
    assert read_once == 1

    # Same files: the same frame, no file read on the driver; and a view
    # another source put under the name in between is replaced again.
    FrameSources({}, contracts).register_spark(spark, [TABLE])
    assert spark.table(TABLE).count() == 0
    sources.register_spark(spark, [TABLE])
    assert spark.table(TABLE).count() == _loaded(loaded)
    assert len(schemas_read) == read_once

    # A new batch: its files are listed and read.
    loaded.append(ingest_batch(_batch(tmp_path / "b2", second), settings))
    assert _loaded(loaded[1:]) > 0
    sources.register_spark(spark, [TABLE])
    assert spark.table(TABLE).count() == _loaded(loaded)
    assert len(schemas_read) == read_once + 2
    ids = {r[0] for r in spark.table(TABLE).select("source_record_id").collect()}
    in_lake = pq.read_table(
        sources.lake.table_files(TABLE), columns=["source_record_id"]
    )
    assert ids == set(in_lake.column(0).to_pylist())
