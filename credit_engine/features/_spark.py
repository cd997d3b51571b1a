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
import weakref
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
from credit_engine.features._engine import (
    KNOWN_ENTERPRISES,
    LINEAGE_KEY,
    _source_tables,
    _spine_table,
)
from credit_engine.features._registry import Definitions, ResolvedSet
from credit_engine.features._sql import (
    compile_feature_sql,
    timestamp_columns,
    to_spark,
)
from credit_engine.point_in_time import (
    FIRST_KNOWN,
    Cutoff,
    cutoff_of,
    first_known,
    known,
    known_enterprise,
)

__all__ = [
    "SparkSnapshot",
    "SparkSources",
    "build_feature_frame_spark",
    "enterprise_spine_spark",
    "source_record_counts_spark",
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


SPINE_ROW = "_row"
"""Integer column numbering the enterprises of each rating date of a spine
(the compiled SQL's row key)."""


def _spine_frame(spark: Any, spine: Any) -> Any:
    """Return the spine as a Spark DataFrame with its rows numbered.

    Checked when it comes from Python (then its rows numbered in its order);
    a Spark frame's enterprises are numbered within each rating date in the
    order of ``uscc``: the same numbers however Spark partitions it.
    """
    if isinstance(spine, (pd.DataFrame, pa.Table)):
        table = _spine_table(spine)
        rows = pa.array(range(1, table.num_rows + 1), pa.int32())
        return spark.createDataFrame(table.append_column(SPINE_ROW, rows))
    if isinstance(spine, SparkSpine):
        spine = spine.frame
    number = f"row_number() OVER (PARTITION BY as_of ORDER BY uscc) AS {SPINE_ROW}"
    return spine.selectExpr("uscc", "as_of", number)


def _materialised_spine(spark: Any, spine: Any) -> Any:
    """Return the spine computed once, with its true size known to Spark.

    A spine computed from the lake is a plan (a scan of every registration
    table, an aggregate, a join to the rating dates) that the feature query
    reads once per view. Left lazy, it is planned once per view, and Spark
    cannot size an aggregate of the lake: on a large zone it joined every
    view's records to it by sort-merge joins, every record shuffled and
    sorted. Cached and counted (one job), it is computed once and Spark knows
    its size: a spine within ``spark.sql.autoBroadcastJoinThreshold`` is
    broadcast to the scans of the records, which are joined where they are
    read. A spine given as pandas or Arrow is a local relation, already sized.
    """
    frame = _spine_frame(spark, spine)
    if isinstance(spine, (pd.DataFrame, pa.Table)):
        return frame
    from pyspark import StorageLevel

    cached = frame.persist(StorageLevel.MEMORY_AND_DISK)
    cached.count()
    return cached


SPINE_VIEW_PREFIX = "feature_spine_"
"""Temporary views of the spines of :func:`build_feature_frame_spark` start so."""


_RELEASED: list[tuple[Any, str, Any]] = []
"""Spines whose feature frames were garbage collected: released on the next call.

Not released from the garbage collector itself: a Py4J call there could run
in the middle of another on the same thread's connection to the JVM.
"""


def _release_later(spark: Any, view: str, cached: Any) -> None:
    _RELEASED.append((spark, view, cached))


def _release_spines() -> None:
    """Drop the views and caches of the spines no feature frame reads any more."""
    while _RELEASED:
        spark, view, cached = _RELEASED.pop()
        context = getattr(spark, "_sc", None)
        if context is not None and context._jsc is None:
            continue  # stopped: the views and the cache went with the JVM
        spark.catalog.dropTempView(view)
        if cached.is_cached:
            cached.unpersist()


def _first_known_spine_spark(
    spark: Any,
    sources: SparkSources,
    tables: Sequence[str],
    dates: Sequence[dt.date],
) -> Any:
    if not tables:
        return spark.createDataFrame([], "uscc STRING, as_of DATE")
    sources.register_spark(spark, tables)
    spark.createDataFrame(
        pa.table({"as_of": pa.array(dates, pa.date32())})
    ).createOrReplaceTempView("as_of_dates")
    union = " UNION ALL ".join(f"SELECT uscc, ingested_at FROM {n}" for n in tables)
    known = known_enterprise(f"f.{FIRST_KNOWN}", cutoff_of("d.as_of"))
    sql = (
        f"SELECT uscc, d.as_of FROM ({first_known(f'({union}) AS u')}) AS f "
        f"JOIN as_of_dates AS d ON {known}"
    )
    return spark.sql(to_spark(sql))


@dataclass(frozen=True)
class SparkSpine:
    """A spine computed on Spark and the rule that made its enterprises known.

    Attributes
    ----------
    frame : pyspark.sql.DataFrame
        Lazy: columns ``uscc`` and ``as_of``.
    known_from : {"registration", "any_record"}
        The rule applied (``auto`` resolved).
    """

    frame: Any
    known_from: str


def enterprise_spine_spark(
    spark: Any,
    sources: SparkSources,
    definitions: Definitions,
    as_of: Iterable[dt.date],
    *,
    known_from: str = "registration",
) -> SparkSpine:
    """Every enterprise the zone knew at each ``as_of``, computed on Spark.

    The Spark twin of :func:`~credit_engine.features.enterprise_spine` (same
    SQL, same rules, ``known_from`` included); nothing is collected (``auto``
    asks Spark only whether the registration spine is empty).

    Raises
    ------
    ValueError
        If ``known_from`` is not one of ``KNOWN_ENTERPRISES``.
    """
    if known_from not in KNOWN_ENTERPRISES:
        raise ValueError(
            f"known_from must be one of {KNOWN_ENTERPRISES}, got {known_from!r}"
        )
    dates = sorted(set(as_of))
    contracts = definitions.contracts
    states = sorted(n for n, c in contracts.items() if c.kind is RecordKind.STATE)
    rule = "any_record" if known_from == "any_record" else "registration"
    frame = _first_known_spine_spark(
        spark, sources, states if rule == "registration" else sorted(contracts), dates
    )
    if known_from == "auto" and frame.isEmpty():
        rule = "any_record"
        frame = _first_known_spine_spark(spark, sources, sorted(contracts), dates)
    return SparkSpine(frame=frame, known_from=rule)


def source_record_counts_spark(
    spark: Any,
    sources: SparkSources,
    definitions: Definitions,
    resolved: ResolvedSet,
    as_of: dt.date,
) -> dict[str, int]:
    """Count the records of each source table of a set known at ``as_of``, on Spark.

    The Spark twin of :func:`~credit_engine.features.source_record_counts`
    (same point-in-time SQL); only the counts reach the driver.
    """
    tables = _source_tables(resolved)
    if not tables:
        return {}
    sources.register_spark(spark, tables)
    cutoff = Cutoff.end_of(as_of)
    # One job for every table (a Spark job costs far more than its rows here).
    sql = " UNION ALL ".join(
        f"SELECT {i} AS t, count(*) AS n "
        f"FROM ({known(definitions.contracts[name], cutoff)}) AS k{i}"
        for i, name in enumerate(tables)
    )
    counts = dict.fromkeys(tables, 0)
    for row in spark.sql(to_spark(sql)).collect():
        counts[tables[int(row[0])]] = int(row[1])
    return counts


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
    same compiled SQL, transpiled, in the layout Spark computes fastest with
    the same values (see :func:`compile_feature_sql`: distinct counts apart,
    shared terms, the enterprises of each date numbered, float columns summed
    in integer millionths); every rating date in one job. A spine
    computed on Spark (:func:`enterprise_spine_spark`) is computed here, once
    (one job), and cached while the returned frame lives (released by the
    next call once the frame is garbage collected): the query reads it
    once per view, and Spark broadcasts it to the records' scans when it fits
    ``spark.sql.autoBroadcastJoinThreshold`` (10 MB by default).

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session (:func:`credit_engine.engines.spark_session`).
    spine : SparkSpine, pyspark.sql.DataFrame, pandas.DataFrame or pyarrow.Table
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
        Lazy: ``uscc``, ``as_of`` and one DOUBLE column per feature, in no
        order (sort it where the order matters, as
        :func:`write_snapshot_spark` does: ordering it here would compute
        its widest stage twice).

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
    _release_spines()
    # Sources first: replacing a view Spark has cached data of drops that
    # cache, and each call's spine gets a view of its own for the same reason.
    sources.register_spark(spark, _source_tables(resolved))
    cached = _materialised_spine(spark, spine)
    view = f"{SPINE_VIEW_PREFIX}{uuid.uuid4().hex[:12]}"
    cached.createOrReplaceTempView(view)
    sql = compile_feature_sql(
        resolved,
        definitions.contracts,
        spine_table=view,
        usccs=usccs,
        distinct_apart=True,
        shared_terms=True,
        row_key=SPINE_ROW,
        integer_sums=True,
        ordered=False,
    )
    frame = spark.sql(
        to_spark(sql, timestamp_columns=timestamp_columns(definitions.contracts))
    )
    # The spine (view and cache) lives as long as the frame that reads it.
    weakref.finalize(frame, _release_later, spark, view, cached).atexit = False
    return frame


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
    all_null : tuple of str
        Features null in every row (all of them when there is no row).
    constant : tuple of str
        Features not null somewhere that take a single value.
    """

    lineage: dict[str, Any]
    summary: pd.DataFrame
    all_null: tuple[str, ...] = ()
    constant: tuple[str, ...] = ()


class _Summary:
    """Per-date counts and per-feature range, accumulated one batch at a time."""

    def __init__(self, features: int) -> None:
        self.features = features
        self.rows: dict[dt.date, int] = {}
        self.nulls: dict[dt.date, int] = {}
        self.low: dict[str, float] = {}
        self.high: dict[str, float] = {}

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        nulls = pa.array([0] * table.num_rows, pa.int64())
        for i in range(2, table.num_columns):
            column = table.column(i)
            nulls = pc.add(nulls, pc.is_null(column).cast(pa.int64()))
            low, high = pc.min_max(column).values()
            if low.is_valid:
                name = table.column_names[i]
                self.low[name] = min(self.low.get(name, low.as_py()), low.as_py())
                self.high[name] = max(self.high.get(name, high.as_py()), high.as_py())
        frame = pa.table({"as_of": table.column(1), "nulls": nulls}).group_by("as_of")
        for row in frame.aggregate([("nulls", "sum"), ("nulls", "count")]).to_pylist():
            day = row["as_of"]
            self.rows[day] = self.rows.get(day, 0) + row["nulls_count"]
            self.nulls[day] = self.nulls.get(day, 0) + row["nulls_sum"]

    def profile(self, columns: Sequence[str]) -> tuple[tuple[str, ...], ...]:
        """Return the features null everywhere, and those of a single value."""
        all_null = tuple(c for c in columns if c not in self.low)
        constant = tuple(
            c for c in columns if c in self.low and self.low[c] == self.high[c]
        )
        return all_null, constant

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
    extra: Mapping[str, Any] | None = None,
) -> SparkSnapshot:
    """Write a Spark feature frame as a snapshot file with its lineage.

    The frame is computed once and kept on the executors' disks, sorted by
    ``(uscc, as_of)`` from there, and written as Parquet parts to a
    folder beside ``path``; the parts are then streamed, one row group at a
    time, into the single file :func:`~credit_engine.features.write_snapshot`
    would write (same schema, same lineage keys), and the folder removed.

    Parameters
    ----------
    extra : mapping, optional
        More lineage, as for :func:`~credit_engine.features.write_snapshot`.

    Returns
    -------
    SparkSnapshot
        The lineage, a per-date summary and the features null everywhere or
        of a single value.
    """
    from pyspark import StorageLevel

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parts = path.parent / f".{path.name}.spark-{uuid.uuid4().hex[:8]}"
    tmp = path.with_suffix(path.suffix + ".tmp")
    try:
        # Kept on the executors' disks while they are sorted: the global sort
        # samples its input first, which would otherwise compute the frame's
        # widest stage (every view joined to the spine) a second time.
        kept = frame.persist(StorageLevel.DISK_ONLY)
        try:
            kept.orderBy("uscc", "as_of").write.mode("overwrite").parquet(str(parts))
        finally:
            kept.unpersist()
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
            **(extra or {}),
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
    all_null, constant = summary.profile(resolved.columns)
    return SparkSnapshot(
        lineage=lineage,
        summary=summary.frame(),
        all_null=all_null,
        constant=constant,
    )
