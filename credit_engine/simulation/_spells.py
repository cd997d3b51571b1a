"""Bookkeeping for state spells and scheduled consequences inside the simulator."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Generic, Literal, TypeVar, get_args

import numpy as np

from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._types import IntArray

NONE = -1
"""Spell value meaning 'not in any state' (e.g. not on a list); never emitted."""

T = TypeVar("T")
U = TypeVar("U")

DueKind = Literal[
    "abnormal_escalate",
    "abnormal_report_list",
    "abnormal_report_remove",
    "abnormal_unreachable_list",
    "abnormal_unreachable_remove",
    "aeo_revoke",
    "annual_report_late",
    "customs_dishonest",
    "customs_repair",
    "open_registration",
    "recover",
    "revoke",
    "safe_c",
    "serious_list",
    "serious_remove",
    "tax_status",
]
"""Kinds of scheduled consequence; each has one handler in the consequences."""

DUE_KINDS: tuple[DueKind, ...] = get_args(DueKind)


@dataclass(frozen=True)
class SpellTable:
    """Finished spells of one state table.

    Attributes
    ----------
    idx : numpy.ndarray
        Enterprise index (within the chunk) of each spell.
    value, reason : numpy.ndarray
        State code and the reason code it started with.
    start, end : numpy.ndarray
        First day and end day (exclusive); ``NO_DAY`` while open.
    end_reason : numpy.ndarray
        Reason code the spell ended with, ``NONE`` while open.
    """

    idx: IntArray
    value: IntArray
    reason: IntArray
    start: IntArray
    end: IntArray
    end_reason: IntArray

    def __len__(self) -> int:
        return len(self.idx)


@dataclass(frozen=True)
class StateTables(Generic[T]):
    """One value per state table of the simulator (trackers, then finished spells).

    Examples
    --------
    >>> tables = StateTables(*range(8))
    >>> tables.customs_level, tables.serious_violation_list
    (0, 7)
    >>> tables.map(str).abnormal_report
    '5'
    """

    customs_level: T
    customs_registration: T
    safe_classification: T
    tax_registration: T
    samr_registration: T
    abnormal_report: T
    abnormal_unreachable: T
    serious_violation_list: T

    def map(self, func: Callable[[T], U]) -> StateTables[U]:
        """Apply ``func`` to every table, in field order."""
        return StateTables(*(func(getattr(self, f.name)) for f in fields(self)))


class SpellTracker:
    """Track the current spell of a state per enterprise and collect closed ones.

    Parameters
    ----------
    value, start, reason : numpy.ndarray
        Initial state of every enterprise; ``value == NONE`` means no spell.
    """

    def __init__(self, value: IntArray, start: IntArray, reason: IntArray) -> None:
        self.value = value.astype(np.int64).copy()
        self.start = start.astype(np.int64).copy()
        self.reason = reason.astype(np.int64).copy()
        self.generation = np.zeros(len(value), dtype=np.int64)
        self._closed: list[tuple[IntArray, ...]] = []

    def change(
        self,
        idx: IntArray,
        day: IntArray,
        value: IntArray | int,
        reason: IntArray | int,
        end_reason: IntArray | int = NONE,
        *,
        force: bool = False,
    ) -> None:
        """Close the current spells of ``idx`` at ``day`` and open ``value`` there.

        A ``value`` of ``NONE`` only closes. Enterprises already in ``value`` keep
        their spell (only the generation advances, cancelling pending events)
        unless ``force`` is set, which re-opens it (e.g. a change of regime).
        ``day`` is raised to the current spell's start if it lies before it.
        """
        if len(idx) == 0:
            return
        value_arr = np.broadcast_to(np.asarray(value, dtype=np.int64), idx.shape)
        reason_arr = np.broadcast_to(np.asarray(reason, dtype=np.int64), idx.shape)
        end_arr = np.broadcast_to(np.asarray(end_reason, dtype=np.int64), idx.shape)
        day = np.maximum(np.asarray(day, dtype=np.int64), self.start[idx])
        moving = (
            np.ones(len(idx), dtype=bool) if force else self.value[idx] != value_arr
        )
        self.generation[idx] += 1
        idx, day = idx[moving], day[moving]
        value_arr, reason_arr, end_arr = (
            value_arr[moving],
            reason_arr[moving],
            end_arr[moving],
        )
        had = self.value[idx] != NONE
        if had.any():
            close = idx[had]
            self._closed.append(
                (
                    close,
                    self.value[close],
                    self.reason[close],
                    self.start[close],
                    day[had],
                    end_arr[had],
                )
            )
        self.value[idx] = value_arr
        self.start[idx] = day
        self.reason[idx] = reason_arr

    def finish(self) -> SpellTable:
        """Return every closed spell plus the spells still open."""
        open_idx = np.flatnonzero(self.value != NONE)
        parts = [
            *self._closed,
            (
                open_idx,
                self.value[open_idx],
                self.reason[open_idx],
                self.start[open_idx],
                np.full(len(open_idx), NO_DAY),
                np.full(len(open_idx), NONE),
            ),
        ]
        cols = [
            np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(6)
        ]
        order = np.lexsort((cols[3], cols[0]))
        return SpellTable(*(c[order] for c in cols))


class Schedule:
    """Consequences due on future days (listing after a decision, repair, expiry).

    Each entry carries the enterprise, the due day, the generation of the tracker
    it depends on (so a later change cancels it) and integer payload columns.
    """

    def __init__(self) -> None:
        self._items: dict[DueKind, list[dict[str, IntArray]]] = defaultdict(list)

    def add(
        self, kind: DueKind, idx: IntArray, day: IntArray, **payload: IntArray
    ) -> None:
        """Schedule ``kind`` for enterprises ``idx`` on ``day``."""
        if len(idx):
            self._items[kind].append({"idx": idx, "day": day, **payload})

    def pop_until(self, last_day: int) -> dict[DueKind, dict[str, IntArray]]:
        """Remove and return every entry due on or before ``last_day``, by day.

        Kinds come in alphabetical order, the order their handlers run in.
        """
        due: dict[DueKind, dict[str, IntArray]] = {}
        for kind in sorted(self._items):
            parts = self._items[kind]
            if not parts:
                continue
            merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
            now = merged["day"] <= last_day
            later = {k: v[~now] for k, v in merged.items()}
            self._items[kind] = [later] if len(later["idx"]) else []
            if now.any():
                order = np.argsort(merged["day"][now], kind="stable")
                due[kind] = {k: v[now][order] for k, v in merged.items()}
        return due
