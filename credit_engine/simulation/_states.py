"""Bitemporal rows for state spells and for records that get updated later.

A spell is written once when it starts (``effective_to`` null) and once more when
it ends (same ``source_record_id``, ``effective_to`` set, later ``ingested_at``):
what the zone knew changes over time, and the lake keeps both versions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from credit_engine.simulation._arrow import (
    Column,
    build_table,
    day_ts_array,
    id_array,
    ts_array,
)
from credit_engine.simulation._calendar import NO_DAY, US_PER_DAY, random_timestamps
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._spells import SpellTable
from credit_engine.simulation._types import BoolArray, IntArray

HOUR_US = 3_600_000_000


def versions(
    rng: np.random.Generator,
    first_day: IntArray,
    second_day: IntArray,
    *,
    max_lag_days: int = 2,
    not_before_us: IntArray | None = None,
) -> tuple[IntArray, IntArray, BoolArray]:
    """Rows of records that are written on ``first_day`` and updated on ``second_day``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Randomness for the time of day and the lag.
    first_day, second_day : numpy.ndarray
        Day each record becomes known, and the day its update becomes known
        (``NO_DAY`` if never updated).
    max_lag_days : int, default=2
        Records become known up to this many days after the day.
    not_before_us : numpy.ndarray, optional
        Per record, a time (µs) its first version cannot be known before, such
        as the event time itself.

    Returns
    -------
    row : numpy.ndarray
        Index of the source record of each output row.
    known_us : numpy.ndarray
        ``ingested_at`` of each row; an update is always known strictly after
        the version it updates.
    is_update : numpy.ndarray
        Whether the row is the update.
    """
    k = len(first_day)
    has_second = second_day != NO_DAY
    second = np.flatnonzero(has_second)
    first_known = (
        random_timestamps(first_day, rng)
        + rng.integers(0, max_lag_days + 1, k) * US_PER_DAY
    )
    if not_before_us is not None:
        first_known = np.maximum(first_known, not_before_us + 1)
    second_known = (
        random_timestamps(second_day[second], rng)
        + rng.integers(0, max_lag_days + 1, len(second)) * US_PER_DAY
    )
    second_known = np.maximum(second_known, first_known[second] + HOUR_US)
    row = np.r_[np.arange(k), second]
    known = np.r_[first_known, second_known]
    update = np.r_[np.zeros(k, bool), np.ones(len(second), bool)]
    return row, known, update


def state_table(
    ctx: ChunkContext,
    table: str,
    spells: SpellTable,
    *,
    prefix: str,
    columns: Callable[[IntArray, SpellTable], dict[str, Column]],
    max_lag_days: int = 3,
) -> pa.Table:
    """Rows of a state table from finished spells.

    ``columns(ent, spells)`` returns the table-specific columns for the output
    rows (``ent`` and ``spells`` are already expanded to one entry per row).
    """
    keep = (spells.end == NO_DAY) | (spells.end > spells.start)
    sp = SpellTable(
        *(
            getattr(spells, f)[keep]
            for f in ("idx", "value", "reason", "start", "end", "end_reason")
        )
    )
    k = len(sp)
    ids = ctx.serials(table, k)
    row, known, update = versions(ctx.rng, sp.start, sp.end, max_lag_days=max_lag_days)
    rows = SpellTable(
        *(
            getattr(sp, f)[row]
            for f in ("idx", "value", "reason", "start", "end", "end_reason")
        )
    )
    end = np.where(update, rows.end, NO_DAY)
    base = {
        "uscc": ctx.uscc(rows.idx),
        "source_record_id": id_array(prefix, ids[row], 10),
        "effective_from": day_ts_array(rows.start),
        "effective_to": day_ts_array(end),
        "ingested_at": ts_array(known),
    }
    shown = SpellTable(
        rows.idx,
        rows.value,
        rows.reason,
        rows.start,
        end,
        np.where(update, rows.end_reason, -1),
    )
    return build_table(ctx.contracts[table], {**base, **columns(rows.idx, shown)})
