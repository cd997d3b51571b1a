"""Validated ingestion of a batch on Apache Spark (``ingest --engine spark``).

The same steps as :func:`~credit_engine.data.ingest_batch`, as Spark jobs:

1. preflight on the driver (file schemas against the contracts, batch id), as
   on DuckDB; the driver then plans read tasks from the Parquet footers;
2. executors read their share of the files, cast to the contract and
   fingerprint the rows (``mapInArrow``, the DuckDB path's own code); with a
   source mapping, each (source, table) part of it is one task running the
   DuckDB path's mapped reader over the part's files in order;
3. Great Expectations validates each table's Spark dataframe with the
   ``raw.<table>`` suites; the failing rows are marked by the same checks in
   Spark SQL, reconciled with GX's counts (:mod:`credit_engine.data._spark_checks`);
4. duplicates and key conflicts are classified in Spark SQL against the batch
   and the committed lake and quarantine (the DuckDB path's rules);
5. executors write the staged lake, quarantine and duplicate parts;
6. the driver moves them into place and writes the commit marker (the same
   protocol, lock and manifest as on DuckDB).

Only counts, file names and a few sample rows per reason reach the driver.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa

from credit_engine import exceptions
from credit_engine.config import Settings
from credit_engine.data._contracts import SourceContract
from credit_engine.data._dedup import (
    _SAMPLE_COLUMNS,
    _SAMPLES_PER_REASON,
    TableOutcome,
    _reason_text_sql,
    key_conflict_label,
)
from credit_engine.data._ingest import (
    _check_filesystems,
    _commit,
    _inputs,
    _Layout,
    _table_report,
    _write_reports,
)
from credit_engine.data._lake import Lake, ingest_lock
from credit_engine.data._mapping_apply import MappedTable
from credit_engine.data._mapping_spec import SourceMapping
from credit_engine.data._read import InputTable
from credit_engine.data._results import IngestReport, ProgressCallback
from credit_engine.data._spark_checks import (
    SparkSuiteRunner,
    failure_condition,
    reconcile,
    sql_string,
)
from credit_engine.data._spark_tasks import (
    map_and_cast,
    part_schema,
    plan_read_tasks,
    read_and_cast,
    read_part_stats,
    spark_schema_ddl,
    write_parts,
)
from credit_engine.data._suites import CheckKind, plan_checks
from credit_engine.exceptions import CreditEngineError, IngestionError

__all__ = ["ingest_batch_spark"]

ROWS_PER_PART = 1_000_000
"""Rows per staged Parquet part (the DuckDB path cuts parts at 256 MB)."""

_TWO_64 = "CAST('18446744073709551616' AS DECIMAL(21, 0))"
_TWO_63 = "CAST('9223372036854775808' AS DECIMAL(21, 0))"


def _signed(column: str) -> str:
    """Spark reads the lake's UINT64 fingerprints as DECIMAL(20,0): same bits."""
    return (
        f"CAST(CASE WHEN {column} >= {_TWO_63} THEN {column} - {_TWO_64} "
        f"ELSE {column} END AS BIGINT) AS {column}"
    )


def _q(name: str) -> str:
    return f"`{name}`"


class _TableRun:
    """One table of a Spark batch: typed records, validation, classification."""

    def __init__(
        self,
        spark: Any,
        inp: InputTable | MappedTable,
        *,
        settings: Settings,
        runner: SparkSuiteRunner,
        lake: Lake,
        layout: _Layout,
        batch_id: str,
    ) -> None:
        self.spark = spark
        self.inp = inp
        self.contract: SourceContract = inp.contract
        self.settings = settings
        self.runner = runner
        self.lake = lake
        self.layout = layout
        self.batch_id = batch_id
        self.view = f"ce_ingest_{self.contract.name}"
        self._views: list[str] = [self.view]

    # -- typed records -------------------------------------------------------

    @property
    def _stats_dir(self) -> Path:
        return self.layout.stage / "mapping" / self.contract.name

    def typed(self) -> Any:
        chunk_rows = self.settings.ingest_chunk_rows
        if isinstance(self.inp, MappedTable):
            # One task per (source, table) part: its repeats are numbered and
            # its pseudo-USCCs checked in file order, over all its files.
            rows: list[Any] = [(i,) for i in range(len(self.inp.parts))]
            schema = "part BIGINT"
            task = map_and_cast(self.inp, chunk_rows, str(self._stats_dir))
        else:
            rows = [
                {
                    **t.__dict__,
                    "columns": list(t.columns),
                    "row_groups": list(t.row_groups),
                }
                for t in plan_read_tasks(self.inp, chunk_rows)
            ]
            schema = (
                "file_index BIGINT, path STRING, name STRING, columns ARRAY<STRING>, "
                "csv BOOLEAN, row_groups ARRAY<BIGINT>, first_row BIGINT, rows BIGINT"
            )
            task = read_and_cast(self.contract, chunk_rows)
        plan = self.spark.createDataFrame(rows, schema).repartition(len(rows))
        return plan.mapInArrow(task, spark_schema_ddl(self.contract))

    def validated(self, typed: Any) -> tuple[Any, int]:
        """Run the GX suite; return the records with ``_reasons`` and the row count."""
        from pyspark.sql import functions as F  # noqa: N812

        checks = plan_checks(self.contract)
        conditions = [failure_condition(c) for c in checks]
        totals = typed.agg(
            F.count(F.lit(1)).alias("rows"),
            *[
                F.sum(F.when(F.expr(cond), 1).otherwise(0)).alias(f"c{i}")
                for i, cond in enumerate(conditions)
            ],
        ).first()
        rows = int(totals["rows"])
        if rows == 0:
            return typed, 0
        marked = {i: int(totals[f"c{i}"] or 0) for i in range(len(checks))}
        passed = self.runner.outcomes(
            self.contract.name,
            typed.select(*[_q(c) for c in self.contract.column_names]),
        )
        reconcile(self.contract.name, checks, passed, marked)
        labels = []
        for check, cond in zip(checks, conditions, strict=True):
            test = cond
            if check.kind is CheckKind.NOT_NULL:
                # A value that failed to convert (or that a mapping could not
                # place) is null now but was not missing.
                column = sql_string(check.column)
                test = (
                    f"{cond} AND NOT exists(_cast_reasons, "
                    f"r -> substring_index(r, ':', -1) = {column})"
                )
            labels.append(f"CASE WHEN {test} THEN {sql_string(check.label)} END")
        reasons = (
            "array_sort(array_distinct(filter(concat(_cast_reasons, "
            f"array({', '.join(labels)})), r -> r IS NOT NULL)))"
        )
        return typed.withColumn("_reasons", F.expr(reasons)).drop("_cast_reasons"), rows

    # -- classification --------------------------------------------------------

    def _committed(self, files: list[Path], columns: list[str], what: str) -> str:
        """Register committed files' columns as view ``<view>_<what>``; its name."""
        if not files:
            return ""
        frame = self.spark.read.parquet(*[str(f) for f in files]).selectExpr(*columns)
        name = f"{self.view}_{what}"
        frame.createOrReplaceTempView(name)
        self._views.append(name)
        return name

    def classify(self, work: Any) -> Any:
        contract = self.contract
        keys = [_q(k) for k in contract.version_key]
        key_list = ", ".join(keys)
        hashes = "_row_hash_a, _row_hash_b"
        work.createOrReplaceTempView(self.view)
        lake_files = self.lake.table_files(contract.name)
        quarantine_files = self.lake.quarantine_files(contract.name)
        signed = [_signed("_row_hash_a"), _signed("_row_hash_b")]
        lake_h = self._committed(lake_files, signed, "lake_hashes")
        quar_h = self._committed(quarantine_files, signed, "quarantine_hashes")
        lake_k = self._committed(lake_files, keys, "lake_keys")
        none_h = "SELECT CAST(NULL AS BIGINT) AS _row_hash_a, CAST(NULL AS BIGINT) AS _row_hash_b WHERE false"  # noqa: E501
        none_k = (
            "SELECT "
            + ", ".join(
                f"CAST(NULL AS {self._type(k)}) AS {_q(k)}"
                for k in contract.version_key
            )
            + " WHERE false"
        )

        def same(left: str, right: str) -> str:
            return " AND ".join(f"{left}.{k} <=> {right}.{k}" for k in keys)

        sql = f"""
        WITH incoming AS (
            SELECT _seq, {hashes}, size(_reasons) = 0 AS valid, {key_list},
                   row_number() OVER (PARTITION BY {hashes} ORDER BY _seq) AS copy_no
            FROM {self.view}
        ),
        firsts AS (SELECT DISTINCT {hashes} FROM incoming WHERE copy_no = 1),
        in_lake AS (
            SELECT DISTINCT {hashes} FROM ({f"SELECT * FROM {lake_h}" if lake_h else none_h})
            JOIN firsts USING ({hashes})
        ),
        in_quarantine AS (
            SELECT DISTINCT {hashes} FROM ({f"SELECT * FROM {quar_h}" if quar_h else none_h})
            JOIN firsts USING ({hashes})
        ),
        marked AS (
            SELECT i.*, CASE WHEN i.copy_no > 1 THEN 'batch'
                             WHEN l._row_hash_a IS NOT NULL THEN 'lake'
                             WHEN q._row_hash_a IS NOT NULL THEN 'quarantine' END AS dup_of
            FROM incoming i
            LEFT JOIN in_lake l ON i._row_hash_a = l._row_hash_a AND i._row_hash_b = l._row_hash_b
            LEFT JOIN in_quarantine q ON i._row_hash_a = q._row_hash_a AND i._row_hash_b = q._row_hash_b
        ),
        winners AS (
            SELECT {key_list}, min(_seq) AS first_seq FROM marked
            WHERE dup_of IS NULL AND valid GROUP BY {key_list}
        ),
        lake_keys AS (
            SELECT DISTINCT h.*, true AS in_lake
            FROM ({f"SELECT * FROM {lake_k}" if lake_k else none_k}) h
            JOIN winners w ON {same("h", "w")}
        )
        SELECT m._seq, m.dup_of AS _dup_of,
               m.dup_of IS NULL AND (lk.in_lake IS NOT NULL OR coalesce(w.first_seq < m._seq, false))
                   AS _key_conflict,
               CASE WHEN m.dup_of IS NOT NULL THEN 'duplicate'
                    WHEN m.valid AND lk.in_lake IS NULL
                         AND coalesce(w.first_seq >= m._seq, true) THEN 'load'
                    ELSE 'quarantine' END AS _status
        FROM marked m
        LEFT JOIN winners w ON {same("m", "w")}
        LEFT JOIN lake_keys lk ON {same("m", "lk")}
        """  # noqa: E501
        return self.spark.sql(sql)

    def _type(self, column: str) -> str:
        from credit_engine.data._spark_tasks import _SPARK_TYPES

        return _SPARK_TYPES[self.contract.column(column).type]

    # -- staged parts ----------------------------------------------------------

    def _write(
        self, frame: Any, rows: int, out: Path, schema: pa.Schema, sql: str | None
    ) -> list[Path]:
        parts = max(1, math.ceil(rows / ROWS_PER_PART))
        # One part needs no range sampling (a Spark job of its own).
        spread = (
            frame.repartition(1)
            if parts == 1
            else frame.repartitionByRange(parts, "_seq")
        )
        ordered = spread.sortWithinPartitions("_seq")
        written = ordered.mapInArrow(
            write_parts(str(out), schema, select_sql=sql), "path STRING, rows BIGINT"
        ).collect()  # one row per part: its path and row count
        total = sum(int(r["rows"]) for r in written)
        if total != rows:
            raise IngestionError(
                f"Table {self.contract.name!r}: wrote {total} "
                f"rows to {out} but expected {rows}; it's a bug in credit-engine. "
                "Please report it. Nothing was committed."
            )
        return sorted(Path(str(r["path"])) for r in written)

    def run(self, progress: ProgressCallback | None) -> TableOutcome:
        from pyspark import StorageLevel

        name = self.contract.name
        if progress is not None:
            progress.start(name, self.inp.total_rows)
        typed = self.typed().persist(StorageLevel.MEMORY_AND_DISK)
        try:
            work, rows = self.validated(typed)
            if isinstance(self.inp, MappedTable):
                read_part_stats(self.inp, self._stats_dir)
            outcome = TableOutcome()
            if rows:
                work = work.persist(StorageLevel.MEMORY_AND_DISK)
                try:
                    outcome = self._stage(work)
                finally:
                    work.unpersist()
        finally:
            typed.unpersist()
            for view in self._views:
                self.spark.catalog.dropTempView(view)
        if outcome.rows_in != rows:
            raise IngestionError(
                f"Table {name!r}: read {rows} rows but classified {outcome.rows_in}; "
                "it's a bug in credit-engine. Please report it. Nothing was committed."
            )
        if progress is not None:
            progress.advance(name, rows)
            progress.done(name)
        return outcome

    def _stage(self, work: Any) -> TableOutcome:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F  # noqa: N812

        contract = self.contract
        layout = self.layout
        outcome = TableOutcome()
        classes = self.classify(work).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            counts = {
                str(r["_status"]): int(r["count"])
                for r in classes.groupBy("_status").count().collect()
            }
            outcome.loaded = counts.get("load", 0)
            outcome.quarantined = counts.get("quarantine", 0)
            outcome.duplicates = counts.get("duplicate", 0)
            outcome.rows_in = outcome.loaded + outcome.quarantined + outcome.duplicates
            joined = work.join(classes, "_seq")
            batch = F.lit(self.batch_id).alias("_batch_id")
            cols = [F.col(_q(c)) for c in contract.column_names]
            if outcome.loaded:
                lake = joined.where("_status = 'load'").select(
                    *cols, batch, "_row_hash_a", "_row_hash_b", "_seq"
                )
                outcome.lake_files = self._write(
                    lake,
                    outcome.loaded,
                    layout.lake_out(contract, self.batch_id),
                    part_schema(contract, "lake"),
                    None,
                )
            if outcome.quarantined:
                outcome.quarantine_files = self._quarantine(
                    joined, cols, batch, outcome
                )
            if outcome.duplicates:
                dups = joined.where("_status = 'duplicate'").select(
                    F.lit(contract.name).alias("table_name"),
                    F.col("_source_file").alias("source_file"),
                    F.col("_row_number").alias("row_number"),
                    F.col("_dup_of").alias("duplicate_of"),
                    batch,
                    "_seq",
                )
                schema = pa.schema(
                    [
                        ("table_name", pa.string()),
                        ("source_file", pa.string()),
                        ("row_number", pa.int64()),
                        ("duplicate_of", pa.string()),
                        ("_batch_id", pa.string()),
                    ]
                )
                outcome.duplicate_files = self._write(
                    dups,
                    outcome.duplicates,
                    layout.duplicates_out(contract, self.batch_id),
                    schema,
                    None,
                )
        finally:
            classes.unpersist()
        return outcome

    def _quarantine(
        self, joined: Any, cols: list[Any], batch: Any, outcome: TableOutcome
    ) -> list[Path]:
        from pyspark.sql import functions as F  # noqa: N812

        contract = self.contract
        label = sql_string(key_conflict_label(contract))
        rows = joined.where("_status = 'quarantine'").select(
            *cols,
            "_raw_values",
            F.expr(
                f"CASE WHEN _key_conflict THEN concat(_reasons, array({label})) "
                "ELSE _reasons END"
            ).alias("_reasons"),
            "_source_file",
            "_row_number",
            batch,
            "_row_hash_a",
            "_row_hash_b",
            "_seq",
        )
        codes = (
            rows.select("_seq", F.explode("_reasons").alias("r"))
            .select("_seq", F.substring_index("r", ":", 1).alias("code"))
            .distinct()
        )
        outcome.reasons = {
            str(r["code"]): int(r["count"])
            for r in codes.groupBy("code").count().orderBy("code").collect()
        }
        names = ", ".join(_q(c) for c in contract.column_names)
        select = (
            f"SELECT {names}, _raw_values, _reasons, "
            f"{_reason_text_sql(contract)} AS _reason_text, _source_file, "
            "_row_number, _batch_id, _row_hash_a, _row_hash_b FROM batch"
        )
        files = self._write(
            rows,
            outcome.quarantined,
            self.layout.quarantine_out(contract, self.batch_id),
            part_schema(contract, "quarantine"),
            select,
        )
        outcome.samples = self._samples(files)
        return files

    def _samples(self, files: list[Path]) -> dict[str, list[dict[str, str]]]:
        from pyspark.sql import Window
        from pyspark.sql import functions as F  # noqa: N812

        cols = list(_SAMPLE_COLUMNS)
        staged = self.spark.read.parquet(*[str(f) for f in files])
        exploded = (
            staged.select(F.explode("_reasons").alias("r"), *cols)
            .select(F.substring_index("r", ":", 1).alias("code"), *cols)
            .distinct()
        )
        window = Window.partitionBy("code").orderBy("_source_file", "_row_number")
        top = (
            exploded.withColumn("rn", F.row_number().over(window))
            .where(F.col("rn") <= _SAMPLES_PER_REASON)
            .orderBy("code", "rn")
            .collect()  # at most a few rows per reason code
        )
        samples: dict[str, list[dict[str, str]]] = {}
        for row in top:
            record = {k: "" if row[k] is None else str(row[k]) for k in cols}
            samples.setdefault(str(row["code"]), []).append(record)
        return samples


_TASK_ERROR = re.compile(r"^credit_engine\.exceptions\.(\w+): ", re.MULTILINE)


def task_error(exc: BaseException) -> CreditEngineError | None:
    """Return the credit-engine error a Spark task raised, as the driver's own.

    A task's exception reaches the driver as a ``PythonException`` holding the
    worker's traceback text; an error of ours there (a file found corrupt
    part-way, a mapping expression DuckDB cannot run) is raised again with its
    class and message, as on DuckDB, instead of a Spark stack trace.
    """
    text = str(exc)
    found = list(_TASK_ERROR.finditer(text))
    if not found:
        return None
    last = found[-1]
    kind = getattr(exceptions, last.group(1), None)
    if not (isinstance(kind, type) and issubclass(kind, CreditEngineError)):
        return None
    message = text[last.end() :].split("\n\tat ", 1)[0]
    message = re.split(r"\n\s*(?:JVM stacktrace:|Driver stacktrace:)", message)[0]
    return kind(message.strip())


def ingest_batch_spark(
    input_dir: Path,
    settings: Settings,
    spark: Any,
    *,
    mapping: Path | SourceMapping | None = None,
    progress: ProgressCallback | None = None,
    report_path: Path | None = None,
) -> IngestReport:
    """Validate a batch and commit it to the lake, as Spark jobs.

    The same contract, result and files as :func:`~credit_engine.data.ingest_batch`
    (the reports, quarantine and lake are identical; the lake's parts are cut
    differently), computed on the executors of ``spark``.

    Parameters
    ----------
    input_dir : pathlib.Path
        Folder with one ``<table>.parquet``, ``<table>.csv`` or ``<table>/``
        folder of Parquet parts per table. It, the lake, the quarantine and the
        staging folder must be readable and writable by the executors (one
        machine, or a shared filesystem).
    settings : Settings
        Engine settings.
    spark : pyspark.sql.SparkSession
        The session to run on (:func:`credit_engine.engines.spark_session`).
    mapping : pathlib.Path or SourceMapping, optional
        A source mapping (as for :func:`~credit_engine.data.ingest_batch`): each
        (source, table) part of it runs as one Spark task, through the DuckDB
        path's own reader, so the rows, their order and the report's
        ``mapping`` section are the same.
    progress : ProgressCallback, optional
        Told when each table starts, advances and is done.
    report_path : pathlib.Path, optional
        Also write the JSON report here.

    Returns
    -------
    IngestReport
        As :func:`~credit_engine.data.ingest_batch`.

    Raises
    ------
    ConfigurationError
        If the mapping file is invalid.
    DataContractError
        If a file does not fit its contract (or the mapping) as a whole; nothing
        is loaded.
    IngestionError
        If another ingestion holds the lake lock, or the run fails; nothing of
        the batch is committed.
    """
    started_at = dt.datetime.now(dt.UTC)
    input_dir = Path(input_dir).absolute()
    found, batch_id, mapped = _inputs(input_dir, settings, mapping)
    inputs = [i for i in found if isinstance(i, InputTable | MappedTable)]
    _check_filesystems(settings)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    layout = _Layout(settings.staging_dir / batch_id, settings)
    with ingest_lock(settings.lake_dir):
        lake.cleanup_uncommitted(settings.staging_dir)
        already = lake.is_committed(batch_id)
        report_dir = settings.reports_dir / batch_id
        if already:
            report_dir = report_dir / "reruns" / f"{started_at:%Y%m%dT%H%M%S%fZ}"
        try:
            layout.stage.mkdir(parents=True)
            runner = SparkSuiteRunner(
                [i.contract for i in inputs], report_dir / "data_docs", batch_id
            )
            outcomes = {
                i.contract.name: _TableRun(
                    spark,
                    i,
                    settings=settings,
                    runner=runner,
                    lake=lake,
                    layout=layout,
                    batch_id=batch_id,
                ).run(progress)
                for i in inputs
            }
            commit_seq = _commit(
                lake,
                layout,
                inputs,
                outcomes,
                batch_id=batch_id,
                started_at=started_at,
                input_dir=input_dir,
                already=already,
            )
        except CreditEngineError:
            raise
        except Exception as exc:
            ours = task_error(exc)
            if ours is not None:
                raise ours from exc
            raise IngestionError(
                f"Ingestion on Spark of {str(input_dir)!r} (batch {batch_id}) failed: "
                f"{type(exc).__name__}: {exc}. Nothing of the batch was committed; "
                "fix the cause and run again."
            ) from exc
        finally:
            shutil.rmtree(layout.stage, ignore_errors=True)
    report = IngestReport(
        batch_id=batch_id,
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        input_dir=str(input_dir),
        tables={
            i.contract.name: _table_report(i, outcomes[i.contract.name]) for i in inputs
        },
        already_ingested=already,
        commit_seq=commit_seq,
        html_report=str(report_dir / "ingest.html"),
        data_docs=str(runner.docs_index),
        json_report=str(report_dir / "ingest.json"),
        mapping=None if mapped is None else mapped.stats_json(),
    )
    _write_reports(report, report_dir, report_path)
    return report
