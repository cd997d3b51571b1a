"""Inject the dirty records real department extracts contain.

Kinds: a bad USCC, a negative amount, an absurd amount, an unknown code, a
missing required field, and an exact duplicate row. Each injected row is listed
in the truth (table, row number in the written file, kind, column) so tests can
check that ingestion catches every one with the right reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.data import ColumnSpec, ColumnType, SourceContract
from credit_engine.simulation._types import IntArray
from credit_engine.uscc import USCC_ALPHABET

Target = tuple[str, float, str | None]
"""A numeric rule: column, bound, row condition."""

DIRTY_KINDS = (
    "bad_uscc",
    "negative_amount",
    "absurd_amount",
    "unknown_code",
    "missing_required",
    "exact_duplicate",
)
"""Kinds of dirty record the simulator writes."""

EXPECTED_REASON = {
    "bad_uscc": "invalid_uscc",
    "negative_amount": "below_min",
    "absurd_amount": "above_max",
    "unknown_code": "unknown_code",
    "missing_required": "missing_required",
    "exact_duplicate": "duplicate",
}
"""The ingestion outcome each dirty kind must produce."""


@dataclass(frozen=True)
class DirtyRows:
    """Which rows of a written chunk are dirty (row numbers within the chunk).

    ``duplicate_of`` gives, for each exact duplicate appended at the end of the
    chunk (in order), the row it repeats.
    """

    row: IntArray
    kind: list[str]
    column: list[str | None]
    duplicate_of: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))


def _numeric_targets(
    contract: SourceContract, bound: str
) -> list[tuple[str, float, str | None]]:
    """(column, bound value, condition) for every rule with a ``min``/``max``."""
    out = []
    for col in contract.columns:
        if col.type not in (ColumnType.INT, ColumnType.FLOAT):
            continue
        for rule in col.range_rules:
            value = rule.min if bound == "min" else rule.max
            if value is not None and (bound == "max" or value >= 0):
                out.append((col.name, float(value), rule.when))
    return out


def _corrupt_uscc(codes: list[str], rng: np.random.Generator) -> list[str]:
    out = []
    for code in codes:
        variant = int(rng.integers(0, 4))
        if variant == 0:  # wrong check character
            others = [c for c in USCC_ALPHABET if c != code[-1]]
            out.append(code[:-1] + others[int(rng.integers(0, len(others)))])
        elif variant == 1:  # a letter GB 32100 excludes
            pos = int(rng.integers(8, 17))
            out.append(code[:pos] + "IOZSV"[int(rng.integers(0, 5))] + code[pos + 1 :])
        elif variant == 2:  # truncated
            out.append(code[:-1])
        else:  # transposed digits in the division code, check no longer matches
            body = code[2:8]
            swapped = (
                body[1] + body[0] + body[2:] if body[0] != body[1] else "9" + body[1:]
            )
            candidate = code[:2] + swapped + code[8:]
            out.append(candidate if candidate != code else code[:-1] + "0")
    return out


def _pick_targets(
    table: pa.Table,
    rows: IntArray,
    targets: list[tuple[str, float, str | None]],
    rng: np.random.Generator,
) -> IntArray:
    """Index into ``targets`` of a rule that applies to each row (-1 if none)."""
    frame = table.take(pa.array(rows)).to_pandas()
    applies = np.column_stack(
        [
            np.ones(len(rows), bool)
            if when is None
            else np.asarray(frame.eval(when), bool)
            for _, _, when in targets
        ]
    )
    key = np.where(applies, rng.random(applies.shape), -1.0)
    best = np.argmax(key, axis=1)
    return np.where(applies.any(axis=1), best, -1)


def _kinds_for(contract: SourceContract) -> tuple[list[str], dict[str, list[Target]]]:
    """Dirty kinds that make sense for a table, and the numeric rules they break."""
    targets = {
        "negative_amount": _numeric_targets(contract, "min"),
        "absurd_amount": _numeric_targets(contract, "max"),
    }
    kinds = ["bad_uscc", "missing_required", "exact_duplicate"]
    kinds += [kind for kind, t in targets.items() if t]
    kinds += ["unknown_code"] if any(c.values for c in contract.columns) else []
    return kinds, targets


def _new_values(
    kind: str,
    spec: ColumnSpec,
    current: pa.Array,
    bounds: npt.NDArray[np.float64],
    rng: np.random.Generator,
) -> pa.Array:
    """Make the replacement values of ``kind`` for one column at some rows."""
    n = len(current)
    if kind == "unknown_code":
        return pa.array(["ZZ_UNKNOWN"] * n, pa.string())
    if kind == "missing_required":
        return pa.nulls(n, spec.type.arrow_type())
    values = np.nan_to_num(
        np.asarray(current.to_numpy(zero_copy_only=False), np.float64)
    )
    if kind == "negative_amount":
        new = -(np.abs(values) + 1.0)
    else:
        new = bounds * rng.uniform(10, 1000, n) + 1.0
    if spec.type is ColumnType.INT:
        new = np.round(new)
    return pa.array(new).cast(spec.type.arrow_type())


def _column_edits(
    table: pa.Table,
    contract: SourceContract,
    kind: str,
    *,
    rows: IntArray,
    targets: dict[str, list[Target]],
    rng: np.random.Generator,
) -> tuple[IntArray, list[str], list[tuple[str, IntArray, pa.Array]]]:
    """Rows actually corrupted, their column, and the edits for one kind."""
    if kind == "bad_uscc":
        bad = _corrupt_uscc(table.column("uscc").take(pa.array(rows)).to_pylist(), rng)
        return rows, ["uscc"] * len(rows), [("uscc", rows, pa.array(bad, pa.string()))]
    bounds = np.zeros(len(rows))
    if kind in targets:
        rules = targets[kind]
        pick = _pick_targets(table, rows, rules, rng)
        rows, pick = rows[pick >= 0], pick[pick >= 0]
        names = [rules[i][0] for i in pick]
        bounds = np.array([rules[i][1] for i in pick], dtype=np.float64)
    else:
        pool = (
            [c.name for c in contract.columns if c.values]
            if kind == "unknown_code"
            else contract.required_columns
        )
        names = [pool[i] for i in rng.integers(0, len(pool), len(rows))]
    names_arr = np.array(names, dtype=object)
    edits = []
    for name in sorted(set(names)):
        at = names_arr == name
        current = table.column(name).take(pa.array(rows[at]))
        values = _new_values(kind, contract.column(name), current, bounds[at], rng)
        edits.append((name, rows[at], values))
    return rows, names, edits


def inject_dirty(
    table: pa.Table, contract: SourceContract, rate: float, rng: np.random.Generator
) -> tuple[pa.Table, DirtyRows]:
    """Corrupt about ``rate`` of the rows of ``table`` and append duplicates.

    Returns
    -------
    table : pyarrow.Table
        The corrupted table, duplicates appended at the end.
    dirty : DirtyRows
        Row numbers (in the returned table), kind and column of every dirty row.
    """
    n = table.num_rows
    k = int(rng.binomial(n, rate)) if n else 0
    if k == 0:
        return table, DirtyRows(np.zeros(0, np.int64), [], [])
    rows = np.sort(rng.choice(n, k, replace=False))
    kinds, targets = _kinds_for(contract)
    chosen = rng.choice(np.array(kinds, dtype=object), k)
    edits: dict[str, list[tuple[IntArray, pa.Array]]] = {}
    out_rows: list[IntArray] = []
    out_kind: list[str] = []
    out_col: list[str | None] = []
    for kind in kinds:
        sel = rows[chosen == kind]
        if not len(sel) or kind == "exact_duplicate":
            continue
        sel, names, column_edits = _column_edits(
            table, contract, kind, rows=sel, targets=targets, rng=rng
        )
        for name, at, values in column_edits:
            edits.setdefault(name, []).append((at, values))
        out_rows.append(sel)
        out_kind += [kind] * len(sel)
        out_col += names
    cols = {name: table.column(name).combine_chunks() for name in table.column_names}
    for name, changes in edits.items():
        cols[name] = _replace_many(cols[name], changes)
    result = pa.Table.from_arrays(
        [cols[c] for c in table.column_names], schema=table.schema
    )
    dup_rows = rows[chosen == "exact_duplicate"]
    if len(dup_rows):
        result = pa.concat_tables([result, result.take(pa.array(dup_rows))])
        out_rows.append(np.arange(n, n + len(dup_rows)))
        out_kind += ["exact_duplicate"] * len(dup_rows)
        out_col += [None] * len(dup_rows)
    all_rows = np.concatenate(out_rows) if out_rows else np.zeros(0, np.int64)
    order = np.argsort(all_rows, kind="stable")
    return result, DirtyRows(
        all_rows.astype(np.int64)[order],
        [out_kind[i] for i in order],
        [out_col[i] for i in order],
        dup_rows.astype(np.int64),
    )


def _replace_many(arr: pa.Array, changes: list[tuple[IntArray, pa.Array]]) -> pa.Array:
    """Replace values of ``arr`` at several sets of rows (rows are disjoint)."""
    for rows, values in changes:
        mask = np.zeros(len(arr), dtype=bool)
        mask[rows] = True
        order = np.argsort(rows)
        if values.null_count == len(values):
            arr = pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)
        else:
            arr = pc.replace_with_mask(
                arr, pa.array(mask), values.take(pa.array(order)).cast(arr.type)
            )
    return arr
