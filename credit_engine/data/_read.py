"""Find the input files of a batch, check them against the contracts, read chunks.

:func:`discover_inputs` is the preflight: it reads only schemas (Parquet footers,
CSV headers), collects every problem of every file and raises one
:class:`~credit_engine.exceptions.DataContractError` before anything is written.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from credit_engine.data._cast import cast_to_contract, convertible
from credit_engine.data._contracts import SourceContract
from credit_engine.data._reasons import QuarantineReason, reason_label
from credit_engine.exceptions import DataContractError

__all__ = [
    "Chunk",
    "InputTable",
    "Piece",
    "SourceFile",
    "TableInput",
    "batch_fingerprint",
    "cast_piece",
    "discover_inputs",
    "iter_chunks",
    "iter_pieces",
]

_MAX_LISTED = 5
_CSV_BLOCK_BYTES = 16 << 20
_HASH_BLOCK_BYTES = 1 << 20

Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SourceFile:
    """One readable file of a table.

    Attributes
    ----------
    path : pathlib.Path
        Absolute path.
    name : str
        Path relative to the input directory (POSIX), recorded in
        ``_source_file``.
    columns : tuple of str
        Contract columns present in the file, in file order.
    num_rows : int or None
        Row count from the Parquet footer; ``None`` for CSV.
    """

    path: Path
    name: str
    columns: tuple[str, ...]
    num_rows: int | None


@dataclass(frozen=True)
class Piece:
    """Rows of one table before casting, with their provenance.

    Attributes
    ----------
    raw : pyarrow.Table
        Contract columns present (a subset, any compatible type).
    source_file : pyarrow.StringArray
        Per row, the file it came from (relative to the input folder).
    row_number : pyarrow.Int64Array
        Per row, its 0-based row in that file.
    flagged : dict of str to numpy.ndarray
        Rows a source mapping could not place, per reason label
        (``"unmapped_value:tax_type"``); their value in ``raw`` is null.
    originals : dict of str to pyarrow.StringArray
        Per column with flagged rows, the source text (kept in ``_raw_values``).
    """

    raw: pa.Table
    source_file: pa.Array
    row_number: pa.Array
    flagged: dict[str, Mask] = dataclass_field(default_factory=dict)
    originals: dict[str, pa.Array] = dataclass_field(default_factory=dict)


class TableInput(Protocol):
    """One table of a batch, however its rows are read (contract layout or mapped)."""

    @property
    def contract(self) -> SourceContract:
        """Contract of the table."""

    @property
    def total_rows(self) -> int | None:
        """Rows over all inputs, or ``None`` if unknown before reading."""

    @property
    def source_names(self) -> list[str]:
        """Input files of the table, relative to the input folder."""

    def pieces(self, max_rows: int) -> Iterator[Piece]:
        """Read the rows in order, in pieces of at most ``max_rows`` rows."""


@dataclass(frozen=True)
class InputTable:
    """The files of one table in a batch, checked against its contract."""

    contract: SourceContract
    fmt: Literal["parquet", "csv"]
    files: tuple[SourceFile, ...]

    @property
    def total_rows(self) -> int | None:
        """Rows over all files, or ``None`` if unknown before reading (CSV)."""
        counts = [f.num_rows for f in self.files]
        if any(c is None for c in counts):
            return None
        return sum(c for c in counts if c is not None)

    @property
    def source_names(self) -> list[str]:
        """The table's files, relative to the input folder."""
        return [f.name for f in self.files]

    def pieces(self, max_rows: int) -> Iterator[Piece]:
        """Read the files in order, in pieces of at most ``max_rows`` rows."""
        for file, first, raw in iter_pieces(self, max_rows):
            n = raw.num_rows
            yield Piece(
                raw,
                pa.repeat(pa.scalar(file.name, pa.string()), n),
                pa.array(np.arange(first, first + n, dtype=np.int64)),
            )


def _listing(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_MAX_LISTED])
    return shown + (
        f", ... ({len(names)} in total)" if len(names) > _MAX_LISTED else ""
    )


def _candidates(input_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    by_table: dict[str, list[Path]] = {}
    problems: list[str] = []
    for entry in sorted(input_dir.iterdir()):
        if entry.name.startswith((".", "_")):
            continue  # hidden files and markers such as _SUCCESS
        if entry.is_dir():
            by_table.setdefault(entry.name, []).append(entry)
        elif entry.suffix.lower() in (".parquet", ".csv"):
            by_table.setdefault(entry.stem, []).append(entry)
        else:
            problems.append(
                f"{entry.name}: unsupported file type {entry.suffix or '(none)'!r}; "
                "give each table as <table>.parquet, <table>.csv or a folder "
                "<table>/ of .parquet parts."
            )
    return by_table, problems


def _schema_of(path: Path, name: str) -> tuple[pa.Schema, int | None]:
    try:
        if path.suffix.lower() == ".csv":
            reader = pacsv.open_csv(path, convert_options=_csv_options(None))
            return reader.schema, None
        meta = pq.ParquetFile(path)
        return meta.schema_arrow, meta.metadata.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise DataContractError(
            f"{name}: cannot read the file ({exc}); it may be truncated, corrupt or "
            "not in the format its extension says. Re-export it."
        ) from exc


def _check_file(path: Path, name: str, contract: SourceContract) -> SourceFile:
    schema, num_rows = _schema_of(path, name)
    problems: list[str] = []
    names = list(schema.names)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"column(s) {dupes} appear more than once; keep one of each")
    missing = [c for c in contract.required_columns if c not in names]
    if missing:
        problems.append(
            f"missing required column(s) {missing} of table {contract.name!r}; add "
            "them to the file"
        )
    known = set(contract.column_names)
    extra = [n for n in names if n not in known]
    if extra:
        problems.append(
            f"column(s) {extra} are not in the contract of table {contract.name!r}; "
            "drop them from the file, or add them to the contract "
            f"features/sources/{contract.name}.yaml (contracts change explicitly)"
        )
    for field in schema if num_rows is not None else ():  # CSV cells are text
        if field.name in known:
            spec = contract.column(field.name)
            if not convertible(field.type, spec.type):
                problems.append(
                    f"column {field.name!r} has type {field.type}, which cannot hold "
                    f"{spec.type.value!r} values; write it as "
                    f"{spec.type.arrow_type()} or as text"
                )
    if problems:
        raise DataContractError("; ".join(f"{name}: {p}" for p in problems))
    return SourceFile(path, name, tuple(n for n in names if n in known), num_rows)


def discover_inputs(
    input_dir: Path, contracts: Mapping[str, SourceContract]
) -> list[InputTable]:
    """Match every input file to a contract and check its schema (preflight).

    Parameters
    ----------
    input_dir : pathlib.Path
        Folder with ``<table>.parquet``, ``<table>.csv`` or ``<table>/*.parquet``.
    contracts : mapping of str to SourceContract
        Known contracts by table name.

    Returns
    -------
    list of InputTable
        One per table, sorted by table name.

    Raises
    ------
    DataContractError
        Listing every problem of every file: unknown table, missing required or
        extra column, incompatible column type, unreadable file, empty input.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise DataContractError(
            f"Input directory {str(input_dir)!r} does not exist or is not a "
            "directory; pass the folder holding one file per table."
        )
    by_table, problems = _candidates(input_dir)
    tables: list[InputTable] = []
    for table, entries in sorted(by_table.items()):
        if len(entries) > 1:
            shown = [e.name for e in entries]
            problems.append(f"{shown}: several inputs for table {table!r}; keep one")
            continue
        entry = entries[0]
        contract = contracts.get(table)
        if contract is None:
            close = difflib.get_close_matches(table, list(contracts), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            problems.append(
                f"{entry.name}: no contract for table {table!r}.{hint} Known tables: "
                f"{_listing(sorted(contracts))}. Rename the file after its table or "
                "add a contract to features/sources."
            )
            continue
        paths = (
            sorted(
                p for p in entry.glob("*.parquet") if not p.name.startswith((".", "_"))
            )
            if entry.is_dir()
            else [entry]
        )
        if not paths:
            problems.append(f"{entry.name}/: folder holds no .parquet parts")
            continue
        files: list[SourceFile] = []
        for path in paths:
            try:
                files.append(
                    _check_file(path, path.relative_to(input_dir).as_posix(), contract)
                )
            except DataContractError as exc:
                problems.append(exc.message)
        if len(files) == len(paths):
            fmt: Literal["parquet", "csv"] = (
                "csv" if paths[0].suffix.lower() == ".csv" else "parquet"
            )
            tables.append(InputTable(contract, fmt, tuple(files)))
    if not problems and not tables:
        problems.append(
            "no input files; expected <table>.parquet, <table>.csv or <table>/ folders"
        )
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DataContractError(
            f"Input batch {str(input_dir)!r} does not fit the record contracts; "
            f"nothing was loaded ({len(problems)} problem(s)):\n{lines}"
        )
    return tables


def batch_fingerprint(tables: Sequence[InputTable]) -> str:
    """Return the batch id: 16 hex characters of SHA-256 over names and contents.

    Parameters
    ----------
    tables : sequence of InputTable
        The checked inputs of the batch.

    Returns
    -------
    str
        Same input files (names and bytes) give the same id.
    """
    outer = hashlib.sha256()
    for file in sorted((f for t in tables for f in t.files), key=lambda f: f.name):
        inner = hashlib.sha256()
        with file.path.open("rb") as handle:
            while block := handle.read(_HASH_BLOCK_BYTES):
                inner.update(block)
        outer.update(f"{file.name}\0{inner.hexdigest()}\n".encode())
    return outer.hexdigest()[:16]


def _csv_options(columns: Sequence[str] | None) -> pacsv.ConvertOptions:
    # Read every CSV cell as text: conversion (and its failures) happens in _cast.
    types = {c: pa.string() for c in columns or ()}
    return pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, null_values=[""]
    )


def _batches(file: SourceFile, max_rows: int) -> Iterator[pa.RecordBatch]:
    if file.num_rows is None:
        reader = pacsv.open_csv(
            file.path,
            read_options=pacsv.ReadOptions(block_size=_CSV_BLOCK_BYTES),
            convert_options=_csv_options(file.columns),
        )
        for batch in reader:
            for start in range(0, batch.num_rows, max_rows):
                yield batch.slice(start, max_rows)
    else:
        parquet = pq.ParquetFile(file.path)
        yield from parquet.iter_batches(batch_size=max_rows, columns=list(file.columns))


def iter_pieces(
    table: InputTable, max_rows: int
) -> Iterator[tuple[SourceFile, int, pa.Table]]:
    """Read a table's files in order, in pieces of at most ``max_rows`` rows.

    Yields
    ------
    tuple of (SourceFile, int, pyarrow.Table)
        The file, the 0-based row number of the piece's first row in that file,
        and the raw piece (contract columns present in the file, as stored).

    Raises
    ------
    DataContractError
        If a file turns out to be unreadable part-way (e.g. a corrupt page).
    """
    for file in table.files:
        first = 0
        try:
            for batch in _batches(file, max_rows):
                piece = pa.Table.from_batches([batch])
                yield file, first, piece.select(list(file.columns))
                first += piece.num_rows
        except (OSError, pa.ArrowException) as exc:
            raise DataContractError(
                f"{file.name}: cannot read the file after row {first} ({exc}); it may "
                "be truncated or corrupt. Re-export it. Nothing was loaded."
            ) from exc


def _concat_masks(parts: Sequence[Chunk], attr: str) -> dict[str, Mask]:
    keys = sorted({k for p in parts for k in getattr(p, attr)})
    return {
        k: np.concatenate(
            [getattr(p, attr).get(k, np.zeros(p.num_rows, dtype=bool)) for p in parts]
        )
        for k in keys
    }


@dataclass(frozen=True)
class Chunk:
    """Typed rows of one table with their provenance, failed casts and mapping flags.

    ``failed`` holds, per column, the rows whose value could not be cast
    (``invalid_type``); ``flagged``, per reason label, the rows a source mapping
    could not place (``unmapped_value:tax_type`` ...).
    """

    table: pa.Table
    raw_values: pa.Array
    failed: dict[str, Mask]
    source_file: pa.Array
    row_number: pa.Array
    flagged: dict[str, Mask] = dataclass_field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        """Rows in the chunk."""
        return int(self.table.num_rows)

    def row_flags(self) -> list[tuple[str, Mask]]:
        """Per reason label, the rows that failed to cast or to be mapped.

        ``invalid_type:<column>`` for a failed cast, the mapping's own labels
        (``unmapped_value:tax_type`` ...) for rows it could not place; each
        label once.
        """
        flags = [
            (reason_label(QuarantineReason.INVALID_TYPE, column), mask)
            for column, mask in self.failed.items()
        ]
        return flags + list(self.flagged.items())

    def slice(self, start: int, length: int) -> Chunk:
        """Return rows ``start`` to ``start + length``."""
        return Chunk(
            self.table.slice(start, length),
            self.raw_values.slice(start, length),
            {c: m[start : start + length] for c, m in self.failed.items()},
            self.source_file.slice(start, length),
            self.row_number.slice(start, length),
            {c: m[start : start + length] for c, m in self.flagged.items()},
        )

    @staticmethod
    def concat(parts: Sequence[Chunk]) -> Chunk:
        """Concatenate chunks of the same table."""
        if len(parts) == 1:
            return parts[0]
        return Chunk(
            pa.concat_tables([p.table for p in parts]).combine_chunks(),
            pa.concat_arrays([p.raw_values for p in parts]),
            _concat_masks(parts, "failed"),
            pa.concat_arrays([p.source_file for p in parts]),
            pa.concat_arrays([p.row_number for p in parts]),
            _concat_masks(parts, "flagged"),
        )


def cast_piece(piece: Piece, contract: SourceContract) -> Chunk:
    """Cast a piece to ``contract``, keeping its provenance and mapping flags.

    The source text of a value a mapping could not place goes to
    ``_raw_values``, as that of a failed cast does. Shared by both engines.
    """
    unplaced: dict[str, tuple[Mask, pa.Array]] = {}
    for label, mask in piece.flagged.items():
        column = label.split(":", 1)[1]
        if column in piece.originals:
            previous = unplaced.get(column)
            merged = mask if previous is None else (previous[0] | mask)
            unplaced[column] = (merged, piece.originals[column])
    cast = cast_to_contract(piece.raw, contract, unplaced=unplaced)
    return Chunk(
        cast.table,
        cast.raw_values,
        cast.failed,
        piece.source_file,
        piece.row_number,
        piece.flagged,
    )


def iter_chunks(table: TableInput, chunk_rows: int) -> Iterator[Chunk]:
    """Read, cast and yield chunks of exactly ``chunk_rows`` rows (last: fewer).

    A chunk may span several files of the table; each row keeps its source file
    and row number.
    """
    buffer: list[Chunk] = []
    buffered = 0
    for piece in table.pieces(chunk_rows):
        part = cast_piece(piece, table.contract)
        while part.num_rows:
            take = min(part.num_rows, chunk_rows - buffered)
            buffer.append(part.slice(0, take))
            buffered += take
            part = part.slice(take, part.num_rows - take)
            if buffered == chunk_rows:
                yield Chunk.concat(buffer)
                buffer, buffered = [], 0
    if buffered:
        yield Chunk.concat(buffer)
