"""The executor side of ``ingest --engine spark``: read, cast, fingerprint, write.

Each function here runs inside a Spark task (``mapInArrow``) on an executor,
one Arrow batch at a time, so a task's memory is bounded by a batch, never by a
table. The row-level work is the code of the DuckDB path itself
(:func:`~credit_engine.data._cast.cast_to_contract`,
:func:`~credit_engine.data._fingerprint.row_fingerprints`, the quarantine texts
of :mod:`credit_engine.data._dedup`), so the typed values, fingerprints and
texts are the same bits on both engines.

Parts are written with Arrow by the tasks, not by Spark's Parquet writer:
Spark has no unsigned 64-bit type, and the lake stores the fingerprints as
``UINT64`` (the DuckDB path's schema, which duplicate detection reads back).
Inside Spark the fingerprints travel as the signed 64-bit integers with the
same bits.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from credit_engine.data._contracts import ColumnType, SourceContract
from credit_engine.data._mapping_apply import MappedTable
from credit_engine.data._read import Chunk, InputTable, Piece, SourceFile, cast_piece

__all__ = [
    "EXTRA_COLUMNS",
    "ReadTask",
    "map_and_cast",
    "part_schema",
    "plan_read_tasks",
    "read_and_cast",
    "read_part_stats",
    "spark_schema_ddl",
    "write_parts",
]

SEQ_FILE_SHIFT = 40
"""``_seq`` = file index << 40 | row number: file order, then row order (for a
mapped table: part index << 40 | place in the part's output)."""

EXTRA_COLUMNS = (
    "_raw_values",
    "_cast_reasons",
    "_source_file",
    "_row_number",
    "_seq",
    "_row_hash_a",
    "_row_hash_b",
)

_SPARK_TYPES = {
    ColumnType.STRING: "STRING",
    ColumnType.USCC: "STRING",
    ColumnType.INT: "BIGINT",
    ColumnType.FLOAT: "DOUBLE",
    ColumnType.BOOL: "BOOLEAN",
    ColumnType.DATE: "DATE",
    ColumnType.TIMESTAMP: "TIMESTAMP",
}


@dataclass(frozen=True)
class ReadTask:
    """One Spark task's share of a table's input: rows of one file.

    ``row_groups`` is empty for a CSV file (read whole, as the DuckDB path
    reads it); for Parquet it lists the row groups, whose first row in the
    file is ``first_row``.
    """

    file_index: int
    path: str
    name: str
    columns: tuple[str, ...]
    csv: bool
    row_groups: tuple[int, ...]
    first_row: int
    rows: int


def plan_read_tasks(table: InputTable, target_rows: int) -> list[ReadTask]:
    """Split a table's files into tasks of about ``target_rows`` rows.

    Reads only Parquet footers (row-group sizes); a CSV file is one task.
    """
    tasks: list[ReadTask] = []
    for index, file in enumerate(table.files):
        if file.num_rows is None:
            tasks.append(
                ReadTask(index, str(file.path), file.name, file.columns, True, (), 0, 0)
            )
            continue
        meta = pq.ParquetFile(file.path).metadata
        groups: list[int] = []
        first = rows = 0
        for rg in range(meta.num_row_groups):
            n = meta.row_group(rg).num_rows
            if groups and rows + n > target_rows:
                tasks.append(
                    ReadTask(
                        index, str(file.path), file.name, file.columns, False,
                        tuple(groups), first, rows,
                    )
                )  # fmt: skip
                first, rows, groups = first + rows, 0, []
            groups.append(rg)
            rows += n
        if groups or not tasks:
            tasks.append(
                ReadTask(
                    index, str(file.path), file.name, file.columns, False,
                    tuple(groups), first, rows,
                )
            )  # fmt: skip
    return tasks


def spark_schema_ddl(contract: SourceContract) -> str:
    """Return the Spark DDL of the typed records with their ingestion columns."""
    columns = [f"`{c.name}` {_SPARK_TYPES[c.type]}" for c in contract.columns]
    columns += [
        "_raw_values STRING",
        "_cast_reasons ARRAY<STRING>",
        "_source_file STRING",
        "_row_number BIGINT",
        "_seq BIGINT",
        "_row_hash_a BIGINT",
        "_row_hash_b BIGINT",
    ]
    return ", ".join(columns)


def _pieces(task: ReadTask, chunk_rows: int) -> Iterator[tuple[int, pa.Table]]:
    from credit_engine.data._read import _batches
    from credit_engine.exceptions import DataContractError

    first = task.first_row
    try:
        if task.csv:
            file = SourceFile(Path(task.path), task.name, task.columns, None)
            batches: Iterator[pa.RecordBatch] = _batches(file, chunk_rows)
        else:
            batches = pq.ParquetFile(task.path).iter_batches(
                batch_size=chunk_rows,
                row_groups=list(task.row_groups),
                columns=list(task.columns),
            )
        for batch in batches:
            piece = pa.Table.from_batches([batch]).select(list(task.columns))
            yield first, piece
            first += piece.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise DataContractError(
            f"{task.name}: cannot read the file after row {first} ({exc}); it may "
            "be truncated or corrupt. Re-export it. Nothing was loaded."
        ) from exc


def _typed_batches(
    contract: SourceContract, chunk: Chunk, seq: npt.NDArray[np.int64]
) -> Iterator[pa.RecordBatch]:
    """Return a cast chunk as typed records with their ingestion columns.

    ``_cast_reasons`` holds the ``invalid_type`` labels and the labels of rows a
    source mapping could not place; ``seq`` is each row's ``_seq``.
    """
    from credit_engine.data._fingerprint import row_fingerprints
    from credit_engine.data._validate import reasons_list_array

    n = chunk.num_rows
    schema = contract.arrow_schema()
    hash_a, hash_b = row_fingerprints(
        chunk.table, chunk.raw_values, contract.extension_columns
    )
    failed = {
        label: np.flatnonzero(mask).astype(np.int64)
        for label, mask in chunk.row_flags()
    }
    arrays = [*chunk.table.cast(schema).columns]
    arrays += [
        chunk.raw_values,
        reasons_list_array(n, failed),
        chunk.source_file,
        chunk.row_number,
        pa.array(seq),
        pa.array(hash_a, pa.uint64()).view(pa.int64()),
        pa.array(hash_b, pa.uint64()).view(pa.int64()),
    ]
    names = [*schema.names, *EXTRA_COLUMNS]
    yield from pa.Table.from_arrays(arrays, names=names).to_batches()


def read_and_cast(
    contract: SourceContract, chunk_rows: int
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Return the ``mapInArrow`` function turning read tasks into typed records.

    Each input row is a :class:`ReadTask`; each output batch holds the typed
    contract columns, ``_raw_values``, ``_cast_reasons`` (the ``invalid_type``
    labels), provenance, ``_seq`` and the fingerprints (as signed int64).
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for spec in batch.to_pylist():
                task = ReadTask(
                    **{
                        **spec,
                        "columns": tuple(spec["columns"]),
                        "row_groups": tuple(spec["row_groups"]),
                    }
                )
                for first, raw in _pieces(task, chunk_rows):
                    n = raw.num_rows
                    rows = np.arange(first, first + n, dtype=np.int64)
                    piece = Piece(
                        raw,
                        pa.repeat(pa.scalar(task.name, pa.string()), n),
                        pa.array(rows),
                    )
                    seq = rows + (task.file_index << SEQ_FILE_SHIFT)
                    yield from _typed_batches(
                        contract, cast_piece(piece, contract), seq
                    )

    return run


def map_and_cast(
    table: MappedTable, chunk_rows: int, stats_dir: str
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Return the ``mapInArrow`` function running a mapped table's parts.

    Each input row names one (source, table) part of a source mapping
    (``part``, its index in ``table.parts``); the task runs it whole, as the
    DuckDB path does (:meth:`MappedTable.pieces`: the part's query over the
    source's files, crosswalks, pseudo-USCCs, repeats numbered in file order),
    and casts its rows. ``_seq`` is the part's index, then the row's place in
    the part's output, so the rows keep the DuckDB path's order. Each task
    writes what the part read and gave (``part-<i>.json`` in ``stats_dir``:
    ``rows_read``, ``rows_out``) for the batch's report; a rerun task writes
    the same figures again.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for index in batch.column("part").to_pylist():
                part = table.parts[index]
                part.stats.rows_read = part.stats.rows_out = 0  # a reused worker
                one = replace(table, parts=[part])
                seq = index << SEQ_FILE_SHIFT
                for piece in one.pieces(chunk_rows):
                    chunk = cast_piece(piece, table.contract)
                    n = chunk.num_rows
                    rows = np.arange(seq, seq + n, dtype=np.int64)
                    seq += n
                    yield from _typed_batches(table.contract, chunk, rows)
                stats = {
                    "rows_read": part.stats.rows_read,
                    "rows_out": part.stats.rows_out,
                }
                path = Path(stats_dir) / f"part-{index:05d}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(stats))

    return run


def read_part_stats(table: MappedTable, stats_dir: Path) -> None:
    """Copy what each part read and gave (written by its task) into ``table``."""
    for index, part in enumerate(table.parts):
        stats = json.loads((stats_dir / f"part-{index:05d}.json").read_text())
        part.stats.rows_read = int(stats["rows_read"])
        part.stats.rows_out = int(stats["rows_out"])


def _unsigned(table: pa.Table) -> pa.Table:
    for name in ("_row_hash_a", "_row_hash_b"):
        if name in table.column_names:
            i = table.column_names.index(name)
            column = table.column(i).combine_chunks().view(pa.uint64())
            table = table.set_column(i, name, column)
    return table


def write_parts(
    out_dir: str,
    schema: pa.Schema,
    *,
    select_sql: str | None = None,
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """Return the ``mapInArrow`` function writing each partition as one part.

    Parameters
    ----------
    out_dir : str
        Staging folder; partition ``i`` writes ``part-<i>.parquet`` there.
    schema : pyarrow.Schema
        Schema of the written file (the lake's or quarantine's; fingerprints
        as ``UINT64``).
    select_sql : str, optional
        A DuckDB ``SELECT ... FROM batch`` run on each batch first (the
        quarantine's reason texts, in the DuckDB path's own SQL).

    Returns
    -------
    callable
        Yields one row per written part: ``path`` and ``rows``.
    """

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        index = 0 if context is None else context.partitionId()
        path = Path(out_dir) / f"part-{index:05d}.parquet"
        writer: pq.ParquetWriter | None = None
        rows = 0
        con: Any = None
        with tempfile.TemporaryDirectory(prefix="credit-engine-part-") as tmp:
            try:
                for batch in batches:
                    if not batch.num_rows:
                        continue
                    table = pa.Table.from_batches([batch])
                    if select_sql is not None:
                        if con is None:
                            from credit_engine.data._dedup import connect

                            con = connect(Path(tmp))
                        con.register("batch", table)
                        table = con.sql(select_sql).to_arrow_table()
                        con.unregister("batch")
                    table = _unsigned(table).select(schema.names).cast(schema)
                    if writer is None:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        writer = pq.ParquetWriter(path, schema, compression="zstd")
                    writer.write_table(table)
                    rows += table.num_rows
            finally:
                if writer is not None:
                    writer.close()
                if con is not None:
                    con.close()
        if rows:
            yield pa.RecordBatch.from_pydict(
                {"path": [str(path)], "rows": [rows]},
                schema=pa.schema([("path", pa.string()), ("rows", pa.int64())]),
            )

    return run


def part_schema(contract: SourceContract, kind: str) -> pa.Schema:
    """Return the schema of a ``"lake"`` or ``"quarantine"`` part (DuckDB's)."""
    fields = list(contract.arrow_schema())
    if kind == "quarantine":
        fields += [
            pa.field("_raw_values", pa.string()),
            pa.field("_reasons", pa.list_(pa.string())),
            pa.field("_reason_text", pa.string()),
            pa.field("_source_file", pa.string()),
            pa.field("_row_number", pa.int64()),
        ]
    fields += [pa.field("_batch_id", pa.string())]
    fields += [
        pa.field("_row_hash_a", pa.uint64()),
        pa.field("_row_hash_b", pa.uint64()),
    ]
    return pa.schema(fields)
