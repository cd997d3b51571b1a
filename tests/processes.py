"""Run part of the engine in a second process, for tests of cross-process behaviour.

``ingest_lock_in_another_process(lake_dir)`` starts a Python process that takes
the ingestion lock of ``lake_dir`` and holds it until the context ends (or the
test kills it); it yields the ``subprocess.Popen`` of that process.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

_HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from credit_engine.data._lake import ingest_lock

    with ingest_lock(Path(sys.argv[1])):
        print("held", flush=True)
        sys.stdin.read()  # hold until the test closes stdin
    """
)


@contextlib.contextmanager
def ingest_lock_in_another_process(lake_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Hold ``lake_dir``'s ingestion lock in a child process while the block runs."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lake_dir)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        line = proc.stdout.readline().strip()
        if line != "held":
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"the lock holder did not start: {line!r} {err}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()  # the holder releases the lock and exits
            proc.wait(timeout=30)
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
