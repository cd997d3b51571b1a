"""Point-in-time features over the lake, defined as data, run as SQL.

Feature views (``features/views/*.yaml``) say how features are computed from one
source; feature sets (``features/sets/*.yaml``) list the features a model uses.
:func:`build_feature_frame` compiles a set to one SQL query (DuckDB dialect,
transpilable to Spark with :func:`to_spark`) and runs it on embedded DuckDB for
a spine of ``(uscc, as_of)`` rows, using only what was known at each ``as_of``;
:func:`build_feature_frame_spark` runs the same SQL on Apache Spark.
"""

from __future__ import annotations

from credit_engine.features._engine import (
    KNOWN_ENTERPRISES,
    build_feature_frame,
    enterprise_spine,
    read_snapshot_lineage,
    source_record_counts,
    write_snapshot,
)
from credit_engine.features._online import OnlineFeatureStore
from credit_engine.features._registration import REGISTRATION_TABLE, registration_at
from credit_engine.features._registry import (
    Definitions,
    FeatureRef,
    ResolvedSet,
    check_expression,
    load_definitions,
)
from credit_engine.features._sources import (
    FrameSources,
    LakeSources,
    Sources,
    spark_ddl,
)
from credit_engine.features._spark import (
    SparkSnapshot,
    SparkSources,
    SparkSpine,
    build_feature_frame_spark,
    enterprise_spine_spark,
    source_record_counts_spark,
    write_snapshot_spark,
)
from credit_engine.features._spec import (
    Aggregation,
    FeatureSet,
    FeatureSpec,
    FeatureView,
    Missing,
    RiskDirection,
    ViewKind,
)
from credit_engine.features._sql import compile_feature_sql, to_spark
from credit_engine.features._transforms import TRANSFORMS

__all__ = [
    "REGISTRATION_TABLE",
    "KNOWN_ENTERPRISES",
    "TRANSFORMS",
    "Aggregation",
    "Definitions",
    "FeatureRef",
    "FeatureSet",
    "FeatureSpec",
    "FeatureView",
    "FrameSources",
    "LakeSources",
    "registration_at",
    "Missing",
    "OnlineFeatureStore",
    "ResolvedSet",
    "RiskDirection",
    "Sources",
    "SparkSnapshot",
    "SparkSources",
    "SparkSpine",
    "ViewKind",
    "build_feature_frame",
    "build_feature_frame_spark",
    "check_expression",
    "compile_feature_sql",
    "enterprise_spine",
    "enterprise_spine_spark",
    "load_definitions",
    "read_snapshot_lineage",
    "source_record_counts",
    "source_record_counts_spark",
    "spark_ddl",
    "to_spark",
    "write_snapshot",
    "write_snapshot_spark",
]
