"""Raw department records: contracts, validation, quarantine and the lake.

Importing this package is cheap and has no side effects: Great Expectations,
DuckDB, Jinja, matplotlib and pyspark are imported only when an ingestion runs
(:func:`ingest_batch` on DuckDB, :func:`ingest_batch_spark` on Spark).
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
from credit_engine.data._ingest import dry_run_batch, ingest_batch
from credit_engine.data._lake import BatchManifest, Lake, TableCommit
from credit_engine.data._mapping_apply import (
    MappedBatch,
    MappedTable,
    TargetStats,
    prepare_mapped_batch,
    translate_ids,
)
from credit_engine.data._mapping_load import load_mapping, load_vocabulary
from credit_engine.data._mapping_spec import (
    ColumnMapping,
    Crosswalk,
    KnownAt,
    SourceMapping,
    SourceSpec,
    TargetMapping,
    Unpivot,
)
from credit_engine.data._reasons import QuarantineReason
from credit_engine.data._report import write_ingest_html
from credit_engine.data._results import IngestReport, ProgressCallback, TableReport
from credit_engine.data._spark_ingest import ingest_batch_spark

__all__ = [
    "BatchManifest",
    "ColumnMapping",
    "ColumnSpec",
    "ColumnType",
    "Crosswalk",
    "Department",
    "Disclosure",
    "IngestReport",
    "KnownAt",
    "Lake",
    "MappedBatch",
    "MappedTable",
    "ProgressCallback",
    "QuarantineReason",
    "RangeRule",
    "RecordKind",
    "SourceContract",
    "SourceMapping",
    "SourceSpec",
    "TableCommit",
    "TableReport",
    "TargetMapping",
    "TargetStats",
    "Unpivot",
    "dry_run_batch",
    "ingest_batch",
    "ingest_batch_spark",
    "load_contracts",
    "load_mapping",
    "load_vocabulary",
    "prepare_mapped_batch",
    "translate_ids",
    "write_ingest_html",
]
