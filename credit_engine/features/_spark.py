"""Run the same compiled feature SQL on Apache Spark: spine, features, snapshot.

The feature definitions compile once (:func:`compile_feature_sql`, with the
point-in-time rule of :mod:`credit_engine.point_in_time`) and are transpiled to
Spark SQL (:func:`to_spark`). Spark reads the lake's Parquet files, computes
every rating date in one job and writes the result as Parquet from the
executors: no table passes through the driver. The snapshot file the rest of
the engine reads (one Parquet file with the lineage in its metadata, as
:func:`write_snapshot` writes) is then assembled by streaming those parts one
row group at a time.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from credit_engine import __version__
from credit_engine.data import RecordKind, SourceContract
from credit_engine.exceptions import DataContractError
from credit_engine.features._engine import LINEAGE_KEY, _source_tables, _spine_table
from credit_engine.features._registry import Definitions, ResolvedSet
from credit_engine.features._sql import compile_feature_sql, to_spark
from credit_engine.point_in_time import (
    FIRST_KNOWN,
    cutoff_of,
    first_known,
    known_enterprise,
)

__all__ = [
    "SparkSnapshot",
    "SparkSources",
    "build_feature_frame_spark",
    "enterprise_spine_spark",
    "write_snapshot_spark",
]


class SparkSources(Protocol):
    """Sources that can expose their tables to a Spark session."""

    @property
    def contracts(self) -> Mapping[str, SourceContract]:
        """Contracts of the tables, by name."""

    def register_spark(self, spark: Any, tables: Iterable[str]) -> None:
        """Make each of ``tables`` a temporary view of ``spark`` under its name."""

    def lineage(self) -> str:
        """Return an identifier of the data state read."""


def _spine_frame(spark: Any, spine: Any) -> Any:
    """Return the spine as a Spark DataFrame (checked when it comes from Python)."""
    if isinstance(spine, (pd.DataFrame, pa.Table)):
        return spark.createDataFrame(_spine_table(spine))
    return spine.select("uscc", "as_of")


def enterprise_spine_spark(
    spark: Any,
    sources: SparkSources,
    definitions: Definitions,
    as_of: Iterable[dt.date],
) -> Any:
    """Every enterprise the zone knew at each ``as_of``, as a Spark DataFrame.

    The Spark twin of :func:`~credit_engine.features.enterprise_spine` (same
    SQL, same rule): columns ``uscc`` and ``as_of``; nothing is collected.
    """
    dates = sorted(set(as_of))
    states = sorted(
        n for n, c in definitions.contracts.items() if c.kind is RecordKind.STATE
    )
    sources.register_spark(spark, states)
    spark.createDataFrame(
        pa.table({"as_of": pa.array(dates, pa.date32())})
    ).createOrReplaceTempView("as_of_dates")
    union = " UNION ALL ".join(f"SELECT uscc, ingested_at FROM {n}" for n in states)
    known = known_enterprise(f"f.{FIRST_KNOWN}", cutoff_of("d.as_of"))
    sql = (
        f"SELECT uscc, d.as_of FROM ({first_known(f'({union}) AS u')}) AS f "
        f"JOIN as_of_dates AS d ON {known}"
    )
    return spark.sql(to_spark(sql))


def build_feature_frame_spark(
    spark: Any,
    spine: Any,
    feature_set: str | ResolvedSet,
    *,
    definitions: Definitions,
    sources: SparkSources,
    usccs: Sequence[str] | None = None,
) -> Any:
    """Compute a feature set on Spark for every ``(uscc, as_of)`` of a spine.

    The Spark twin of :func:`~credit_engine.features.build_feature_frame`: the
    same compiled SQL, transpiled; every rating date in one job.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (:func:`credit_engine.engines.spark_session`).
    spine : pyspark.sql.DataFrame, pandas.DataFrame or pyarrow.Table
        Columns ``uscc`` and ``as_of`` (date); one row per pair.
    feature_set : str or ResolvedSet
        A feature set name or a resolved set.
    definitions : Definitions
        Loaded definitions.
    sources : SparkSources
        Where the records are read (:class:`LakeSources`, :class:`FrameSources`).
    usccs : sequence of str, optional
        Restrict source scans to these enterprises.

    Returns
    -------
    pyspark.sql.DataFrame
        Lazy: ``uscc``, ``as_of`` and one DOUBLE column per feature, sorted by
        ``(uscc, as_of)``.

    Raises
    ------
    DataContractError
        If a spine given as pandas or Arrow is malformed.
    """
    resolved = (
        definitions.resolve(feature_set)
        if isinstance(feature_set, str)
        else feature_set
    )
    _spine_frame(spark, spine).createOrReplaceTempView("spine")
    sources.register_spark(spark, _source_tables(resolved))
    sql = compile_feature_sql(resolved, definitions.contracts, usccs=usccs)
    return spark.sql(to_spark(sql))


@dataclass(frozen=True)
class SparkSnapshot:
    """A snapshot written by :func:`write_snapshot_spark`.

    Attributes
    ----------
    lineage : dict
        The lineage written in the file's metadata.
    summary : pandas.DataFrame
        Per rating date: ``as_of``, ``enterprises``, ``features``,
        ``null_share`` and ``mean_non_null`` (features known per enterprise).
    """

    lineage: dict[str, Any]
    summary: pd.DataFrame


class _Summary:
    """Per-date counts accumulated one record batch at a time."""

    def __init__(self, features: int) -> None:
        self.features = features
        self.rows: dict[dt.date, int] = {}
        self.nulls: dict[dt.date, int] = {}

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        nulls = pa.array([0] * table.num_rows, pa.int64())
        for i in range(2, table.num_columns):
            nulls = pc.add(nulls, pc.is_null(table.column(i)).cast(pa.int64()))
        frame = pa.table({"as_of": table.column(1), "nulls": nulls}).group_by("as_of")
        for row in frame.aggregate([("nulls", "sum"), ("nulls", "count")]).to_pylist():
            day = row["as_of"]
            self.rows[day] = self.rows.get(day, 0) + row["nulls_count"]
            self.nulls[day] = self.nulls.get(day, 0) + row["nulls_sum"]

    def frame(self) -> pd.DataFrame:
        days = sorted(self.rows)
        cells = [self.rows[d] * self.features for d in days]
        return pd.DataFrame(
            {
                "as_of": days,
                "enterprises": [self.rows[d] for d in days],
                "features": [self.features] * len(days),
                "null_share": [
                    self.nulls[d] / c if c else 0.0
                    for d, c in zip(days, cells, strict=True)
                ],
                "mean_non_null": [
                    (c - self.nulls[d]) / self.rows[d] if self.rows[d] else 0.0
                    for d, c in zip(days, cells, strict=True)
                ],
            }
        )


def _snapshot_schema(resolved: ResolvedSet, lineage: dict[str, Any]) -> pa.Schema:
    """Return the schema :func:`write_snapshot` gives a snapshot (pandas metadata)."""
    columns: dict[str, Any] = {
        "uscc": pd.Series(["x"], dtype="str"),
        "as_of": [dt.date(2000, 1, 1)],
    }
    columns.update({c: [0.0] for c in resolved.columns})
    schema = pa.Table.from_pandas(pd.DataFrame(columns), preserve_index=False).schema
    meta = dict(schema.metadata or {})
    meta[LINEAGE_KEY] = json.dumps(lineage).encode()
    return schema.with_metadata(meta)


def write_snapshot_spark(
    frame: Any,
    path: Path,
    *,
    resolved: ResolvedSet,
    sources: SparkSources,
    as_of: Sequence[dt.date],
) -> SparkSnapshot:
    """Write a Spark feature frame as a snapshot file with its lineage.

    The executors write Parquet parts (in ``(uscc, as_of)`` order) to a
    folder beside ``path``; the parts are then streamed, one row group at a
    time, into the single file :func:`~credit_engine.features.write_snapshot`
    would write (same schema, same lineage keys), and the folder removed.

    Returns
    -------
    SparkSnapshot
        The lineage and a per-date summary.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = path.parent / f".{path.name}.spark-{uuid.uuid4().hex[:8]}"
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        frame.orderBy("uscc", "as_of").write.mode("overwrite").parquet(str(parts))
        files = sorted(parts.glob("part-*.parquet"))
        lineage = {
            "feature_set": resolved.name,
            "definitions_sha256": resolved.fingerprint,
            "lake_state": sources.lineage(),
            "as_of": [d.isoformat() for d in sorted(set(as_of))],
            "rows": sum(pq.ParquetFile(f).metadata.num_rows for f in files),
            "features": resolved.columns,
            "engine_version": __version__,
            "engine": "spark",
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        schema = _snapshot_schema(resolved, lineage)
        summary = _Summary(len(resolved.columns))
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for file in files:
                for batch in pq.ParquetFile(file).iter_batches(
                    columns=schema.names, batch_size=64_000
                ):
                    try:
                        table = pa.Table.from_batches([batch]).cast(
                            schema.remove_metadata()
                        )
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                        raise DataContractError(
                            f"Spark wrote {file.name} with columns that do not "
                            f"fit the snapshot schema: {exc}"
                        ) from exc
                    summary.add(table)
                    writer.write_table(table)
        tmp.replace(path)
    finally:
        shutil.rmtree(parts, ignore_errors=True)
        tmp.unlink(missing_ok=True)
    return SparkSnapshot(lineage=lineage, summary=summary.frame())
