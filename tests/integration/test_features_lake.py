"""Features from the real lake: snapshot with lineage, online/batch parity, CLI."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.data import Lake
from credit_engine.features import (
    LakeSources,
    OnlineFeatureStore,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    read_snapshot_lineage,
)

pytestmark = pytest.mark.integration

AS_OF = [dt.date(2025, 3, 31), dt.date(2025, 9, 30)]


@pytest.fixture(scope="module")
def lake_setup(ingested_zone):
    settings, _ = ingested_zone
    defs = load_definitions(settings.definitions_dir)
    sources = LakeSources(
        Lake(settings.lake_dir, settings.quarantine_dir), defs.contracts
    )
    return settings, defs, sources


@pytest.fixture(scope="module")
def batch(lake_setup):
    _, defs, sources = lake_setup
    spine = enterprise_spine(sources, defs, AS_OF)
    return build_feature_frame(spine, "credit_v1", definitions=defs, sources=sources)


def test_snapshot_covers_the_zone_with_every_feature(lake_setup, batch):
    _, defs, _ = lake_setup
    assert len(batch.columns) == 2 + len(defs.resolve("credit_v1").columns)
    per_date = batch.groupby("as_of").size()
    assert set(per_date.index) == set(AS_OF)
    assert per_date.min() > 500
    assert batch["customs_declarations__count_365d"].notna().mean() > 0.9


def test_spine_only_holds_enterprises_known_at_each_date(lake_setup, zone):
    _, defs, sources = lake_setup
    spine = enterprise_spine(sources, defs, [dt.date(2023, 9, 1), dt.date(2026, 9, 30)])
    early = spine[spine["as_of"] == dt.date(2023, 9, 1)]
    late = spine[spine["as_of"] == dt.date(2026, 9, 30)]
    assert 0 < len(early) < len(late) <= zone.enterprises


def test_online_features_equal_the_batch_snapshot(lake_setup, batch, tmp_path):
    settings, defs, _ = lake_setup
    store = OnlineFeatureStore.build(
        tmp_path / "online.duckdb",
        Lake(settings.lake_dir, settings.quarantine_dir),
        defs,
    )
    try:
        rng = np.random.default_rng(3)
        rows = batch.iloc[rng.choice(len(batch), 25, replace=False)]
        for _, row in rows.iterrows():
            online = store.features(row["uscc"], row["as_of"], "credit_v1")
            expected = {
                k: (None if pd.isna(v) else float(v))
                for k, v in row.drop(["uscc", "as_of"]).items()
            }
            assert online == expected, row["uscc"]
        assert store.lake_state == Lake(settings.lake_dir).state_hash()
    finally:
        store.close()


def test_features_command_writes_a_snapshot_with_lineage(lake_setup, tmp_path):
    settings, defs, sources = lake_setup
    out = tmp_path / "snap.parquet"
    result = CliRunner().invoke(
        app,
        [
            "features",
            "--as-of",
            "2025-09-30",
            "--out",
            str(out),
            "--home",
            str(settings.home),
        ],
    )
    assert result.exit_code == 0, result.output
    lineage = read_snapshot_lineage(out)
    assert lineage["feature_set"] == "credit_v1"
    assert lineage["definitions_sha256"] == defs.resolve("credit_v1").fingerprint
    assert lineage["lake_state"] == sources.lineage()
    assert lineage["as_of"] == ["2025-09-30"]
    frame = pd.read_parquet(out)
    assert list(frame.columns[:2]) == ["uscc", "as_of"]
    assert len(frame) == lineage["rows"]
    json.dumps(lineage)


def test_features_command_reports_bad_input_clearly(lake_setup, tmp_path):
    settings, _, _ = lake_setup
    runner = CliRunner()
    bad_date = runner.invoke(
        app,
        [
            "features",
            "--as-of",
            "2025-02-30",
            "--out",
            str(tmp_path / "x.parquet"),
            "--home",
            str(settings.home),
        ],
    )
    assert bad_date.exit_code == 2
    assert "not a date" in bad_date.output
    bad_set = runner.invoke(
        app,
        [
            "features",
            "--as-of",
            "2025-02-28",
            "--set",
            "nope_v1",
            "--out",
            str(tmp_path / "x.parquet"),
            "--home",
            str(settings.home),
        ],
    )
    assert bad_set.exit_code == 2
    assert "unknown feature set 'nope_v1'" in " ".join(bad_set.output.split())


def test_the_spark_layout_of_the_sql_gives_the_same_snapshot(
    lake_setup, batch, monkeypatch
):
    # Spark compiles the same definitions with distinct counts apart, each
    # view's filters and exact values computed once per record (shared
    # terms), the enterprises numbered per date (row key) and the float
    # columns summed in integer millionths. Run that layout on DuckDB over the
    # whole zone: every cell equal.
    import functools

    from credit_engine.features import _engine, compile_feature_sql

    _, defs, sources = lake_setup
    numbered = (
        "(SELECT uscc, as_of, "
        "row_number() OVER (PARTITION BY as_of ORDER BY uscc) AS _row "
        "FROM spine) AS numbered"
    )
    monkeypatch.setattr(
        _engine,
        "compile_feature_sql",
        functools.partial(
            compile_feature_sql,
            distinct_apart=True,
            shared_terms=True,
            row_key="_row",
            integer_sums=True,
            spine_table=numbered,
        ),
    )
    spine = enterprise_spine(sources, defs, AS_OF)
    spark_layout = build_feature_frame(
        spine, "credit_v1", definitions=defs, sources=sources
    )
    assert batch.notna().to_numpy().mean() > 0.5
    pd.testing.assert_frame_equal(spark_layout, batch)
