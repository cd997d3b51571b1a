"""Apply a source mapping: the mapped tables of a batch, read through DuckDB.

:func:`prepare_mapped_batch` is the preflight of a mapped batch: it finds the
files of every source, checks that every column the mapping reads is there (a
close header name is suggested otherwise), reads the crosswalks, compiles each
(source, table) query and raises one error listing every problem before
anything is read or written. Each :class:`MappedTable` then yields the rows of
one contract table as :class:`~credit_engine.data._read.Piece` objects, which
the ingestion casts, validates, deduplicates and commits like any other batch:
rows the mapping could not place carry their reason (``unmapped_value``,
``unparseable_date``, ``unknown_identifier``, ``not_a_number``) and go to
quarantine.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.data._contracts import SourceContract
from credit_engine.data._mapping_read import (
    SourceInput,
    discover_sources,
    hash_files,
    read_crosswalk,
)
from credit_engine.data._mapping_spec import (
    PseudoIds,
    SourceMapping,
    TargetMapping,
    close_names,
)
from credit_engine.data._mapping_sql import CompiledTarget, compile_target
from credit_engine.data._mapping_validate import sql_columns
from credit_engine.data._read import Piece
from credit_engine.exceptions import DataContractError

__all__ = [
    "MappedBatch",
    "MappedTable",
    "TargetStats",
    "prepare_mapped_batch",
    "translate_ids",
]


@dataclass
class TargetStats:
    """Rows one source gave one table.

    ``rows_read`` counts the source's rows (all files); ``rows_out`` the contract
    rows produced; ``left_out`` the rows (or, with unpivot, the cells) the
    mapping's ``where`` or empty unpivot groups left out, by declaration.
    """

    source: str
    table: str
    files: list[str]
    rows_read: int = 0
    rows_out: int = 0
    cells: int = 1

    @property
    def left_out(self) -> int:
        """Rows (cells) the mapping declared out of the table."""
        return max(self.rows_read * self.cells - self.rows_out, 0)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON form for the ingest report."""
        return {
            "source": self.source,
            "table": self.table,
            "files": self.files,
            "rows_read": self.rows_read,
            "rows_out": self.rows_out,
            "left_out": self.left_out,
        }


@dataclass(frozen=True)
class _Part:
    source: SourceInput
    target: TargetMapping
    compiled: CompiledTarget
    stats: TargetStats


class _PseudoFunction:
    """Vectorised pseudo-USCC of a crosswalk, once per distinct id."""

    def __init__(self, name: str, spec: PseudoIds) -> None:
        self.name, self.spec = name, spec
        self.codes: dict[str, str | None] = {}
        self.owners: dict[str, str] = {}

    def _code(self, source_id: str) -> str | None:
        from credit_engine.exceptions import InvalidUsccError
        from credit_engine.uscc import pseudo_uscc

        try:
            code = pseudo_uscc(self.spec.namespace, source_id, number=self.spec.number)
        except InvalidUsccError:
            return None
        owner = self.owners.setdefault(code, source_id)
        if owner != source_id:
            raise ValueError(
                f"crosswalk {self.name!r}: ids {owner!r} and {source_id!r} give the "
                f"same pseudo-USCC {code}; use a shorter namespace (more room for "
                "the hash) or a crosswalk file"
            )
        return code

    def __call__(self, values: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        uniques = encoded.dictionary.to_pylist()
        for value in uniques:
            if value not in self.codes:
                self.codes[value] = self._code(value)
        mapped = pa.array([self.codes[v] for v in uniques], pa.string())
        return mapped.take(encoded.indices)


class _LookupFunction:
    """Vectorised crosswalk-file lookup: each vector's distinct ids, once each."""

    def __init__(self, table: pa.Table) -> None:
        self.lookup: dict[str, str] = dict(
            zip(
                table.column("id").to_pylist(),
                table.column("uscc").to_pylist(),
                strict=True,
            )
        )

    def __call__(self, values: pa.Array) -> pa.Array:
        encoded = pc.dictionary_encode(values)
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        get = self.lookup.get
        mapped = pa.array([get(v) for v in encoded.dictionary.to_pylist()], pa.string())
        return mapped.take(encoded.indices)


def _connect(
    crosswalks: dict[str, pa.Table],
    pseudo: dict[str, _PseudoFunction],
    lookups: dict[str, _LookupFunction] | None = None,
) -> Any:
    import duckdb
    from duckdb.func import ARROW, SPECIAL

    con = duckdb.connect()
    for setting in ("TimeZone = 'UTC'", "preserve_insertion_order = true",
                    "memory_limit = '40%'"):  # fmt: skip
        con.sql(f"SET {setting}")
    for name, table in crosswalks.items():
        con.register(f"_xwt_{name}", table)
        con.sql(
            f"CREATE TEMP VIEW _xw_{name} AS "
            f"SELECT id AS _xw_id, uscc AS _xw_uscc FROM _xwt_{name}"
        )
    functions: dict[str, Callable[[pa.Array], pa.Array]] = {**pseudo, **(lookups or {})}
    for function, impl in functions.items():
        con.create_function(
            function, impl, [duckdb.sqltypes.VARCHAR], duckdb.sqltypes.VARCHAR,
            type=ARROW, null_handling=SPECIAL, side_effects=False,
        )  # fmt: skip
    return con


@dataclass
class MappedTable:
    """One contract table of a mapped batch (a :class:`TableInput`)."""

    contract: SourceContract
    parts: list[_Part]
    crosswalks: dict[str, pa.Table]
    pseudo_specs: dict[str, PseudoIds]
    limit: int | None = None

    @property
    def total_rows(self) -> int | None:
        """Unknown before the sources are read."""
        return None

    @property
    def source_names(self) -> list[str]:
        """Files of the sources feeding the table."""
        return list(dict.fromkeys(n for p in self.parts for n in p.source.names))

    def pieces(self, max_rows: int) -> Iterator[Piece]:
        """Run each (source, table) query and yield its rows in pieces."""
        for part in self.parts:
            pseudo = {
                fn: _PseudoFunction(xw, self.pseudo_specs[xw])
                for fn, xw in part.compiled.pseudo.items()
            }
            used = {
                n: t
                for n, t in self.crosswalks.items()
                if f"_xw_{n}" in part.compiled.sql
            }
            lookups = {
                fn: _LookupFunction(self.crosswalks[xw])
                for fn, xw in part.compiled.lookups.items()
            }
            con = _connect(used, pseudo, lookups)
            try:
                yield from self._run(con, part, max_rows)
            finally:
                con.close()

    def _run(self, con: Any, part: _Part, max_rows: int) -> Iterator[Piece]:
        import duckdb

        reader = part.source.reader(max_rows, self.limit)
        counted = [0]
        try:
            # Streamed straight through the query (read once): nothing
            # materialised.
            con.register("_src", _counting(reader, counted))
            repeats = [
                _Repeats(name, keys, f"_h{j}")
                for j, (name, keys) in enumerate(part.compiled.repeats)
            ]
            result = con.sql(part.compiled.sql).to_arrow_reader(max_rows)
            last = -1
            for read in result:
                if not part.compiled.ordered:
                    last = _check_order(read, last, self.contract.name)
                batch = read
                for numbers in repeats:
                    batch = numbers.apply(batch)
                part.stats.rows_out += batch.num_rows
                yield _piece(batch, part.compiled)
            part.stats.rows_read = counted[0]
        except duckdb.Error as exc:
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            cause = re.sub(r"^[A-Za-z ]*Error: ?", "", " ".join(lines))
            raise DataContractError(
                f"Source {part.source.spec.name!r} → table {self.contract.name!r}: the "
                f"mapping could not be applied: {cause}. Check the SQL expressions "
                "(expr, cases, where) of the mapping; nothing was loaded."
            ) from exc


def _counting(reader: pa.RecordBatchReader, counted: list[int]) -> pa.RecordBatchReader:
    """Return the same stream, counting its rows into ``counted[0]`` as they pass."""

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            counted[0] += batch.num_rows
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())


class _Repeats:
    """Numbers the repeats of one column's key as the rows stream out in order.

    The k-th row (k > 1) of a key (the ``within`` columns and the value, in
    file order) gets ``<value>-<k>``; the others keep their value. The query
    gives each row its key's 64-bit hash (``hash_column``): the hashes seen so
    far are kept sorted with the position of their first row, so a row whose
    hash was never seen is a first occurrence (vectorised); the few rows whose
    hash was seen before are counted by their actual key in Python (a hash
    shared by two keys counts each key apart), reading the first row's key
    from the key columns kept from earlier batches.
    """

    def __init__(self, name: str, keys: tuple[str, ...], hash_column: str) -> None:
        self.name, self.key_names, self.hash_column = name, keys, hash_column
        self.seen = np.empty(0, dtype=np.uint64)  # sorted hashes seen
        self.first = np.empty(0, dtype=np.int64)  # position of each one's first row
        self.kept: list[list[pa.Array]] = []  # key columns of each batch
        self.starts: list[int] = []  # position of each batch's first row
        self.rows = 0
        self.counts: dict[int, dict[tuple[Any, ...], int]] = {}

    def _key(self, position: int) -> tuple[Any, ...]:
        at = int(np.searchsorted(self.starts, position, side="right")) - 1
        row = position - self.starts[at]
        return tuple(column[row].as_py() for column in self.kept[at])

    def apply(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Return ``batch`` with the repeats of the column numbered."""
        n = batch.num_rows
        if n == 0:
            return batch
        hashes = np.asarray(
            batch.column(self.hash_column).to_numpy(zero_copy_only=False),
            dtype=np.uint64,
        )
        order = np.argsort(hashes, kind="stable")
        ranked = hashes[order]
        starts = np.ones(n, dtype=bool)
        starts[1:] = ranked[1:] != ranked[:-1]
        unique, first_at = ranked[starts], order[starts]  # first row in the batch
        at = np.searchsorted(self.seen, unique)
        known = np.zeros(len(unique), dtype=bool)
        inside = at < len(self.seen)
        known[inside] = self.seen[at[inside]] == unique[inside]
        new = ~known
        self.seen = np.insert(self.seen, at[new], unique[new])
        self.first = np.insert(self.first, at[new], self.rows + first_at[new])
        columns = [batch.column(c) for c in self.key_names]
        self.kept.append(columns)
        self.starts.append(self.rows)
        candidate = np.ones(n, dtype=bool)
        candidate[first_at[new]] = False  # first rows ever of their hash
        rows = np.flatnonzero(candidate)
        numbers = np.ones(n, dtype=np.int64)
        if len(rows):
            values = [c.take(pa.array(rows)).to_pylist() for c in columns]
            for row, *key_values in zip(rows.tolist(), *values, strict=True):
                h = int(hashes[row])
                counted = self.counts.get(h)
                if counted is None:
                    j = int(np.searchsorted(self.seen, np.uint64(h)))
                    counted = {self._key(int(self.first[j])): 1}
                    self.counts[h] = counted
                key = tuple(key_values)
                counted[key] = counted.get(key, 0) + 1
                numbers[row] = counted[key]
        self.rows += n
        hit = numbers > 1
        if not hit.any():
            return batch
        index = batch.schema.get_field_index(self.name)
        value = batch.column(index)
        suffix = pa.array(numbers).cast(pa.string())
        numbered = pc.binary_join_element_wise(value, suffix, "-")
        merged = pc.if_else(pa.array(hit), numbered, value)
        return batch.set_column(index, batch.schema.field(index), merged)


def _check_order(batch: pa.RecordBatch, last: int, table: str) -> int:
    """Check the rows come in file order (``_ord`` increasing); return the last."""
    order = batch.column(batch.schema.get_field_index("_ord")).to_numpy()
    if len(order) == 0:
        return last
    if order[0] <= last or (len(order) > 1 and bool((np.diff(order) <= 0).any())):
        raise DataContractError(
            f"Table {table!r}: the mapped rows did not come out of DuckDB in file "
            "order; it's a bug in credit-engine (an order-changing step without "
            "ORDER BY). Please report it. Nothing was loaded."
        )
    return int(order[-1])


def _piece(batch: pa.RecordBatch, compiled: CompiledTarget) -> Piece:
    n = batch.num_rows
    names = batch.schema.names
    raw = pa.Table.from_batches([batch.select(compiled.columns)])
    flagged: dict[str, np.ndarray] = {}
    originals: dict[str, pa.Array] = {}
    for i, flag in enumerate(compiled.flags):
        mask = batch.column(names.index(f"_f{i}")).to_numpy(zero_copy_only=False)
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            continue
        label = flag.label
        flagged[label] = flagged[label] | mask if label in flagged else mask
        text = batch.column(names.index(f"_r{i}"))
        previous = originals.get(flag.column)
        originals[flag.column] = (
            text if previous is None else pc.coalesce(previous, text)
        )
    return Piece(
        raw,
        batch.column(names.index("_source_file")),
        batch.column(names.index("_row_number")),
        flagged,
        originals if n else {},
    )


@dataclass
class MappedBatch:
    """The tables of a mapped batch, its id and per-source statistics."""

    mapping: SourceMapping
    tables: list[MappedTable]
    batch_id: str
    stats: list[TargetStats] = field(default_factory=list)

    def stats_json(self) -> dict[str, Any]:
        """Return the ``mapping`` section of the ingest report."""
        return {
            "file": str(self.mapping.path),
            "name": self.mapping.name,
            "targets": [s.to_json_dict() for s in self.stats],
        }


def _referenced(target: TargetMapping) -> tuple[set[str], set[str]]:
    """Source columns a target reads: (needed in every file, in at least one)."""
    every: set[str] = set()
    some: set[str] = set()
    for spec in target.columns.values():
        if isinstance(spec.column, str):
            every.add(spec.column)
        else:
            some.update(spec.source_columns())
        for sql in [spec.expr, *(c.when for c in spec.cases)]:
            if sql:
                some.update(sql_columns(sql))
    if target.unpivot is not None:
        for columns in target.unpivot.groups.values():
            some.update(columns.values())
    if target.where:
        some.update(sql_columns(target.where))
    return every, some


def _check_files(
    source: SourceInput, target: TargetMapping, problems: list[str]
) -> None:
    at = f"source {source.spec.name!r} → {target.table}"
    every, some = _referenced(target)
    for column in sorted(every | some):
        holders = [i for i, cols in enumerate(source.file_columns) if column in cols]
        if not holders:
            shown = ", ".join(source.names[:3]) + (
                " ..." if len(source.names) > 3 else ""
            )
            problems.append(
                f"{at}: column {column!r} is in none of the source's files ({shown})."
                + close_names(column, source.columns)
            )
        elif column in every and len(holders) < len(source.names):
            lacking = [
                source.names[i] for i in range(len(source.names)) if i not in holders
            ]
            problems.append(
                f"{at}: column {column!r} is missing from {lacking}; list alternatives "
                "as column: [a, b] (the first non-empty is taken) if the files differ"
            )
    for name, spec in target.columns.items():
        if spec.file_name is not None:
            bad = [n for n in source.names if not re.search(spec.file_name, n)]
            if bad:
                problems.append(
                    f"{at}.{name}: file_name {spec.file_name!r} does not match {bad}"
                )
    rules = [target.known_at, *(s.derive for s in target.columns.values())]
    for rule in rules:
        if rule is not None and rule.rule == "file_date":
            for n in source.names:
                match = re.search(str(rule.pattern), n)
                try:
                    import datetime as dt

                    dt.datetime.strptime(
                        match.group(1) if match else "", str(rule.format)
                    )
                except ValueError:
                    problems.append(
                        f"{at}: file_date: {n!r} gives no date through pattern "
                        f"{rule.pattern!r} and format {rule.format!r}"
                    )


def prepare_mapped_batch(
    input_dir: Path,
    mapping: SourceMapping,
    contracts: dict[str, SourceContract],
    *,
    limit: int | None = None,
) -> MappedBatch:
    """Find, check and compile everything a mapped batch reads (the preflight).

    Parameters
    ----------
    input_dir : pathlib.Path
        The batch folder; the sources' file patterns are relative to it.
    mapping : SourceMapping
        A mapping loaded with :func:`~credit_engine.data.load_mapping`.
    contracts : dict of str to SourceContract
        The contracts (the mapping was checked against them).
    limit : int, optional
        Read only the first ``limit`` rows of each file (a dry run's sample).

    Returns
    -------
    MappedBatch
        One :class:`MappedTable` per contract table the mapping feeds (sorted
        by name), and the batch id: a hash of the mapping, its crosswalks and
        vocabularies, and the source files.

    Raises
    ------
    DataContractError
        Listing every problem: files not found, columns missing from the files
        (with close header names), unreadable headers or crosswalks, file names
        the mapping's patterns do not fit. Nothing is read further.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise DataContractError(
            f"Input directory {str(input_dir)!r} does not exist or is not a directory."
        )
    sources, problems = discover_sources(input_dir, mapping)
    crosswalks: dict[str, pa.Table] = {}
    for name, spec in mapping.crosswalks.items():
        if spec.file is not None:
            crosswalks[name] = read_crosswalk(mapping, name, problems)
    by_name = {s.spec.name: s for s in sources}
    parts: dict[str, list[_Part]] = {}
    stats: list[TargetStats] = []
    for source in mapping.sources:
        found = by_name.get(source.name)
        if found is None:
            continue
        for target in source.targets:
            _check_files(found, target, problems)
            compiled = compile_target(
                mapping, target, contracts[target.table],
                {n: f"_xw_{n}" for n in crosswalks}, list(found.names),
            )  # fmt: skip
            cells = len(target.unpivot.groups) if target.unpivot is not None else 1
            stat = TargetStats(
                source.name, target.table, list(found.names), cells=cells
            )
            stats.append(stat)
            parts.setdefault(target.table, []).append(
                _Part(found, target, compiled, stat)
            )
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise DataContractError(
            f"Input batch {str(input_dir)!r} does not fit the source mapping "
            f"{mapping.path}; nothing was loaded ({len(problems)} problem(s)):\n{lines}"
        )
    pseudo = {
        n: s.pseudo for n, s in mapping.crosswalks.items() if s.pseudo is not None
    }
    tables = [
        MappedTable(contracts[name], parts[name], crosswalks, pseudo, limit)
        for name in sorted(parts)
    ]
    return MappedBatch(mapping, tables, _batch_id(mapping, sources), stats)


def _batch_id(mapping: SourceMapping, sources: list[SourceInput]) -> str:
    digest = hashlib.sha256()
    digest.update(mapping.text.encode())
    digest.update(json.dumps(mapping.vocabularies, sort_keys=True).encode())
    crosswalk_files = [
        (f"crosswalk:{n}", mapping.crosswalk_path(n))
        for n, s in sorted(mapping.crosswalks.items())
        if s.file is not None
    ]
    files = sorted(
        {
            (name, path)
            for s in sources
            for name, path in zip(s.names, s.paths, strict=True)
        }
    )
    hash_files(digest, [*crosswalk_files, *files])
    return digest.hexdigest()[:16]


def translate_ids(
    mapping: SourceMapping, crosswalk: str, ids: list[str | None]
) -> list[str | None]:
    """Translate source identifiers to USCCs through one of a mapping's crosswalks.

    The same translation the mapping applies to records, for files outside the
    batch: a label file keyed by the source's anonymised ids, for example.

    Parameters
    ----------
    mapping : SourceMapping
        The mapping.
    crosswalk : str
        Name of the crosswalk (under ``crosswalks``).
    ids : list of str or None
        Source identifiers (spaces around are ignored).

    Returns
    -------
    list of str or None
        The USCC of each id, ``None`` where the crosswalk has none.

    Raises
    ------
    ConfigurationError
        If the crosswalk is not declared or its file cannot be read.
    """
    from credit_engine.exceptions import ConfigurationError

    if crosswalk not in mapping.crosswalks:
        raise ConfigurationError(
            f"Source mapping {mapping.path} declares no crosswalk {crosswalk!r}."
            + close_names(crosswalk, sorted(mapping.crosswalks))
        )
    spec = mapping.crosswalks[crosswalk]
    values = pa.array([None if i is None else str(i).strip() for i in ids], pa.string())
    if spec.pseudo is not None:
        result = _PseudoFunction(crosswalk, spec.pseudo)(values)
        return [None if v is None else str(v) for v in result.to_pylist()]
    problems: list[str] = []
    table = read_crosswalk(mapping, crosswalk, problems)
    if problems:
        raise ConfigurationError("; ".join(problems))
    lookup = dict(
        zip(
            table.column("id").to_pylist(),
            table.column("uscc").to_pylist(),
            strict=True,
        )
    )
    return [None if v is None else lookup.get(v) for v in values.to_pylist()]
