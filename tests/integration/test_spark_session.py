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
    are read and drop next to nothing (docs/benchmarks.md).
    """
    spark.createDataFrame(
        [("a", "r1", 1, "old"), ("a", "r1", 2, "new"), ("b", "r2", 1, "only")],
        "uscc STRING, source_record_id STRING, ingested_at INT, status STRING",
    ).createOrReplaceTempView("versions_probe")
    latest = spark.sql(
        "SELECT uscc, source_record_id, status FROM versions_probe QUALIFY "
        "row_number() OVER (PARTITION BY uscc, source_record_id "
        "ORDER BY ingested_at DESC) = 1"
    )
    plan = latest._jdf.queryExecution().executedPlan().toString()
    assert "Window" in plan
    assert "WindowGroupLimit" not in plan
    assert sorted(map(tuple, latest.collect())) == [
        ("a", "r1", "new"),
        ("b", "r2", "only"),
    ]
