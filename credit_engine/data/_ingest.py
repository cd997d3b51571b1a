"""Validated ingestion of a batch of department files into the lake.

Preflight -> chunked read (through a source mapping, if any) and cast -> GX
validation -> fingerprints -> DuckDB duplicates/key conflicts -> staged files ->
atomic commit -> reports. :func:`dry_run_batch` runs the same up to the staged
files, in a temporary folder, and commits nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from credit_engine.config import Settings
from credit_engine.data._contracts import SourceContract, load_contracts
from credit_engine.data._dedup import TableOutcome, classify_table, connect
from credit_engine.data._fingerprint import row_fingerprints
from credit_engine.data._lake import DUPLICATES, Lake, TableCommit, ingest_lock
from credit_engine.data._mapping_apply import MappedBatch, prepare_mapped_batch
from credit_engine.data._mapping_load import load_mapping
from credit_engine.data._mapping_spec import SourceMapping
from credit_engine.data._read import (
    Chunk,
    TableInput,
    batch_fingerprint,
    discover_inputs,
    iter_chunks,
)
from credit_engine.data._reasons import QuarantineReason, reason_label
from credit_engine.data._report import write_ingest_html
from credit_engine.data._results import IngestReport, ProgressCallback, TableReport
from credit_engine.data._validate import SuiteRunner, reasons_list_array
from credit_engine.exceptions import (
    ConfigurationError,
    CreditEngineError,
    IngestionError,
)

__all__ = ["dry_run_batch", "ingest_batch"]


def _reasons_of(chunk: Chunk, failures: dict[str, npt.NDArray[np.int64]]) -> pa.Array:
    for label, mask in chunk.row_flags():
        rows = np.flatnonzero(mask).astype(np.int64)
        if not rows.size:
            continue
        failures[label] = (
            np.union1d(failures[label], rows) if label in failures else rows
        )
        # A value that failed to convert (or to map) is null now but was not missing.
        column = label.split(":", 1)[1]
        missing = reason_label(QuarantineReason.MISSING_REQUIRED, column)
        if missing in failures:
            failures[missing] = np.setdiff1d(failures[missing], rows)
    return reasons_list_array(chunk.num_rows, failures)


@dataclass(frozen=True)
class _Layout:
    """Where a run stages its files and where they go on commit."""

    stage: Path
    settings: Settings

    def lake_out(self, contract: SourceContract, batch_id: str) -> Path:
        return (
            self.stage
            / "lake"
            / contract.department.value
            / contract.name
            / f"batch={batch_id}"
        )

    def quarantine_out(self, contract: SourceContract, batch_id: str) -> Path:
        return self.stage / "quarantine" / contract.name / f"batch={batch_id}"

    def duplicates_out(self, contract: SourceContract, batch_id: str) -> Path:
        return (
            self.stage / "quarantine" / DUPLICATES / contract.name / f"batch={batch_id}"
        )

    def final(self, staged: Path) -> tuple[Path, str]:
        """Return the final path and the manifest name (relative to its root)."""
        for area, root in (
            ("lake", self.settings.lake_dir),
            ("quarantine", self.settings.quarantine_dir),
        ):
            base = self.stage / area
            if staged.is_relative_to(base):
                relative = staged.relative_to(base)
                return root / relative, relative.as_posix()
        raise IngestionError(f"Staged file {staged} is outside the staging layout.")


def _process_table(
    inp: TableInput,
    *,
    settings: Settings,
    runner: SuiteRunner,
    con: Any,
    lake: Lake,
    layout: _Layout,
    batch_id: str,
    progress: ProgressCallback | None,
) -> TableOutcome:
    contract = inp.contract
    name = contract.name
    if progress is not None:
        progress.start(name, inp.total_rows)
    work_dir = layout.stage / "work" / name
    work_dir.mkdir(parents=True)
    work_files: list[Path] = []
    seq = 0
    for k, chunk in enumerate(iter_chunks(inp, settings.ingest_chunk_rows)):
        reasons = _reasons_of(chunk, runner.validate(name, chunk.table, k))
        hash_a, hash_b = row_fingerprints(
            chunk.table, chunk.raw_values, contract.extension_columns
        )
        n = chunk.num_rows
        extra = {
            "_raw_values": chunk.raw_values,
            "_reasons": reasons,
            "_source_file": chunk.source_file,
            "_row_number": chunk.row_number,
            "_seq": pa.array(np.arange(seq, seq + n, dtype=np.int64)),
            "_row_hash_a": pa.array(hash_a, pa.uint64()),
            "_row_hash_b": pa.array(hash_b, pa.uint64()),
        }
        table = chunk.table
        for column, values in extra.items():
            table = table.append_column(column, values)
        path = work_dir / f"chunk-{k:05d}.parquet"
        pq.write_table(table, path, compression="zstd", compression_level=1)
        work_files.append(path)
        seq += n
        if progress is not None:
            progress.advance(name, n)
    outcome = classify_table(
        con,
        contract,
        work_files=work_files,
        lake_files=lake.table_files(name),
        quarantine_files=lake.quarantine_files(name),
        batch_id=batch_id,
        lake_out=layout.lake_out(contract, batch_id),
        quarantine_out=layout.quarantine_out(contract, batch_id),
        duplicates_out=layout.duplicates_out(contract, batch_id),
    )
    if outcome.rows_in != seq:
        raise IngestionError(
            f"Table {name!r}: read {seq} rows but classified {outcome.rows_in}; "
            "it's a bug in credit-engine. Please report it. Nothing was committed."
        )
    shutil.rmtree(work_dir)
    if progress is not None:
        progress.done(name)
    return outcome


def _check_filesystems(settings: Settings) -> None:
    dirs = [settings.staging_dir, settings.lake_dir, settings.quarantine_dir]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    devices = {d: os.stat(d).st_dev for d in dirs}
    if len(set(devices.values())) > 1:
        raise ConfigurationError(
            "The staging, lake and quarantine folders must be on one filesystem so "
            f"that a commit is a set of atomic moves; got {[str(d) for d in dirs]} "
            "on different devices. Set CREDIT_ENGINE_STAGING_DIR (or the others) "
            "accordingly."
        )


def _inputs(
    input_dir: Path,
    settings: Settings,
    mapping: Path | SourceMapping | None,
    limit: int | None = None,
) -> tuple[list[TableInput], str, MappedBatch | None]:
    contracts = load_contracts(settings.sources_dir)
    if mapping is None:
        found = discover_inputs(input_dir, contracts)
        return list(found), batch_fingerprint(found), None
    loaded = (
        mapping
        if isinstance(mapping, SourceMapping)
        else load_mapping(mapping, contracts, definitions_dir=settings.definitions_dir)
    )
    batch = prepare_mapped_batch(input_dir, loaded, contracts, limit=limit)
    return list(batch.tables), batch.batch_id, batch


def _process_all(
    inputs: Sequence[TableInput],
    *,
    settings: Settings,
    runner: SuiteRunner,
    lake: Lake,
    layout: _Layout,
    batch_id: str,
    progress: ProgressCallback | None,
) -> dict[str, TableOutcome]:
    con = connect(layout.stage / "duckdb_tmp")
    try:
        return {
            i.contract.name: _process_table(
                i,
                settings=settings,
                runner=runner,
                con=con,
                lake=lake,
                layout=layout,
                batch_id=batch_id,
                progress=progress,
            )
            for i in inputs
        }
    finally:
        con.close()


def ingest_batch(
    input_dir: Path,
    settings: Settings,
    *,
    mapping: Path | SourceMapping | None = None,
    progress: ProgressCallback | None = None,
    report_path: Path | None = None,
) -> IngestReport:
    """Validate a batch of department files and commit it to the lake.

    Parameters
    ----------
    input_dir : pathlib.Path
        Folder with one ``<table>.parquet``, ``<table>.csv`` or ``<table>/``
        folder of Parquet parts per table; or, with ``mapping``, the files the
        mapping's sources name, in their own layout.
    settings : Settings
        Engine settings (contracts, lake, quarantine, staging, reports, chunk size).
    mapping : pathlib.Path or SourceMapping, optional
        A source mapping (YAML file, see ``docs/bring-your-own-records.md``)
        that maps a foreign layout onto the contracts. Mapped rows go through
        the same validation, deduplication, quarantine and commit; rows the
        mapping cannot place are quarantined with their reason.
    progress : ProgressCallback, optional
        Told when each table starts, advances and is done.
    report_path : pathlib.Path, optional
        Also write the JSON report here.

    Returns
    -------
    IngestReport
        Counts per table and reason; also written as ``ingest.json`` and
        ``ingest.html`` (and GX Data Docs under ``data_docs/``) in
        ``settings.reports_dir / batch_id``. Re-ingesting a committed batch
        commits nothing, sets ``already_ingested`` and writes its reports to
        ``settings.reports_dir / batch_id / "reruns" / <time>`` so the reports
        of the committing run stay intact. With a mapping, ``mapping`` holds
        the rows each source gave each table.

    Raises
    ------
    ConfigurationError
        If the mapping file is invalid (the message names the source, table and
        column). Nothing is loaded.
    DataContractError
        If a file does not fit its contract (or the mapping) as a whole
        (unknown table, missing required or extra column, a column the mapping
        reads missing from a file, unreadable file, empty input). Nothing is
        loaded.
    IngestionError
        If another ingestion holds the lake lock, or the run fails; nothing of
        the batch is committed.
    """
    started_at = dt.datetime.now(dt.UTC)
    input_dir = Path(input_dir).absolute()
    inputs, batch_id, mapped = _inputs(input_dir, settings, mapping)
    _check_filesystems(settings)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    layout = _Layout(settings.staging_dir / batch_id, settings)
    with ingest_lock(settings.lake_dir):
        lake.cleanup_uncommitted(settings.staging_dir)
        already = lake.is_committed(batch_id)
        report_dir = settings.reports_dir / batch_id
        if already:
            # Keep the reports of the committing run; a re-run reports beside them.
            report_dir = report_dir / "reruns" / f"{started_at:%Y%m%dT%H%M%S%fZ}"
        try:
            layout.stage.mkdir(parents=True)
            runner = SuiteRunner(
                [i.contract for i in inputs], report_dir / "data_docs", batch_id
            )
            outcomes = _process_all(
                inputs,
                settings=settings,
                runner=runner,
                lake=lake,
                layout=layout,
                batch_id=batch_id,
                progress=progress,
            )
            commit_seq = _commit(
                lake,
                layout,
                inputs,
                outcomes,
                batch_id=batch_id,
                started_at=started_at,
                input_dir=input_dir,
                already=already,
            )
        except CreditEngineError:
            raise
        except Exception as exc:
            raise IngestionError(
                f"Ingestion of {str(input_dir)!r} (batch {batch_id}) failed: "
                f"{type(exc).__name__}: {exc}. Nothing of the batch was committed; "
                "fix the cause and run again."
            ) from exc
        finally:
            # A committed batch whose moves failed keeps its staged files (the
            # marker points at them; the next run finishes the moves).
            if not lake.is_committed(batch_id) or not lake.recover_pending(batch_id):
                shutil.rmtree(layout.stage, ignore_errors=True)
        if already:
            _rebuild_missing_report(lake, batch_id, settings.reports_dir / batch_id)
    report = IngestReport(
        batch_id=batch_id,
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        input_dir=str(input_dir),
        tables={
            i.contract.name: _table_report(i, outcomes[i.contract.name]) for i in inputs
        },
        already_ingested=already,
        commit_seq=commit_seq,
        html_report=str(report_dir / "ingest.html"),
        data_docs=str(runner.docs_index),
        json_report=str(report_dir / "ingest.json"),
        mapping=None if mapped is None else mapped.stats_json(),
    )
    _write_reports(report, report_dir, report_path)
    return report


def _rebuild_missing_report(lake: Lake, batch_id: str, report_dir: Path) -> None:
    """Rewrite the committing run's report from its commit marker if it is missing.

    A process killed between the commit marker and its reports leaves a
    committed batch without them; the marker holds the counts of every table,
    so the report is rebuilt from it (without sample rows) on the next run.
    """
    if (report_dir / "ingest.json").exists():
        return
    manifest = next(m for m in lake.committed_batches() if m.batch_id == batch_id)
    report = IngestReport(
        batch_id=batch_id,
        started_at=manifest.started_at,
        finished_at=manifest.committed_at,
        input_dir=manifest.input_dir,
        tables={
            name: TableReport(
                name=name,
                department=t.department,
                source_files=list(t.source_files),
                rows_in=t.rows_in,
                loaded=t.loaded,
                quarantined=t.quarantined,
                duplicates=t.duplicates,
                reasons=dict(t.reasons),
            )
            for name, t in manifest.tables.items()
        },
        commit_seq=manifest.seq,
        html_report=str(report_dir / "ingest.html"),
        json_report=str(report_dir / "ingest.json"),
    )
    _write_reports(report, report_dir, None)


def dry_run_batch(
    input_dir: Path,
    settings: Settings,
    *,
    mapping: Path | SourceMapping | None = None,
    sample_rows: int | None = None,
    progress: ProgressCallback | None = None,
) -> IngestReport:
    """Run an ingestion without committing anything (``credit-engine mapping check``).

    Reads the batch (with ``mapping``, through it), casts, validates with the
    Great Expectations suites and classifies duplicates and key conflicts
    against the lake of ``settings`` exactly as :func:`ingest_batch` would, in
    a temporary folder; the lake, the quarantine and the reports folder are
    not touched and no lock is taken.

    Parameters
    ----------
    input_dir : pathlib.Path
        The batch folder.
    settings : Settings
        Engine settings (the lake read for duplicates; may be empty).
    mapping : pathlib.Path or SourceMapping, optional
        A source mapping.
    sample_rows : int, optional
        Read only the first ``sample_rows`` rows of each file (default: all).
    progress : ProgressCallback, optional
        Told when each table starts, advances and is done.

    Returns
    -------
    IngestReport
        What the ingestion would load and quarantine, with sample rows per
        reason (``dry_run`` set; no report files, no commit).
    """
    started_at = dt.datetime.now(dt.UTC)
    input_dir = Path(input_dir).absolute()
    inputs, batch_id, mapped = _inputs(input_dir, settings, mapping, sample_rows)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    with tempfile.TemporaryDirectory(prefix="credit-engine-dry-run-") as tmp:
        layout = _Layout(Path(tmp) / batch_id, settings)
        layout.stage.mkdir(parents=True)
        runner = SuiteRunner([i.contract for i in inputs], Path(tmp) / "docs", batch_id)
        outcomes = _process_all(
            inputs,
            settings=settings,
            runner=runner,
            lake=lake,
            layout=layout,
            batch_id=batch_id,
            progress=progress,
        )
    return IngestReport(
        batch_id=batch_id,
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        input_dir=str(input_dir),
        tables={
            i.contract.name: _table_report(i, outcomes[i.contract.name]) for i in inputs
        },
        dry_run=True,
        mapping=None if mapped is None else mapped.stats_json(),
    )


def _table_report(inp: TableInput, outcome: TableOutcome) -> TableReport:
    return TableReport(
        name=inp.contract.name,
        department=inp.contract.department.value,
        source_files=inp.source_names,
        rows_in=outcome.rows_in,
        loaded=outcome.loaded,
        quarantined=outcome.quarantined,
        duplicates=outcome.duplicates,
        reasons=outcome.reasons,
        samples=outcome.samples,
    )


def _commit(
    lake: Lake,
    layout: _Layout,
    inputs: Sequence[TableInput],
    outcomes: dict[str, TableOutcome],
    *,
    batch_id: str,
    started_at: dt.datetime,
    input_dir: Path,
    already: bool,
) -> int | None:
    if already:
        fresh = {n: o for n, o in outcomes.items() if o.loaded or o.quarantined}
        if fresh:
            raise IngestionError(
                f"Batch {batch_id} is already committed, but its rows of "
                f"{sorted(fresh)} are no longer found in the lake or quarantine (files "
                "removed by hand, or the casting rules changed). Nothing was "
                "committed; restore the lake from backup or ingest changed files."
            )
        return None
    staged: dict[Path, Path] = {}
    tables: dict[str, TableCommit] = {}
    for inp in inputs:
        outcome = outcomes[inp.contract.name]
        names: dict[str, list[str]] = {"lake": [], "quarantine": [], "duplicates": []}
        for kind, files in (
            ("lake", outcome.lake_files),
            ("quarantine", outcome.quarantine_files),
            ("duplicates", outcome.duplicate_files),
        ):
            for path in files:
                target, name = layout.final(path)
                staged[path] = target
                names[kind].append(name)
        tables[inp.contract.name] = TableCommit(
            department=inp.contract.department.value,
            source_files=tuple(inp.source_names),
            rows_in=outcome.rows_in,
            loaded=outcome.loaded,
            quarantined=outcome.quarantined,
            duplicates=outcome.duplicates,
            reasons=outcome.reasons,
            lake_files=tuple(names["lake"]),
            quarantine_files=tuple(names["quarantine"]),
            duplicate_files=tuple(names["duplicates"]),
        )
    manifest = lake.commit(
        staged,
        batch_id=batch_id,
        started_at=started_at,
        input_dir=input_dir,
        tables=tables,
    )
    return manifest.seq


def _write_reports(
    report: IngestReport, report_dir: Path, report_path: Path | None
) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(report.to_json_dict(), indent=2) + "\n"
    for target in (report_dir / "ingest.json", report_path):
        if target is not None:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            Path(target).write_text(payload, encoding="utf-8")
    write_ingest_html(report, report_dir / "ingest.html")
