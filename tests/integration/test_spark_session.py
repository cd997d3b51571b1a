"""The local Spark session the engine builds (credit_engine.engines)."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
]


def test_the_local_jvm_runs_the_parallel_collector(spark):
    """The engine's default JVM option reaches the JVM local Spark starts."""
    beans = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    names = {bean.getName() for bean in beans.getGarbageCollectorMXBeans()}
    assert names == {"PS Scavenge", "PS MarkSweep"}


def test_adaptive_execution_merges_small_partitions_by_size(spark):
    """Small shuffle partitions are merged up to the advisory size."""
    conf = spark.conf
    assert conf.get("spark.sql.adaptive.coalescePartitions.parallelismFirst") == "false"


def test_the_latest_version_is_taken_after_the_shuffle_only(spark):
    """No partial latest-version step sorts every record before the shuffle.

    Most records have one version: that step would sort them all where they
    are read and drop next to nothing (docs/benchmarks.md). The query is the
    engine's own point-in-time selection (``known``) of a versioned contract.
    """
    import datetime as dt

    from credit_engine.config import Settings
    from credit_engine.data import load_contracts
    from credit_engine.features import to_spark
    from credit_engine.point_in_time import Cutoff, known

    bills = load_contracts(Settings().sources_dir)["customs_tax_bill"]
    probe = bills.model_copy(update={"name": "versions_probe"})
    ts = dt.datetime
    spark.createDataFrame(
        [
            ("a", "r1", ts(2025, 1, 2), ts(2025, 1, 1), "old"),
            ("a", "r1", ts(2025, 3, 2), ts(2025, 1, 1), "new"),
            ("a", "r1", ts(2025, 9, 2), ts(2025, 1, 1), "after the cutoff"),
            ("b", "r2", ts(2025, 2, 2), ts(2025, 2, 1), "only"),
        ],
        "uscc STRING, source_record_id STRING, ingested_at TIMESTAMP, "
        "event_ts TIMESTAMP, status STRING",
    ).createOrReplaceTempView("versions_probe")
    sql = known(probe, Cutoff.end_of(dt.date(2025, 6, 30)), ["status"])
    latest = spark.sql(to_spark(sql))
    plan = latest._jdf.queryExecution().executedPlan().toString()
    assert "Window" in plan
    assert "WindowGroupLimit" not in plan
    assert sorted(map(tuple, latest.collect())) == [
        ("a", "r1", "new"),
        ("b", "r2", "only"),
    ]
