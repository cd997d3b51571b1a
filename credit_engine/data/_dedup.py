"""Duplicates, key conflicts and the staged lake/quarantine files, on DuckDB.

The validated chunks of one table (typed columns, ``_reasons``, fingerprints,
``_seq`` in file order) are classified in SQL, so the cost is linear and spills
to disk:

- *duplicate*: same fingerprint as an earlier row of the batch, or as a row
  already committed to the lake or the quarantine. Counted and listed, not
  stored again.
- *key conflict*: not a duplicate, same key and ``ingested_at`` as an earlier
  valid row of the batch or as a lake row. Quarantined.
- otherwise valid rows are loaded and the others quarantined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credit_engine.data._contracts import ColumnType, SourceContract
from credit_engine.data._reasons import QuarantineReason
from credit_engine.data._suites import CheckKind, plan_checks
from credit_engine.vocabulary import sql_literal

__all__ = ["TableOutcome", "classify_table", "connect"]

_SAMPLES_PER_REASON = 3
_FILE_SIZE = "256MB"
_SAMPLE_COLUMNS = ("_source_file", "_row_number", "_reason_text", "_raw_values")


@dataclass
class TableOutcome:
    """Counts and staged files of one table of a batch."""

    rows_in: int = 0
    loaded: int = 0
    quarantined: int = 0
    duplicates: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    lake_files: list[Path] = field(default_factory=list)
    quarantine_files: list[Path] = field(default_factory=list)
    duplicate_files: list[Path] = field(default_factory=list)


def connect(temp_dir: Path) -> Any:
    """Open an in-memory DuckDB connection that spills to ``temp_dir``."""
    import duckdb

    con = duckdb.connect()
    # Names the expected check character in quarantine texts; DuckDB calls it
    # only for the rows that failed the USCC expectation.
    con.create_function("uscc_problem", _uscc_problem, ["varchar"], "varchar")
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET temp_directory = {sql_literal(str(temp_dir))}")
    con.execute("SET memory_limit = '40%'")
    con.execute("SET preserve_insertion_order = true")
    return con


def _uscc_problem(code: str) -> str | None:
    """Explain an invalid USCC (naming the expected check character) for SQL."""
    from credit_engine.uscc import uscc_problem

    return uscc_problem(code)


def _files(paths: Sequence[Path]) -> str:
    return "[" + ", ".join(sql_literal(str(p)) for p in paths) + "]"


def _relation(paths: Sequence[Path], columns: str, empty: str) -> str:
    if not paths:
        return f"(SELECT {empty} WHERE false)"
    return f"(SELECT {columns} FROM read_parquet({_files(paths)}))"


def _value(contract: SourceContract, column: str) -> str:
    text = f"CAST({column} AS VARCHAR)"
    if contract.column(column).type in (ColumnType.STRING, ColumnType.USCC):
        text = "'''' || " + text + " || ''''"
    return f"coalesce({text}, 'null')"


def _bounds(contract: SourceContract, column: str, kind: CheckKind) -> str:
    parts = []
    for check in plan_checks(contract):
        if check.column == column and check.kind is kind:
            where = f" where {check.when}" if check.when else ""
            parts.append(f"{check.bound:g}{where}")
    return parts[0] if len(parts) == 1 else "(" + "; ".join(parts) + ")"


def _concat(*parts: str) -> str:
    return " || ".join(parts)


_QUOTE = "''''"  # SQL literal holding one single quote
_MAPPING_TAILS = {
    QuarantineReason.UNMAPPED_VALUE: "' is not in the value map of the source mapping",
    QuarantineReason.UNPARSEABLE_DATE: (
        "' matches none of the date formats of the source mapping"
    ),
    QuarantineReason.UNKNOWN_IDENTIFIER: (
        "' has no USCC in the crosswalk of the source mapping"
    ),
    QuarantineReason.NOT_A_NUMBER: "' is not a number",
}


def _message(  # noqa: PLR0911 -- one sentence per reason code
    contract: SourceContract, code: QuarantineReason, column: str
) -> str:
    """Return the SQL expression of the human sentence for one reason label."""
    if code is QuarantineReason.KEY_CONFLICT:
        keys = ", ".join(contract.key)
        if not contract.is_versioned:
            return sql_literal(
                f"another row with the same {keys} but different content came first; "
                f"records of {contract.name} are never updated, so send a correction "
                "as a new record"
            )
        return _concat(
            sql_literal(f"another row with the same {keys} and ingested_at "),
            _value(contract, "ingested_at"),
            sql_literal(" but different content came first"),
        )
    spec = contract.column(column)
    name = sql_literal(column + " ")
    val = _value(contract, column)
    raw = f"json_extract_string(_raw_values, {sql_literal('$.' + column)})"
    if code is QuarantineReason.MISSING_REQUIRED:
        unless = f" unless {spec.required_unless}" if spec.required_unless else ""
        return sql_literal(f"{column} is empty but required{unless}")
    if code is QuarantineReason.INVALID_TYPE:
        tail = sql_literal(f"' is not a valid {spec.type.value}")
        return _concat(name, _QUOTE, raw, tail)
    if code in _MAPPING_TAILS:
        return _concat(
            sql_literal(f"{column}: source value "),
            _QUOTE,
            raw,
            sql_literal(_MAPPING_TAILS[code]),
        )
    if code is QuarantineReason.INVALID_USCC:
        tail = " is not a valid USCC (length, characters or check character)"
        message = _concat(name, val, sql_literal(tail))
        return f"coalesce(uscc_problem({column}), {message})"
    if code is QuarantineReason.UNKNOWN_CODE:
        allowed = ", ".join(spec.values or ())
        return _concat(name, val, sql_literal(f" is not one of {allowed}"))
    if code in (QuarantineReason.BELOW_MIN, QuarantineReason.ABOVE_MAX):
        kind = CheckKind.MIN if code is QuarantineReason.BELOW_MIN else CheckKind.MAX
        word = "below the minimum" if kind is CheckKind.MIN else "above the maximum"
        bounds = _bounds(contract, column, kind)
        return _concat(name, val, sql_literal(f" is {word} {bounds}"))
    if code is QuarantineReason.BAD_FORMAT:
        return _concat(name, val, sql_literal(f" does not match {spec.pattern}"))
    other = contract.time_column
    before = sql_literal(f" is before {other} ")
    return _concat(name, val, before, _value(contract, other))


def key_conflict_label(contract: SourceContract) -> str:
    """Reason label of a key conflict, e.g. ``key_conflict:uscc,source_record_id``."""
    return f"{QuarantineReason.KEY_CONFLICT.value}:{','.join(contract.key)}"


def _reason_text_sql(contract: SourceContract) -> str:
    labels: list[tuple[str, QuarantineReason, str]] = [
        (c.label, c.code, c.column) for c in plan_checks(contract)
    ]
    labels += [
        (f"{code.value}:{c}", code, c)
        for code in (QuarantineReason.INVALID_TYPE, *_MAPPING_TAILS)
        for c in contract.column_names
    ]
    labels.append((key_conflict_label(contract), QuarantineReason.KEY_CONFLICT, ""))
    seen = dict.fromkeys(labels)
    branches = " ".join(
        f"WHEN {sql_literal(label)} THEN {_message(contract, code, column)}"
        for label, code, column in seen
    )
    return (
        f"array_to_string(list_transform(_reasons, lambda r: "
        f"coalesce(CASE r {branches} ELSE r END, r)), '; ')"
    )


def _same(keys: Sequence[str], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in keys)


def _classify_sql(
    contract: SourceContract,
    work: str,
    lake: Sequence[Path],
    quarantine: Sequence[Path],
) -> str:
    keys = list(contract.version_key)
    key_list = ", ".join(keys)
    hashes = "_row_hash_a, _row_hash_b"
    empty_hashes = "NULL::UBIGINT AS _row_hash_a, NULL::UBIGINT AS _row_hash_b"
    empty_keys = ", ".join(f"NULL AS {k}" for k in keys)
    return f"""
    CREATE OR REPLACE TEMP TABLE cls AS
    WITH incoming AS (
        SELECT _seq, {hashes}, len(_reasons) = 0 AS valid, {key_list},
               row_number() OVER (PARTITION BY {hashes} ORDER BY _seq) AS copy_no
        FROM {work}
    ),
    firsts AS (SELECT DISTINCT {hashes} FROM incoming WHERE copy_no = 1),
    in_lake AS (
        SELECT DISTINCT {hashes} FROM {_relation(lake, hashes, empty_hashes)}
        JOIN firsts USING ({hashes})
    ),
    in_quarantine AS (
        SELECT DISTINCT {hashes} FROM {_relation(quarantine, hashes, empty_hashes)}
        JOIN firsts USING ({hashes})
    ),
    marked AS (
        SELECT i.*, CASE WHEN i.copy_no > 1 THEN 'batch'
                         WHEN l._row_hash_a IS NOT NULL THEN 'lake'
                         WHEN q._row_hash_a IS NOT NULL THEN 'quarantine' END AS dup_of
        FROM incoming i
        LEFT JOIN in_lake l USING ({hashes})
        LEFT JOIN in_quarantine q USING ({hashes})
    ),
    winners AS (
        SELECT {key_list}, min(_seq) AS first_seq FROM marked
        WHERE dup_of IS NULL AND valid GROUP BY {key_list}
    ),
    lake_keys AS (
        SELECT DISTINCT h.*, true AS in_lake
        FROM {_relation(lake, key_list, empty_keys)} h
        JOIN winners w ON {_same(keys, "h", "w")}
    )
    SELECT m._seq, m.dup_of AS _dup_of,
           m.dup_of IS NULL AND (lk.in_lake IS NOT NULL OR w.first_seq < m._seq)
               AS _key_conflict,
           CASE WHEN m.dup_of IS NOT NULL THEN 'duplicate'
                WHEN m.valid AND lk.in_lake IS NULL
                     AND coalesce(w.first_seq >= m._seq, true) THEN 'load'
                ELSE 'quarantine' END AS _status
    FROM marked m
    LEFT JOIN winners w ON {_same(keys, "m", "w")}
    LEFT JOIN lake_keys lk ON {_same(keys, "m", "lk")}
    """


def classify_table(
    con: Any,
    contract: SourceContract,
    *,
    work_files: Sequence[Path],
    lake_files: Sequence[Path],
    quarantine_files: Sequence[Path],
    batch_id: str,
    lake_out: Path,
    quarantine_out: Path,
    duplicates_out: Path,
) -> TableOutcome:
    """Classify the validated rows of one table and write the staged outputs.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection from :func:`connect`.
    contract : SourceContract
        Contract of the table.
    work_files : sequence of pathlib.Path
        Validated chunks (typed columns, ``_raw_values``, ``_reasons``,
        ``_source_file``, ``_row_number``, ``_seq`` and the fingerprints).
    lake_files, quarantine_files : sequence of pathlib.Path
        Committed files of the table, for duplicates and key conflicts.
    batch_id : str
        Id written to ``_batch_id``.
    lake_out, quarantine_out, duplicates_out : pathlib.Path
        Staging folders for the lake parts, quarantine parts and duplicates list.

    Returns
    -------
    TableOutcome
        Counts per outcome and reason, sample rows per reason, staged files.
    """
    outcome = TableOutcome()
    if not work_files:
        return outcome
    work = f"read_parquet({_files(work_files)})"
    con.execute(_classify_sql(contract, work, lake_files, quarantine_files))
    counts = dict(
        con.execute("SELECT _status, count(*) FROM cls GROUP BY _status").fetchall()
    )
    outcome.loaded = int(counts.get("load", 0))
    outcome.quarantined = int(counts.get("quarantine", 0))
    outcome.duplicates = int(counts.get("duplicate", 0))
    outcome.rows_in = outcome.loaded + outcome.quarantined + outcome.duplicates
    cols = ", ".join(contract.column_names)
    wcols = ", ".join(f"w.{c}" for c in contract.column_names)
    batch = sql_literal(batch_id)
    joined = f"{work} w JOIN cls c USING (_seq)"
    copy_opts = (
        f"(FORMAT parquet, COMPRESSION zstd, FILE_SIZE_BYTES '{_FILE_SIZE}', "
        "FILENAME_PATTERN 'part-{i}')"
    )
    for out in (lake_out, quarantine_out):
        out.parent.mkdir(parents=True, exist_ok=True)
    if outcome.loaded:
        con.execute(
            f"COPY (SELECT {wcols}, {batch} AS _batch_id, _row_hash_a, _row_hash_b "
            f"FROM {joined} WHERE c._status = 'load' ORDER BY _seq) "
            f"TO {sql_literal(str(lake_out))} {copy_opts}"
        )
        outcome.lake_files = sorted(lake_out.glob("part-*.parquet"))
    if outcome.quarantined:
        label = sql_literal(key_conflict_label(contract))
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW q AS
            SELECT {wcols}, _raw_values,
                   CASE WHEN c._key_conflict THEN list_append(_reasons, {label})
                        ELSE _reasons END AS _reasons,
                   _source_file, _row_number, _seq, _row_hash_a, _row_hash_b
            FROM {joined} WHERE c._status = 'quarantine'"""
        )
        con.execute(
            f"COPY (SELECT {cols}, _raw_values, _reasons, "
            f"{_reason_text_sql(contract)} AS _reason_text, _source_file, _row_number, "
            f"{batch} AS _batch_id, _row_hash_a, _row_hash_b FROM q ORDER BY _seq) "
            f"TO {sql_literal(str(quarantine_out))} {copy_opts}"
        )
        outcome.quarantine_files = sorted(quarantine_out.glob("part-*.parquet"))
        outcome.reasons = {
            str(code): int(n)
            for code, n in con.execute(
                "SELECT code, count(*) FROM (SELECT DISTINCT _seq, "
                "split_part(unnest(_reasons), ':', 1) AS code FROM q) "
                "GROUP BY code ORDER BY code"
            ).fetchall()
        }
        outcome.samples = _samples(con, outcome.quarantine_files)
    if outcome.duplicates:
        duplicates_out.mkdir(parents=True, exist_ok=True)
        target = duplicates_out / "part-0.parquet"
        con.execute(
            f"COPY (SELECT {sql_literal(contract.name)} AS table_name, "
            "_source_file AS source_file, _row_number AS row_number, "
            f"c._dup_of AS duplicate_of, {batch} AS _batch_id "
            f"FROM {joined} WHERE c._status = 'duplicate' ORDER BY _seq) "
            f"TO {sql_literal(str(target))} (FORMAT parquet, COMPRESSION zstd)"
        )
        outcome.duplicate_files = [target]
    con.execute("DROP VIEW IF EXISTS q")
    con.execute("DROP TABLE cls")
    return outcome


def _samples(con: Any, files: Sequence[Path]) -> dict[str, list[dict[str, str]]]:
    cols = ", ".join(_SAMPLE_COLUMNS)
    rows = con.execute(
        f"""SELECT code, {cols} FROM (
            SELECT code, {cols}, row_number() OVER (
                PARTITION BY code ORDER BY _source_file, _row_number) AS rn
            FROM (SELECT DISTINCT split_part(unnest(_reasons), ':', 1) AS code, {cols}
                  FROM read_parquet({_files(files)})))
        WHERE rn <= {_SAMPLES_PER_REASON} ORDER BY code, rn"""
    ).fetchall()
    samples: dict[str, list[dict[str, str]]] = {}
    for code, *values in rows:
        record = {
            k: "" if v is None else str(v)
            for k, v in zip(_SAMPLE_COLUMNS, values, strict=True)
        }
        samples.setdefault(str(code), []).append(record)
    return samples
