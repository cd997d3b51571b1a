"""Result objects of an ingestion run and the progress callback protocol."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["IngestReport", "ProgressCallback", "TableReport"]


@runtime_checkable
class ProgressCallback(Protocol):
    """Receives progress of :func:`~credit_engine.data.ingest_batch`.

    The library prints nothing; a CLI implements this with one progress bar.
    """

    def start(self, table: str, total_rows: int | None) -> None:
        """Announce that ``table`` starts; ``total_rows`` is ``None`` for CSV."""

    def advance(self, table: str, rows: int) -> None:
        """Report that ``rows`` more rows of ``table`` were validated."""

    def done(self, table: str) -> None:
        """Report that ``table`` is classified and staged."""


class TableReport(BaseModel):
    """Outcome of one table of a batch.

    Attributes
    ----------
    name : str
        Table name.
    department : str
        Owning department.
    source_files : list of str
        Input files, relative to the input folder.
    rows_in, loaded, quarantined, duplicates : int
        ``rows_in == loaded + quarantined + duplicates`` always holds.
    reasons : dict of str to int
        Quarantined rows per reason code (a row counts once per code).
    samples : dict of str to list of dict
        A few quarantined rows per reason code (source file, row number, reason
        text, raw values), for the HTML report. Not part of the JSON report.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    department: str
    source_files: list[str] = Field(default_factory=list)
    rows_in: int
    loaded: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int] = Field(default_factory=dict)
    samples: dict[str, list[dict[str, str]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _balance(self) -> TableReport:
        total = self.loaded + self.quarantined + self.duplicates
        if total != self.rows_in:
            raise AssertionError(
                f"Table {self.name!r}: rows_in={self.rows_in} but loaded="
                f"{self.loaded} + quarantined={self.quarantined} + duplicates="
                f"{self.duplicates} = {total}; it's a bug in credit-engine. Please "
                "report it."
            )
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """Return ``{"rows_in", "loaded", "quarantined", "duplicates", "reasons"}``."""
        return {
            "rows_in": self.rows_in,
            "loaded": self.loaded,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "reasons": dict(sorted(self.reasons.items())),
        }


class IngestReport(BaseModel):
    """Outcome of :func:`~credit_engine.data.ingest_batch`.

    Attributes
    ----------
    batch_id : str
        Content hash of the input (16 hex characters).
    started_at, finished_at : datetime.datetime
        Run start and end (UTC).
    input_dir : str
        Input folder.
    tables : dict of str to TableReport
        Outcome per table.
    already_ingested : bool
        The batch had been committed before: every row is a duplicate and
        nothing new was committed.
    commit_seq : int or None
        Sequence number of the commit marker written, if any.
    html_report, data_docs, json_report : str or None
        Paths of the HTML report, the GX Data Docs index and the JSON report.
    dry_run : bool
        Nothing was committed (``credit-engine mapping check``).
    mapping : dict or None
        With a source mapping: its file and, per source and table, the rows
        read, the rows produced and the rows the mapping left out by
        declaration (``where``, empty unpivot groups).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_id: str
    started_at: dt.datetime
    finished_at: dt.datetime
    input_dir: str
    tables: dict[str, TableReport]
    already_ingested: bool = False
    commit_seq: int | None = None
    html_report: str | None = None
    data_docs: str | None = None
    json_report: str | None = None
    dry_run: bool = False
    mapping: dict[str, Any] | None = None

    @property
    def summary(self) -> str:
        """One line for people, e.g. for the CLI."""
        loaded = sum(t.loaded for t in self.tables.values())
        quarantined = sum(t.quarantined for t in self.tables.values())
        duplicates = sum(t.duplicates for t in self.tables.values())
        head = (
            f"batch {self.batch_id} already ingested"
            if self.already_ingested
            else f"batch {self.batch_id} dry run, nothing committed"
            if self.dry_run
            else f"batch {self.batch_id} committed (#{self.commit_seq})"
        )
        return (
            f"{head}: {len(self.tables)} tables, {loaded:,} rows loaded, "
            f"{quarantined:,} quarantined, {duplicates:,} duplicates"
        )

    def to_json_dict(self) -> dict[str, Any]:
        """Return the JSON report.

        Returns
        -------
        dict
            ``{"batch_id", "started_at", "finished_at", "input_dir",
            "html_report", "data_docs", "tables": {NAME: {"rows_in", "loaded",
            "quarantined", "duplicates", "reasons": {CODE: n}}}}``, plus
            ``"dry_run": true`` for a dry run and ``"mapping"`` for a mapped batch.
        """
        payload: dict[str, Any] = {
            "batch_id": self.batch_id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "input_dir": self.input_dir,
            "html_report": self.html_report,
            "data_docs": self.data_docs,
            "tables": {n: t.to_json_dict() for n, t in sorted(self.tables.items())},
        }
        if self.dry_run:
            payload["dry_run"] = True
        if self.mapping is not None:
            payload["mapping"] = self.mapping
        return payload
