"""Raw department records: contracts, validation, quarantine and the lake.

Importing this package is cheap and has no side effects: Great Expectations,
DuckDB, Jinja and matplotlib are imported only when an ingestion runs.
"""

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
from credit_engine.data._ingest import ingest_batch
from credit_engine.data._lake import BatchManifest, Lake, TableCommit
from credit_engine.data._reasons import QuarantineReason
from credit_engine.data._report import write_ingest_html
from credit_engine.data._results import IngestReport, ProgressCallback, TableReport

__all__ = [
    "BatchManifest",
    "ColumnSpec",
    "ColumnType",
    "Department",
    "Disclosure",
    "IngestReport",
    "Lake",
    "ProgressCallback",
    "RangeRule",
    "QuarantineReason",
    "RecordKind",
    "SourceContract",
    "TableCommit",
    "TableReport",
    "ingest_batch",
    "load_contracts",
    "write_ingest_html",
]
