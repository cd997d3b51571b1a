from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest

from credit_engine.data import Lake, TableCommit
from credit_engine.data._lake import ingest_lock
from credit_engine.exceptions import IngestionError
from tests.processes import ingest_lock_in_another_process

NOW = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def stage(tmp_path, lake_dir, batch, table="samr_change", n_parts=1):
    staged = {}
    for i in range(n_parts):
        src = tmp_path / "staging" / batch / f"part-{i}.parquet"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_bytes(b"data")
        staged[src] = (
            lake_dir / "market" / table / f"batch={batch}" / f"part-{i}.parquet"
        )
    return staged


def commit(lake, staged, batch, table="samr_change", loaded=10):
    files = tuple(str(p.relative_to(lake.lake_dir)) for p in staged.values())
    return lake.commit(
        staged,
        batch_id=batch,
        started_at=NOW,
        input_dir=lake.lake_dir / "in",
        tables={
            table: TableCommit(
                department="market",
                rows_in=loaded,
                loaded=loaded,
                quarantined=0,
                duplicates=0,
                reasons={},
                lake_files=files,
            )
        },
    )


def test_an_empty_lake(tmp_path):
    lake = Lake(tmp_path / "lake")
    assert lake.committed_batches() == []
    assert lake.table_files("samr_change") == []
    assert lake.row_count("samr_change") == 0
    assert lake.state_hash() == hashlib.sha256().hexdigest()


def test_commits_are_numbered_and_only_listed_files_are_visible(tmp_path):
    lake = Lake(tmp_path / "lake", tmp_path / "quarantine")
    first = commit(lake, stage(tmp_path, lake.lake_dir, "aaaa", n_parts=2), "aaaa")
    empty_state = Lake(tmp_path / "elsewhere").state_hash()
    state_one = lake.state_hash()
    second = commit(lake, stage(tmp_path, lake.lake_dir, "bbbb"), "bbbb", loaded=5)
    assert (first.seq, second.seq) == (1, 2)
    assert [m.batch_id for m in lake.committed_batches()] == ["aaaa", "bbbb"]
    assert len(lake.table_files("samr_change")) == 3
    assert all(p.is_file() for p in lake.table_files("samr_change"))
    assert lake.row_count("samr_change") == 15
    assert lake.is_committed("bbbb")
    assert not lake.is_committed("cccc")
    assert len({empty_state, state_one, lake.state_hash()}) == 3
    marker = json.loads((lake.commits_dir / "000002-bbbb.json").read_text())
    assert marker["tables"]["samr_change"]["loaded"] == 5
    stray = lake.lake_dir / "market" / "samr_change" / "batch=cccc" / "part-0.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"uncommitted")
    assert stray not in lake.table_files("samr_change")


def test_cleanup_removes_uncommitted_and_staged_files_only(tmp_path):
    lake = Lake(tmp_path / "lake", tmp_path / "quarantine")
    commit(lake, stage(tmp_path, lake.lake_dir, "aaaa"), "aaaa")
    stray = lake.lake_dir / "market" / "samr_change" / "batch=dead" / "part-0.parquet"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"x")
    q_stray = lake.quarantine_dir / "samr_change" / "batch=dead" / "part-0.parquet"
    q_stray.parent.mkdir(parents=True)
    q_stray.write_bytes(b"x")
    (lake.commits_dir / "000002-dead.json.tmp").write_text("{")
    leftover = tmp_path / "staging" / "dead" / "work" / "chunk.parquet"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"x")
    notes = lake.lake_dir / "README.txt"
    notes.write_text("keep me")
    removed = lake.cleanup_uncommitted(tmp_path / "staging")
    assert set(removed) == {stray, q_stray}
    assert not stray.parent.exists()
    assert not q_stray.parent.exists()
    assert not any((tmp_path / "staging").iterdir())
    assert not list(lake.commits_dir.glob("*.tmp"))
    assert notes.exists()
    assert all(p.exists() for p in lake.table_files("samr_change"))


def test_a_damaged_marker_is_reported(tmp_path):
    lake = Lake(tmp_path / "lake")
    lake.commits_dir.mkdir(parents=True)
    (lake.commits_dir / "000001-aaaa.json").write_text("{not json")
    with pytest.raises(IngestionError, match="000001-aaaa.json is unreadable"):
        lake.committed_batches()


def test_the_lock_excludes_a_live_holder_and_is_released(tmp_path):
    with ingest_lock(tmp_path) as path:
        holder = json.loads(path.read_text())
        assert holder == {"pid": os.getpid(), "host": socket.gethostname()}
        with pytest.raises(
            IngestionError, match=rf"pid {os.getpid()} on .* holds the lock"
        ):
            with ingest_lock(tmp_path):
                pass
    # Released: the file stays (an OS lock lives on its inode) but names no
    # holder, and the lock can be taken again.
    assert path.read_text() == ""
    with ingest_lock(tmp_path):
        pass


@pytest.mark.parametrize("content", ["dead", "garbage", "own-pid", "other-host"])
def test_a_lock_file_left_behind_is_no_obstacle(tmp_path, content):
    lock = tmp_path / ".lock"
    if content == "own-pid":  # left by an earlier process with our pid
        text = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    elif content == "dead":
        proc = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            capture_output=True,
            text=True,
            check=True,
        )
        text = json.dumps({"pid": int(proc.stdout), "host": socket.gethostname()})
    elif content == "other-host":  # only the OS lock counts, not the file
        text = json.dumps({"pid": 1, "host": "other-host"})
    else:
        text = "not json"
    lock.write_text(text)
    with ingest_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_a_lock_held_by_another_process_refuses_fast_and_names_it(tmp_path):
    with ingest_lock_in_another_process(tmp_path) as holder:
        with pytest.raises(
            IngestionError,
            match=(
                rf"Another ingestion \(pid {holder.pid} on {socket.gethostname()}\) "
                r"holds the lock .*\.lock; wait for it to finish, then run this "
                r"ingestion again"
            ),
        ):
            with ingest_lock(tmp_path):
                pass
    with ingest_lock(tmp_path):  # released when the holder ended
        pass


def test_the_lock_of_a_killed_holder_is_free(tmp_path):
    with ingest_lock_in_another_process(tmp_path) as holder:
        holder.kill()  # SIGKILL: no clean-up code runs in the holder
        holder.wait(timeout=30)
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == holder.pid
        with ingest_lock(tmp_path) as path:
            assert json.loads(path.read_text())["pid"] == os.getpid()
