"""The API's past-date worker processes never outlive the serving process.

A worker holds its own end of the job queue, so it would never see the queue
close: killed without a chance to stop them (``kill -9``, the OOM killer), the
serving process would leave them running for ever. Each watches its parent.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SERVING = textwrap.dedent(
    """
    import os, sys, time
    from credit_engine.api._past_dates import PastDateWorkers
    from credit_engine.config import Settings

    if __name__ == "__main__":
        workers = PastDateWorkers(Settings(home=sys.argv[1]), processes=1)
        print(workers._pool().submit(os.getpid).result(timeout=120), flush=True)
        time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


@pytest.mark.timeout(180)
def test_a_worker_leaves_when_the_serving_process_is_killed(tmp_path):
    script = tmp_path / "serving.py"
    script.write_text(SERVING)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    serving = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "home")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert serving.stdout is not None
        worker = int(serving.stdout.readline())
        assert worker != serving.pid
        assert _alive(worker)
        os.kill(serving.pid, signal.SIGKILL)
        serving.wait(timeout=30)
        deadline = time.monotonic() + 15
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived the serving process"
    finally:
        serving.kill()
        serving.wait(timeout=30)


def _start_then_wait(home: str, parent: int) -> None:
    from credit_engine.api._past_dates import _start_worker
    from credit_engine.config import Settings

    _start_worker(Settings(home=home), parent)
    time.sleep(120)


@pytest.mark.timeout(120)
def test_a_worker_whose_parent_is_gone_before_it_starts_leaves_at_once(tmp_path):
    # The parent is named by the serving process, not read by the worker: a
    # worker still importing when its parent was killed must not adopt init.
    import multiprocessing

    gone = 2**22 + 1  # above Linux's default pid_max: no such process
    worker = multiprocessing.get_context("spawn").Process(
        target=_start_then_wait, args=(str(tmp_path), gone)
    )
    worker.start()
    worker.join(timeout=60)
    alive = worker.is_alive()
    if alive:
        worker.kill()
    assert not alive, "the worker stayed although its named parent is not its parent"
    assert worker.exitcode == 0
