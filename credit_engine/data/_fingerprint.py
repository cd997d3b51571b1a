"""128-bit row fingerprints for duplicate detection.

Two 64-bit hashes per row (``_row_hash_a``, ``_row_hash_b``) are computed with
pandas' hashing (``hash_pandas_object``) using different hash keys and column
orders. Each column is hashed from a canonical representation of its *typed*
values, so the same record read from CSV or Parquet, in any chunk, gets the
same fingerprint. Nulls hash to a fixed marker, so nulls compare equal.

The fingerprints are stored in the lake: changing this module changes which
rows count as duplicates of earlier batches. Keep it stable. Columns a contract
gained later (``extension: true``) enter a row's fingerprint only when the row
has a value in one of them: a record sent again after the contract grew, with
no value in the new columns, keeps the fingerprint it had before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["HASH_COLUMNS", "row_fingerprints"]

HASH_COLUMNS = ("_row_hash_a", "_row_hash_b")
_KEY_A = "credit-engine:ra"
_KEY_B = "credit-engine:rb"
_NULL = np.uint64(0x9E3779B97F4A7C15)
_SAMPLE = 10_000

Hashes = npt.NDArray[np.uint64]


@dataclass(frozen=True)
class _Prepared:
    """A column ready to hash: its values as NumPy, converted once for both keys."""

    values: npt.NDArray[Any]
    codes: npt.NDArray[np.int64] | None  # dictionary codes, if values are uniques
    nulls: npt.NDArray[np.bool_]
    keyed: bool  # strings are hashed with the key; numbers are not


def _prepare(values: pa.Array) -> _Prepared:
    typ = values.type
    nulls = np.zeros(len(values), dtype=bool)
    if values.null_count:
        nulls = values.is_null().to_numpy(zero_copy_only=False)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        sample = values.slice(0, _SAMPLE)
        if 2 * pc.count_distinct(sample).as_py() > len(sample):
            # Mostly distinct (ids): hash directly; encoding would cost more.
            if values.null_count:
                values = pc.fill_null(values, "")
            text = values.to_numpy(zero_copy_only=False)
            return _Prepared(text.astype(object, copy=False), None, nulls, True)
        encoded = pc.dictionary_encode(values)
        uniques = encoded.dictionary.to_numpy(zero_copy_only=False)
        uniques = uniques.astype(object, copy=False)
        codes = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
        return _Prepared(uniques, codes.astype(np.int64), nulls, True)
    if pa.types.is_timestamp(typ):
        values = values.view(pa.int64())
    elif pa.types.is_date(typ):
        values = values.view(pa.int32())
    elif pa.types.is_boolean(typ):
        values = pc.cast(values, pa.int8())
    if values.null_count:
        values = pc.fill_null(values, pa.scalar(0, values.type))
    return _Prepared(values.to_numpy(zero_copy_only=False), None, nulls, False)


def _hash(column: _Prepared, key: str, cache: dict[int, Hashes]) -> Hashes:
    import pandas as pd

    if not column.keyed and id(column) in cache:
        return cache[id(column)]  # numbers hash the same under every key
    if column.keyed and column.values.size == 0:
        hashes = np.zeros(column.nulls.size, dtype=np.uint64)
    else:
        hashes = pd.util.hash_array(column.values, hash_key=key, categorize=False)
        hashes = np.asarray(hashes, dtype=np.uint64)
        if column.codes is not None:
            hashes = hashes[column.codes]
    if column.nulls.any():
        hashes = hashes.copy()
        hashes[column.nulls] = _NULL
    cache[id(column)] = hashes
    return hashes


def row_fingerprints(
    table: pa.Table, raw_values: pa.Array, extension: Sequence[str] = ()
) -> tuple[Hashes, Hashes]:
    """Hash every row of a typed table (plus its raw values of failed casts).

    Parameters
    ----------
    table : pyarrow.Table
        Contract columns in contract order and storage types.
    raw_values : pyarrow.StringArray
        ``_raw_values`` of the rows, so two rows whose unparsable values differ
        are not duplicates of each other.
    extension : sequence of str, optional
        The contract's extension columns. A row with no value in any of them is
        hashed without them (as before they existed); other rows over every
        column.

    Returns
    -------
    tuple of numpy.ndarray
        ``(_row_hash_a, _row_hash_b)``, uint64 each.

    Examples
    --------
    >>> import pyarrow as pa
    >>> t = pa.table({"a": ["x", "x", None], "b": [1, 1, 2]})
    >>> a, b = row_fingerprints(t, pa.nulls(3, pa.string()))
    >>> bool(a[0] == a[1] and b[0] == b[1]), bool(a[0] == a[2])
    (True, False)
    """
    extra = [name for name in extension if name in table.column_names]
    if extra:
        filled = np.zeros(table.num_rows, dtype=bool)
        for name in extra:
            column = table.column(name)
            if column.null_count < len(column):
                filled |= column.is_valid().to_numpy(zero_copy_only=False)
        base_a, base_b = row_fingerprints(table.drop_columns(extra), raw_values)
        if not filled.any():
            return base_a, base_b
        full_a, full_b = row_fingerprints(table, raw_values)
        return np.where(filled, full_a, base_a), np.where(filled, full_b, base_b)
    arrays = [col.combine_chunks() for col in table.columns] + [raw_values]
    prepared = [_prepare(arr) for arr in arrays]
    cache: dict[int, Hashes] = {}
    hash_a = _combine([_hash(col, _KEY_A, cache) for col in prepared])
    hash_b = _combine([_hash(col, _KEY_B, cache) for col in prepared[::-1]])
    return hash_a, hash_b


def _combine(hashes: list[Hashes]) -> Hashes:
    # The column combination of pandas' hash_pandas_object (CPython's tuple hash),
    # applied to already hashed columns without building a DataFrame.
    mult = np.uint64(1000003)
    out = np.full(hashes[0].shape, np.uint64(0x345678), dtype=np.uint64)
    for i, column in enumerate(hashes):
        inverse = np.uint64(len(hashes) - i)
        out ^= column
        out *= mult
        mult += np.uint64(82520) + inverse + inverse
    out += np.uint64(97531)
    return out
