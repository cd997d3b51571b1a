"""Shared fixtures: seeded RNG, engine settings, contract-driven synthetic records."""

from __future__ import annotations

import datetime as dt
import re
import re._parser as sre_parse  # sre_parse moved here in 3.11; parses contract regexes
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from credit_engine.config import Settings
from credit_engine.data import ColumnType, SourceContract, load_contracts
from credit_engine.simulation import SimulationConfig, SimulationSummary, simulate_zone
from credit_engine.uscc import USCC_ALPHABET, check_character

# Operational-store fixtures (every test that asks for `store` runs on SQLite and
# PostgreSQL): defined next to the backends, registered here for all folders.
from tests.store_backends import store, store_url  # noqa: F401


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Send the tests of one ``xdist_group`` to one worker, under pytest 9 too.

    With ``--dist loadgroup`` pytest-xdist (3.8) tells its scheduler a test's
    group by appending ``@group`` to the test's id, written to
    ``item._nodeid``; pytest 9 keeps node ids in ``item._id`` and ignores that
    attribute, so every group was silently spread over the workers (two JVMs
    for the Spark tests, the champion trained on each worker). Here the
    suffix is applied where pytest 9 reads it, unless xdist already did.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
            for mark in item.iter_markers("xdist_group")
        }
        if not names:
            continue
        suffix = "@" + "_".join(sorted(names))
        if item.nodeid.endswith(suffix):
            continue  # pytest-xdist's own suffix took effect
        from _pytest.nodeid import NodeId  # pytest >= 9; private, no public twin

        # One last name holding "name[params]@group", no params part: the id
        # then prints the same however pytest rebuilds it ("...]@group").
        node = item._id  # type: ignore[attr-defined]
        last = node.names[-1] + ("" if node.params is None else f"[{node.params}]")
        item._id = NodeId(  # type: ignore[attr-defined]
            path=node.path, names=(*node.names[:-1], last + suffix)
        )


_DIGITS = np.array(list("0123456789"))
_UPPER = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
_EPOCH = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)


def _char_class(items: list[tuple[Any, Any]]) -> np.ndarray:
    chars: list[str] = []
    for op, arg in items:
        if op == sre_parse.LITERAL:
            chars.append(chr(arg))
        elif op == sre_parse.RANGE:
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op == sre_parse.CATEGORY and arg == sre_parse.CATEGORY_DIGIT:
            chars.extend(_DIGITS)
        else:
            raise NotImplementedError(f"regex class item {op} {arg}")
    return np.array(chars)


def _sample(items: Any, n: int, rng: np.random.Generator) -> np.ndarray:
    """Vectorised sampler for the simple regexes used in contracts."""
    out = np.full(n, "", dtype=object)
    for op, arg in items:
        if op == sre_parse.AT:
            continue
        if op == sre_parse.LITERAL:
            part: np.ndarray = np.full(n, chr(arg), dtype=object)
        elif op == sre_parse.IN:
            part = rng.choice(_char_class(arg), n).astype(object)
        elif op == sre_parse.CATEGORY:
            part = rng.choice(_char_class([(op, arg)]), n).astype(object)
        elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT):
            low, high, sub = arg
            count = (
                low if low == high else int(rng.integers(low, min(high, low + 3) + 1))
            )
            part = np.full(n, "", dtype=object)
            for _ in range(count):
                part = part + _sample(sub, n, rng)
        elif op == sre_parse.SUBPATTERN:
            part = _sample(arg[-1], n, rng)
        elif op == sre_parse.BRANCH:
            options = [_sample(alt, n, rng) for alt in arg[1]]
            pick = rng.integers(0, len(options), n)
            part = np.choose(pick, options)
        else:
            raise NotImplementedError(f"regex op {op}")
        out = out + part
    return out


def sample_pattern(pattern: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` strings matching ``pattern`` (the subset of regex contracts use)."""
    values = _sample(sre_parse.parse(pattern), n, rng)
    assert all(re.fullmatch(pattern, v) for v in values[:50]), pattern
    return values


def make_usccs(n: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` valid, distinct Unified Social Credit Codes."""
    alphabet = np.array(list(USCC_ALPHABET))
    bodies = {
        "91" + "".join(rng.choice(alphabet[:10], 6)) + "".join(rng.choice(alphabet, 9))
        for _ in range(n * 2)
    }
    codes = [b + check_character(b) for b in sorted(bodies)[:n]]
    return np.array(codes, dtype=object)


def _bounds(
    contract: SourceContract, name: str, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    n = len(frame)
    spec = contract.column(name)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    for rule in spec.range_rules:
        applies = (
            frame.eval(rule.when).to_numpy(bool) if rule.when else np.ones(n, bool)
        )
        if rule.min is not None:
            lo = np.where(applies, np.maximum(lo, rule.min), lo)
        if rule.max is not None:
            hi = np.where(applies, np.minimum(hi, rule.max), hi)
    lo = np.where(
        np.isinf(lo), np.where(np.isinf(hi), 0.0, np.minimum(hi, 0.0) - 1e3), lo
    )
    hi = np.where(np.isinf(hi), lo + 1e3, hi)
    wide = hi - lo > 1e6
    lo, hi = (
        np.where(
            wide & (hi <= 0),
            hi - 1e6,
            np.where(wide & (lo < 0), np.maximum(lo, -5e5), lo),
        ),
        np.where(
            wide & (lo >= 0),
            lo + 1e6,
            np.where(wide & (hi > 0), np.minimum(hi, 5e5), hi),
        ),
    )
    return lo, hi


def make_valid_table(
    contract: SourceContract,
    n: int,
    rng: np.random.Generator,
    *,
    usccs: np.ndarray | None = None,
    id_prefix: str = "",
) -> pa.Table:
    """Build ``n`` rows that pass every check of ``contract``.

    Optional columns are null on about 10 % of rows; ``source_record_id`` is
    unique; time columns are ordered (``ingested_at`` after the valid time,
    ``effective_to`` after ``effective_from``).
    """
    if usccs is None:
        usccs = make_usccs(min(n, 200) or 1, rng)
    data: dict[str, Any] = {}
    for spec in contract.columns:
        if spec.type is ColumnType.USCC:
            data[spec.name] = rng.choice(usccs, n)
        elif spec.name == "source_record_id":
            serial = np.char.zfill(np.arange(n).astype(str), 9).astype(object)
            if spec.pattern:  # keep the pattern, make the id unique (last 9 chars)
                drawn = pd.Series(sample_pattern(spec.pattern, n, rng), dtype=object)
                data[spec.name] = (drawn.str[:-9] + serial).to_numpy(dtype=object)
            else:
                data[spec.name] = id_prefix + "R" + serial
        elif spec.type is ColumnType.STRING:
            if spec.values:
                data[spec.name] = rng.choice(np.array(spec.values, dtype=object), n)
            elif spec.pattern:
                data[spec.name] = sample_pattern(spec.pattern, n, rng)
            else:
                data[spec.name] = (
                    spec.name + "-" + rng.integers(0, 10**6, n).astype(str)
                ).astype(object)
        elif spec.type is ColumnType.BOOL:
            data[spec.name] = rng.random(n) < 0.5
        elif spec.type is ColumnType.DATE:
            days = rng.integers(0, 1500, n)
            data[spec.name] = pa.array(
                (np.datetime64("2020-01-01") + days).astype("datetime64[D]"),
                pa.date32(),
            )
    frame = pd.DataFrame({k: v for k, v in data.items() if not isinstance(v, pa.Array)})
    for spec in contract.columns:
        if spec.type in (ColumnType.INT, ColumnType.FLOAT):
            lo, hi = _bounds(contract, spec.name, frame)
            if spec.type is ColumnType.INT:
                lo, hi = np.ceil(lo), np.floor(hi)
                data[spec.name] = (lo + np.floor(rng.random(n) * (hi - lo + 1))).astype(
                    np.int64
                )
            else:
                data[spec.name] = np.round(lo + rng.random(n) * (hi - lo), 2)
    start = _EPOCH + pd.to_timedelta(rng.integers(0, 2 * 365 * 86400, n), unit="s")
    start = pd.DatetimeIndex(start).as_unit("us")
    later = start + pd.to_timedelta(rng.integers(0, 30 * 86400, n), unit="s")
    for spec in contract.columns:
        if spec.type is ColumnType.TIMESTAMP:
            if spec.name == contract.time_column:
                value = start
            elif spec.name == "effective_to":
                value = start + pd.to_timedelta(rng.integers(1, 365, n), unit="D")
            elif spec.name == "ingested_at":
                value = later
            else:
                value = later
            utc = pa.array(value.tz_convert(None).to_numpy(), pa.timestamp("us"))
            data[spec.name] = utc.cast(pa.timestamp("us", tz="UTC"))
    arrays = []
    for spec in contract.columns:
        arr = pa.array(data[spec.name], spec.type.arrow_type())
        if not spec.required:
            blank = pa.array(rng.random(n) < 0.1)
            arr = pc.if_else(blank, pa.scalar(None, arr.type), arr)
        arrays.append(arr)
    schema = pa.schema([(c.name, c.type.arrow_type()) for c in contract.columns])
    return pa.Table.from_arrays(arrays, schema=schema)


@pytest.fixture(scope="session")
def contracts() -> dict[str, SourceContract]:
    return load_contracts(Settings().sources_dir)


@pytest.fixture
def rng_fixed_seed() -> np.random.Generator:
    return np.random.default_rng(20240601)


@pytest.fixture(scope="session")
def valid_table() -> Callable[..., pa.Table]:
    """Factory ``valid_table(contract, n, rng, *, usccs=None)`` of passing rows."""
    return make_valid_table


@pytest.fixture
def settings_for(tmp_path: Path) -> Callable[..., Settings]:
    """Factory of Settings rooted in a temporary engine home."""

    def build(home: Path | None = None, **overrides: Any) -> Settings:
        return Settings(home=home or (tmp_path / "home"), **overrides)

    return build


# ----------------------------------------------------------- simulated zone
SMALL_ZONE = SimulationConfig(enterprises=600, seed=7)
SPARK_ZONE_ENTERPRISES = 120


@pytest.fixture(scope="session")
def zone(tmp_path_factory, contracts) -> SimulationSummary:
    root = tmp_path_factory.mktemp("zone")
    return simulate_zone(SMALL_ZONE, contracts, root / "records", root / "truth")


@pytest.fixture(scope="session")
def tables(zone) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in Path(zone.out_dir).glob("*.parquet")}


@pytest.fixture(scope="session")
def truth(zone) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in Path(zone.truth_dir).glob("*.parquet")}


@pytest.fixture(scope="session")
def clean(tables, truth) -> dict[str, pd.DataFrame]:
    """Each table without the rows the simulator made dirty."""
    dirty = truth["dirty_rows"]
    out = {}
    for name, frame in tables.items():
        bad = dirty.loc[dirty["table"] == name, "row_number"].to_numpy()
        out[name] = frame.drop(index=bad).reset_index(drop=True)
    return out


@pytest.fixture(scope="session")
def ingested_zone(zone, tmp_path_factory):
    """The small zone ingested into a fresh engine home: (settings, report)."""
    from credit_engine.data import ingest_batch

    settings = Settings(home=tmp_path_factory.mktemp("home"))
    report = ingest_batch(Path(zone.out_dir), settings)
    return settings, report


# ------------------------------------------------------------------- Spark
REQUIRE_SPARK_ENV = "CREDIT_ENGINE_REQUIRE_SPARK"

# The Spark tests' own zone: small enough for a JVM job per test to stay cheap
# in CI, large enough for every path (dirty rows of each reason, statutory
# facts of both customs regimes, every decision layer). Only the ``spark``
# xdist group uses it, so that worker never builds the 600-enterprise zone.
SPARK_ZONE = SimulationConfig(enterprises=SPARK_ZONE_ENTERPRISES, seed=7)


@pytest.fixture(scope="session")
def spark_zone(tmp_path_factory, contracts) -> SimulationSummary:
    root = tmp_path_factory.mktemp("spark_zone")
    return simulate_zone(SPARK_ZONE, contracts, root / "records", root / "truth")


@pytest.fixture(scope="session")
def spark_clean(spark_zone) -> dict[str, pd.DataFrame]:
    """The Spark zone's tables without the rows the simulator made dirty."""
    out = Path(spark_zone.out_dir)
    tables = {p.stem: pd.read_parquet(p) for p in out.glob("*.parquet")}
    dirty = pd.read_parquet(Path(spark_zone.truth_dir) / "dirty_rows.parquet")
    return {
        name: frame.drop(
            index=dirty.loc[dirty["table"] == name, "row_number"].to_numpy()
        ).reset_index(drop=True)
        for name, frame in tables.items()
    }


@pytest.fixture(scope="session")
def spark_ingested_zone(spark_zone, tmp_path_factory):
    """The Spark zone ingested (DuckDB) into a fresh engine home: (settings, report)."""
    from credit_engine.data import ingest_batch

    settings = Settings(home=tmp_path_factory.mktemp("spark_home"))
    report = ingest_batch(Path(spark_zone.out_dir), settings)
    return settings, report


# Tiny data: one shuffle partition, no whole-stage code generation and no
# adaptive re-planning (for a few hundred rows they cost more than they save).
SPARK_TEST_CONFIG = {
    "shuffle_partitions": 1,
    "driver_memory": "3g",
    "conf": {
        "spark.sql.codegen.wholeStage": "false",
        "spark.sql.adaptive.enabled": "false",
        # One JVM runs every Spark test (demo, rating, parity, properties): its
        # status store would keep the history of thousands of jobs and stages
        # (the feature query alone has ~290 stages) in the driver's heap, which
        # ran out of it after the demo tests joined the group. Keep little.
        "spark.ui.enabled": "false",
        "spark.ui.retainedJobs": "50",
        "spark.ui.retainedStages": "100",
        "spark.ui.retainedTasks": "1000",
        "spark.sql.ui.retainedExecutions": "20",
    },
}


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the test session (tests marked ``spark``).

    Skips when pyspark or Java is missing, unless CREDIT_ENGINE_REQUIRE_SPARK=1
    (CI), where it fails. Spark test modules share the ``spark`` xdist group,
    so one worker starts one JVM.
    """
    import os

    from credit_engine.engines import SparkConfig, spark_session, stop_spark_session
    from credit_engine.exceptions import EngineUnavailableError

    try:
        session = spark_session(SparkConfig(**SPARK_TEST_CONFIG))  # type: ignore[arg-type]
    except EngineUnavailableError as exc:
        if os.environ.get(REQUIRE_SPARK_ENV) == "1":
            pytest.fail(f"{REQUIRE_SPARK_ENV}=1 but Spark cannot start: {exc}")
        pytest.skip(f"Spark unavailable: {exc}")
    yield session
    stop_spark_session()
