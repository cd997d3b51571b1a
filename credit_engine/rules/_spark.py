"""Statutory facts at a rating date on Apache Spark: the same compiled query.

The rule sets compile once (:func:`statutory_facts_sql`, with the one
point-in-time rule of :mod:`credit_engine.point_in_time`) and are transpiled to
Spark SQL (:func:`credit_engine.features.to_spark`), as the features are.
Spark reads the lake's Parquet files on the executors; the result stays a lazy
Spark DataFrame until the caller decides where it goes (the batch rating joins
it to the features on the executors).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa

from credit_engine.features import SparkSources, to_spark
from credit_engine.rules._book import RuleBook
from credit_engine.rules._evaluate import (
    FACT_COLUMNS,
    _empty,
    _to_frame,
    statutory_facts_sql,
)

__all__ = ["facts_frame", "statutory_facts_spark"]

_SPARK_TYPES = {
    "since": "DATE",
    "until": "DATE",
    "joint_punishment": "BOOLEAN",
    "blocks_green_channel": "BOOLEAN",
    "favourable": "BOOLEAN",
    "inspection_factor_cap": "DOUBLE",
    "inspection_min_rate": "DOUBLE",
}


def _empty_spark(spark: Any) -> Any:
    ddl = ", ".join(f"{c} {_SPARK_TYPES.get(c, 'STRING')}" for c in FACT_COLUMNS)
    return spark.createDataFrame([], ddl)


def statutory_facts_spark(
    spark: Any,
    sources: SparkSources,
    as_of: dt.date,
    *,
    rulebook: RuleBook,
    usccs: Sequence[str] | None = None,
    watermarks: Mapping[str, dt.datetime | None] | None = None,
) -> Any:
    """Every statutory fact in force at the end of ``as_of``, computed on Spark.

    The Spark twin of :func:`~credit_engine.rules.statutory_facts`: the same
    query (same point-in-time rule, same rule sets in force, same watermarks
    for the facts inferred from missing records), transpiled to Spark SQL.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (:func:`credit_engine.engines.spark_session`).
    sources : SparkSources
        Where the records are read (:class:`~credit_engine.features.LakeSources`,
        :class:`~credit_engine.features.FrameSources`).
    as_of : datetime.date
        Rating date.
    rulebook : RuleBook
        The rule sets.
    usccs : sequence of str, optional
        Restrict every table scan to these enterprises.
    watermarks : mapping of str to datetime or None, optional
        As for :func:`~credit_engine.rules.statutory_facts`.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy: the columns of :data:`~credit_engine.rules.FACT_COLUMNS`, one row
        per fact in force, sorted by ``uscc, code``; :func:`facts_frame` turns
        its Arrow form into the frame :func:`statutory_facts` returns.

    Raises
    ------
    ConfigurationError
        If a regime has no rule set in force at ``as_of``.
    """
    sql, tables = statutory_facts_sql(
        rulebook, as_of, usccs, contracts=sources.contracts, watermarks=watermarks
    )
    if not sql or (usccs is not None and len(usccs) == 0):
        return _empty_spark(spark)
    sources.register_spark(spark, tables)
    return spark.sql(to_spark(sql))


def facts_frame(table: pa.Table | None) -> pd.DataFrame:
    """Return facts read as Arrow (e.g. ``DataFrame.toArrow()``) as pandas.

    The same frame :func:`~credit_engine.rules.statutory_facts` returns: dates
    as :class:`datetime.date`, optional text as ``str`` or ``None``.
    """
    if table is None or table.num_rows == 0:
        return _empty()
    return _to_frame(table.select(list(FACT_COLUMNS)))
