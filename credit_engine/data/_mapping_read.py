"""Read the files of a mapping's sources: find them, check headers, stream rows.

CSV files (plain or ``.gz``) are read as text in the source's encoding (UTF-8,
GBK, GB18030 ...) and delimiter, every cell a string, so that nothing is
converted before the mapping says how; Excel workbooks (``.xlsx``, one sheet)
as text too (:mod:`credit_engine.data._mapping_xlsx`); Parquet files keep their
types. Header
names are trimmed of surrounding spaces. The files of one source are streamed as
one Arrow record-batch reader over the union of their columns (a column missing
from a file is null there): text cells trimmed of spaces (full-width ones too)
and the source's null values (``""`` always) null, with the provenance columns
``_file_index``, ``_source_file``, ``_row_number`` (0-based data row in its file)
and ``_ord`` (one integer in file order).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from credit_engine.data._mapping_spec import Crosswalk, SourceMapping, SourceSpec
from credit_engine.data._mapping_xlsx import xlsx_batches, xlsx_header
from credit_engine.exceptions import DataContractError

__all__ = [
    "PROVENANCE",
    "SourceInput",
    "discover_sources",
    "read_crosswalk",
]

PROVENANCE = ("_file_index", "_source_file", "_row_number", "_ord")
_SPACES = " \t\r\n\u3000\u00a0"
_ORDER_SHIFT = 40  # _ord = file index << 40 | row number: one integer to sort by
_CSV_BLOCK_BYTES = 16 << 20
# The header is read from a small first block: the reader decodes and infers
# types over its whole first block, which at 16 MiB cost half a second of CPU on
# a GBK file. A header longer than the block is read again with a larger one.
_HEADER_BLOCK_BYTES = (64 << 10, 1 << 20, _CSV_BLOCK_BYTES)
_HASH_BLOCK_BYTES = 1 << 20


def _format_of(path: Path, spec: SourceSpec) -> str:
    if spec.format is not None:
        return spec.format
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        return "csv"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".xlsx", ".xls")):
        return "xlsx"
    return "unknown"


def _csv_reader(
    path: Path,
    spec: SourceSpec,
    names: Sequence[str] | None,
    block_size: int = _CSV_BLOCK_BYTES,
) -> pacsv.CSVStreamingReader:
    read = pacsv.ReadOptions(
        encoding=spec.encoding,
        skip_rows=spec.skip_rows + (1 if names is not None else 0),
        column_names=list(names) if names is not None else None,
        block_size=block_size,
    )
    convert = pacsv.ConvertOptions(
        column_types=dict.fromkeys(names or (), pa.string()),
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    return pacsv.open_csv(
        path,
        read_options=read,
        parse_options=pacsv.ParseOptions(delimiter=spec.delimiter),
        convert_options=convert,
    )


def _header(
    path: Path, fmt: str, spec: SourceSpec
) -> tuple[list[str], pa.Schema | None]:
    if fmt == "parquet":
        schema = pq.read_schema(path)
        return [n.strip() for n in schema.names], schema
    if fmt == "xlsx":
        return xlsx_header(path, spec), None
    for block_size in _HEADER_BLOCK_BYTES:
        try:
            reader = _csv_reader(path, spec, None, block_size)
        except pa.ArrowInvalid:
            if block_size == _HEADER_BLOCK_BYTES[-1]:
                raise
            continue  # the header (or skipped rows) straddles the block
        break
    names = [n.strip().lstrip("\ufeff").strip() for n in reader.schema.names]
    reader.close()
    return names, None


@dataclass(frozen=True)
class SourceInput:
    """The files of one source, checked, and how to stream them.

    Attributes
    ----------
    spec : SourceSpec
        The source's part of the mapping.
    paths : tuple of pathlib.Path
        Files, in reading order.
    names : tuple of str
        Their paths relative to the batch folder (``_source_file``).
    file_columns : tuple of tuple of str
        Each file's (trimmed) column names.
    schema : pyarrow.Schema
        The union of the files' columns (text for CSV) and the provenance
        columns.
    """

    spec: SourceSpec
    paths: tuple[Path, ...]
    names: tuple[str, ...]
    file_columns: tuple[tuple[str, ...], ...]
    schema: pa.Schema
    fmt: str

    @property
    def columns(self) -> list[str]:
        """Source columns (union over files), provenance excluded."""
        return [n for n in self.schema.names if n not in PROVENANCE]

    def reader(self, batch_rows: int, limit: int | None = None) -> pa.RecordBatchReader:
        """Stream every file (``limit`` rows of each, if given) as one reader."""
        return pa.RecordBatchReader.from_batches(
            self.schema, self._batches(batch_rows, limit)
        )

    def _file_batches(self, index: int, batch_rows: int) -> Iterator[pa.RecordBatch]:
        path = self.paths[index]
        columns = list(self.file_columns[index])
        if self.fmt == "parquet":
            parquet = pq.ParquetFile(path)
            for batch in parquet.iter_batches(batch_size=batch_rows):
                yield pa.RecordBatch.from_arrays(batch.columns, names=columns)
            return
        if self.fmt == "xlsx":
            yield from xlsx_batches(path, self.spec, columns, batch_rows)
            return
        reader = _csv_reader(path, self.spec, columns)
        for batch in reader:
            for start in range(0, batch.num_rows, batch_rows):
                yield batch.slice(start, batch_rows)

    def _batches(self, batch_rows: int, limit: int | None) -> Iterator[pa.RecordBatch]:
        for index, name in enumerate(self.names):
            first = 0
            try:
                for piece in self._file_batches(index, batch_rows):
                    if limit is not None and first >= limit:
                        break
                    batch = piece if limit is None else piece.slice(0, limit - first)
                    yield self._conform(batch, index, name, first)
                    first += batch.num_rows
            except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
                raise DataContractError(
                    f"{name}: cannot read the file after data row {first} ({exc}). "
                    f"Check the source's encoding ({self.spec.encoding!r}), delimiter "
                    f"({self.spec.delimiter!r}) and skip_rows ({self.spec.skip_rows}) "
                    "in the mapping; nothing was loaded."
                ) from exc

    def _clean(self, column: pa.Array) -> pa.Array:
        """Trim text cells (full-width spaces too) and null the null values."""
        text = pc.utf8_trim(column, characters=_SPACES)
        empty = pc.is_in(text, value_set=self._null_values)
        return pc.if_else(empty, pa.scalar(None, pa.string()), text)

    @property
    def _null_values(self) -> pa.Array:
        values = dict.fromkeys(("", *(v.strip(_SPACES) for v in self.spec.null_values)))
        return pa.array(list(values), pa.string())

    def _conform(
        self, batch: pa.RecordBatch, index: int, name: str, first: int
    ) -> pa.RecordBatch:
        n = batch.num_rows
        rows = np.arange(first, first + n, dtype=np.int64)
        arrays = []
        present = dict(zip(batch.schema.names, batch.columns, strict=True))
        for field in self.schema:
            if field.name == "_file_index":
                arrays.append(pa.array(np.full(n, index, dtype=np.int32)))
            elif field.name == "_source_file":
                arrays.append(pa.repeat(pa.scalar(name, pa.string()), n))
            elif field.name == "_row_number":
                arrays.append(pa.array(rows))
            elif field.name == "_ord":
                arrays.append(pa.array((np.int64(index) << _ORDER_SHIFT) + rows))
            elif field.name in present:
                column = present[field.name]
                if column.type != field.type:
                    column = pc.cast(column, field.type)
                if pa.types.is_string(field.type):
                    column = self._clean(column)
                arrays.append(column)
            else:
                arrays.append(pa.nulls(n, field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _resolve(input_dir: Path, spec: SourceSpec, problems: list[str]) -> list[Path]:
    seen: dict[Path, None] = {}
    for pattern in spec.files:
        matched = sorted(
            p
            for p in input_dir.glob(pattern)
            if p.is_file() and not p.name.startswith((".", "_"))
        )
        if not matched:
            problems.append(
                f"source {spec.name!r}: file pattern {pattern!r} matches no file in "
                f"{str(input_dir)!r}"
            )
        for path in matched:
            seen.setdefault(path, None)
    return list(seen)


def _union_schema(
    headers: list[tuple[list[str], pa.Schema | None]],
) -> pa.Schema:
    order: dict[str, pa.DataType] = {}
    for names, schema in headers:
        for i, name in enumerate(names):
            typ = pa.string() if schema is None else schema.field(i).type
            if pa.types.is_dictionary(typ):
                typ = typ.value_type
            if pa.types.is_large_string(typ):
                typ = pa.string()
            if name in order and order[name] != typ:
                order[name] = pa.string()
            else:
                order.setdefault(name, typ)
    fields = [pa.field(n, t) for n, t in order.items()]
    fields += [
        pa.field("_file_index", pa.int32()),
        pa.field("_source_file", pa.string()),
        pa.field("_row_number", pa.int64()),
        pa.field("_ord", pa.int64()),
    ]
    return pa.schema(fields)


def _source_input(
    input_dir: Path, spec: SourceSpec, problems: list[str]
) -> SourceInput | None:
    paths = _resolve(input_dir, spec, problems)
    if not paths:
        return None
    formats = {p: _format_of(p, spec) for p in paths}
    bad = [p.name for p, f in formats.items() if f not in ("csv", "parquet", "xlsx")]
    if bad:
        problems.append(
            f"source {spec.name!r}: cannot read {bad}: give .csv, .csv.gz, .parquet "
            "or .xlsx files, or set the source's format"
        )
        return None
    if len(set(formats.values())) > 1:
        problems.append(
            f"source {spec.name!r}: mixes file formats "
            f"({sorted(set(formats.values()))}); give each format its own source"
        )
        return None
    headers = []
    names = []
    for path in paths:
        name = path.relative_to(input_dir).as_posix()
        try:
            header = _header(path, formats[path], spec)
        except DataContractError as exc:  # a workbook's sheet or header
            problems.append(f"source {spec.name!r}: {exc.message}")
            continue
        except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
            problems.append(
                f"source {spec.name!r}: {name}: cannot read the header ({exc}); check "
                f"encoding ({spec.encoding!r}), delimiter and skip_rows"
            )
            continue
        dupes = sorted({c for c in header[0] if header[0].count(c) > 1})
        if dupes:
            problems.append(f"source {spec.name!r}: {name}: columns {dupes} repeat")
            continue
        headers.append(header)
        names.append(name)
    if len(headers) < len(paths):
        return None
    return SourceInput(
        spec=spec,
        paths=tuple(paths),
        names=tuple(names),
        file_columns=tuple(tuple(h[0]) for h in headers),
        schema=_union_schema(headers),
        fmt=formats[paths[0]],
    )


def discover_sources(
    input_dir: Path, mapping: SourceMapping
) -> tuple[list[SourceInput], list[str]]:
    """Find and open every source's files; return them and the problems found."""
    problems: list[str] = []
    inputs = []
    for spec in mapping.sources:
        found = _source_input(Path(input_dir), spec, problems)
        if found is not None:
            inputs.append(found)
    return inputs, problems


def read_crosswalk(mapping: SourceMapping, name: str, problems: list[str]) -> pa.Table:
    """Read a file crosswalk as ``(id, uscc)`` text columns, trimmed and checked."""
    from credit_engine.uscc import valid_uscc_mask

    spec: Crosswalk = mapping.crosswalks[name]
    path = mapping.crosswalk_path(name)
    empty = pa.table(
        {"id": pa.array([], pa.string()), "uscc": pa.array([], pa.string())}
    )
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=spec.encoding),
            parse_options=pacsv.ParseOptions(delimiter=spec.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={spec.id: pa.string(), spec.uscc: pa.string()},
                strings_can_be_null=False,
            ),
        )
    except (OSError, pa.ArrowException, UnicodeDecodeError) as exc:
        problems.append(f"crosswalk {name!r}: cannot read {str(path)!r} ({exc})")
        return empty
    renamed = [c.strip().lstrip("\ufeff").strip() for c in table.column_names]
    table = table.rename_columns(renamed)
    missing = [c for c in (spec.id, spec.uscc) if c not in renamed]
    if missing:
        problems.append(
            f"crosswalk {name!r}: {path.name} has no column(s) {missing}; its columns "
            f"are {renamed}. Set 'id' and 'uscc' to the names of its source-id and "
            "USCC columns"
        )
        return empty
    ids = pc.utf8_trim_whitespace(table.column(spec.id).cast(pa.string()))
    usccs = pc.utf8_upper(
        pc.utf8_trim_whitespace(table.column(spec.uscc).cast(pa.string()))
    )
    out = pa.table({"id": ids, "uscc": usccs}).filter(pc.not_equal(ids, ""))
    invalid = out.filter(
        pc.invert(pa.array(valid_uscc_mask(out.column("uscc").to_pylist())))
    )
    if invalid.num_rows:
        shown = invalid.slice(0, 3).to_pylist()
        problems.append(
            f"crosswalk {name!r}: {invalid.num_rows} row(s) of {path.name} carry an "
            f"invalid USCC, e.g. {shown}; correct them (GB 32100 check character)"
        )
    distinct = out.group_by("id").aggregate([("uscc", "count_distinct")])
    clash = distinct.filter(pc.greater(distinct.column("uscc_count_distinct"), 1))
    if clash.num_rows:
        problems.append(
            f"crosswalk {name!r}: ids {clash.column('id').to_pylist()[:5]} have more "
            f"than one USCC in {path.name}; keep one row per id"
        )
    return out.group_by(["id", "uscc"]).aggregate([])


def hash_files(digest: hashlib._Hash, paths: Sequence[tuple[str, Path]]) -> None:
    """Feed names and contents of files into ``digest`` (for the batch id)."""
    for name, path in paths:
        inner = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(_HASH_BLOCK_BYTES):
                inner.update(block)
        digest.update(f"{name}\0{inner.hexdigest()}\n".encode())
