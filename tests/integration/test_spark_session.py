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
