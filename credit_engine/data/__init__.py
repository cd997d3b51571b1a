"""Raw department records: contracts, validation, quarantine and the lake."""

from __future__ import annotations

from credit_engine.data._contracts import (
    ColumnSpec,
    ColumnType,
    Department,
    Disclosure,
    RangeRule,
    RecordKind,
    SourceContract,
    load_contracts,
)

__all__ = [
    "ColumnSpec",
    "ColumnType",
    "Department",
    "Disclosure",
    "RangeRule",
    "RecordKind",
    "SourceContract",
    "load_contracts",
]
