"""The lake and quarantine on disk: layout, commit markers, lock and recovery.

Layout::

    <lake_dir>/<department>/<table>/batch=<batch_id>/part-<n>.parquet
    <lake_dir>/_commits/<seq:06d>-<batch_id>.json        commit markers
    <quarantine_dir>/<table>/batch=<batch_id>/part-<n>.parquet
    <quarantine_dir>/_duplicates/<table>/batch=<batch_id>/part-0.parquet

A batch is staged under ``<staging_dir>/<batch_id>/``, moved into place with
``os.replace`` and becomes visible only when its commit marker is written
(atomically, temp file + ``os.replace``). Readers list files from the markers
only, so a crash at any point leaves the lake as it was for them; the next run
deletes staged and moved-but-uncommitted files first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import BaseModel, ConfigDict, ValidationError

from credit_engine.exceptions import IngestionError

__all__ = ["BatchManifest", "Lake", "TableCommit", "ingest_lock"]

COMMITS = "_commits"
DUPLICATES = "_duplicates"
LOCK = ".lock"


class TableCommit(BaseModel):
    """What one batch committed for one table.

    Paths are POSIX, relative to the lake (``lake_files``) or the quarantine
    folder (``quarantine_files``, ``duplicate_files``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str
    rows_in: int
    loaded: int
    quarantined: int
    duplicates: int
    reasons: dict[str, int]
    lake_files: tuple[str, ...] = ()
    quarantine_files: tuple[str, ...] = ()
    duplicate_files: tuple[str, ...] = ()


class BatchManifest(BaseModel):
    """Content of a commit marker: one committed batch.

    Attributes
    ----------
    seq : int
        Commit sequence number (1, 2, ...).
    batch_id : str
        Content hash of the batch input.
    committed_at, started_at : datetime.datetime
        When the commit marker was written and when the run started (UTC).
    input_dir : str
        Input folder of the run.
    tables : dict of str to TableCommit
        Counts and files per table.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int
    batch_id: str
    committed_at: dt.datetime
    started_at: dt.datetime
    input_dir: str
    tables: dict[str, TableCommit]


class Lake:
    """Read side of the lake: only files of committed batches are visible.

    Parameters
    ----------
    lake_dir : pathlib.Path
        Root of the lake (``Settings.lake_dir``).
    quarantine_dir : pathlib.Path, optional
        Root of the quarantine (``Settings.quarantine_dir``); defaults to
        ``quarantine`` next to ``lake_dir``. Only quarantine listings need it.

    Examples
    --------
    >>> lake = Lake(Path("/nonexistent/home/lake"))
    >>> lake.committed_batches(), lake.table_files("vat_invoice"), lake.row_count("x")
    ([], [], 0)
    >>> lake.quarantine_dir.as_posix()
    '/nonexistent/home/quarantine'
    """

    def __init__(self, lake_dir: Path, quarantine_dir: Path | None = None) -> None:
        self.lake_dir = Path(lake_dir)
        self.quarantine_dir = (
            Path(quarantine_dir)
            if quarantine_dir is not None
            else self.lake_dir.parent / "quarantine"
        )

    @property
    def commits_dir(self) -> Path:
        """Folder of the commit markers."""
        return self.lake_dir / COMMITS

    def _marker_paths(self) -> list[Path]:
        if not self.commits_dir.is_dir():
            return []
        return sorted(self.commits_dir.glob("[0-9]*-*.json"))

    def committed_batches(self) -> list[BatchManifest]:
        """Return the manifests of all committed batches, in commit order.

        Raises
        ------
        IngestionError
            If a commit marker cannot be parsed (it was edited by hand).
        """
        manifests = []
        for path in self._marker_paths():
            try:
                manifests.append(BatchManifest.model_validate_json(path.read_bytes()))
            except (OSError, ValidationError) as exc:
                raise IngestionError(
                    f"Commit marker {path} is unreadable ({exc}); markers are written "
                    "atomically, so it was changed outside credit-engine. Restore it "
                    "from backup."
                ) from exc
        return manifests

    def table_files(self, table: str) -> list[Path]:
        """Return the lake Parquet files of ``table`` from committed batches."""
        return [
            self.lake_dir / name
            for m in self.committed_batches()
            if table in m.tables
            for name in m.tables[table].lake_files
        ]

    def quarantine_files(self, table: str) -> list[Path]:
        """Return the quarantine Parquet files of ``table`` from committed batches."""
        return [
            self.quarantine_dir / name
            for m in self.committed_batches()
            if table in m.tables
            for name in m.tables[table].quarantine_files
        ]

    def duplicate_files(self, table: str) -> list[Path]:
        """Return the duplicate listings of ``table`` from committed batches."""
        return [
            self.quarantine_dir / name
            for m in self.committed_batches()
            if table in m.tables
            for name in m.tables[table].duplicate_files
        ]

    def row_count(self, table: str) -> int:
        """Return the number of committed lake rows of ``table``."""
        return sum(
            m.tables[table].loaded
            for m in self.committed_batches()
            if table in m.tables
        )

    def state_hash(self) -> str:
        """Return a SHA-256 over all commit markers, identifying the lake state.

        Returns
        -------
        str
            64 hex characters; changes exactly when a batch is committed.
        """
        digest = hashlib.sha256()
        for path in self._marker_paths():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def is_committed(self, batch_id: str) -> bool:
        """Return whether a batch with this id has been committed."""
        return any(p.stem.split("-", 1)[1] == batch_id for p in self._marker_paths())

    # -- write side (used by ingest_batch while holding the lock) ---------------

    def cleanup_uncommitted(self, staging_dir: Path) -> list[Path]:
        """Delete staged files and lake/quarantine files no marker references.

        Returns
        -------
        list of pathlib.Path
            The deleted files (staging folders are removed wholesale).
        """
        if staging_dir.is_dir():
            for entry in staging_dir.iterdir():
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        referenced: set[Path] = set()
        for m in self.committed_batches():
            for commit in m.tables.values():
                referenced.update(self.lake_dir / f for f in commit.lake_files)
                referenced.update(
                    self.quarantine_dir / f for f in commit.quarantine_files
                )
                referenced.update(
                    self.quarantine_dir / f for f in commit.duplicate_files
                )
        patterns = [
            (self.lake_dir, "*/*/batch=*"),
            (self.quarantine_dir, "*/batch=*"),
            (self.quarantine_dir / DUPLICATES, "*/batch=*"),
        ]
        removed: list[Path] = []
        for root, pattern in patterns:
            for batch_dir in root.glob(pattern) if root.is_dir() else ():
                for path in sorted(batch_dir.iterdir()):
                    if path.is_file() and path not in referenced:
                        path.unlink()
                        removed.append(path)
                with contextlib.suppress(OSError):
                    batch_dir.rmdir()  # only if empty
        for tmp in self.commits_dir.glob("*.tmp") if self.commits_dir.is_dir() else ():
            tmp.unlink()
        return removed

    def commit(
        self,
        staged: dict[Path, Path],
        *,
        batch_id: str,
        started_at: dt.datetime,
        input_dir: Path,
        tables: dict[str, TableCommit],
    ) -> BatchManifest:
        """Move staged files into place, then write the commit marker.

        Parameters
        ----------
        staged : dict of pathlib.Path to pathlib.Path
            Staged file to its final absolute path.
        batch_id : str
            Id of the batch.
        started_at : datetime.datetime
            Start of the run.
        input_dir : pathlib.Path
            Input folder of the run.
        tables : dict of str to TableCommit
            Counts and relative file names per table.

        Returns
        -------
        BatchManifest
            The committed manifest.
        """
        for source, target in staged.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            _fsync(source)
            os.replace(source, target)
        for directory in {t.parent for t in staged.values()}:
            _fsync(directory)
        previous = [int(p.name.split("-", 1)[0]) for p in self._marker_paths()]
        manifest = BatchManifest(
            seq=max(previous, default=0) + 1,
            batch_id=batch_id,
            committed_at=dt.datetime.now(dt.UTC),
            started_at=started_at,
            input_dir=str(input_dir),
            tables=tables,
        )
        self._write_marker(manifest)
        return manifest

    def _write_marker(self, manifest: BatchManifest) -> None:
        self.commits_dir.mkdir(parents=True, exist_ok=True)
        final = self.commits_dir / f"{manifest.seq:06d}-{manifest.batch_id}.json"
        tmp = final.with_suffix(".json.tmp")
        payload = json.dumps(manifest.model_dump(mode="json"), indent=2, sort_keys=True)
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(payload + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, final)  # the commit point
        with contextlib.suppress(OSError):  # committed already; durability only
            _fsync(self.commits_dir)


def _fsync(path: Path) -> None:
    flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_holder(fd: int) -> None:
    """Write who holds the lock into the (locked) lock file, for error messages."""
    holder = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    os.ftruncate(fd, 0)
    os.pwrite(fd, holder.encode(), 0)


def _holder_text(path: Path) -> str:
    """Return `` (pid N on HOST)`` from a held lock file, or ``""`` if unknown."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return ""
    return f" (pid {holder['pid']} on {holder.get('host', 'an unknown host')})"


@contextlib.contextmanager
def ingest_lock(lake_dir: Path) -> Iterator[Path]:
    """Hold the ingestion lock ``<lake_dir>/.lock`` for the duration of a run.

    The lock is an operating-system file lock (``flock``, through
    :class:`filelock.FileLock`), taken without waiting. The kernel releases it
    when its holder ends, however it ends, so a crashed run never leaves a
    stale lock behind and nobody has to delete a file. The lock file itself
    stays in place; while the lock is held it records the holder's pid and host
    for the message another run gets. Another thread of the same process is
    refused like another process.

    Parameters
    ----------
    lake_dir : pathlib.Path
        Root of the lake (created if missing).

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    IngestionError
        If another ingestion holds the lock, or the file system of the lake
        offers no OS file locks.
    """
    lake_dir.mkdir(parents=True, exist_ok=True)
    path = lake_dir / LOCK
    lock = FileLock(path, fallback_to_soft=False, on_acquired=_record_holder)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        raise IngestionError(
            f"Another ingestion{_holder_text(path)} holds the lock {path}; wait "
            "for it to finish, then run this ingestion again. The lock is released "
            "by the operating system when that process ends, so there is no lock "
            "file to delete."
        ) from None
    except OSError as exc:
        raise IngestionError(
            f"Could not take the ingestion lock {path}: {exc}. The lake must be on "
            "a file system with OS file locks (flock), e.g. a local disk; move "
            "CREDIT_ENGINE_HOME or the lake there."
        ) from exc
    try:
        yield path
    finally:
        try:
            with contextlib.suppress(OSError):
                path.write_bytes(b"")  # no holder recorded once released
        finally:
            lock.release()
