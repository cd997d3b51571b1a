"""The lake and quarantine on disk: layout, commit markers, lock and recovery.

Layout::

    <lake_dir>/<department>/<table>/batch=<batch_id>/part-<n>.parquet
    <lake_dir>/_commits/<seq:06d>-<batch_id>.json        commit markers
    <quarantine_dir>/<table>/batch=<batch_id>/part-<n>.parquet
    <quarantine_dir>/_duplicates/<table>/batch=<batch_id>/part-0.parquet

A batch is staged (and fsynced) under ``<staging_dir>/<batch_id>/``; its
commit marker is written (atomically, temp file + ``os.replace``: the commit
point), and only then are its files moved into place with ``os.replace``. So
no file of an uncommitted batch is ever under the lake or quarantine folders,
where a raw ``**/*.parquet`` glob would mistake it for data. A crash before the
marker leaves the lake untouched (the next run deletes the staging folder); a
crash after it, while files move, leaves some of a committed batch's files in
staging: readers find them there (the marker records where each was staged)
and the next run (or :meth:`Lake.recover`) finishes the moves.
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
    source_files: tuple[str, ...] = ()
    """Input files of the table (to rebuild a lost report from the marker)."""


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
    moves: dict[str, str] = {}
    """``area/relative path`` (``lake/...``, ``quarantine/...``) to the staged
    file it is moved from after the marker is written (empty in markers of
    older releases, which moved files first)."""


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

    def _root(self, area: str) -> Path:
        return self.lake_dir if area == "lake" else self.quarantine_dir

    def _where(self, manifest: BatchManifest, area: str, name: str) -> Path:
        """Return a committed file's path: in place, or still staged after a crash."""
        final = self._root(area) / name
        staged = manifest.moves.get(f"{area}/{name}")
        if staged is not None and not final.exists() and Path(staged).exists():
            return Path(staged)
        return final

    def table_files(self, table: str) -> list[Path]:
        """Return the lake Parquet files of ``table`` from committed batches."""
        return [
            self._where(m, "lake", name)
            for m in self.committed_batches()
            if table in m.tables
            for name in m.tables[table].lake_files
        ]

    def quarantine_files(self, table: str) -> list[Path]:
        """Return the quarantine Parquet files of ``table`` from committed batches."""
        return [
            self._where(m, "quarantine", name)
            for m in self.committed_batches()
            if table in m.tables
            for name in m.tables[table].quarantine_files
        ]

    def duplicate_files(self, table: str) -> list[Path]:
        """Return the duplicate listings of ``table`` from committed batches."""
        return [
            self._where(m, "quarantine", name)
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

    def _finish_moves(self, manifest: BatchManifest) -> list[Path]:
        moved: list[Path] = []
        for key, staged in sorted(manifest.moves.items()):
            area, _, name = key.partition("/")
            final = self._root(area) / name
            source = Path(staged)
            if final.exists() or not source.exists():
                continue
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, final)
            moved.append(final)
        for directory in {p.parent for p in moved}:
            _fsync(directory)
        return moved

    def recover_pending(self, batch_id: str) -> int:
        """Finish the moves of one committed batch; return how many files remain.

        Returns
        -------
        int
            Files still staged (0 when the batch is wholly in place).
        """
        for manifest in self.committed_batches():
            if manifest.batch_id != batch_id:
                continue
            try:
                self._finish_moves(manifest)
            except OSError:
                pass
            remaining = 0
            for key, staged in manifest.moves.items():
                area, _, name = key.partition("/")
                if Path(staged).exists() and not (self._root(area) / name).exists():
                    remaining += 1
            return remaining
        return 0

    def recover(self) -> list[Path]:
        """Finish moving the files of committed batches still in staging.

        After a crash between a commit marker and the end of its moves; the
        next ingestion calls it first.

        Returns
        -------
        list of pathlib.Path
            The files moved into place now.
        """
        return [p for m in self.committed_batches() for p in self._finish_moves(m)]

    def cleanup_uncommitted(self, staging_dir: Path) -> list[Path]:
        """Finish committed moves, then delete staged and unreferenced files.

        Returns
        -------
        list of pathlib.Path
            The deleted files (staging folders are removed wholesale).
        """
        self.recover()
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
        """Write the commit marker, then move the staged files into place.

        The staged files are fsynced first; the marker (the commit point)
        records where each was staged, so that readers find a file there and
        :meth:`recover` moves it if a crash interrupts the moves.

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

        Raises
        ------
        IngestionError
            If the staged files cannot be made durable (nothing committed), or
            moving them failed after the marker (committed: readers use the
            staged copies and the next ingestion finishes the moves).
        """
        moves: dict[str, str] = {}
        for source, target in staged.items():
            _fsync(source)
            moves[self._key(target)] = str(source)
        for directory in {s.parent for s in staged}:
            _fsync(directory)
        previous = [int(p.name.split("-", 1)[0]) for p in self._marker_paths()]
        manifest = BatchManifest(
            seq=max(previous, default=0) + 1,
            batch_id=batch_id,
            committed_at=dt.datetime.now(dt.UTC),
            started_at=started_at,
            input_dir=str(input_dir),
            tables=tables,
            moves=moves,
        )
        self._write_marker(manifest)
        try:
            self._finish_moves(manifest)
        except OSError as exc:
            raise IngestionError(
                f"Batch {batch_id} is committed (marker {manifest.seq}), but moving "
                f"its files into place failed: {exc}. Readers use the staged "
                "copies; the next ingestion (or Lake.recover()) finishes the moves."
            ) from exc
        return manifest

    def _key(self, target: Path) -> str:
        for area in ("lake", "quarantine"):
            root = self._root(area)
            if target.is_relative_to(root):
                return f"{area}/{target.relative_to(root).as_posix()}"
        raise IngestionError(
            f"{target} is under neither the lake {self.lake_dir} nor the "
            f"quarantine {self.quarantine_dir}."
        )

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
