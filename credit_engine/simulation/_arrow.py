"""Vectorised helpers to turn simulator arrays into Arrow columns and tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.data import SourceContract
from credit_engine.simulation._calendar import NO_DAY, US_PER_DAY
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

Column: TypeAlias = Any
"""An Arrow array or a NumPy array convertible to one."""

TIMESTAMP = pa.timestamp("us", tz="UTC")


def expand(counts: IntArray) -> tuple[IntArray, IntArray]:
    """Rows for a ``(n_enterprises, n_months)`` count matrix: (enterprise, month)."""
    n, m = counts.shape
    flat = counts.ravel()
    cell = np.repeat(np.arange(n * m, dtype=np.int64), flat)
    return cell // m, cell % m


def group_rank(group: IntArray, key: FloatArray) -> IntArray:
    """Rank (0-based) of each row inside its group, ordering by ``key``."""
    order = np.lexsort((key, group))
    sorted_group = group[order]
    starts = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(group)]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - first
    return rank


def choose_per_row(
    weights: FloatArray, owner: IntArray, rng: np.random.Generator
) -> IntArray:
    """Draw one category per row from its owner's distribution (rows of ``weights``).

    Uses one ``searchsorted`` over the owners' CDFs laid end to end, so memory
    stays linear in the number of rows.
    """
    k = weights.shape[1]
    cdf = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    cdf[:, -1] = 1.0
    flat = (cdf + np.arange(len(weights))[:, None]).ravel()
    pos = np.searchsorted(
        flat, owner + rng.random(len(owner)) * (1 - 1e-12), side="right"
    )
    return np.asarray(np.minimum(pos - owner * k, k - 1), dtype=np.int64)


def ingestion_lag_us(
    k: int,
    rng: np.random.Generator,
    *,
    max_days: float,
    late_share: float = 0.0,
    late_days: tuple[int, int] = (30, 120),
) -> IntArray:
    """Delay between an event and the zone learning of it, in microseconds.

    Most records arrive within ``max_days``; a ``late_share`` arrive late, after
    ``late_days`` (late-arriving records).
    """
    base = (rng.random(k) * max_days * US_PER_DAY).astype(np.int64) + 60_000_000
    late = rng.random(k) < late_share
    extra = rng.integers(late_days[0], late_days[1], k) * US_PER_DAY
    return base + np.where(late, extra, 0)


def ts_array(us: IntArray, valid: BoolArray | None = None) -> pa.Array:
    """Timestamp column from microseconds; ``valid`` masks nulls."""
    mask = None if valid is None else ~valid
    return pa.array(us, TIMESTAMP, mask=mask)


def day_ts_array(days: IntArray) -> pa.Array:
    """Midnight timestamps of day numbers, null where ``NO_DAY``."""
    valid = days != NO_DAY
    return ts_array(np.where(valid, days, 0) * US_PER_DAY, valid)


def date_array(days: IntArray) -> pa.Array:
    """Date column from day numbers, null where ``NO_DAY``."""
    valid = days != NO_DAY
    return pa.array(np.where(valid, days, 0).astype(np.int32), pa.date32(), mask=~valid)


def code_array(
    codes: IntArray, names: Sequence[str], valid: BoolArray | None = None
) -> pa.Array:
    """Build a string column from integer codes into ``names``."""
    arr = pa.DictionaryArray.from_arrays(
        pa.array(
            np.asarray(codes, dtype=np.int32), mask=None if valid is None else ~valid
        ),
        pa.array(list(names), pa.string()),
    )
    return arr.dictionary_decode()


def id_array(prefix: str, serial: IntArray, width: int) -> pa.Array:
    """Build identifiers ``prefix`` + zero-padded ``serial``."""
    digits = pc.utf8_lpad(pc.cast(pa.array(serial), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def float_array(values: FloatArray, decimals: int | None = 2) -> pa.Array:
    """Float column, rounded; NaN becomes null."""
    vals = np.round(values, decimals) if decimals is not None else values
    return pa.array(vals, pa.float64(), mask=np.isnan(vals))


def build_table(contract: SourceContract, columns: dict[str, Column]) -> pa.Table:
    """Assemble a table in contract order and types (all fields nullable).

    Raises
    ------
    KeyError
        If a contract column is missing from ``columns`` (a simulator bug).
    """
    missing = [c for c in contract.column_names if c not in columns]
    extra = [c for c in columns if c not in contract.column_names]
    if missing or extra:
        raise KeyError(
            f"simulator bug: table {contract.name!r} built with missing columns "
            f"{missing} and extra columns {extra}"
        )
    arrays = []
    for spec in contract.columns:
        value = columns[spec.name]
        arr = value if isinstance(value, pa.Array) else pa.array(value)
        arrays.append(arr.cast(spec.type.arrow_type()))
    return pa.Table.from_arrays(arrays, schema=contract.arrow_schema())
