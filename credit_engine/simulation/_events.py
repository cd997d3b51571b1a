"""Collectors for the rare, record-level events the dynamics produce."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

_INT, _FLOAT, _BOOL = "int64", "float64", "bool"
EVENT_SCHEMAS: dict[str, dict[str, str]] = {
    "customs_penalty": {
        "idx": _INT,
        "day": _INT,
        "category": _INT,
        "amount": _FLOAT,
        "non_intentional": _BOOL,
        "due": _INT,
        "paid": _INT,
    },
    "default_bill": {
        "idx": _INT,
        "day": _INT,
        "due": _INT,
        "paid": _INT,
        "amount": _FLOAT,
    },
    "tax_violation": {
        "idx": _INT,
        "day": _INT,
        "type": _INT,
        "amount": _FLOAT,
        "major": _BOOL,
    },
    "admin_penalty": {
        "idx": _INT,
        "day": _INT,
        "type": _INT,
        "amount": _FLOAT,
        "matter": _INT,
        "heavier": _BOOL,
    },
    "samr_change": {"idx": _INT, "day": _INT, "field": _INT},
    "annual_report": {
        "idx": _INT,
        "day": _INT,
        "year": _INT,
        "employees": _INT,
        "social": _INT,
        "revenue": _FLOAT,
    },
    "tax_rating": {
        "idx": _INT,
        "year": _INT,
        "level": _INT,
        "score": _FLOAT,
        "start_score": _INT,
        "direct_d": _INT,
        "day": _INT,
        "regime_2025": _BOOL,
    },
    "adverse": {"idx": _INT, "effective": _INT, "trigger": _INT, "kind": _INT},
}
"""Columns and dtypes of every event log of the simulator."""


class EventLog:
    """Column-wise, append-only log of one kind of record, with a fixed schema.

    Parameters
    ----------
    schema : mapping of str to str
        Column names and NumPy dtypes; every :meth:`add` must give exactly these.

    Examples
    --------
    >>> log = EventLog({"idx": "int64", "day": "int64"})
    >>> log.add(idx=np.array([1, 2]), day=np.array([10, 11]))
    >>> log.add(idx=np.array([0]), day=5)
    >>> log.columns()["day"].tolist()
    [10, 11, 5]
    >>> len(EventLog({"idx": "int64"}).columns()["idx"])
    0
    """

    def __init__(self, schema: Mapping[str, str]) -> None:
        self.schema = dict(schema)
        self._parts: dict[str, list[Array]] = {k: [] for k in self.schema}
        self._n = 0

    def add(self, **columns: Array | float | int | bool) -> None:
        """Append rows; scalars are broadcast to the length of the array columns."""
        if set(columns) != set(self.schema):
            raise KeyError(
                f"simulator bug: event columns {sorted(columns)} differ from the "
                f"log's schema {sorted(self.schema)}"
            )
        lengths = {len(v) for v in columns.values() if isinstance(v, np.ndarray)}
        if len(lengths) != 1:
            raise ValueError("EventLog.add needs array columns of one length")
        (n,) = lengths
        if n == 0:
            return
        for key, value in columns.items():
            arr = np.broadcast_to(np.asarray(value), (n,)).astype(self.schema[key])
            self._parts[key].append(arr)
        self._n += n

    def __len__(self) -> int:
        return self._n

    def columns(self) -> dict[str, Array]:
        """Return every column concatenated (zero-length arrays for an empty log)."""
        return {
            k: np.concatenate(v) if v else np.zeros(0, dtype=self.schema[k])
            for k, v in self._parts.items()
        }


@dataclass(frozen=True)
class EventLogs:
    """The event logs of one chunk, one field per entry of :data:`EVENT_SCHEMAS`.

    Examples
    --------
    >>> logs = EventLogs.empty()
    >>> logs.adverse.schema == EVENT_SCHEMAS["adverse"]
    True
    """

    customs_penalty: EventLog
    default_bill: EventLog
    tax_violation: EventLog
    admin_penalty: EventLog
    samr_change: EventLog
    annual_report: EventLog
    tax_rating: EventLog
    adverse: EventLog

    @classmethod
    def empty(cls) -> EventLogs:
        """Return empty logs with the schemas of :data:`EVENT_SCHEMAS`.

        Raises
        ------
        RuntimeError
            If the fields of this class and the schemas name different logs
            (a simulator bug: add the missing field or schema).
        """
        names = [f.name for f in fields(cls)]
        if sorted(names) != sorted(EVENT_SCHEMAS):
            raise RuntimeError(
                "simulator bug: EventLogs fields "
                f"{sorted(set(names) - set(EVENT_SCHEMAS))} have no schema and "
                f"schemas {sorted(set(EVENT_SCHEMAS) - set(names))} have no field; "
                "EVENT_SCHEMAS and EventLogs must name the same logs"
            )
        return cls(**{name: EventLog(EVENT_SCHEMAS[name]) for name in names})
