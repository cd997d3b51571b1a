"""Feature snapshot on DuckDB against Spark local mode (start-up timed apart).

For each engine home given (zones of different sizes, already ingested; read
only: the snapshots go to a temporary folder that is deleted), build the
``credit_v1`` snapshot at the rating dates with DuckDB, then Spark
``local[N]``, then DuckDB again (interleaved: the machine is shared and noisy),
check the DuckDB and the Spark files are equal cell by cell (as the parity test
``tests/integration/test_spark_parity.py`` does: every cell exactly, features
computed through ``ln`` to 4 ulps, since the JVM's and the C library's
logarithms may differ in the last bit), and print as JSON: the seconds of each
run, the seconds per 1,000 snapshot rows, Spark over the mean of the two DuckDB
runs, Spark's start-up (a JVM, excluded from its feature time), and the peak
resident memory sampled during each run (every 0.1 s, from ``/proc`` through
psutil) of the Python process (DuckDB runs in it), of the JVM and of the
Python workers Spark starts, and the CPU seconds each run used (user and
system time of this process and its children: on a shared machine the wall
time depends on the other work, the CPU time much less).

In local mode the executor is the driver's JVM: ``--driver-memory`` caps the
heap that holds every task (``--executor-memory`` is ignored by Spark there and
only matters on a cluster).

Usage::

    python benchmarks/bench_spark_features.py HOME [HOME ...] \
        [--as-of 2026-06-30] [--cores 2] [--driver-memory 2g] \
        [--shuffle-partitions 8] [--conf KEY=VALUE ...] [--tmp /tmp]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from credit_engine.config import Settings
from credit_engine.engines import SparkConfig, spark_session, stop_spark_session
from credit_engine.features import load_definitions
from credit_engine.pipeline import build_feature_snapshot
from tests import engine_parity

GIB = 1024**3


def cpu_seconds() -> float:
    """User and system CPU seconds of this process and its live children."""
    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            total += sum(child.cpu_times()[:2])
        except psutil.Error:
            continue
    return total


def start_local_spark(cores: int, driver_memory: str) -> tuple[SparkConfig, float]:
    """Start the process's ``local[cores]`` session; its config and start-up (s).

    Eight shuffle partitions, the engine's defaults otherwise.
    """
    config = SparkConfig(
        master=f"local[{cores}]", driver_memory=driver_memory, shuffle_partitions=8
    )
    started = time.perf_counter()
    spark_session(config)
    return config, round(time.perf_counter() - started, 2)


class PeakMemory:
    """Sample the resident memory of this process and its children."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peaks = {"python": 0, "jvm": 0, "python_workers": 0, "total": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        python = me.memory_info().rss
        jvm = workers = 0
        for child in me.children(recursive=True):
            try:
                rss = child.memory_info().rss
                name = child.name()
            except psutil.Error:
                continue
            if "java" in name:
                jvm += rss
            else:
                workers += rss
        for key, value in (
            ("python", python),
            ("jvm", jvm),
            ("python_workers", workers),
            ("total", python + jvm + workers),
        ):
            self.peaks[key] = max(self.peaks[key], value)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakMemory:
        self._cpu_start = cpu_seconds()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.cpu = round(cpu_seconds() - self._cpu_start, 1)

    def gib(self) -> dict[str, float]:
        return {k: round(v / GIB, 2) for k, v in self.peaks.items()}


@contextmanager
def measured(record: dict[str, Any]) -> Iterator[None]:
    with PeakMemory() as peak:
        started = time.perf_counter()
        yield
        record["seconds"] = round(time.perf_counter() - started, 2)
    record["cpu_seconds"] = peak.cpu
    record["peak_rss_gib"] = peak.gib()


def natural_log_features(settings: Settings, feature_set: str) -> set[str]:
    """Outputs computed through ln (compared to 4 ulps, as in the parity test)."""
    defs = load_definitions(settings.definitions_dir)
    return engine_parity.natural_log_features(defs, feature_set)


def compare(duck_path: Path, spark_path: Path, ln: set[str]) -> dict[str, Any]:
    """Compare two snapshots cell by cell; return what differs (nothing: equal)."""
    duck, spark = pd.read_parquet(duck_path), pd.read_parquet(spark_path)
    out: dict[str, Any] = {
        "rows": [len(duck), len(spark)],
        "same_columns": list(duck.columns) == list(spark.columns),
        "same_dtypes": duck.dtypes.to_dict() == spark.dtypes.to_dict(),
        "columns_differing": [],
        "ln_max_ulps": 0.0,
    }
    if not (out["same_columns"] and len(duck) == len(spark)):
        out["equal"] = False
        return out
    duck, spark = duck.reset_index(drop=True), spark.reset_index(drop=True)
    for name in duck.columns:
        a, b = duck[name], spark[name]
        if name in ln:
            x, y = a.to_numpy(float), b.to_numpy(float)
            if not (np.isnan(x) == np.isnan(y)).all():
                out["columns_differing"].append(name)
                continue
            ulps = np.abs(x - y) / np.spacing(np.abs(np.where(np.isnan(x), 1, x)))
            worst = float(np.nanmax(ulps, initial=0))
            out["ln_max_ulps"] = max(out["ln_max_ulps"], worst)
            if worst > 4:
                out["columns_differing"].append(name)
        elif not a.equals(b):
            out["columns_differing"].append(name)
    out["equal"] = out["same_dtypes"] and not out["columns_differing"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("homes", nargs="+", type=Path)
    parser.add_argument("--as-of", action="append", type=dt.date.fromisoformat)
    parser.add_argument("--feature-set", default="credit_v1")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--executor-memory", default=None)
    parser.add_argument("--shuffle-partitions", type=int, default=8)
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--order", default="duckdb,spark,duckdb")
    parser.add_argument("--tmp", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    dates = sorted(args.as_of or [dt.date(2026, 6, 30)])
    conf = dict(item.split("=", 1) for item in args.conf)
    config = SparkConfig(
        master=f"local[{args.cores}]",
        driver_memory=args.driver_memory,
        executor_memory=args.executor_memory,
        shuffle_partitions=args.shuffle_partitions,
        conf=conf,
    )
    order = args.order.split(",")
    started = time.perf_counter()
    spark_session(config)
    startup = time.perf_counter() - started
    results = []
    try:
        for home in args.homes:
            settings = Settings(
                home=home,
                spark_master=config.master,
                spark_driver_memory=config.driver_memory,
                spark_executor_memory=config.executor_memory,
                spark_shuffle_partitions=config.shuffle_partitions,
                spark_conf=conf,
            )
            lake_bytes = sum(
                p.stat().st_size for p in (home / "lake").rglob("*.parquet")
            )
            tmp = Path(tempfile.mkdtemp(prefix="bench-spark-", dir=args.tmp))
            try:
                runs = []
                paths: dict[str, Path] = {}
                for i, engine in enumerate(order):
                    path = tmp / f"{i}-{engine}.parquet"
                    paths.setdefault(engine, path)
                    run: dict[str, Any] = {"engine": engine}
                    with measured(run):
                        build_feature_snapshot(
                            settings, dates, args.feature_set, path, engine=engine
                        )
                    runs.append(run)
                    print(json.dumps({"home": str(home), **run}), flush=True)
                rows = len(pd.read_parquet(paths["duckdb"], columns=["uscc"]))
                for run in runs:
                    run["seconds_per_1000_rows"] = round(
                        1000 * run["seconds"] / max(rows, 1), 4
                    )
                    run["cpu_seconds_per_1000_rows"] = round(
                        1000 * run["cpu_seconds"] / max(rows, 1), 4
                    )
                duck = [r["seconds"] for r in runs if r["engine"] == "duckdb"]
                spark = [r["seconds"] for r in runs if r["engine"] == "spark"]
                duck_cpu = [r["cpu_seconds"] for r in runs if r["engine"] == "duckdb"]
                spark_cpu = [r["cpu_seconds"] for r in runs if r["engine"] == "spark"]
                equality = compare(
                    paths["duckdb"],
                    paths["spark"],
                    natural_log_features(settings, args.feature_set),
                )
                results.append(
                    {
                        "home": str(home),
                        "lake_gib": round(lake_bytes / GIB, 2),
                        "rows": rows,
                        "as_of": [d.isoformat() for d in dates],
                        "runs": runs,
                        "spark_over_duckdb_mean": round(
                            (sum(spark) / len(spark)) / (sum(duck) / len(duck)), 2
                        ),
                        "spark_over_duckdb_cpu": round(
                            (sum(spark_cpu) / len(spark_cpu))
                            / max(sum(duck_cpu) / len(duck_cpu), 1e-9),
                            2,
                        ),
                        "equality": equality,
                    }
                )
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
    finally:
        stop_spark_session()
    print(
        json.dumps(
            {
                "spark": config.options() | {"master": config.master},
                "spark_startup_seconds": round(startup, 2),
                "cpu_count": os.cpu_count(),
                "zones": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
