"""Collectors for the rare, record-level events the dynamics produce."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]


class EventLog:
    """Column-wise append-only log of one kind of record.

    Examples
    --------
    >>> log = EventLog()
    >>> log.add(idx=np.array([1, 2]), day=np.array([10, 11]))
    >>> log.add(idx=np.array([0]), day=np.array([5]))
    >>> log.columns()["day"].tolist()
    [10, 11, 5]
    """

    def __init__(self) -> None:
        self._parts: dict[str, list[Array]] = defaultdict(list)
        self._n = 0

    def add(self, **columns: Array | float | int | bool) -> None:
        """Append rows; scalars are broadcast to the length of the array columns."""
        lengths = {len(v) for v in columns.values() if isinstance(v, np.ndarray)}
        if not lengths:
            raise ValueError("EventLog.add needs at least one array column")
        (n,) = lengths
        if n == 0:
            return
        for key, value in columns.items():
            self._parts[key].append(np.broadcast_to(np.asarray(value), (n,)).copy())
        self._n += n

    def __len__(self) -> int:
        return self._n

    def columns(self) -> dict[str, Array]:
        """Return every column concatenated."""
        return {k: np.concatenate(v) for k, v in self._parts.items()}
