"""Ingestion edge cases: whole-batch contract errors, crashes, locking, chunking."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_engine.config import Settings
from credit_engine.data import Lake, SourceContract, ingest_batch
from credit_engine.data import _lake as lake_module
from credit_engine.exceptions import DataContractError, IngestionError
from tests.processes import ingest_lock_in_another_process

pytestmark = pytest.mark.integration

PENALTY = "customs_penalty"
CHANGE = "samr_change"


@pytest.fixture
def write_valid(
    contracts: dict[str, SourceContract], valid_table: Callable[..., pa.Table]
) -> Callable[..., pa.Table]:
    def write(folder: Path, table: str, n: int = 20, seed: int = 1) -> pa.Table:
        folder.mkdir(parents=True, exist_ok=True)
        data = valid_table(contracts[table], n, np.random.default_rng(seed))
        pq.write_table(data, folder / f"{table}.parquet")
        return data

    return write


def assert_nothing_committed(settings: Settings) -> None:
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    assert lake.committed_batches() == []
    assert (
        not list(settings.lake_dir.rglob("*.parquet"))
        if settings.lake_dir.exists()
        else True
    )


# --- preflight: the whole batch is refused, nothing is written -----------------


def _unknown_table(folder: Path, data: pa.Table) -> None:
    (folder / f"{PENALTY}.parquet").rename(folder / "customs_penalties.parquet")


def _missing_required(folder: Path, data: pa.Table) -> None:
    pq.write_table(
        data.drop_columns(["category", "due_date"]), folder / f"{PENALTY}.parquet"
    )


def _extra_column(folder: Path, data: pa.Table) -> None:
    extra = data.append_column("officer", pa.array(["x"] * data.num_rows))
    pq.write_table(extra, folder / f"{PENALTY}.parquet")


def _corrupt(folder: Path, data: pa.Table) -> None:
    path = folder / f"{PENALTY}.parquet"
    path.write_bytes(path.read_bytes()[:200])


def _wrong_type(folder: Path, data: pa.Table) -> None:
    nested = pa.array([[1]] * data.num_rows)
    table = data.set_column(
        data.schema.get_field_index("amount_cny"), "amount_cny", nested
    )
    pq.write_table(table, folder / f"{PENALTY}.parquet")


def _empty_csv(folder: Path, data: pa.Table) -> None:
    (folder / f"{PENALTY}.parquet").unlink()
    (folder / f"{PENALTY}.csv").write_text("")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            _unknown_table,
            r"customs_penalties\.parquet: no contract for table "
            r"'customs_penalties'\. Did you mean 'customs_penalty'\? Known tables: "
            r"abnormal_list, .*, \.\.\. \(23 in total\)",
        ),
        (
            _missing_required,
            r"customs_penalty\.parquet: missing required column\(s\) "
            r"\['category', 'due_date'\]",
        ),
        (
            _extra_column,
            r"customs_penalty\.parquet: column\(s\) \['officer'\] are not "
            r"in the contract .*features/sources/customs_penalty\.yaml",
        ),
        (_corrupt, r"customs_penalty\.parquet: cannot read the file .*Re-export it"),
        (
            _wrong_type,
            r"column 'amount_cny' has type list<element: int64>, which "
            r"cannot hold 'float' values",
        ),
        (_empty_csv, r"customs_penalty\.csv: cannot read the file"),
    ],
)
def test_contract_violations_refuse_the_whole_batch(
    tmp_path, write_valid, damage, message
):
    folder = tmp_path / "in"
    write_valid(folder, CHANGE)
    damage(folder, write_valid(folder, PENALTY))
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(DataContractError, match=message) as info:
        ingest_batch(folder, settings)
    assert "nothing was loaded (1 problem(s))" in str(info.value)
    assert_nothing_committed(settings)


def test_all_problems_of_all_files_are_reported_at_once(tmp_path, write_valid):
    folder = tmp_path / "in"
    data = write_valid(folder, PENALTY)
    _missing_required(folder, data)
    (folder / "notes.txt").write_text("hello")
    (folder / "mystery.parquet").write_bytes(b"PAR1")
    with pytest.raises(DataContractError, match=r"\(3 problem\(s\)\)") as info:
        ingest_batch(folder, Settings(home=tmp_path / "home"))
    text = str(info.value)
    assert "notes.txt: unsupported file type '.txt'" in text
    assert "mystery.parquet: no contract for table 'mystery'" in text
    assert "missing required column(s) ['category', 'due_date']" in text


def test_empty_input_directory_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    with pytest.raises(DataContractError, match="no input files"):
        ingest_batch(tmp_path / "in", Settings(home=tmp_path / "home"))


# --- atomic commit -------------------------------------------------------------


def test_crash_while_moving_files_leaves_the_lake_unchanged_and_rerun_recovers(
    tmp_path, write_valid, monkeypatch
):
    folder = tmp_path / "in"
    data = write_valid(folder, PENALTY).drop_columns(["paid_date"])  # optional column
    pq.write_table(data, folder / f"{PENALTY}.parquet")
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")
    real_fsync = lake_module._fsync
    calls = {"n": 0}

    def failing_fsync(path: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # while making the staged files durable
            raise OSError("injected: disk unplugged")
        real_fsync(path)

    monkeypatch.setattr(lake_module, "_fsync", failing_fsync)
    with pytest.raises(
        IngestionError, match="injected: disk unplugged.*Nothing of the batch"
    ):
        ingest_batch(folder, settings)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    assert lake.committed_batches() == []
    assert lake.table_files(PENALTY) == lake.table_files(CHANGE) == []
    # Issue 14: files move into the lake only after the commit marker, so not
    # even a raw Parquet glob sees rows of an uncommitted batch.
    assert list(settings.lake_dir.rglob("*.parquet")) == []
    assert list(settings.quarantine_dir.rglob("*.parquet")) == []

    monkeypatch.setattr(lake_module, "_fsync", real_fsync)
    report = ingest_batch(folder, settings)
    assert report.commit_seq == 1
    assert sorted(settings.lake_dir.rglob("part-*.parquet")) == sorted(
        lake.table_files(PENALTY) + lake.table_files(CHANGE)
    )
    loaded = pd.read_parquet(lake.table_files(PENALTY)[0])
    assert loaded["paid_date"].isna().all()
    assert len(loaded) == 20


def test_crash_before_the_commit_marker_is_invisible(
    tmp_path, write_valid, monkeypatch
):
    folder = tmp_path / "in"
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")

    def no_marker(self: Lake, manifest: Any) -> None:
        raise OSError("injected: crash before the marker")

    monkeypatch.setattr(Lake, "_write_marker", no_marker)
    with pytest.raises(IngestionError, match="crash before the marker"):
        ingest_batch(folder, settings)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    assert lake.table_files(CHANGE) == []
    assert lake.row_count(CHANGE) == 0
    assert list(settings.lake_dir.rglob("*.parquet")) == []  # nothing visible
    monkeypatch.undo()
    assert ingest_batch(folder, settings).tables[CHANGE].loaded == 20
    assert len(list(settings.lake_dir.rglob("part-*.parquet"))) == 1


def test_a_running_ingestion_holds_the_lock(tmp_path, write_valid):
    folder = tmp_path / "in"
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")
    settings.lake_dir.mkdir(parents=True)
    lock = settings.lake_dir / ".lock"
    with ingest_lock_in_another_process(settings.lake_dir) as proc:
        holder = proc.pid  # a live process that is not this one
        with pytest.raises(IngestionError, match=rf"Another ingestion \(pid {holder} "):
            ingest_batch(folder, settings)
        assert lock.exists()
    assert_nothing_committed(settings)


# --- chunking ------------------------------------------------------------------


def test_duplicates_and_conflicts_are_found_across_chunks(
    tmp_path, contracts, valid_table
):
    data = valid_table(contracts[CHANGE], 2300, np.random.default_rng(3))
    records = data.to_pylist()
    records[1500] = dict(records[10])  # duplicate, second chunk
    field = "NAME" if records[999]["field"] != "NAME" else "ADDRESS"
    records[2200] = {**records[999], "field": field}  # key conflict, third chunk
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(
        pa.Table.from_pylist(records, schema=data.schema),
        folder / f"{CHANGE}.parquet",
        row_group_size=700,
    )
    settings = Settings(home=tmp_path / "home", ingest_chunk_rows=1000)

    class Progress:
        def __init__(self) -> None:
            self.steps: list[int] = []

        def start(self, table: str, total_rows: int | None) -> None:
            assert total_rows == 2300

        def advance(self, table: str, rows: int) -> None:
            self.steps.append(rows)

        def done(self, table: str) -> None:
            pass

    progress = Progress()
    report = ingest_batch(folder, settings, progress=progress)
    table = report.tables[CHANGE]
    assert progress.steps == [1000, 1000, 300]
    assert (table.loaded, table.quarantined, table.duplicates) == (2298, 1, 1)
    assert table.reasons == {"key_conflict": 1}
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    loaded = pd.read_parquet(lake.table_files(CHANGE)[0])
    assert loaded["source_record_id"].tolist() == [
        r["source_record_id"] for i, r in enumerate(records) if i not in (1500, 2200)
    ]
    quarantined = pd.read_parquet(lake.quarantine_files(CHANGE)[0])
    assert quarantined["_row_number"].tolist() == [2200]
    docs = Path(report.data_docs).parent / "validations" / "raw" / CHANGE
    assert len(list(docs.rglob("*.html"))) == 3


def test_an_empty_table_is_reported_with_zero_rows(tmp_path, contracts):
    folder = tmp_path / "in"
    folder.mkdir()
    empty = pa.schema(
        [(c.name, c.type.arrow_type()) for c in contracts[CHANGE].columns]
    )
    pq.write_table(empty.empty_table(), folder / f"{CHANGE}.parquet")
    report = ingest_batch(folder, Settings(home=tmp_path / "home"))
    assert report.to_json_dict()["tables"][CHANGE] == {
        "rows_in": 0,
        "loaded": 0,
        "quarantined": 0,
        "duplicates": 0,
        "reasons": {},
    }
    assert report.commit_seq == 1


# --- kills around the commit point (issue 14) ----------------------------------

_KILLED_RUN = """
import os, sys
from pathlib import Path
from credit_engine.config import Settings
from credit_engine.data import _ingest, _lake, ingest_batch

where = sys.argv[3]
if where == "before_marker":
    _lake.Lake._write_marker = lambda self, manifest: os._exit(9)
elif where == "during_moves":
    real = _lake.os.replace
    def replace(src, dst):
        if str(src).endswith(".parquet"):
            os._exit(9)
        return real(src, dst)
    _lake.os.replace = replace
elif where == "after_commit":
    _ingest._write_reports = lambda *args, **kwargs: os._exit(9)
ingest_batch(Path(sys.argv[1]), Settings(home=Path(sys.argv[2])))
"""


def _killed_ingestion(folder: Path, home: Path, where: str) -> None:
    import os
    import subprocess
    import sys

    from tests.processes import REPO_ROOT

    # A script file, not ``-c``: pyspark (imported by pandera) exits quietly
    # when ``__main__`` has no ``__file__``, taking it for a doctest run.
    script = home.parent / f"killed_{where}.py"
    script.write_text(_KILLED_RUN)
    done = subprocess.run(
        [sys.executable, str(script), str(folder), str(home), where],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 9, done.stderr[-2000:]


def test_a_kill_before_the_marker_leaves_nothing_a_raw_glob_can_see(
    tmp_path, write_valid
):
    folder = tmp_path / "in"
    write_valid(folder, PENALTY)
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")
    _killed_ingestion(folder, settings.home, "before_marker")
    assert list(settings.lake_dir.rglob("*.parquet")) == []
    assert list(settings.quarantine_dir.rglob("*.parquet")) == []
    report = ingest_batch(folder, settings)
    assert report.commit_seq == 1
    assert report.tables[CHANGE].loaded == 20


def test_a_kill_while_files_move_is_finished_by_readers_and_the_next_run(
    tmp_path, write_valid
):
    folder = tmp_path / "in"
    write_valid(folder, PENALTY)
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")
    _killed_ingestion(folder, settings.home, "during_moves")
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    assert len(lake.committed_batches()) == 1  # the marker is the commit point
    # The files still staged are found where they were staged.
    files = lake.table_files(CHANGE) + lake.table_files(PENALTY)
    assert all(p.is_file() for p in files)
    assert sum(len(pd.read_parquet(p)) for p in lake.table_files(CHANGE)) == 20
    rerun = ingest_batch(folder, settings)
    assert rerun.already_ingested
    in_place = sorted(settings.lake_dir.rglob("part-*.parquet"))
    assert in_place == sorted(lake.table_files(CHANGE) + lake.table_files(PENALTY))


def test_a_kill_just_after_the_commit_keeps_the_report(tmp_path, write_valid):
    import json

    folder = tmp_path / "in"
    write_valid(folder, CHANGE)
    settings = Settings(home=tmp_path / "home")
    _killed_ingestion(folder, settings.home, "after_commit")
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    (manifest,) = lake.committed_batches()
    original = settings.reports_dir / manifest.batch_id / "ingest.json"
    assert not original.exists()  # killed before writing it
    rerun = ingest_batch(folder, settings)
    assert rerun.already_ingested
    assert rerun.tables[CHANGE].loaded == 0  # this run loaded nothing ...
    rebuilt = json.loads(original.read_text())  # ... the committing run did
    assert rebuilt["batch_id"] == manifest.batch_id
    assert rebuilt["tables"][CHANGE]["loaded"] == 20
    assert rebuilt["tables"][CHANGE]["rows_in"] == 20
    assert (original.parent / "ingest.html").is_file()
