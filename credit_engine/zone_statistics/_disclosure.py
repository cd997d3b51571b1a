"""Small-cell suppression of the tables shared as CSV (statistical disclosure).

The HTML and JSON report is INTERNAL, for zone supervisors, and keeps exact
figures. The CSV files are what gets shared beyond them (other departments,
published statistics), so a figure resting on fewer than ``min_cell``
enterprises (default 5) is blanked there:

* **primary**: a measure is blanked where its guard (the count of enterprises
  behind it, :attr:`StatTable.guards`) is between 1 and ``min_cell - 1``;
  a value (CNY, USD) is blanked with the count it rests on;
* **complementary**: where a breakdown (the rows sharing every dimension but
  the finest, e.g. one period's districts) has exactly one blanked cell, the
  next smallest non-zero cell is blanked too, so that the first cannot be
  recovered from the period's total.

Zero cells are not blanked (nothing to disclose). The rule is a first line,
not a full disclosure audit: crossing two breakdowns of the same population
can still narrow a cell down.
"""

from __future__ import annotations

import pandas as pd

from credit_engine.zone_statistics._report import StatTable

__all__ = ["DEFAULT_MIN_CELL", "SUPPRESSED_COLUMN", "suppress_small_cells"]

DEFAULT_MIN_CELL = 5
"""Fewest enterprises a shared figure may rest on."""

SUPPRESSED_COLUMN = "suppressed"
"""Boolean column added to a shared table: a figure of the row was blanked."""


def _blanked(table: StatTable, guard: str, min_cell: int) -> pd.Series:
    counts = pd.to_numeric(table.frame[guard], errors="coerce").fillna(0)
    primary = (counts > 0) & (counts < min_cell)
    groups = list(table.dimensions[:-1])
    if not groups or not primary.any():
        return primary
    mask = primary.copy()
    group = table.frame.groupby(groups, sort=False, dropna=False).ngroup()
    for gid in group[primary].unique():
        rows = group.index[group == gid]
        if int(primary.loc[rows].sum()) != 1:
            continue
        others = counts.loc[rows][(counts.loc[rows] > 0) & ~primary.loc[rows]]
        if not others.empty:
            mask.loc[others.idxmin()] = True
    return mask


def suppress_small_cells(
    table: StatTable, min_cell: int = DEFAULT_MIN_CELL
) -> pd.DataFrame:
    """Return the table's frame with small cells blanked, for sharing.

    Parameters
    ----------
    table : StatTable
        The table (its guards name the enterprise counts).
    min_cell : int, default=5
        Fewest enterprises a figure may rest on; ``0`` or ``1`` blanks nothing.

    Returns
    -------
    pandas.DataFrame
        The table's columns with blanked figures as missing values, and a
        boolean column :data:`SUPPRESSED_COLUMN`.

    Examples
    --------
    >>> frame = pd.DataFrame({"period": ["p"] * 3, "district": ["a", "b", "c"],
    ...                       "enterprises": [120, 3, 40]})
    >>> t = StatTable("t", "t", frame, ("period", "district"), ("enterprises",),
    ...               {"enterprises": "enterprises"})
    >>> suppress_small_cells(t)["enterprises"].tolist()
    [120, <NA>, <NA>]
    """
    frame = table.frame.loc[:, list(table.columns)].copy()
    flagged = pd.Series(False, index=frame.index)
    if min_cell > 1 and not frame.empty:
        masks = {
            guard: _blanked(table, guard, min_cell)
            for guard in dict.fromkeys(table.guards.values())
            if guard in table.frame.columns
        }
        for measure, guard in table.guards.items():
            if guard not in masks or measure not in frame.columns:
                continue
            mask = masks[guard]
            if mask.any():
                column = frame[measure]
                if pd.api.types.is_integer_dtype(column):
                    column = column.astype("Int64")  # blanks stay integers' NA
                frame[measure] = column.mask(mask)
                flagged |= mask
    frame[SUPPRESSED_COLUMN] = flagged.to_numpy()
    return frame
