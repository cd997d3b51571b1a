"""Benchmark: POST /v1/scores under load, side by side with two baselines.

Three servers run on loopback, each one uvicorn process on the same settings:

* **engine**: ``credit-engine serve`` (champion loaded, audit log on: every
  decision is appended to the hash-chained log before the answer);
* **trivial**: a FastAPI endpoint parsing the same body and answering a constant;
* **mlflow**: stock ``mlflow models serve`` of the same champion, scoring the
  same enterprise's feature row (``/invocations``, one worker).

For each, a separate load process (benchmarks/_load.py) runs an open loop at
``--rate`` requests per second for ``--duration`` seconds (p50/p99 from the
scheduled start of each request), then a closed loop of ``--concurrency``
clients for ``--throughput-duration`` seconds (sustained requests per second).

Usage::

    python benchmarks/bench_api.py --home .credit-engine
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, seconds: float = 600) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not become ready")


def _load(url: str, path: str, body: str, headers: list[str], args, mode: str) -> dict:
    cmd = [sys.executable, str(ROOT / "benchmarks" / "_load.py"), "--url", url,
           "--path", path, "--body", body, "--mode", mode]  # fmt: skip
    for h in headers:
        cmd += ["--header", h]
    if mode == "open":
        cmd += ["--rate", str(args.rate), "--duration", str(args.duration)]
    else:
        cmd += ["--concurrency", str(args.concurrency),
                "--duration", str(args.throughput_duration)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(".credit-engine"))
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--throughput-duration", type=float, default=20)
    parser.add_argument(
        "--targets", default="engine,trivial,mlflow", help="Comma-separated subset."
    )
    args = parser.parse_args()
    home = args.home.absolute()

    from credit_engine.auth import KeyStore
    from credit_engine.config import Settings
    from credit_engine.rating import RatingEngine
    from credit_engine.store import OperationalStore

    settings = Settings(home=home)
    store = OperationalStore.from_settings(settings)
    key = KeyStore(store).create(f"bench-{int(time.time())}", "inspection_system",
                                 created_by="bench_api")[1]  # fmt: skip
    engine = RatingEngine(settings, store=store)
    today = dt.datetime.now(dt.UTC).date()
    features = engine.features(today)
    uscc = str(features["uscc"].iloc[len(features) // 2])
    row = features[features["uscc"] == uscc][engine.loaded.model.input_columns()]
    mlflow_body = json.dumps(
        {"dataframe_split": json.loads(row.to_json(orient="split", index=False))}
    )
    engine_body = json.dumps({"uscc": uscc})

    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
           "MLFLOW_TRACKING_URI": settings.mlflow_tracking_uri}  # fmt: skip
    ports = {name: _port() for name in ("engine", "trivial", "mlflow")}
    logs = Path(tempfile.mkdtemp(prefix="bench_api_"))
    procs = {
        "engine": [str(BIN / "credit-engine"), "serve", "--home", str(home),
                   "--port", str(ports["engine"]), "--log-level", "warning"],
        "trivial": [str(BIN / "uvicorn"), "benchmarks._trivial_app:app",
                    "--port", str(ports["trivial"]), "--log-level", "warning",
                    "--no-access-log"],
        "mlflow": [str(BIN / "mlflow"), "models", "serve", "-m",
                   f"models:/{engine.loaded.name}@champion", "--env-manager", "local",
                   "-p", str(ports["mlflow"]), "-w", "1"],
    }  # fmt: skip
    running = {}
    try:
        for name, cmd in procs.items():
            log = (logs / f"{name}.log").open("w")
            running[name] = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=log
            )
        _wait(f"http://127.0.0.1:{ports['engine']}/readyz")
        _wait(f"http://127.0.0.1:{ports['trivial']}/docs")
        _wait(f"http://127.0.0.1:{ports['mlflow']}/ping")
        targets = {
            "engine": ("/v1/scores", engine_body, [f"Authorization: Bearer {key}"]),
            "trivial": ("/v1/scores", engine_body, []),
            "mlflow": ("/invocations", mlflow_body, []),
        }
        results: dict[str, dict] = {}
        chosen = args.targets.split(",")
        for name, (path, body, headers) in targets.items():
            if name not in chosen:
                continue
            url = f"http://127.0.0.1:{ports[name]}"
            results[name] = {
                "open_loop": _load(url, path, body, headers, args, "open"),
                "throughput": _load(url, path, body, headers, args, "closed"),
            }
            print(name, json.dumps(results[name]), flush=True)
    finally:
        for proc in running.values():
            proc.terminate()
        for proc in running.values():
            proc.wait(timeout=30)
    if set(results) != {"engine", "trivial", "mlflow"}:
        print(json.dumps(results, indent=2))
        return
    report = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "uscc": uscc,
        "rate": args.rate,
        "duration_s": args.duration,
        "results": results,
        "throughput_vs_mlflow": round(
            results["engine"]["throughput"]["rps"]
            / results["mlflow"]["throughput"]["rps"],
            1,
        ),
        "throughput_vs_trivial": round(
            results["engine"]["throughput"]["rps"]
            / results["trivial"]["throughput"]["rps"],
            2,
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
