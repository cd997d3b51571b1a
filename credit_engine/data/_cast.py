"""Normalise raw columns to the contract's Arrow types, element by element.

Values that cannot be converted become null in the typed column; the row is
flagged for ``invalid_type`` on that column and its original text is kept as
JSON in ``_raw_values``. Everything is vectorised (Arrow compute, pandas for ISO
timestamps); no Python loop runs over rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.data._contracts import ColumnType, SourceContract

__all__ = ["CastResult", "cast_to_contract", "convertible"]

_INT_RE = r"^[+-]?[0-9]{1,18}$"
_FLOAT_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_INT64_LIMIT = 2.0**63
_JSON_ESCAPES = (
    ("\\", "\\\\"),
    ('"', '\\"'),
    ("\n", "\\n"),
    ("\r", "\\r"),
    ("\t", "\\t"),
)
_UTC_US = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class CastResult:
    """Typed records plus what could not be converted.

    Attributes
    ----------
    table : pyarrow.Table
        Contract columns in contract order and storage types; missing optional
        columns are all null.
    failed : dict of str to numpy.ndarray
        Per column with at least one failure, the rows whose value was present
        but could not be converted.
    raw_values : pyarrow.StringArray
        Per row, a JSON object of the original text of the failed columns, or null.
    """

    table: pa.Table
    failed: dict[str, npt.NDArray[np.bool_]]
    raw_values: pa.Array


def convertible(source: pa.DataType, target: ColumnType) -> bool:
    """Return whether values of Arrow type ``source`` can be cast to ``target``.

    Strings and nulls convert to anything (value by value); otherwise the kinds
    must be compatible (e.g. integers to floats, dates to timestamps).

    Examples
    --------
    >>> import pyarrow as pa
    >>> convertible(pa.int32(), ColumnType.FLOAT)
    True
    >>> convertible(pa.date32(), ColumnType.INT)
    False
    """
    if pa.types.is_dictionary(source):
        source = source.value_type
    t = pa.types
    if t.is_null(source) or t.is_string(source) or t.is_large_string(source):
        return True
    numeric = bool(
        t.is_integer(source) or t.is_floating(source) or t.is_decimal(source)
    )
    temporal = bool(t.is_date(source) or t.is_timestamp(source))
    boolean = bool(t.is_boolean(source))
    if target in (ColumnType.STRING, ColumnType.USCC):
        return numeric or temporal or boolean
    if target in (ColumnType.INT, ColumnType.FLOAT):
        return numeric or boolean
    if target is ColumnType.BOOL:
        return boolean or bool(t.is_integer(source) or t.is_floating(source))
    return temporal


def cast_to_contract(
    raw: pa.Table,
    contract: SourceContract,
    *,
    unplaced: Mapping[str, tuple[npt.NDArray[np.bool_], pa.Array]] | None = None,
) -> CastResult:
    """Convert a raw piece of a source file to the contract schema.

    Parameters
    ----------
    raw : pyarrow.Table
        Columns as read (a subset of the contract columns, any compatible type).
    contract : SourceContract
        Target contract.
    unplaced : mapping of str to (numpy.ndarray, pyarrow.StringArray), optional
        Per column, rows a source mapping could not place and their source text;
        the text goes to ``_raw_values`` like that of a failed cast.

    Returns
    -------
    CastResult
        Typed table, per-column failure masks and raw values of failures.
    """
    n = raw.num_rows
    columns: list[pa.Array] = []
    failed: dict[str, npt.NDArray[np.bool_]] = {}
    originals: dict[str, pa.Array] = {}
    for spec in contract.columns:
        target = spec.type.arrow_type()
        if spec.name not in raw.column_names:
            columns.append(pa.nulls(n, target))
            continue
        source = raw.column(spec.name).combine_chunks()
        if pa.types.is_dictionary(source.type):
            source = source.dictionary_decode()
        typed, present = _cast_column(source, spec.type)
        lost = pc.and_(present, typed.is_null()).to_numpy(zero_copy_only=False)
        if lost.any():
            failed[spec.name] = lost
            originals[spec.name] = _as_text(source)
        columns.append(typed)
    table = pa.Table.from_arrays(columns, schema=contract.arrow_schema())
    kept = dict(failed)
    for name, (mask, text) in (unplaced or {}).items():
        if not mask.any():
            continue
        if name in kept:
            originals[name] = pc.if_else(
                pa.array(mask), _as_text(text), originals[name]
            )
            kept[name] = mask | kept[name]
        else:
            originals[name] = _as_text(text)
            kept[name] = mask
    return CastResult(table, failed, _raw_json(n, kept, originals))


def _as_text(source: pa.Array) -> pa.Array:
    if pa.types.is_string(source.type):
        return source
    return pc.cast(source, pa.string())


def _cast_column(source: pa.Array, target: ColumnType) -> tuple[pa.Array, pa.Array]:
    """Return the typed column and a mask of rows whose source value is present."""
    t = pa.types
    arrow_type = target.arrow_type()
    if t.is_null(source.type):
        return pa.nulls(len(source), arrow_type), pa.array(np.zeros(len(source), bool))
    if t.is_large_string(source.type):
        source = source.cast(pa.string())
    if target in (ColumnType.STRING, ColumnType.USCC):
        return _as_text(source), source.is_valid()
    if t.is_string(source.type):
        text = pc.utf8_trim_whitespace(source)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        return _from_text(text, target), text.is_valid()
    present = source.is_valid()
    if pa.types.is_floating(source.type):
        # NaN is how pandas writes a missing number: missing, not invalid.
        present = pc.and_(present, pc.invert(pc.fill_null(pc.is_nan(source), False)))
    return _from_typed(source, target), present


def _keep(mask: pa.Array, values: pa.Array) -> pa.Array:
    return pc.if_else(mask, values, pa.scalar(None, values.type))


def _from_text(text: pa.Array, target: ColumnType) -> pa.Array:
    if target is ColumnType.INT:
        ok = pc.match_substring_regex(text, _INT_RE)
        return pc.cast(_keep(ok, pc.replace_substring(text, "+", "")), pa.int64())
    if target is ColumnType.FLOAT:
        ok = pc.match_substring_regex(text, _FLOAT_RE)
        return pc.cast(_keep(ok, pc.replace_substring(text, "+", "")), pa.float64())
    if target is ColumnType.BOOL:
        lower = pc.utf8_lower(text)
        return pc.if_else(
            pc.is_in(lower, pa.array(_TRUE)),
            True,
            pc.if_else(
                pc.is_in(lower, pa.array(_FALSE)), False, pa.scalar(None, pa.bool_())
            ),
        )
    if target is ColumnType.DATE:
        shaped = _keep(pc.match_substring_regex(text, _DATE_RE), text)
        parsed = pc.strptime(shaped, format="%Y-%m-%d", unit="s", error_is_null=True)
        # strptime rolls 2024-02-30 over to March: keep only exact round trips.
        exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), shaped)
        return pc.cast(_keep(exact, parsed), pa.date32())
    return _timestamps_from_text(text)


def _timestamps_from_text(text: pa.Array) -> pa.Array:
    for tz in ("UTC", None):
        try:
            return pc.cast(pc.cast(text, pa.timestamp("us", tz=tz)), _UTC_US)
        except pa.ArrowInvalid:
            continue
    # Mixed offsets or invalid values: pandas parses ISO 8601 value by value,
    # naive values as UTC, invalid ones to NaT (pandas only loads on this path).
    import pandas as pd

    from credit_engine.arrow_tables import array_from_series

    parsed = pd.to_datetime(
        pd.Series(text.to_pandas()), errors="coerce", utc=True, format="ISO8601"
    )
    return pc.cast(array_from_series(parsed), _UTC_US, safe=False)


def _to_int(source: pa.Array) -> pa.Array:
    typ = source.type
    if pa.types.is_boolean(typ):
        return pc.cast(source, pa.int64())
    if pa.types.is_integer(typ):
        if typ == pa.uint64():
            source = _keep(pc.less(source, pa.scalar(2**63, pa.uint64())), source)
        return pc.cast(source, pa.int64())
    values = pc.cast(source, pa.float64(), safe=False)
    ok = pc.and_(
        pc.equal(pc.floor(values), values), pc.less(pc.abs(values), _INT64_LIMIT)
    )
    return pc.cast(_keep(ok, values), pa.int64())


def _to_bool(source: pa.Array) -> pa.Array:
    if pa.types.is_boolean(source.type):
        return source
    ok = pc.is_in(pc.cast(source, pa.float64()), pa.array([0.0, 1.0]))
    return pc.cast(_keep(ok, source), pa.bool_())


def _to_temporal(source: pa.Array, target: ColumnType) -> pa.Array:
    if pa.types.is_timestamp(source.type):
        if source.type.tz is None:
            # Naive timestamps are UTC: reinterpret, do not shift.
            source = pc.cast(source, pa.timestamp("us"), safe=False)
        utc = pc.cast(source, _UTC_US, safe=False)
        if target is ColumnType.DATE:
            naive = pc.cast(utc, pa.timestamp("us"))
            return pc.cast(naive, pa.date32(), safe=False)
        return utc
    if target is ColumnType.DATE:
        return pc.cast(source, pa.date32())
    # A date as a timestamp: midnight UTC.
    return pc.cast(pc.cast(source, pa.timestamp("us")), _UTC_US)


def _from_typed(source: pa.Array, target: ColumnType) -> pa.Array:
    if target is ColumnType.FLOAT:
        values = pc.cast(source, pa.float64(), safe=False)
        return _keep(pc.invert(pc.is_nan(values)), values)
    if target is ColumnType.INT:
        return _to_int(source)
    if target is ColumnType.BOOL:
        return _to_bool(source)
    return _to_temporal(source, target)


def _json_string(text: pa.Array) -> pa.Array:
    for char, escaped in _JSON_ESCAPES:
        text = pc.replace_substring(text, char, escaped)
    for code in (*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)):
        char = chr(code)
        if pc.any(pc.match_substring(text, char)).as_py():
            text = pc.replace_substring(text, char, f"\\u{code:04x}")
    return text


def _raw_json(
    n: int, failed: dict[str, npt.NDArray[np.bool_]], originals: dict[str, pa.Array]
) -> pa.Array:
    if not failed:
        return pa.nulls(n, pa.string())
    fragments = []
    any_failed = np.zeros(n, dtype=bool)
    for name, mask in failed.items():
        any_failed |= mask
        value = pc.binary_join_element_wise(
            f', "{name}": "', _json_string(originals[name]), '"', ""
        )
        fragments.append(pc.fill_null(_keep(pa.array(mask), value), ""))
    # Each fragment starts with ", "; drop the first separator.
    body = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*fragments, ""), 2)
    wrapped = pc.binary_join_element_wise("{", body, "}", "")
    return _keep(pa.array(any_failed), wrapped)
