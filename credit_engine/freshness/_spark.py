"""Watermarks on Apache Spark: what the lake knew of each table, read by executors.

The Spark twin of :func:`~credit_engine.freshness.source_watermarks`: the same
point-in-time SQL (:func:`credit_engine.point_in_time.watermark`), transpiled
to Spark SQL (:func:`credit_engine.features.to_spark`), every table in one
job. Only one row per table reaches the driver, which reads no record (only
the lake's commit markers, to list the committed files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from credit_engine import point_in_time as pit
from credit_engine.features import SparkSources, to_spark
from credit_engine.freshness._watermarks import Watermarks, assemble_watermarks

__all__ = ["source_watermarks_spark"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _instant(micros: int | None) -> dt.datetime | None:
    """Return the UTC instant of Spark's microseconds since the epoch (or None).

    Spark turns a timestamp into a Python datetime in the driver's local time
    zone, whatever the session's; microseconds are the same everywhere.
    """
    return None if micros is None else _EPOCH + dt.timedelta(microseconds=micros)


def source_watermarks_spark(
    spark: Any,
    sources: SparkSources,
    as_of: dt.date | None = None,
    *,
    tables: Sequence[str] | None = None,
) -> Watermarks:
    """Compute the watermark of every table of ``sources`` at ``as_of``, on Spark.

    The same records and the same answer as
    :func:`~credit_engine.freshness.source_watermarks` (records known by the
    end of ``as_of``, by the point-in-time rule), in one Spark job.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (:func:`credit_engine.engines.spark_session`).
    sources : SparkSources
        Where the records are (:class:`~credit_engine.features.LakeSources`,
        :class:`~credit_engine.features.FrameSources`).
    as_of : datetime.date, optional
        Knowledge date; default: everything the sources hold.
    tables : sequence of str, optional
        Only these tables (default: every contract).

    Returns
    -------
    Watermarks
    """
    names = sorted(tables if tables is not None else sources.contracts)
    contracts = {n: sources.contracts[n] for n in names}
    found: dict[str, tuple[dt.datetime | None, dt.datetime | None, int]] = {}
    if names:
        sources.register_spark(spark, names)
        cutoff = None if as_of is None else pit.Cutoff.end_of(as_of)
        mark, latest, rows = pit.WATERMARK_COLUMNS
        sql = " UNION ALL ".join(
            f"SELECT {i} AS t, unix_micros({mark}) AS {mark}, "
            f"unix_micros({latest}) AS {latest}, {rows} "
            f"FROM ({pit.watermark(contract, cutoff)}) AS w{i}"
            for i, contract in enumerate(contracts.values())
        )
        for row in spark.sql(to_spark(sql)).collect():
            found[names[int(row[0])]] = (
                _instant(row[1]),
                _instant(row[2]),
                int(row[3]),
            )
    return assemble_watermarks(contracts, found, as_of, sources.lineage())
