"""Execution engines of the heavy steps: embedded DuckDB (default) or Apache Spark.

The engine is chosen by ``--engine duckdb|spark`` on the commands that support
it, or ``engine`` in the settings (``CREDIT_ENGINE_ENGINE``). This package owns
the Spark session: built from the settings (``spark.master`` or a Spark Connect
URL, memory, shuffle partitions), once per process, on first use. ``pyspark``
is an optional extra (``credit-engine[spark]``) imported only then.

Examples
--------
>>> from credit_engine.vocabulary import Engine
>>> resolve_engine(None, "duckdb") is Engine.DUCKDB
True
>>> resolve_engine("spark", Engine.DUCKDB)
<Engine.SPARK: 'spark'>
"""

from __future__ import annotations

from credit_engine.engines._choice import resolve_engine
from credit_engine.engines._spark import (
    SparkConfig,
    active_spark_session,
    find_java_home,
    require_pyspark,
    spark_session,
    stop_spark_session,
)

__all__ = [
    "SparkConfig",
    "active_spark_session",
    "find_java_home",
    "require_pyspark",
    "resolve_engine",
    "spark_session",
    "stop_spark_session",
]
