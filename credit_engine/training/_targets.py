"""The target of ``evaluate``: binary or ordinal, numbers or text, in a known order.

A target column becomes level codes ``0 .. L-1``, best (no event) first. The
order comes from ``--order`` when given, else from the values: integers in
their natural order (0 = best), a known yes/no pair, or the rating agencies'
letter scale (AAA, AA+, … D). Levels with too few rows for the folds are
merged into a neighbour and reported; nothing aborts on a rare grade that can
be merged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError

__all__ = ["MAX_LEVELS", "TargetEncoding", "encode_target"]

MAX_LEVELS = 20
"""Most levels an ordinal target may have."""

_BINARY_WORDS: tuple[tuple[str, str], ...] = (
    ("false", "true"),
    ("no", "yes"),
    ("n", "y"),
    ("good", "bad"),
    ("否", "是"),
)
"""Text pairs whose order is known: the first is the non-event."""

_AGENCY = re.compile(r"^(AAA|AA|A|BBB|BB|B|CCC|CC|C|D)([+-]?)$", re.IGNORECASE)
_AGENCY_STEPS = ("AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D")


def _agency_rank(value: str) -> float:
    match = _AGENCY.match(value.strip())
    assert match is not None
    base = _AGENCY_STEPS.index(match.group(1).upper())
    modifier = {"+": -0.3, "": 0.0, "-": 0.3}[match.group(2)]
    return base + modifier


def _label(value: Any) -> str:
    """Canonical text of a target value: integers without ``.0``, text stripped."""
    if isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


@dataclass
class TargetEncoding:
    """How a target column was read: its levels, their order and what was merged.

    Attributes
    ----------
    column : str
        Target column.
    kind : {"binary", "ordinal"}
        Two levels or more.
    levels : list
        Level labels best first: the value itself (an int for integer targets)
        or, for merged levels, their values joined by ``/``.
    members : list of list of str
        The original values of each level.
    counts : list of int
        Rows per level.
    order_from : str
        Where the order came from: ``declared`` (``--order``), ``integers``,
        ``yes/no words`` or ``rating scale``.
    merged : list of dict
        Levels merged for having too few rows: ``{"values", "rows", "into"}``.
    absent : list of str
        Values of the declared order that no row holds.
    rows_without_target : int
        Rows dropped because the target is missing.
    """

    column: str
    kind: str
    levels: list[Any]
    members: list[list[str]]
    counts: list[int]
    order_from: str
    merged: list[dict[str, Any]] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    rows_without_target: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {
            "column": self.column,
            "kind": self.kind,
            "levels": [
                {"level": lvl, "values": m, "rows": n}
                for lvl, m, n in zip(
                    self.levels, self.members, self.counts, strict=True
                )
            ],
            "order_from": self.order_from,
            "merged": self.merged,
            "absent": self.absent,
            "rows_without_target": self.rows_without_target,
        }


def _ordered_values(
    values: list[str], column: str, order: Sequence[str] | None
) -> tuple[list[str], str, list[str]]:
    """Return the present values best first, where the order came from, absentees."""
    if order:
        declared = [_label(v) for v in order]
        duplicated = sorted({v for v in declared if declared.count(v) > 1})
        if duplicated:
            raise DataContractError(
                f"--order lists {duplicated} more than once; list each value of "
                f"{column!r} once, best first."
            )
        missing = [v for v in values if v not in declared]
        if missing:
            raise DataContractError(
                f"Target {column!r} holds value(s) {missing[:10]} that --order does "
                f"not list (it lists {declared}). Add them to --order, best first, "
                "or drop those rows."
            )
        absent = [v for v in declared if v not in values]
        return [v for v in declared if v in values], "declared", absent
    numbers = pd.to_numeric(pd.Series(values), errors="coerce")
    if numbers.notna().all():
        if not np.allclose(numbers, np.round(numbers)):
            odd = [v for v, n in zip(values, numbers, strict=True) if n != round(n)]
            raise DataContractError(
                f"Target {column!r} holds non-integer numbers such as {odd[:5]}; "
                "evaluate needs classes: 0/1, integer grades (0 = best) or text "
                "grades with --order. Bin a continuous target first."
            )
        ranked = sorted(values, key=float)
        return ranked, "integers", []
    lowered = {v.lower() for v in values}
    for good, bad in _BINARY_WORDS:
        if lowered <= {good, bad} and len(lowered) == 2:
            ranked = sorted(values, key=lambda v: v.lower() == bad)
            return ranked, "yes/no words", []
    if all(_AGENCY.match(v) for v in values):
        return sorted(values, key=_agency_rank), "rating scale", []
    raise DataContractError(
        f"Target {column!r} holds text values {sorted(values)[:10]} whose order is "
        "unknown. Declare it best (no event) first, e.g. --order "
        f"{','.join(sorted(values)[:4])}{',…' if len(values) > 4 else ''}."
    )


def _merge_rare(
    members: list[list[str]], counts: list[int], min_rows: int
) -> tuple[list[list[str]], list[int], list[dict[str, Any]]]:
    """Merge levels under ``min_rows`` rows into their smaller neighbour."""
    members = [list(m) for m in members]
    counts = list(counts)
    merged: list[dict[str, Any]] = []
    while len(counts) > 2 and min(counts) < min_rows:
        k = int(np.argmin(counts))
        if k == 0:
            into = 1
        elif k == len(counts) - 1:
            into = k - 1
        else:
            into = k - 1 if counts[k - 1] <= counts[k + 1] else k + 1
        merged.append(
            {
                "values": list(members[k]),
                "rows": counts[k],
                "into": "/".join(members[into]),
            }
        )
        low, high = sorted((k, into))
        members[low : high + 1] = [members[low] + members[high]]
        counts[low : high + 1] = [counts[low] + counts[high]]
    return members, counts, merged


def encode_target(
    target: pd.Series,
    *,
    column: str,
    order: Sequence[str] | None = None,
    min_rows: int = 5,
) -> tuple[np.ndarray, TargetEncoding]:
    """Encode a target column as level codes (best first); -1 where it is missing.

    Parameters
    ----------
    target : pandas.Series
        The target column.
    column : str
        Its name (for messages).
    order : sequence of str, optional
        Every value, best (no event) first. Needed for text values other than
        a yes/no pair or rating-agency letters.
    min_rows : int, default=5
        Rows a level needs (the folds); an ordinal level with fewer is merged
        into its smaller neighbour (never below two levels).

    Returns
    -------
    tuple
        Codes per row (``-1``: no target) and the encoding.

    Raises
    ------
    DataContractError
        If the target has fewer than two values, unknown order, values missing
        from ``order``, non-integer numbers, more than 20 levels, or a binary
        class with fewer than ``min_rows`` rows (naming the fix).

    Examples
    --------
    >>> codes, enc = encode_target(pd.Series(["BB", "AAA", "BB", "D"] * 3),
    ...                            column="rating", min_rows=2)
    >>> enc.levels, enc.order_from, codes[:4].tolist()
    (['AAA', 'BB', 'D'], 'rating scale', [1, 0, 1, 2])
    """
    present = target.notna()
    labels = target[present].map(_label)
    labels = labels[labels != ""]
    dropped = int(len(target) - len(labels))
    values = sorted(labels.unique().tolist())
    if len(values) < 2:
        raise DataContractError(
            f"Target {column!r} has {len(values)} distinct value(s) "
            f"{values[:3]} in {len(labels)} row(s); it needs at least two classes "
            "(events and non-events). Check the column or the file."
        )
    ordered, order_from, absent = _ordered_values(values, column, order)
    counts_by_value = labels.value_counts()
    members = [[v] for v in ordered]
    counts = [int(counts_by_value[v]) for v in ordered]
    if len(members) > MAX_LEVELS:
        raise DataContractError(
            f"Target {column!r} has {len(members)} levels; evaluate takes at most "
            f"{MAX_LEVELS}. Group the grades, or bin a continuous target."
        )
    members, counts, merged = _merge_rare(members, counts, min_rows)
    if min(counts) < min_rows:
        small = [
            f"{'/'.join(m)}: {n}"
            for m, n in zip(members, counts, strict=True)
            if n < min_rows
        ]
        raise DataContractError(
            f"Target {column!r} has too few rows in class {small} for {min_rows} "
            f"folds (each fold needs one). Use --folds {max(2, min(counts))} or "
            "fewer, or bring more rows of that class."
        )
    code_of = {v: k for k, m in enumerate(members) for v in m}
    codes = np.full(len(target), -1, dtype=np.int64)
    position = np.flatnonzero(present.to_numpy())
    mapped = target[present].map(_label).map(code_of)
    codes[position] = mapped.fillna(-1).to_numpy(dtype=np.int64)
    integers = order_from == "integers"
    levels: list[Any] = [
        int(m[0]) if integers and len(m) == 1 else "/".join(m) for m in members
    ]
    encoding = TargetEncoding(
        column=column,
        kind="binary" if len(members) == 2 else "ordinal",
        levels=levels,
        members=members,
        counts=counts,
        order_from=order_from,
        merged=merged,
        absent=absent,
        rows_without_target=dropped,
    )
    return codes, encoding
