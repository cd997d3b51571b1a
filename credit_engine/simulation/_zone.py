"""Simulate a whole zone: chunks of enterprises, tables, dirty rows and truth."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator

from credit_engine.data import RecordKind, SourceContract
from credit_engine.exceptions import SimulationError
from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import US_PER_DAY, MonthGrid
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._customs import build_customs
from credit_engine.simulation._dirty import DIRTY_KINDS, inject_dirty
from credit_engine.simulation._dynamics import ChunkDynamics, Dynamics
from credit_engine.simulation._forex import build_forex
from credit_engine.simulation._market import build_market
from credit_engine.simulation._outage import apply_outages
from credit_engine.simulation._plan import ScenarioPlan
from credit_engine.simulation._population import Population, draw_population
from credit_engine.simulation._scenarios import Scenario
from credit_engine.simulation._tax import build_tax

CHUNK_SIZE = 2_000
"""Enterprises simulated together; fixed so that output never depends on memory."""

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done_enterprises, total_enterprises)``."""


class SimulationConfig(BaseModel):
    """Parameters of a synthetic zone.

    Parameters
    ----------
    enterprises : int, default=10_000
        Number of enterprises.
    start, end : datetime.date
        First and last day of the simulated window (the extract date is ``end``).
    seed : int, default=20260401
        Seed of every random draw; the same seed gives byte-identical files.
    dirty_rate : float, default=0.01
        Share of rows corrupted per table (plus duplicates appended).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enterprises: int = Field(default=10_000, ge=1, le=5_000_000)
    start: dt.date = dt.date(2023, 10, 1)
    end: dt.date = dt.date(2026, 9, 30)
    seed: int = Field(default=20260401, ge=0)
    dirty_rate: float = Field(default=0.01, ge=0.0, le=0.5)

    @model_validator(mode="after")
    def _check_window(self) -> SimulationConfig:
        if self.end <= self.start:
            raise ValueError(
                f"got start={self.start}, end={self.end}; end must be after start"
            )
        if (self.end - self.start).days < 60:
            raise ValueError("the window must cover at least 60 days")
        return self


@dataclass
class SimulationSummary:
    """What a simulation wrote.

    ``scenarios`` holds, per scenario name, counts such as the ring's members
    or the rows an outage withheld and delayed (empty without scenarios).
    """

    out_dir: Path
    truth_dir: Path
    rows: dict[str, int] = field(default_factory=dict)
    dirty: dict[str, dict[str, int]] = field(default_factory=dict)
    adverse_events: int = 0
    enterprises: int = 0
    scenarios: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_rows(self) -> int:
        """Rows over all tables."""
        return sum(self.rows.values())


class _Writers:
    """One Parquet writer per output file, created on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.rows: dict[str, int] = {}

    def write(self, name: str, table: pa.Table) -> int:
        """Append ``table``; return the row number its first row gets."""
        if name not in self.writers:
            path = self.directory / f"{name}.parquet"
            self.writers[name] = pq.ParquetWriter(
                path, table.schema, compression="zstd"
            )
            self.rows[name] = 0
        first = self.rows[name]
        if table.num_rows:
            self.writers[name].write_table(table)
        self.rows[name] += table.num_rows
        return first

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def _in_window(
    table: pa.Table, contract: SourceContract, config: SimulationConfig
) -> pa.Table:
    """Keep what the extract on ``end`` can hold: known by then, in the window."""
    start_us = (config.start - dt.date(1970, 1, 1)).days * US_PER_DAY
    extract_us = ((config.end - dt.date(1970, 1, 1)).days + 1) * US_PER_DAY
    as_us = pa.timestamp("us", tz="UTC")
    known = pc.less(table["ingested_at"], pa.scalar(extract_us, as_us))
    if contract.kind is RecordKind.EVENT:
        happened = pc.and_(
            pc.greater_equal(table["event_ts"], pa.scalar(start_us, as_us)),
            pc.less(table["event_ts"], pa.scalar(extract_us, as_us)),
        )
    else:
        happened = pc.less(table["effective_from"], pa.scalar(extract_us, as_us))
    return table.filter(pc.and_(known, happened))


def _sector_shocks(n_months: int, rng: np.random.Generator) -> np.ndarray:
    shocks = np.zeros((len(ref.SECTORS), n_months))
    level = np.zeros(len(ref.SECTORS))
    for t in range(n_months):
        level = 0.8 * level + rng.normal(0.0, 0.15, len(ref.SECTORS))
        shocks[:, t] = 0.05 * level
    return shocks


def _truth_tables(
    pop: Population, dyn: Dynamics, grid: MonthGrid
) -> tuple[pa.Table, pa.Table]:
    n, m = dyn.truth.shape
    ent = np.repeat(np.arange(n), m)
    mon = np.tile(np.arange(m), n)
    keep = ~np.isnan(dyn.truth.ravel())
    monthly = pa.table(
        {
            "uscc": pa.array(pop.uscc[ent[keep]], pa.string()),
            "as_of": pa.array(grid.month_end[mon[keep]].astype(np.int32), pa.date32()),
            "p_adverse_12m": dyn.truth.ravel()[keep],
            "health": dyn.health.ravel()[keep],
            "active": dyn.active.ravel()[keep],
            "customs_level": pa.array(
                np.array(ref.LEVEL_NAMES, object)[dyn.level.ravel()[keep]], pa.string()
            ),
        }
    )
    cols = dyn.logs.adverse.columns()
    adverse = pa.table(
        {
            "uscc": pa.array(pop.uscc[cols["idx"]], pa.string()),
            "effective_date": pa.array(cols["effective"].astype(np.int32), pa.date32()),
            "trigger_date": pa.array(cols["trigger"].astype(np.int32), pa.date32()),
            "kind": pa.array(
                np.array(codes.ADVERSE_KINDS, object)[cols["kind"]], pa.string()
            ),
        }
    )
    return monthly, adverse


def _enterprise_table(pop: Population, dyn_under: np.ndarray) -> pa.Table:
    return pa.table(
        {
            "uscc": pa.array(pop.uscc, pa.string()),
            "sector": pa.array(np.array(ref.SECTORS, object)[pop.sector], pa.string()),
            "business_model": pa.array(
                np.array(ref.MODELS, object)[pop.model], pa.string()
            ),
            "size": pop.size,
            "compliance": pop.compliance,
            "health_mean": pop.health_mean,
            "under_declaration_initial": pop.under_declaration,
            "under_declaration_final": dyn_under,
            "refund_fraud": pop.refund_fraud,
            "established_date": pa.array(
                pop.established_day.astype(np.int32), pa.date32()
            ),
            "is_customs_broker": pop.is_broker,
        }
    )


def simulate_zone(  # noqa: PLR0915 -- the zone's steps, in order
    config: SimulationConfig,
    contracts: dict[str, SourceContract],
    out_dir: Path,
    truth_dir: Path,
    *,
    progress: ProgressCallback | None = None,
    scenarios: Sequence[Scenario] = (),
) -> SimulationSummary:
    """Simulate a zone and write its tables and its latent truth.

    Parameters
    ----------
    config : SimulationConfig
        Size, window, seed and dirty rate.
    contracts : dict of str to SourceContract
        Record contracts; one Parquet file is written per simulated contract
        (``simulated``), without its extension columns.
    out_dir : pathlib.Path
        Folder for the department tables (``<table>.parquet``), ready to ingest.
    truth_dir : pathlib.Path
        Separate folder for the latent truth (for evaluation only).
    progress : callable, optional
        ``progress(done, total)`` after each chunk of enterprises.
    scenarios : sequence of Scenario, optional
        Named scenarios applied from their dates (:func:`load_scenario`); their
        parameters go to the manifest and the enterprises and tables they touch
        to ``scenarios.parquet`` in the truth. Without any, the output is the
        zone's as it always was.

    Returns
    -------
    SimulationSummary
        Rows per table, dirty rows per table and kind, adverse events, and
        counts per scenario.

    Raises
    ------
    SimulationError
        If the output folders overlap, the contracts lack a simulated table, or
        a scenario does not fit the zone (see :class:`ScenarioPlan`).
    """
    builders = (build_customs, build_tax, build_forex, build_market)
    # The simulator writes the tables and columns it models: not the optional
    # sources (court judgments, news ...) nor the extension columns of real
    # extracts (annual-report financials, tax-line details).
    contracts = {n: c.simulated_view() for n, c in contracts.items() if c.simulated}
    out_dir, truth_dir = Path(out_dir), Path(truth_dir)
    if out_dir.resolve() == truth_dir.resolve():
        raise SimulationError(
            f"truth folder {truth_dir} must differ from the output folder: the truth "
            "must never be ingested with the department records."
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    grid = MonthGrid.between(config.start, config.end)
    pop = draw_population(
        config.enterprises, grid, np.random.default_rng([config.seed, 0])
    )
    shocks = _sector_shocks(grid.n_months, np.random.default_rng([config.seed, 1]))
    plan = (
        ScenarioPlan(scenarios, pop, grid, config.seed, contracts)
        if scenarios
        else None
    )
    zone_uscc = pa.array(pop.uscc, pa.string())
    tables_out, truth_out = _Writers(out_dir), _Writers(truth_dir)
    summary = SimulationSummary(out_dir, truth_dir, enterprises=config.enterprises)
    serials: dict[str, int] = {}
    dirty_parts: list[pa.Table] = []
    under_final = np.zeros(config.enterprises)
    try:
        for chunk, lo in enumerate(range(0, config.enterprises, CHUNK_SIZE)):
            part = pop.take(slice(lo, lo + CHUNK_SIZE))
            effects = None if plan is None else plan.chunk_effects(chunk, lo, part)
            dyn = ChunkDynamics(
                part,
                grid,
                shocks,
                np.random.default_rng([config.seed, 2, chunk]),
                effects,
            ).run()
            if plan is not None and effects is not None:
                plan.collect(effects)
            under_final[lo : lo + len(part)] = dyn.under_declaration
            ctx = ChunkContext(
                part,
                zone_uscc,
                grid,
                dyn,
                np.random.default_rng([config.seed, 3, chunk]),
                contracts,
                serials,
            )
            tables: dict[str, pa.Table] = {}
            for build in builders:
                tables.update(build(ctx))
            missing = sorted(set(contracts) - set(tables))
            if missing:
                raise SimulationError(
                    f"the simulator does not produce tables {missing} declared in the "
                    "record contracts; add them to credit_engine.simulation."
                )
            _write_chunk(
                tables,
                contracts=contracts,
                config=config,
                plan=plan,
                dirty_rng=np.random.default_rng([config.seed, 4, chunk]),
                tables_out=tables_out,
                dirty_parts=dirty_parts,
            )
            monthly, adverse = _truth_tables(part, dyn, grid)
            truth_out.write("monthly", monthly)
            truth_out.write("adverse_events", adverse)
            if progress is not None:
                progress(min(lo + CHUNK_SIZE, config.enterprises), config.enterprises)
    finally:
        tables_out.close()
        truth_out.close()
    dirty_all = _write_dirty(truth_dir, dirty_parts)
    pq.write_table(
        _enterprise_table(pop, under_final),
        truth_dir / "enterprises.parquet",
        compression="zstd",
    )
    summary.rows = dict(sorted(tables_out.rows.items()))
    summary.adverse_events = truth_out.rows.get("adverse_events", 0)
    summary.dirty = _dirty_counts(dirty_all)
    if plan is not None:
        adverse = pq.read_table(truth_dir / "adverse_events.parquet")
        pq.write_table(
            plan.truth_table(pop, adverse),
            truth_dir / "scenarios.parquet",
            compression="zstd",
        )
        summary.scenarios = plan.summary()
    _write_manifest(truth_dir, config, summary, plan)
    return summary


def _write_chunk(
    tables: dict[str, pa.Table],
    *,
    contracts: dict[str, SourceContract],
    config: SimulationConfig,
    plan: ScenarioPlan | None,
    dirty_rng: np.random.Generator,
    tables_out: _Writers,
    dirty_parts: list[pa.Table],
) -> None:
    """Keep the extract's rows, inject dirty rows, apply outages, write a chunk."""
    for name in sorted(tables):
        table = _in_window(tables[name], contracts[name], config)
        windows = [] if plan is None else plan.outages_of(name)
        clean_ingested = _micros(table) if windows else None
        table, dirty = inject_dirty(
            table, contracts[name], config.dirty_rate, dirty_rng
        )
        if plan is not None and clean_ingested is not None:
            table, dirty, counts = apply_outages(table, dirty, clean_ingested, windows)
            plan.count(counts)
        first = tables_out.write(name, table)
        if len(dirty.row):
            dirty_parts.append(
                pa.table(
                    {
                        "table": pa.array([name] * len(dirty.row), pa.string()),
                        "row_number": dirty.row + first,
                        "kind": pa.array(dirty.kind, pa.string()),
                        "column": pa.array(dirty.column, pa.string()),
                    }
                )
            )


def _micros(table: pa.Table) -> np.ndarray:
    """``ingested_at`` of every row in microseconds (clean rows have no nulls)."""
    column = table.column("ingested_at").combine_chunks().cast(pa.int64())
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.int64)


def _write_dirty(truth_dir: Path, parts: list[pa.Table]) -> pa.Table:
    schema = pa.schema(
        [
            ("table", pa.string()),
            ("row_number", pa.int64()),
            ("kind", pa.string()),
            ("column", pa.string()),
        ]
    )
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    pq.write_table(table, truth_dir / "dirty_rows.parquet", compression="zstd")
    return table


def _dirty_counts(table: pa.Table) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    if table.num_rows:
        grouped = table.group_by(["table", "kind"]).aggregate([("row_number", "count")])
        for row in grouped.to_pylist():
            counts.setdefault(row["table"], {})[row["kind"]] = row["row_number_count"]
    return {t: dict(sorted(k.items())) for t, k in sorted(counts.items())}


def _write_manifest(
    truth_dir: Path,
    config: SimulationConfig,
    summary: SimulationSummary,
    plan: ScenarioPlan | None = None,
) -> None:
    manifest = {
        "config": json.loads(config.model_dump_json()),
        "chunk_size": CHUNK_SIZE,
        "rows": summary.rows,
        "total_rows": summary.total_rows,
        "dirty_kinds": list(DIRTY_KINDS),
        "dirty": summary.dirty,
        "adverse_events": summary.adverse_events,
        "files": {
            "monthly.parquet": "uscc, as_of (month end), p_adverse_12m (latent truth), "
            "health, active, customs_level",
            "adverse_events.parquet": "every adverse event: uscc, effective_date, "
            "trigger_date, kind",
            "enterprises.parquet": "static latent drivers of every enterprise",
            "dirty_rows.parquet": "table, row_number in the written file, kind, column",
        },
    }
    if plan is not None:
        manifest["scenarios"] = plan.manifest()
        manifest["scenario_counts"] = summary.scenarios
        manifest["files"]["scenarios.parquet"] = (
            "enterprises and tables each scenario touches: scenario, kind, role, "
            "uscc or table, dates (start, end, first change, surge, first "
            "signal, detection, first statutory fact) and rows withheld/delayed"
        )
    (truth_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
