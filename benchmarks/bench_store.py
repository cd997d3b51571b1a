"""Benchmark: record_run of 100,000 decisions into the operational store.

Times :meth:`OperationalStore.record_run` (validation, conversion and the one
transaction) on a fresh SQLite file and, when a PostgreSQL test server is
available (``bash scripts/postgres-for-tests.sh`` or
``CREDIT_ENGINE_TEST_POSTGRES_URL``), on a fresh PostgreSQL database; then times
reading the run back with ``decisions_at``. Prints rows per second.

Usage::

    .venv/bin/python benchmarks/bench_store.py [--rows 100000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from credit_engine.store import OperationalStore, RatingRun
from credit_engine.uscc import USCC_ALPHABET, check_character

REPO = Path(__file__).resolve().parents[1]
URL_FILE = REPO / ".credit-engine-test" / "postgres" / "url"
AS_OF = dt.date(2025, 9, 30)


def usccs(n: int) -> list[str]:
    out = []
    for i in range(n):
        digits, k = [], i
        for _ in range(9):
            k, r = divmod(k, 31)
            digits.append(USCC_ALPHABET[r])
        body = "91350200" + "".join(reversed(digits))
        out.append(body + check_character(body))
    return out


def decisions(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tiers = rng.choice(list("ABCD"), n, p=[0.2, 0.5, 0.2, 0.1])
    proba = rng.beta(1, 30, n)
    return pd.DataFrame(
        {
            "uscc": usccs(n),
            "tier": tiers,
            "grade": rng.choice([f"G{i}" for i in range(1, 8)], n),
            "pd": proba,
            "score": 600 - 50 * np.log2(proba / (1 - proba)),
            "in_default": rng.random(n) < 0.01,
            "green_channel": tiers == "A",
            "decided_by": rng.choice(["MODEL", "POLICY", "STATUTORY"], n),
            "statutory_ceiling": np.where(rng.random(n) < 0.05, "C", None),
            "model_tier": tiers,
            "inspection_rate_factor": rng.choice([0.2, 1.0, 1.5, 3.0], n),
            "joint_punishment": tiers == "D",
            "joint_incentive": tiers == "A",
            "measures": [["M_STD", "M_DOCS"]] * n,
            "reasons": [["R_GRADE", "R_TAX_ON_TIME"]] * n,
            "facts": [
                [{"code": "R_GRADE", "rule_set": "CUSTOMS_282", "since": "2024-01-01"}]
            ]
            * n,
        }
    )


def run(as_of: dt.date) -> RatingRun:
    now = dt.datetime.now(dt.UTC)
    return RatingRun(
        as_of=as_of,
        started_at=now,
        finished_at=now,
        actor="bench",
        model_name="credit_engine.sme_pd",
        model_version="1",
        policy_name="treatment",
        policy_version=1,
        rule_sets={"CUSTOMS": "CUSTOMS_282"},
        lake_state="bench",
    )


@contextlib.contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'store.db'}"


@contextlib.contextmanager
def postgres_url(server: str) -> Iterator[str]:
    name = f"ce_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def postgres_server() -> str | None:
    url = os.environ.get("CREDIT_ENGINE_TEST_POSTGRES_URL", "").strip()
    if not url and URL_FILE.is_file():
        url = URL_FILE.read_text().strip()
    if not url:
        return None
    url = str(OperationalStore(url).url.render_as_string(hide_password=False))
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return None
    return url


def bench(url: str, frame: pd.DataFrame, rounds: int) -> dict[str, Any]:
    write, read = [], []
    with OperationalStore(url) as store:
        store.create_schema()
        for i in range(rounds):
            as_of = AS_OF + dt.timedelta(days=i)
            start = time.perf_counter()
            store.record_run(run(as_of), frame)
            write.append(time.perf_counter() - start)
            start = time.perf_counter()
            got = store.decisions_at(as_of)
            read.append(time.perf_counter() - start)
            assert len(got) == len(frame)
    best_write, best_read = min(write), min(read)
    return {
        "rows": len(frame),
        "record_run_s": [round(x, 3) for x in write],
        "record_run_rows_per_s": round(len(frame) / best_write),
        "decisions_at_s": [round(x, 3) for x in read],
        "decisions_at_rows_per_s": round(len(frame) / best_read),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    frame = decisions(args.rows)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}",
    }
    with sqlite_url() as url:
        results["sqlite"] = bench(url, frame, args.rounds)
    server = postgres_server()
    if server is None:
        results["postgresql"] = (
            "skipped: no server (bash scripts/postgres-for-tests.sh)"
        )
    else:
        with postgres_url(server) as url:
            results["postgresql"] = bench(url, frame, args.rounds)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
