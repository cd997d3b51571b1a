"""Run a command in its own process and measure it (shared by the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` from the repository root; return wall seconds and peak RSS.

    The peak resident memory is that of the process itself (``os.wait4``), not
    of the benchmark script. Output goes to a temporary file, so a chatty
    command can never block on a full pipe.
    """
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=log)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        if status != 0:
            log.seek(0)
            tail = log.read().decode(errors="replace")[-3000:]
            raise RuntimeError(f"{cmd} failed with status {status}:\n{tail}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(usage.ru_maxrss / 1024)}
