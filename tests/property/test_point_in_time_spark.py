"""The point-in-time properties on Spark, checked against DuckDB in one run each.

On DuckDB (test_point_in_time.py) removing what was not known at ``as_of``, or
adding records and versions known after it, changes no feature. Here Spark
computes the features of the full (or grown) tables and must equal DuckDB on
the known-only (or original) tables: the property on Spark and the parity of
the engines at once, with one Spark job per example (a JVM job costs seconds).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_engine.config import Settings
from credit_engine.features import (
    FrameSources,
    build_feature_frame_spark,
    load_definitions,
)
from tests.engine_parity import (
    assert_same_cells,
    natural_log_features,
)
from tests.property.test_point_in_time import (
    _features,
    _future_rows,
    _known_only,
    as_of_dates,
)

pytestmark = [pytest.mark.slow, pytest.mark.spark, pytest.mark.xdist_group("spark")]


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


@pytest.fixture(scope="module")
def sample(spark_clean):
    """The clean records of 40 enterprises of the Spark tests' zone."""
    clean = spark_clean
    usccs = sorted(clean["samr_registration"]["uscc"].unique())
    chosen = sorted(np.random.default_rng(11).choice(usccs, 40, replace=False))
    tables = {
        t: f[f["uscc"].isin(chosen)].reset_index(drop=True) for t, f in clean.items()
    }
    return tables, chosen


def _features_on_spark(spark, defs, tables, as_of, usccs) -> pd.DataFrame:
    spine = pd.DataFrame({"uscc": usccs}).assign(as_of=as_of)
    sources = FrameSources(tables, defs.contracts)
    frame = build_feature_frame_spark(
        spark, spine, "credit_v1", definitions=defs, sources=sources
    )
    out = frame.orderBy("uscc", "as_of").toArrow().to_pandas()  # in no order
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.date
    return out


# Two examples: each is a Spark job of the whole credit_v1 set (about 20 s on
# two shared cores, mostly planning). The DuckDB twin in test_point_in_time.py
# explores the dates widely; here each example proves the property and the
# parity of the engines at once, and test_on_spark_a_record_known_on_the_rating
# _date_counts pins the cutoff's boundary on every run.
@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(as_of=as_of_dates)
def test_on_spark_records_not_known_at_as_of_change_nothing(spark, defs, sample, as_of):
    tables, usccs = sample
    on_spark = _features_on_spark(spark, defs, tables, as_of, usccs)
    known = _features(defs, _known_only(defs, tables, as_of), as_of, usccs)
    assert_same_cells(known, on_spark, natural_log_features(defs, "credit_v1"))


@settings(
    max_examples=2,  # see above
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(as_of=as_of_dates, seed=st.integers(0, 2**32 - 1))
def test_on_spark_records_known_after_as_of_change_nothing(
    spark, defs, sample, as_of, seed
):
    rng = np.random.default_rng(seed)
    tables, usccs = sample
    before = _features(defs, tables, as_of, usccs)
    grown = {n: _future_rows(defs, n, f, as_of, rng) for n, f in tables.items()}
    on_spark = _features_on_spark(spark, defs, grown, as_of, usccs)
    assert_same_cells(before, on_spark, natural_log_features(defs, "credit_v1"))


def test_on_spark_a_record_known_on_the_rating_date_counts(spark, defs, sample):
    as_of = dt.date(2025, 6, 30)
    tables, usccs = sample
    before = _features(defs, tables, as_of, usccs)
    decl = tables["customs_declaration"]
    row = decl.iloc[[0]].copy()
    row["event_ts"] = row["ingested_at"] = pd.Timestamp("2025-06-30 12:00", tz="UTC")
    row["source_record_id"] = "X" + row["source_record_id"]
    grown = dict(tables, customs_declaration=pd.concat([decl, row], ignore_index=True))
    on_spark = _features_on_spark(spark, defs, grown, as_of, usccs)
    with pytest.raises(AssertionError, match="count_90d"):
        assert_same_cells(before, on_spark, set())
