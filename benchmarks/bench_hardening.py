"""Benchmark of issue 14 (hardening): three loads, each beside the trivial endpoint.

Servers run on 127.0.0.1 only, each one uvicorn process (``credit-engine
serve`` with the audit log on, and ``benchmarks/_trivial_app.py``); every load
is a separate open-loop process (``benchmarks/_load.py``: latency from each
request's *scheduled* start, so queueing cannot hide) and bounded in time.

1. ``POST /v1/scores`` at ``--rate`` (500) requests/s for ``--duration`` s on
   the engine and on the trivial endpoint, then each one's sustained capacity
   (closed loop, ``--concurrency`` clients): p99 and the capacity ratio.
   Targets: p99 <= 10 ms at 500 req/s; capacity >= 0.5 x the trivial one's.
2. Single scores at ``--side-rate`` req/s while three clients each send a
   1,000-code batch at a past date (``--past``). Target: p99 <= 25 ms.
3. ``GET /readyz`` (and single scores) at ``--side-rate`` req/s while another
   process holds the store's SQLite write lock (``BEGIN IMMEDIATE``) for 10 s.
   Targets: ``/readyz`` p99 <= 100 ms; no score waits longer than the bound
   (``audit_wait_seconds``), they get 503 with ``Retry-After`` instead.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_hardening.py \
        --home HOME [--database-url URL] [--mlflow-uri URI] [--json out.json] \
        [--copy-store FILE] [--scenarios throughput,batches,lock] [--skip-trivial] \
        [--trace F.csv]

``HOME`` needs a lake and a promoted champion (``make demo``); give another
``--database-url`` / ``--mlflow-uri`` to leave a read-only home untouched. The
machine is shared: read the ratios to the trivial endpoint, run the same way
at the same time, rather than the absolute figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from benchmarks.bench_api import BIN, ROOT, _port, _wait

_HOLDER = (
    "import sqlite3, sys, time\n"
    "c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)\n"
    "c.execute('BEGIN IMMEDIATE'); print('held', flush=True)\n"
    "time.sleep(float(sys.argv[2])); c.execute('ROLLBACK')\n"
)


def _load(  # noqa: PLR0913 - the load generator's options
    url: str,
    path: str,
    *,
    body: str = "{}",
    headers: tuple[str, ...] = (),
    mode: str = "open",
    rate: float = 100,
    duration: float = 10,
    concurrency: int = 16,
    method: str = "POST",
    warmup: int = 50,
    trace: Path | None = None,
) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "_load.py"), "--url", url,
           "--path", path, "--body", body, "--mode", mode, "--method", method,
           "--rate", str(rate), "--duration", str(duration),
           "--concurrency", str(concurrency), "--warmup", str(warmup)]  # fmt: skip
    for h in headers:
        cmd += ["--header", h]
    if trace is not None:
        cmd += ["--trace", str(trace)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:  # noqa: PLR0915 - one scenario after the other
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(".credit-engine"))
    parser.add_argument("--database-url")
    parser.add_argument(
        "--copy-store",
        type=Path,
        help="SQLite store to copy (with SQLite's backup, its WAL included) to a "
        "fresh file the run writes into; --database-url is then ignored",
    )
    parser.add_argument("--mlflow-uri")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--side-rate", type=float, default=50)
    parser.add_argument(
        "--past", type=dt.date.fromisoformat, default=dt.date(2026, 3, 31)
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--trace",
        type=Path,
        help="write each engine request's start and latency at --rate (CSV)",
    )
    parser.add_argument(
        "--scenarios",
        default="throughput,batches,lock",
        help="comma-separated subset of throughput, batches, lock",
    )
    parser.add_argument(
        "--skip-trivial",
        action="store_true",
        help="load the engine only (for quick comparisons of engine builds)",
    )
    args = parser.parse_args()
    scenarios = set(args.scenarios.split(","))
    home = args.home.absolute()

    from credit_engine.auth import KeyStore
    from credit_engine.config import Settings
    from credit_engine.store import OperationalStore

    env_settings = {"CREDIT_ENGINE_HOME": str(home)}
    if args.copy_store is not None:
        args.database_url = f"sqlite:///{_fresh_copy(args.copy_store)}"
    if args.database_url:
        env_settings["CREDIT_ENGINE_DATABASE_URL"] = args.database_url
    if args.mlflow_uri:
        env_settings["CREDIT_ENGINE_MLFLOW_TRACKING_URI"] = args.mlflow_uri
    settings = Settings(home=home, **{
        k.removeprefix("CREDIT_ENGINE_").lower(): v
        for k, v in env_settings.items() if k != "CREDIT_ENGINE_HOME"
    })  # fmt: skip
    store = OperationalStore.from_settings(settings)
    store.create_schema()
    stamp = int(time.time())
    keys = KeyStore(store)
    key = keys.create(f"bench-{stamp}", "inspection_system", created_by="bench")[1]
    batch_keys = [
        keys.create(f"bench-{stamp}-b{i}", "inspection_system", created_by="bench")[1]
        for i in range(3)
    ]
    env = {**os.environ, **env_settings, "PATH": f"{BIN}:{os.environ['PATH']}"}
    ports = {"engine": _port(), "trivial": _port()}
    logs = Path(tempfile.mkdtemp(prefix="bench_hardening_"))
    procs = {
        "engine": [str(BIN / "credit-engine"), "serve", "--host", "127.0.0.1",
                   "--port", str(ports["engine"]), "--log-level", "warning"],
        "trivial": [str(BIN / "uvicorn"), "benchmarks._trivial_app:app",
                    "--host", "127.0.0.1", "--port", str(ports["trivial"]),
                    "--log-level", "warning", "--no-access-log"],
    }  # fmt: skip
    running = {}
    results: dict[str, object] = {}
    try:
        for name, cmd in procs.items():
            log = (logs / f"{name}.log").open("w")
            running[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=log
            )
        engine_url = f"http://127.0.0.1:{ports['engine']}"
        trivial_url = f"http://127.0.0.1:{ports['trivial']}"
        _wait(f"{engine_url}/readyz")
        _wait(f"{trivial_url}/docs")
        # Ready is not settled: the console prepares its overview figures in
        # the background after the load. Measure the steady state.
        settled = _settle(running["engine"].pid)
        print(f"engine idle after {settled:.0f} s", flush=True)
        auth = (f"Authorization: Bearer {key}",)
        models = httpx.get(
            f"{engine_url}/v1/models", headers={"Authorization": f"Bearer {key}"}
        )
        covered = models.json()["serving"]
        codes = _codes(settings, args.past)
        body = json.dumps({"uscc": codes[len(codes) // 2]})

        # 1. throughput beside the trivial endpoint
        one: dict[str, object] = {}
        targets = [("engine", engine_url, auth), ("trivial", trivial_url, ())]
        if "throughput" not in scenarios:
            targets = []
        elif args.skip_trivial:
            targets = targets[:1]
        for name, url, headers in targets:
            trace = args.trace if name == "engine" else None
            one[name] = {
                "open_loop": _load(url, "/v1/scores", body=body, headers=headers,
                                   rate=args.rate, duration=args.duration,
                                   trace=trace),
                "capacity": _load(url, "/v1/scores", body=body, headers=headers,
                                  mode="closed", duration=args.duration / 2,
                                  concurrency=args.concurrency),
            }  # fmt: skip
            print(name, json.dumps(one[name]), flush=True)
        if len(targets) == 2:  # noqa: PLR2004 - engine and trivial
            one["capacity_ratio"] = round(
                one["engine"]["capacity"]["rps"]  # type: ignore[index]
                / one["trivial"]["capacity"]["rps"],  # type: ignore[index]
                2,
            )
        if targets:
            results["scores_500"] = one

        # 2. single scores while three 1,000-code past-date batches run
        if "batches" in scenarios:
            batch_seconds: list[float] = []
            statuses: list[int] = []

            def batch(token: str, chunk: list[str]) -> None:
                start = time.perf_counter()
                r = httpx.post(
                    f"{engine_url}/v1/scores:batch",
                    json={"usccs": chunk, "as_of": args.past.isoformat()},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=600,
                )
                statuses.append(r.status_code)
                batch_seconds.append(time.perf_counter() - start)

            threads = [
                threading.Thread(
                    target=batch, args=(t, codes[i * 1000 : (i + 1) * 1000])
                )
                for i, t in enumerate(batch_keys)
            ]
            for t in threads:
                t.start()
            side = _load(
                engine_url, "/v1/scores", body=body, headers=auth,
                rate=args.side_rate, duration=args.duration, warmup=0,
            )  # fmt: skip
            for t in threads:
                t.join()
            engine_pid = running["engine"].pid
            results["scores_beside_batches"] = {
                "single_scores": side,
                "batch_seconds": [round(s, 1) for s in batch_seconds],
                "batch_statuses": statuses,
                "serving_rss_mib": round(_rss_mib(engine_pid)),
                "worker_rss_mib": [round(_rss_mib(c)) for c in _children(engine_pid)],
            }
            print("batches", json.dumps(results["scores_beside_batches"]), flush=True)

        # 3. /readyz and scores while another process holds the write lock 10 s
        if "lock" in scenarios:
            db = settings.database_url.removeprefix("sqlite:///")
            holder = subprocess.Popen([sys.executable, "-c", _HOLDER, db, "10"],
                                      stdout=subprocess.PIPE, text=True)  # fmt: skip
            assert holder.stdout is not None
            holder.stdout.readline()
            box: dict[str, dict] = {}
            scorer = threading.Thread(target=lambda: box.update(scores=_load(
                engine_url, "/v1/scores", body=body, headers=auth, rate=args.side_rate,
                duration=10, warmup=0)))  # fmt: skip
            scorer.start()
            ready = _load(engine_url, "/readyz", method="GET", rate=args.side_rate,
                          duration=10, warmup=0)  # fmt: skip
            scorer.join()
            holder.wait(timeout=30)
            results["under_write_lock"] = {"readyz": ready, "scores": box.get("scores")}
            print("lock", json.dumps(results["under_write_lock"]), flush=True)
        results["serving"] = {k: covered.get(k) for k in ("as_of", "enterprises")}
    finally:
        for proc in running.values():
            proc.terminate()
        for proc in running.values():
            proc.wait(timeout=30)
    report = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.platform()}",
        "load_average_at_end": os.getloadavg(),
        "results": results,
    }
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of process ``pid`` so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """Child processes of ``pid`` (the API's past-date workers), from /proc."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(c) for c in text)
    return out


def _family_cpu(pid: int) -> float:
    """CPU time of ``pid`` and its living children."""
    total = _cpu_seconds(pid)
    for child in _children(pid):
        try:
            total += _cpu_seconds(child)
        except FileNotFoundError:  # ended meanwhile
            continue
    return total


def _rss_mib(pid: int) -> float:
    """Resident memory of ``pid`` in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _fresh_copy(source: Path) -> Path:
    """Copy a SQLite store into a new temporary file with SQLite's backup.

    A file copied with ``cp`` next to the ``-wal`` of an earlier run would
    take that log's frames as its own (and a store whose log outgrew every
    checkpoint slows each commit down): the backup writes one consistent file.
    """
    import sqlite3

    target = Path(tempfile.mkdtemp(prefix="bench_hardening_store_")) / "store.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return target


def _settle(pid: int, *, idle: float = 0.05, limit: float = 300.0) -> float:
    """Wait until ``pid`` and its children use under ``idle`` s of CPU 2 s in a row.

    The children are the past-date workers, warmed in the background after
    the model's load.
    """
    start = time.monotonic()
    quiet = 0
    last = _family_cpu(pid)
    while quiet < 2 and time.monotonic() - start < limit:  # noqa: PLR2004
        time.sleep(1)
        now = _family_cpu(pid)
        quiet = quiet + 1 if now - last < idle else 0
        last = now
    return time.monotonic() - start


def _codes(settings: object, day: dt.date) -> list[str]:
    """3,000 USCCs of enterprises known at ``day`` (from the lake)."""
    from credit_engine.rating import RatingEngine

    engine = RatingEngine(settings)  # type: ignore[arg-type]
    frame = engine.features(day)
    return [str(u) for u in frame["uscc"].iloc[:3000]]


if __name__ == "__main__":
    main()
