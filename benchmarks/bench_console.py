"""Benchmark: the console on a 100,000-enterprise zone, and its cost to scoring.

Part 1, **console pages**. A store of 100,000 enterprises is fabricated by
replicating the demo's stored decisions (``make demo``'s two rating runs, 10,000
enterprises each) onto 100,000 codes (the demo's own 10,000 plus 90,000
synthetic ones) at four rating dates, written with ``record_run`` like a rating
job. The enterprise directory (names, districts, trade modes) is the demo lake's
for its 10,000 and synthetic for the others (``benchmarks/_console_app.py``).
One uvicorn process serves the demo's champion with the console mounted
(``credit-engine serve``'s app); a client on loopback requests, one at a time,
the zone overview (first request cold, then warm, and every pair of dates),
enterprise profiles (demo codes: decided live by the service; synthetic codes:
the stored decision), list pages and name searches. Figures are the time from
sending a request to its last byte on loopback (server time plus well under a
millisecond of client): p50, p95, max.

Part 2, **``POST /v1/scores`` with and without the console**: ``credit-engine
serve`` on the demo home with ``CREDIT_ENGINE_CONSOLE_ENABLED=true`` and
``=false``, driven by ``benchmarks/_load.py`` as in ``bench_api.py`` (open loop
at ``--rate`` req/s, then a closed loop of 8 clients), alternating A/B/A/B so
that drift of the shared machine hits both.

Usage::

    python benchmarks/bench_console.py --home .credit-engine [--enterprises 100000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_api import _load, _port, _wait  # noqa: E402

DATES = (dt.date(2025, 9, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31),
         dt.date(2026, 6, 30))  # fmt: skip


def synthetic_usccs(n: int, taken: set[str]) -> list[str]:
    from credit_engine.uscc import USCC_ALPHABET, check_character

    out: list[str] = []
    i = 0
    while len(out) < n:
        digits, k = [], i
        for _ in range(9):
            k, r = divmod(k, 31)
            digits.append(USCC_ALPHABET[r])
        body = "91350299" + "".join(reversed(digits))
        code = body + check_character(body)
        if code not in taken:
            out.append(code)
        i += 1
    return out


def fabricate(demo_home: Path, home: Path, n: int) -> dict:
    """A copy of the demo home whose store holds ``n`` enterprises at four dates."""
    from credit_engine.config import Settings
    from credit_engine.store import OperationalStore, RatingRun

    for part in ("lake", "quarantine", "mlflow", "features", "reports"):
        if (demo_home / part).exists():
            shutil.copytree(demo_home / part, home / part, symlinks=True)
    demo = OperationalStore.from_settings(Settings(home=demo_home))
    runs = demo.runs()
    frames = [demo.decisions_at(d) for d in demo.rating_dates()]
    demo.dispose()
    settings = Settings(home=home)
    store = OperationalStore.from_settings(settings)
    base = frames[-1]
    demo_codes = list(base["uscc"])
    extra = synthetic_usccs(n - len(demo_codes), set(demo_codes))
    codes = demo_codes + extra
    run_meta = runs.iloc[-1]
    timings = {}
    for i, day in enumerate(DATES):
        source = frames[i % len(frames)].reset_index(drop=True)
        picks = np.resize(np.arange(len(source)), n)
        np.random.default_rng(i).shuffle(picks[len(demo_codes) :])
        frame = source.iloc[picks].reset_index(drop=True)
        frame["uscc"] = codes
        frame["override_id"] = None
        frame = frame.drop(columns=["decision_id", "run_id", "as_of"], errors="ignore")
        run = RatingRun(
            as_of=day, started_at=dt.datetime.now(dt.UTC),
            finished_at=dt.datetime.now(dt.UTC), actor="bench_console",
            model_name=str(run_meta["model_name"]),
            model_version=str(run_meta["model_version"]),
            policy_name=str(run_meta["policy_name"]),
            policy_version=int(run_meta["policy_version"]),
            rule_sets=dict(run_meta["rule_sets"]), lake_state="bench",
            summary={"rated": n},
        )  # fmt: skip
        start = time.perf_counter()
        store.record_run(run, frame)
        timings[day.isoformat()] = round(time.perf_counter() - start, 1)
    store.dispose()
    return {"codes": codes, "demo_codes": demo_codes, "record_run_s": timings}


def _wait_fast(url: str, seconds: float = 600) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer 200 in {seconds} s")


def _side_home(
    fabricated_home: Path, into: Path, revision: str | None
) -> tuple[Path, str]:
    """A copy of the fabricated store (links to the rest), at ``revision``.

    ``None``: upgraded to this checkout's head (what ``serve`` would do at
    start, done before the clock starts). A baseline checkout's older head:
    downgraded to it with this checkout's migrations.
    """
    from alembic import command

    from credit_engine.auth import KeyStore
    from credit_engine.config import Settings
    from credit_engine.store import OperationalStore
    from credit_engine.store._migrations import alembic_config

    into.mkdir(parents=True)
    for part in fabricated_home.iterdir():
        if part.name.startswith("credit_engine.db"):
            shutil.copy2(part, into / part.name)
        elif part.name != "console_bench_server.log":
            (into / part.name).symlink_to(part)
    store = OperationalStore.from_settings(Settings(home=into))  # upgrades
    key = KeyStore(store).create(f"bench-{int(time.time())}", "supervisor",
                                 created_by="bench_console")[1]  # fmt: skip
    if revision is not None:
        with store.engine.connect() as conn:
            command.downgrade(alembic_config(conn), revision)
            conn.commit()
    store.dispose()
    return into, key


def _head_of(code: Path) -> str:
    text = (code / "credit_engine" / "store" / "_migrations.py").read_text()
    return text.split('SCHEMA_REVISION = "', 1)[1].split('"', 1)[0]


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"n": len(ordered), "p50_ms": round(pick(0.5), 1),
            "p95_ms": round(pick(0.95), 1), "max_ms": round(ordered[-1], 1),
            "mean_ms": round(statistics.fmean(ordered), 1)}  # fmt: skip


def _timed(client: httpx.Client, path: str) -> float:
    start = time.perf_counter()
    r = client.get(path)
    elapsed = (time.perf_counter() - start) * 1000
    if r.status_code != 200:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:300]}")
    return elapsed


def _start_timings(client: httpx.Client, spawned: float) -> dict:
    """From the server's spawn: first /healthz, /readyz, and the overview's readiness.

    While the overview is being prepared, /healthz and /readyz are timed every
    0.2 s (they must answer at once) and the overview requested every 0.5 s:
    the code under test answers "preparing" at once; older code blocks the
    request until its figures are counted.
    """
    out: dict = {}
    first = client.get("/console/overview")
    out["overview_first_request_ms"] = round(first.elapsed.total_seconds() * 1000, 1)
    out["overview_first_request_preparing"] = 'id="overview-preparing"' in first.text
    health: list[float] = []
    ready: list[float] = []
    polls: list[float] = []
    html = first.text
    while 'id="migration-table"' not in html:
        for _ in range(3):
            health.append(_timed(client, "/healthz"))
            ready.append(_timed(client, "/readyz"))
            time.sleep(0.2)
        start = time.perf_counter()
        html = client.get("/console/overview").text
        polls.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() - spawned > 900:
            raise RuntimeError("the overview was not ready 15 min after start")
    out["overview_complete_after_spawn_s"] = round(time.perf_counter() - spawned, 1)
    if health:
        out["healthz_while_preparing"] = _stats(health)
        out["readyz_while_preparing"] = _stats(ready)
        out["overview_while_preparing"] = _stats(polls)
    status = client.get("/console/overview/status")
    if status.status_code == 200:
        out["preparer"] = status.json().get("preparer")
    return out


def _until_complete(
    client: httpx.Client, path: str, marker: str, health: list[float]
) -> tuple[float, float]:
    """Time the first request of ``path`` and until its page shows ``marker``.

    Meanwhile /healthz is timed (appended to ``health``).
    """
    start = time.perf_counter()
    first = _timed(client, path)
    while marker not in client.get(path).text:
        if time.perf_counter() - start > 300:
            raise RuntimeError(f"{path}: no {marker!r} after 300 s")
        health.append(_timed(client, "/healthz"))
        time.sleep(0.1)
    return first, (time.perf_counter() - start) * 1000


def console_pages(
    home: Path,
    fabricated: dict,
    rounds: int,
    code: Path = ROOT,
    key: str | None = None,
) -> dict:
    """Serve ``home`` with the code checked out at ``code`` and time the pages.

    ``key``: a supervisor key already in the store (a baseline's store must not
    be opened by this checkout, which would upgrade it).
    """
    from credit_engine.auth import KeyStore
    from credit_engine.config import Settings
    from credit_engine.store import OperationalStore

    if key is None:  # with this checkout (it upgrades the store to its head)
        store = OperationalStore.from_settings(Settings(home=home))
        key = KeyStore(store).create(f"bench-{int(time.time())}", "supervisor",
                                     created_by="bench_console")[1]  # fmt: skip
        store.dispose()
    port = _port()
    env = {**os.environ, "CREDIT_ENGINE_HOME": str(home), "PYTHONPATH": str(code),
           "BENCH_CONSOLE_CODES": str(len(fabricated["codes"]))}  # fmt: skip
    log = open(home / "console_bench_server.log", "w")  # noqa: SIM115
    spawned = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "benchmarks._console_app:app",
         "--port", str(port), "--log-level", "info", "--no-access-log"],
        cwd=code, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        results: dict[str, Any] = {"code": str(code)}
        _wait_fast(f"{base}/healthz")
        results["healthz_first_after_spawn_s"] = round(time.perf_counter() - spawned, 2)
        _wait_fast(f"{base}/readyz")
        results["readyz_after_spawn_s"] = round(time.perf_counter() - spawned, 2)
        client = httpx.Client(base_url=base, timeout=600, follow_redirects=False)
        client.get("/console/login")
        pre = client.cookies.get("ce_console_presession")
        r = client.post("/console/login", data={"csrf_token": pre, "api_key": key})
        assert r.status_code == 303, r.text[:300]
        results.update(_start_timings(client, spawned))
        results["overview"] = _stats([_timed(client, "/console/overview")
                                      for _ in range(rounds)])  # fmt: skip
        pairs = [(a, b) for a in DATES for b in DATES if a < b]
        health: list[float] = []
        timed = [_until_complete(client, f"/console/overview?from={a}&to={b}",
                                 'id="migration-table"', health)
                 for b, a in pairs]  # fmt: skip
        if health:
            results["healthz_while_a_pair_is_counted"] = _stats(health)
        again = [_timed(client, f"/console/overview?from={a}&to={b}") for b, a in pairs]
        results["overview_date_pairs_first_request"] = _stats([t[0] for t in timed])
        results["overview_date_pairs_until_shown"] = _stats([t[1] for t in timed])
        results["overview_date_pairs_again"] = _stats(again)
        rng = random.Random(7)
        demo = rng.sample(fabricated["demo_codes"], rounds)
        synthetic = rng.sample(
            fabricated["codes"][len(fabricated["demo_codes"]) :], rounds
        )
        results["profile_live"] = _stats([_timed(client, f"/console/enterprises/{c}")
                                          for c in demo])  # fmt: skip
        results["profile_stored"] = _stats([_timed(client, f"/console/enterprises/{c}")
                                            for c in synthetic])  # fmt: skip
        pages = [rng.randrange(1, 1000) for _ in range(rounds)]
        results["list_page"] = _stats([_timed(client, f"/console/enterprises?page={p}")
                                       for p in pages])  # fmt: skip
        results["list_filtered"] = _stats([
            _timed(client, f"/console/enterprises?tier=D&decided_by=STATUTORY&page={p}")
            for p in pages[: rounds // 2]])  # fmt: skip
        filters = ("tier=A", "decided_by=MODEL", "green=yes", "tier=B&green=yes")
        results["list_other_filters"] = _stats([
            _timed(client, f"/console/enterprises?{f}&page={p}")
            for f in filters for p in pages[: rounds // 4]])  # fmt: skip
        results["search_name"] = _stats([_timed(client, f"/console/enterprises?q={q}")
                                         for q in ("贸易", "电子", "科技", "厦门华",
                                                   "9135020")])  # fmt: skip
        return results
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def scores_with_and_without(demo_home: Path, args: argparse.Namespace) -> dict:
    from credit_engine.auth import KeyStore
    from credit_engine.config import Settings
    from credit_engine.store import OperationalStore

    settings = Settings(home=demo_home)
    store = OperationalStore.from_settings(settings)
    key = KeyStore(store).create(f"bench-{int(time.time())}", "inspection_system",
                                 created_by="bench_console")[1]  # fmt: skip
    uscc = str(
        store.decisions_at(store.rating_dates()[-1], limit=1, offset=5000)["uscc"][0]
    )
    store.dispose()
    body = json.dumps({"uscc": uscc})
    out: dict[str, list] = {"with_console": [], "without_console": []}
    for _round in range(args.ab_rounds):
        for name, enabled in (("with_console", "true"), ("without_console", "false")):
            port = _port()
            env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}",
                   "CREDIT_ENGINE_CONSOLE_ENABLED": enabled}  # fmt: skip
            proc = subprocess.Popen(
                [str(BIN / "credit-engine"), "serve", "--home", str(demo_home),
                 "--port", str(port), "--log-level", "warning"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}"
                _wait(f"{url}/readyz")
                headers = [f"Authorization: Bearer {key}"]
                opened = _load(url, "/v1/scores", body, headers, args, "open")
                closed = _load(url, "/v1/scores", body, headers, args, "closed")
                out[name].append({"open_loop": opened, "throughput": closed})
                # Checked after the load (the console's own work is not timed).
                mounted = httpx.get(f"{url}/console/login").status_code == 200
                assert mounted == (enabled == "true"), (name, mounted)
                print(name, json.dumps(out[name][-1]), flush=True)
            finally:
                proc.terminate()
                proc.wait(timeout=30)

    def median(name: str, part: str, field: str) -> float:
        return float(statistics.median(r[part][field] for r in out[name]))

    summary = {
        side: {"p50_ms": median(side, "open_loop", "p50_ms"),
               "p99_ms": median(side, "open_loop", "p99_ms"),
               "errors": sum(r["open_loop"]["errors"] for r in out[side]),
               "rps": median(side, "throughput", "rps")}
        for side in out
    }  # fmt: skip
    summary["ratio_with_over_without"] = {
        k: round(summary["with_console"][k] / summary["without_console"][k], 3)
        for k in ("p50_ms", "p99_ms", "rps")
    }
    return {"rounds": out, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=Path(".credit-engine"))
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--duration", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--throughput-duration", type=float, default=15)
    parser.add_argument("--ab-rounds", type=int, default=2)
    parser.add_argument("--parts", default="pages,scores")
    parser.add_argument(
        "--baseline-code",
        type=Path,
        default=None,
        help="a checkout to serve the same store beside this one "
        "(pages, alternately); its store is downgraded to its head",
    )
    parser.add_argument(
        "--page-rounds",
        type=int,
        default=1,
        help="rounds of the pages part per checkout (A/B, B/A, ...)",
    )
    parser.add_argument(
        "--fabricated",
        type=Path,
        default=None,
        help="reuse a home fabricated before (bench_codes.json in it)",
    )
    args = parser.parse_args()
    demo_home = args.home.absolute()
    report: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
                    "load_average_at_start": os.getloadavg(),
                    "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "python": platform.python_version(),
                    "enterprises": args.enterprises}  # fmt: skip
    parts = args.parts.split(",")
    if "pages" in parts:
        with tempfile.TemporaryDirectory(prefix="bench_console_") as tmp:
            home = Path(tmp) / "fabricated"
            if args.fabricated is not None:
                home = args.fabricated.absolute()
                fabricated = json.loads((home / "bench_codes.json").read_text())
            else:
                home.mkdir()
                start = time.perf_counter()
                fabricated = fabricate(demo_home, home, args.enterprises)
                report["fabricate_s"] = round(time.perf_counter() - start, 1)
                report["record_run_s"] = fabricated["record_run_s"]
                (home / "bench_codes.json").write_text(json.dumps(fabricated))
            sides = [("this", ROOT, None)]
            if args.baseline_code is not None:
                code = args.baseline_code.absolute()
                sides.append(("baseline", code, _head_of(code)))
            report["pages"] = {name: [] for name, _, _ in sides}
            for i in range(args.page_rounds):
                for name, code, revision in sides[:: 1 if i % 2 == 0 else -1]:
                    side, key = _side_home(home, Path(tmp) / f"{name}-{i}", revision)
                    result = console_pages(side, fabricated, args.rounds, code, key)
                    report["pages"][name].append(result)
                    print(name, json.dumps(result, indent=1), flush=True)
                    shutil.rmtree(side, ignore_errors=True)
    if "scores" in parts:
        copy = Path(tempfile.mkdtemp(prefix="bench_console_scores_"))
        try:
            for part in ("lake", "quarantine", "mlflow", "features", "reports"):
                if (demo_home / part).exists():
                    shutil.copytree(demo_home / part, copy / part, symlinks=True)
            shutil.copy2(demo_home / "credit_engine.db", copy / "credit_engine.db")
            report["scores"] = scores_with_and_without(copy, args)
        finally:
            shutil.rmtree(copy, ignore_errors=True)
    report["load_average_at_end"] = os.getloadavg()
    print(
        json.dumps(
            {k: v for k, v in report.items() if k != "scores"}
            | ({"scores": report["scores"]["summary"]} if "scores" in report else {}),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
