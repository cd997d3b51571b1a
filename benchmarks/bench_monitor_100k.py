"""Benchmark: ``monitor`` and ``warnings`` for one date on a 100,000-enterprise zone.

Issue 12's targets: ``credit-engine monitor`` for one date at most 5 minutes,
``credit-engine warnings`` at most 60 s, on the 100,000-enterprise zone.

The zone is built cheaply from a finished demo home (10,000 enterprises,
``credit-engine demo``), never written into:

1. **copy** the home (``cp -a``) to ``--work/home10k`` (the 10k reference, so
   that its monitoring runs and warnings do not land in the source) and to
   ``--work/home100k`` without its lake, quarantine, reports and store;
   MLflow's absolute artifact paths are pointed at the copies;
2. **replicate** the lake ``--copies`` times: every committed batch, every
   table, each copy with character 9 of the USCC (the first of the
   organisation code; the district, characters 3-8, kept) replaced by the copy
   number and the check character recomputed. Not a new simulation: the same
   records ten times under other codes, enough for timings (counterparty codes
   inside the records are not remapped);
3. **the store**: by default (``--store replicate``) the 10k store with every
   decision written again under each copy's code (a copy's records are its
   original's, so rating it gives the same decision; ``n_rated`` x10), which
   takes a minute or two; or (``--store rate``) rating the 100k zone with the
   copied champions (and the other versions as shadow) at every date the demo
   rated (``rate_dates``, one feature query per batch of dates), timed: about
   20 minutes of features per batch of three dates and 2-3 minutes per run on
   a loaded 2-core machine, 18 runs;
4. **time** side by side on the 10k copy and the 100k home, alternating:
   ``watch.monitor`` at ``--as-of`` (what ``credit-engine monitor`` runs, MLflow
   logging included) in this process, per step; and ``credit-engine warnings``
   end to end in a subprocess on a copy of the store
   (``bench_warnings.run``).

Steps 1-3 are skipped when already done (delete ``--work`` to rebuild).

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_monitor_100k.py \
        --source /tmp/harden-home --work /tmp/monitor-100k \
        [--as-of 2026-09-30] [--store replicate|rate] [--rounds 1] [--json F]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_warnings import run as run_warnings  # type: ignore[import-not-found]  # noqa: E402

from credit_engine.config import Settings  # noqa: E402
from credit_engine.data import Lake  # noqa: E402
from credit_engine.pipeline import rate_dates  # noqa: E402
from credit_engine.store import OperationalStore  # noqa: E402
from credit_engine.uscc import check_character  # noqa: E402
from credit_engine.watch import monitor  # noqa: E402

_SKIP = ("lake", "quarantine", "staging", "reports", "credit_engine.db")
_CHARSET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


def _copy(source: Path, target: Path, *, skip: tuple[str, ...] = ()) -> None:
    """``cp -a`` of a home (without the top-level entries in ``skip``)."""
    target.mkdir(parents=True)
    for entry in source.iterdir():
        dropped = entry.name in skip or (
            bool(skip) and entry.name.startswith("credit_engine.db")
        )
        if dropped:
            continue
        subprocess.run(["cp", "-a", str(entry), str(target / entry.name)], check=True)
    _repoint_mlflow(source, target)


def _repoint_mlflow(source: Path, target: Path) -> None:
    """Point MLflow's absolute artifact locations at the copy's folders."""
    for db in target.rglob("*.db"):
        if db.name.startswith("credit_engine"):
            continue
        with sqlite3.connect(db) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            for table, column in (
                ("experiments", "artifact_location"),
                ("runs", "artifact_uri"),
                ("model_versions", "source"),
                ("model_versions", "storage_location"),
                ("logged_models", "artifact_location"),
            ):
                if table not in tables:
                    continue
                cols = {r[1] for r in con.execute(f"PRAGMA table_info({table})")}
                if column in cols:
                    con.execute(
                        f"UPDATE {table} SET {column} = "  # noqa: S608 - fixed names
                        f"replace({column}, ?, ?)",
                        (str(source), str(target)),
                    )


def _new_code(code: str, k: int) -> str:
    if len(code) != 18:
        return code
    body = code[:8] + str(k) + code[9:17]
    if not set(body) <= _CHARSET:
        return code
    return body + check_character(body)


def _replicate(source: Settings, target: Settings, copies: int) -> dict[str, object]:
    """Write ``copies`` remapped copies of every committed batch of the lake."""
    import duckdb
    import pandas as pd

    start = time.perf_counter()
    lake = Lake(source.lake_dir)
    batches = lake.committed_batches()
    con = duckdb.connect()
    con.execute("SET threads=2")
    files = [
        str(source.lake_dir / f)
        for b in batches
        for c in b.tables.values()
        for f in c.lake_files
    ]
    listed = ", ".join(f"'{f}'" for f in files)
    codes = [
        u
        for (u,) in con.execute(
            f"SELECT DISTINCT uscc FROM read_parquet([{listed}], union_by_name=true)"
        ).fetchall()
        if u is not None
    ]
    mapping = pd.DataFrame(
        [(u, k, _new_code(u, k)) for u in codes for k in range(copies)],
        columns=["old", "k", "new"],
    )
    con.register("_map", mapping)
    rows = 0
    for batch in batches:
        tables = {}
        for name, commit in batch.tables.items():
            parts = [str(source.lake_dir / f) for f in commit.lake_files]
            rel = f"{commit.department}/{name}/batch={batch.batch_id}x{copies}"
            (target.lake_dir / rel).mkdir(parents=True, exist_ok=True)
            lake_files = []
            if parts:
                sql_parts = ", ".join(f"'{p}'" for p in parts)
                for k in range(copies):
                    out = f"{rel}/part-{k}.parquet"
                    con.execute(
                        "COPY (SELECT t.* REPLACE (coalesce(m.new, t.uscc) AS uscc) "
                        f"FROM read_parquet([{sql_parts}]) AS t LEFT JOIN _map AS m "
                        f"ON m.old = t.uscc AND m.k = {k}) "
                        f"TO '{target.lake_dir / out}' (FORMAT parquet)"
                    )
                    lake_files.append(out)
            tables[name] = {
                **commit.model_dump(mode="json"),
                "lake_files": lake_files,
                "rows_in": commit.rows_in * copies,
                "loaded": commit.loaded * copies,
                "quarantined": 0,
                "duplicates": 0,
                "reasons": {},
                "quarantine_files": [],
                "duplicate_files": [],
            }
            rows += commit.loaded * copies
        marker = batch.model_dump(mode="json") | {
            "batch_id": f"{batch.batch_id}x{copies}",
            "input_dir": f"replicated x{copies} from {source.lake_dir}",
            "tables": tables,
        }
        commits = target.lake_dir / "_commits"
        commits.mkdir(parents=True, exist_ok=True)
        name = f"{batch.seq:06d}-{batch.batch_id}x{copies}.json"
        (commits / name).write_text(json.dumps(marker, indent=2), encoding="utf-8")
    return {
        "enterprises": len(codes) * copies,
        "rows": rows,
        "seconds": round(time.perf_counter() - start, 1),
    }


def _replicate_store(small: Settings, big: Settings, copies: int) -> dict[str, object]:
    """The 10k store with every decision repeated under the copies' codes.

    Every rating run keeps its id, date, model and role; its decisions are
    written once per copy with the copy's USCC (the records of a copy are those
    of its original, so rating them gives the same decision), ``n_rated``
    multiplied. The original codes that are not themselves a copy are dropped.
    """
    import pandas as pd

    start = time.perf_counter()
    source = Path(small.database_url.removeprefix("sqlite:///"))
    target = Path(big.database_url.removeprefix("sqlite:///"))
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    with sqlite3.connect(target) as con:
        codes = [u for (u,) in con.execute("SELECT DISTINCT uscc FROM decisions")]
        mapping = pd.DataFrame(
            [(u, _new_code(u, k)) for u in codes for k in range(copies)],
            columns=["old", "new"],
        )
        # An original whose copy keeps its code (character 9 already the copy
        # number) stays as that copy; the others are replaced by their copies.
        kept = mapping.loc[mapping["old"] == mapping["new"], ["old"]]
        mapping = mapping.loc[mapping["old"] != mapping["new"]].drop_duplicates()
        mapping.to_sql("_copies", con, index=False)
        kept.drop_duplicates().to_sql("_kept", con, index=False)
        columns = [
            r[1] for r in con.execute("PRAGMA table_info(decisions)")
            if r[1] != "decision_id"
        ]  # fmt: skip
        picked = ", ".join("m.new" if c == "uscc" else f"d.{c}" for c in columns)
        con.execute(
            f"INSERT INTO decisions ({', '.join(columns)}) "  # noqa: S608 - schema names
            f"SELECT {picked} FROM decisions AS d JOIN _copies AS m ON m.old = d.uscc"
        )
        con.execute(
            "DELETE FROM decisions WHERE uscc IN (SELECT old FROM _copies) "
            "AND uscc NOT IN (SELECT old FROM _kept)"
        )
        con.execute("UPDATE rating_runs SET n_rated = n_rated * ?", (copies,))
        con.execute("DROP TABLE _copies")
        con.execute("DROP TABLE _kept")
        rows = con.execute("SELECT count(*) FROM decisions").fetchone()[0]
    return {"decisions": rows, "seconds": round(time.perf_counter() - start, 1)}


def build(
    source: Path, work: Path, copies: int, *, store: str = "replicate"
) -> dict[str, object]:
    """Steps 1-3 (each skipped when done); return their figures."""
    figures: dict[str, object] = {}
    small, large = work / "home10k", work / "home100k"
    if not small.is_dir():
        _copy(source, small)
    if not large.is_dir():
        _copy(source, large, skip=_SKIP)
    big = Settings(home=large)
    if not (big.lake_dir / "_commits").is_dir():
        figures["replicate"] = _replicate(Settings(home=source), big, copies)
        print("replicated", figures["replicate"], flush=True)
    if store == "replicate":
        if not (big.home / "credit_engine.db").is_file():
            figures["store"] = _replicate_store(Settings(home=small), big, copies)
            print("store replicated", figures["store"], flush=True)
        return figures
    done = OperationalStore.from_settings(big).rating_dates()
    dates = OperationalStore.from_settings(Settings(home=small)).rating_dates()
    todo = [d for d in dates if d not in done]
    if todo:
        start = time.perf_counter()
        results = rate_dates(big, todo, shadow=True, actor="bench")
        figures["rating"] = {
            "dates": [d.isoformat() for d in todo],
            "enterprises": [r.summary["rated"] for r in results],
            "shadow_runs": sum(len(r.shadow) for r in results),
            "seconds": round(time.perf_counter() - start, 1),
        }
        print("rated", figures["rating"], flush=True)
    return figures


def _store_copy(home: Path) -> tuple[Settings, Path]:
    """Settings on a copy of the home's store (MLflow runs still land in the home)."""
    tmp = Path(tempfile.mkdtemp(prefix="bench_monitor_"))
    settings = Settings(home=home)
    source = Path(settings.database_url.removeprefix("sqlite:///"))
    target = tmp / "store.db"
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return settings.model_copy(update={"database_url": f"sqlite:///{target}"}), tmp


def time_monitor(home: Path, as_of: dt.date) -> dict[str, object]:
    """One ``monitor`` run at ``as_of``: seconds per step and the status."""
    settings, tmp = _store_copy(home)
    try:
        start = time.perf_counter()
        outcome = monitor(settings, as_of, out=tmp / "report")
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    cohorts = {k: [c.n for c in m.cohorts] for k, m in outcome.report.models.items()}
    return {
        "seconds": round(total, 1),
        "steps": {k: round(v, 1) for k, v in outcome.timings.items()},
        "status": outcome.status,
        "cohorts": cohorts,
    }


def _load() -> str:
    done = subprocess.run(["uptime"], check=False, capture_output=True, text=True)
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/monitor-100k"))
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--as-of", type=dt.date.fromisoformat,
                        default=dt.date(2026, 9, 30))  # fmt: skip
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--store",
        choices=("replicate", "rate"),
        default="replicate",
        help="Repeat the 10k store's decisions under the copies' codes (fast), "
        "or rate the 100k zone at the 10k store's dates (slow).",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    result: dict[str, object] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="minutes"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "as_of": args.as_of.isoformat(),
        "load_before": _load(),
        "build": build(args.source, args.work, args.copies, store=args.store),
    }
    homes = {"10k": args.work / "home10k", "100k": args.work / "home100k"}
    runs: dict[str, list[dict[str, object]]] = {"monitor": [], "warnings": []}
    for _ in range(args.rounds):
        for size, home in homes.items():
            figures = time_monitor(home, args.as_of)
            runs["monitor"].append({"zone": size, **figures, "load": _load()})
            print("monitor", size, figures, flush=True)
            warned = run_warnings(home, args.as_of, 1)
            runs["warnings"].append({"zone": size, **warned, "load": _load()})
            print("warnings", size, warned, flush=True)
    result["runs"] = runs
    for kind in ("monitor", "warnings"):
        for size in homes:
            key = "seconds" if kind == "monitor" else "median_wall_seconds"
            seconds = [float(r[key]) for r in runs[kind] if r["zone"] == size]  # type: ignore[arg-type]
            result[f"{kind}_{size}_median_s"] = round(statistics.median(seconds), 1)
    result["load_after"] = _load()
    print(json.dumps(result, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
