"""Feed outages: hold back a table's records delivered inside an interval.

Reality goes on during an outage; only delivery stops. A record whose
``ingested_at`` falls inside ``[start, end)`` is withheld from the extract, or,
when delivery resumes at ``end`` inside the window, arrives then: the backlog
is stamped ``end`` (00:00 UTC) plus one microsecond per record in its original
order, so that the versions of a record stay strictly ordered. Records stamped
in the first microseconds after ``end`` are moved behind the backlog for the
same reason (by at most a few microseconds).

The outage is applied after the dirty rows are injected, with no random draw:
every other table, and every draw of the simulator, stays as without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.simulation._arrow import TIMESTAMP
from credit_engine.simulation._dirty import DirtyRows
from credit_engine.simulation._types import BoolArray, IntArray

__all__ = ["OutageCount", "OutageWindow", "apply_outages"]


@dataclass(frozen=True)
class OutageWindow:
    """One table's outage.

    Attributes
    ----------
    scenario : str
        Name of the feed-outage scenario.
    table : str
        Table whose delivery stops.
    start_us : int
        First microsecond (UTC) nothing is delivered.
    resume_us : int or None
        Microsecond delivery resumes; ``None`` when not inside the extract.
    """

    scenario: str
    table: str
    start_us: int
    resume_us: int | None


@dataclass(frozen=True)
class OutageCount:
    """Rows an outage withheld or delivered late in one table (dirty included)."""

    window: OutageWindow
    withheld: int
    delayed: int


def _backlog_times(ing: IntArray, inside: BoolArray, resume_us: int) -> IntArray:
    """Return every row's new ``ingested_at``: the backlog delivered at resume."""
    batch = inside.copy()
    # Rows already stamped within the backlog's microseconds go behind it.
    while True:
        grown = batch | ((ing >= resume_us) & (ing < resume_us + batch.sum()))
        if grown.sum() == batch.sum():
            break
        batch = grown
    rows = np.flatnonzero(batch)
    order = rows[np.argsort(ing[rows], kind="stable")]
    new = ing.copy()
    new[order] = resume_us + np.arange(len(order), dtype=np.int64)
    return new


def apply_outages(
    table: pa.Table,
    dirty: DirtyRows,
    clean_ingested: IntArray,
    windows: list[OutageWindow],
) -> tuple[pa.Table, DirtyRows, list[OutageCount]]:
    """Withhold or delay the rows of ``table`` delivered inside ``windows``.

    Parameters
    ----------
    table : pyarrow.Table
        One chunk of a table as written: clean rows (some corrupted in place)
        followed by the exact duplicates ``dirty.duplicate_of`` lists.
    dirty : DirtyRows
        Dirty rows of ``table`` (row numbers in ``table``).
    clean_ingested : numpy.ndarray
        ``ingested_at`` (µs) of the rows before the dirty rows were injected,
        so that a row whose ``ingested_at`` was blanked is still placed.
    windows : list of OutageWindow
        The table's outages; they must not overlap.

    Returns
    -------
    table : pyarrow.Table
        Rows kept, ``ingested_at`` moved for the late-delivered ones.
    dirty : DirtyRows
        The dirty rows kept, renumbered.
    counts : list of OutageCount
        Rows withheld and delayed per window.
    """
    n = len(clean_ingested)
    source = np.r_[np.arange(n, dtype=np.int64), dirty.duplicate_of]
    if len(source) != table.num_rows:
        raise ValueError(
            f"simulator bug: {table.num_rows} rows but {n} clean rows and "
            f"{len(dirty.duplicate_of)} duplicates"
        )
    ing = np.asarray(clean_ingested, dtype=np.int64)
    drop = np.zeros(n, dtype=bool)
    new = ing.copy()
    counts = []
    for w in windows:
        stop = np.iinfo(np.int64).max if w.resume_us is None else w.resume_us
        inside = (ing >= w.start_us) & (ing < stop)
        if w.resume_us is None:
            drop |= inside
            counts.append(OutageCount(w, int(inside[source].sum()), 0))
        else:
            moved = _backlog_times(ing, inside, w.resume_us)
            new = np.where(moved != ing, moved, new)
            counts.append(OutageCount(w, 0, int(inside[source].sum())))
    changed = (new != ing)[source]
    if changed.any():
        current = table.column("ingested_at").combine_chunks()
        stamped = pc.if_else(
            pa.array(changed & current.is_valid().to_numpy(zero_copy_only=False)),
            pa.array(new[source], TIMESTAMP),
            current,
        )
        index = table.column_names.index("ingested_at")
        table = table.set_column(index, table.schema.field(index), stamped)
    keep = ~drop[source]
    if keep.all():
        return table, dirty, counts
    renumber = np.cumsum(keep) - 1
    kept = keep[dirty.row]
    picked = np.flatnonzero(kept)
    dup_kept = keep[n:]
    renumbered = DirtyRows(
        renumber[dirty.row[kept]],
        [dirty.kind[i] for i in picked],
        [dirty.column[i] for i in picked],
        renumber[dirty.duplicate_of[dup_kept]],
    )
    return table.filter(pa.array(keep)), renumbered, counts
