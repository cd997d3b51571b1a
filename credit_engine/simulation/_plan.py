"""Resolve the scenarios of a simulation once for the whole zone.

:class:`ScenarioPlan` checks the scenarios against the window and the record
contracts, turns sector shocks into health offsets and hazard shifts per sector
and month, draws the refund ring's members and their planned days from the
ring's own stream, and maps feed outages onto tables. It hands each chunk its
:class:`~credit_engine.simulation._effects.ChunkEffects`, collects what the
chunks made of the ring, and writes the scenario truth (``scenarios.parquet``).

Random streams (never shared with the rest of the simulator): ``[seed, 11]``
draws the ring's members and days, ``[seed, 12, chunk]`` its phase-A events and
``[seed, 13, chunk]`` its record details. Shocks and outages draw nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from credit_engine.data import SourceContract
from credit_engine.exceptions import SimulationError
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import NO_DAY, US_PER_DAY, MonthGrid, to_day
from credit_engine.simulation._effects import ChunkEffects, RingChunk, ShockPart
from credit_engine.simulation._outage import OutageCount, OutageWindow
from credit_engine.simulation._population import Population
from credit_engine.simulation._scenarios import (
    FeedOutage,
    RefundRing,
    Scenario,
    SectorShock,
)
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray, ObjectArray

__all__ = ["SCENARIO_TRUTH_SCHEMA", "RingPlan", "ScenarioPlan"]

RING_PLAN_STREAM, RING_DYNAMICS_STREAM, RING_RECORDS_STREAM = 11, 12, 13
LOOK_AHEAD = 12
"""Months past the window the effects are laid out for (the truth looks ahead)."""

SCENARIO_TRUTH_SCHEMA = pa.schema(
    [
        ("scenario", pa.string()),
        ("kind", pa.string()),
        ("role", pa.string()),
        ("uscc", pa.string()),
        ("table", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("first_change_date", pa.date32()),
        ("surge_date", pa.date32()),
        ("first_signal_date", pa.date32()),
        ("detection_date", pa.date32()),
        ("first_statutory_date", pa.date32()),
        ("first_statutory_kind", pa.string()),
        ("records_withheld", pa.int64()),
        ("records_delayed", pa.int64()),
    ]
)
"""Columns of ``scenarios.parquet`` (docs/simulator.md, *Scenarios*)."""

_DEPARTMENT_ALIASES = {"FOREX": "SAFE", "MARKET": "SAMR"}


def _department_of(contract: SourceContract) -> str:
    """Department code (CUSTOMS, TAX, SAFE, SAMR) of a contract."""
    key = str(getattr(contract.department, "value", contract.department)).upper()
    return _DEPARTMENT_ALIASES.get(key, key)


def _uniform_days(rng: np.random.Generator, bounds: list[int], k: int) -> IntArray:
    return np.asarray(rng.integers(bounds[0], bounds[1] + 1, k), dtype=np.int64)


@dataclass
class RingPlan:
    """The refund ring for the whole zone (arrays aligned with ``members``)."""

    name: str
    params: RefundRing
    members: IntArray
    shell: BoolArray
    days: dict[str, IntArray]
    change_field: IntArray
    second_field: IntArray
    abscond: BoolArray
    abnormal: IntArray
    outcome: dict[str, IntArray] = field(default_factory=dict)

    @classmethod
    def draw(
        cls, name: str, params: RefundRing, pop: Population, seed: int
    ) -> RingPlan:
        """Draw the members and their planned days (stream ``[seed, 11]``).

        Raises
        ------
        SimulationError
            If the zone has too few refund-capable exporters for the ring.
        """
        start = to_day(params.start)
        est = pop.established_day
        refundable = pop.mode_mix[:, [0, 2, 3]].sum(axis=1) > 0.3
        exporter = ref.MODEL_MODE_MIX[pop.model, 4] < 0.5
        capable = (
            refundable
            & exporter
            & pop.general_taxpayer
            & ~pop.refund_fraud
            & (pop.under_declaration == 0)
            & ~pop.is_broker
        )
        young = capable & (est <= start - 30) & (est > start - params.shell_age_days)
        old = capable & (est <= start - params.shell_age_days)
        n_shells = params.new_shells
        n_old = params.size - n_shells
        if young.sum() < n_shells or old.sum() < n_old:
            raise SimulationError(
                f"refund ring {name!r} needs {n_old} established and {n_shells} new "
                "refund-capable exporters (general taxpayers, refundable trade "
                f"modes, no other fraud) but the zone has {int(old.sum())} and "
                f"{int(young.sum())} before {params.start}; lower size/new_shells "
                "or simulate more enterprises"
            )
        rng = np.random.default_rng([seed, RING_PLAN_STREAM])
        shells = rng.choice(np.flatnonzero(young), n_shells, replace=False)
        pool = np.flatnonzero(old)
        weight = (1.0 - pop.compliance[pool]) ** 2
        regular = rng.choice(pool, n_old, replace=False, p=weight / weight.sum())
        members = np.r_[shells, regular].astype(np.int64)
        is_shell = np.r_[np.ones(n_shells, bool), np.zeros(n_old, bool)]
        order = np.argsort(members)
        members, is_shell = members[order], is_shell[order]
        k = len(members)
        scheme = start + _uniform_days(rng, params.join_days, k)
        change = scheme + _uniform_days(rng, params.change_days, k)
        change_field = np.where(rng.random(k) < 0.6, 0, 1).astype(np.int64)
        second = rng.random(k) < params.second_change_share
        second_day = change + _uniform_days(rng, params.second_change_days, k)
        surge = scheme + _uniform_days(rng, params.surge_days, k)
        detected = rng.random(k) < params.detected_share
        detect = surge + _uniform_days(rng, params.detection_days, k)
        flee_p = np.where(is_shell, params.shell_abscond_share, params.abscond_share)
        abscond = detected & (rng.random(k) < flee_p)
        fined = detected & (rng.random(k) < params.customs_penalty_share)
        penalty = detect + _uniform_days(rng, params.customs_penalty_days, k)
        member_mask = np.zeros(len(pop), dtype=bool)
        member_mask[members] = True
        c = pop.compliance
        abnormal = np.flatnonzero((c < np.quantile(c, 0.03)) & ~member_mask)
        return cls(
            name=name,
            params=params,
            members=members,
            shell=is_shell,
            days={
                "scheme": scheme,
                "change": change,
                "second_change": np.where(second, second_day, NO_DAY),
                "surge": surge,
                "detect": np.where(detected, detect, NO_DAY),
                "penalty": np.where(fined, penalty, NO_DAY),
            },
            change_field=change_field,
            second_field=1 - change_field,
            abscond=abscond,
            abnormal=abnormal.astype(np.int64),
            outcome={
                key: np.full(k, NO_DAY, dtype=np.int64)
                for key in ("first_change", "surge_started", "detected_on")
            },
        )

    def chunk(self, chunk: int, lo: int, n: int, m: int, seed: int) -> RingChunk | None:
        """Return the members of the chunk holding enterprises ``[lo, lo + n)``."""
        sel = (self.members >= lo) & (self.members < lo + n)
        if not sel.any():
            return None
        days = {key: value[sel] for key, value in self.days.items()}
        return RingChunk(
            params=self.params,
            idx=self.members[sel] - lo,
            shell=self.shell[sel],
            scheme_day=days["scheme"],
            change_day=days["change"],
            change_field=self.change_field[sel],
            second_change_day=days["second_change"],
            second_field=self.second_field[sel],
            surge_day=days["surge"],
            detect_day=days["detect"],
            abscond=self.abscond[sel],
            penalty_day=days["penalty"],
            zone_members=self.members,
            zone_abnormal=self.abnormal,
            offset=lo,
            dynamics_rng=np.random.default_rng([seed, RING_DYNAMICS_STREAM, chunk]),
            records_rng=np.random.default_rng([seed, RING_RECORDS_STREAM, chunk]),
            n=n,
            m=m,
        )

    def collect(self, ring: RingChunk) -> None:
        """Keep what phase A made of the chunk's members."""
        sel = np.searchsorted(self.members, ring.idx + ring.offset)
        self.outcome["first_change"][sel] = ring.first_change
        self.outcome["surge_started"][sel] = ring.surge_started
        self.outcome["detected_on"][sel] = ring.detected_on


class ScenarioPlan:
    """The scenarios of one simulation, resolved for its zone.

    Parameters
    ----------
    scenarios : sequence of Scenario
        Loaded scenarios (see :func:`load_scenario`); names must be unique.
    pop : Population
        The whole zone.
    grid : MonthGrid
        Simulated months.
    seed : int
        The simulation's seed.
    contracts : dict of str to SourceContract
        Record contracts (outages name their tables or department).

    Raises
    ------
    SimulationError
        If a scenario starts outside the window, two share a name, more than one
        refund ring is given, an outage names an unknown table or two outages
        of one table overlap, or the zone cannot hold the ring.
    """

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        pop: Population,
        grid: MonthGrid,
        seed: int,
        contracts: dict[str, SourceContract],
    ) -> None:
        self.grid = grid
        self.seed = seed
        self.scenarios = _named(scenarios)
        self.n_months = grid.n_months
        for s in self.scenarios:
            day = to_day(s.start)
            if not grid.start_day <= day <= grid.end_day:
                raise SimulationError(
                    f"scenario {s.name!r} starts on {s.start}, outside the simulated "
                    f"window {_date(grid.start_day)} - {_date(grid.end_day)}; move "
                    "its start into the window"
                )
        self.shocks = [s for s in self.scenarios if isinstance(s, SectorShock)]
        self.shocked = {
            str(shock.name): self._sector_members(shock, pop) for shock in self.shocks
        }
        rings = [s for s in self.scenarios if isinstance(s, RefundRing)]
        if len(rings) > 1:
            raise SimulationError(
                f"one refund ring per simulation, got {[r.name for r in rings]}; "
                "merge them into one scenario with a larger size"
            )
        self.ring = (
            RingPlan.draw(str(rings[0].name), rings[0], pop, seed) if rings else None
        )
        self.outages = _outage_windows(
            [s for s in self.scenarios if isinstance(s, FeedOutage)], grid, contracts
        )
        self.outage_counts: dict[tuple[str, str], list[int]] = {
            (w.scenario, w.table): [0, 0] for ws in self.outages.values() for w in ws
        }

    # ------------------------------------------------------------ shocks
    def _sector_members(self, shock: SectorShock, pop: Population) -> IntArray:
        """Zone indices of the sector's enterprises founded by the end."""
        in_sector = pop.sector == ref.SECTORS.index(shock.sector)
        return np.flatnonzero(in_sector & (pop.established_day <= self.grid.end_day))

    def _shock_part(self, shock: SectorShock, part: Population) -> ShockPart:
        profile = self.shock_profile(shock)
        return ShockPart(
            first_month=self._first_month(shock),
            hit=part.sector == ref.SECTORS.index(shock.sector),
            health=-shock.health_drop * profile,
            log_odds=np.log(shock.hazard_multiplier) * profile,
        )

    def _first_month(self, shock: SectorShock) -> int:
        return int(self.grid.month_of_day(np.array([to_day(shock.start)]))[0])

    def shock_profile(self, shock: SectorShock) -> FloatArray:
        """Strength (0-1) of ``shock`` in each month, window and look-ahead."""
        steps = np.arange(self.n_months + LOOK_AHEAD) - self._first_month(shock)
        profile = (steps >= 0).astype(np.float64)
        if shock.half_life_months is not None:
            profile *= 0.5 ** (np.maximum(steps, 0) / shock.half_life_months)
        if shock.duration_months is not None:
            profile *= steps < shock.duration_months
        return profile

    def _shock_end(self, shock: SectorShock) -> int:
        if shock.duration_months is None:
            return NO_DAY
        month = np.datetime64(shock.start.replace(day=1), "M") + shock.duration_months
        return int(month.astype("datetime64[D]").astype(np.int64))

    # ------------------------------------------------------------- chunks
    def chunk_effects(self, chunk: int, lo: int, part: Population) -> ChunkEffects:
        """Return the effects on the chunk of enterprises ``[lo, lo + len(part))``."""
        n = len(part)
        ring = (
            None
            if self.ring is None
            else self.ring.chunk(chunk, lo, n, self.n_months, self.seed)
        )
        return ChunkEffects(
            shocks=[self._shock_part(shock, part) for shock in self.shocks],
            ring=ring,
        )

    def collect(self, effects: ChunkEffects) -> None:
        """Keep what phase A of a chunk made of the scenarios."""
        if self.ring is not None and effects.ring is not None:
            self.ring.collect(effects.ring)

    def outages_of(self, table: str) -> list[OutageWindow]:
        """Outage windows of ``table`` (empty when its feed never stops)."""
        return self.outages.get(table, [])

    def count(self, counts: list[OutageCount]) -> None:
        """Add one chunk's withheld and delayed rows."""
        for c in counts:
            total = self.outage_counts[(c.window.scenario, c.window.table)]
            total[0] += c.withheld
            total[1] += c.delayed

    # -------------------------------------------------------------- truth
    def manifest(self) -> list[dict[str, Any]]:
        """Every scenario with its parameters (JSON-ready), in the given order."""
        return [json.loads(s.model_dump_json()) for s in self.scenarios]

    def summary(self) -> dict[str, dict[str, int]]:
        """Return counts per scenario (shocked enterprises, members, rows)."""
        out: dict[str, dict[str, int]] = {
            name: {"enterprises": len(idx)} for name, idx in self.shocked.items()
        }
        for (name, _), (withheld, delayed) in self.outage_counts.items():
            entry = out.setdefault(name, {"records_withheld": 0, "records_delayed": 0})
            entry["records_withheld"] += withheld
            entry["records_delayed"] += delayed
        if self.ring is not None:
            out[self.ring.name] = {"members": len(self.ring.members)}
        return out

    def truth_table(self, pop: Population, adverse: pa.Table) -> pa.Table:
        """Rows of ``scenarios.parquet``: affected enterprises and tables.

        Parameters
        ----------
        pop : Population
            The whole zone.
        adverse : pyarrow.Table
            The zone's ``adverse_events`` truth (for the first statutory facts).
        """
        parts: list[dict[str, Any]] = []
        for shock in self.shocks:
            idx = self.shocked[str(shock.name)]
            parts.append(
                {
                    "scenario": shock.name,
                    "kind": shock.kind,
                    "role": "SECTOR_ENTERPRISE",
                    "idx": idx,
                    "start_date": np.full(len(idx), to_day(shock.start)),
                    "end_date": np.full(len(idx), self._shock_end(shock)),
                }
            )
        if self.ring is not None:
            parts.append(self._ring_rows(self.ring))
        frame = _enterprise_rows(parts, pop, adverse, self.grid.end_day)
        feeds = self._feed_rows()
        return pa.concat_tables([frame, feeds]) if feeds.num_rows else frame

    def _ring_rows(self, ring: RingPlan) -> dict[str, Any]:
        out = ring.outcome
        signal = np.where(
            out["first_change"] == NO_DAY,
            out["surge_started"],
            np.where(
                out["surge_started"] == NO_DAY,
                out["first_change"],
                np.minimum(out["first_change"], out["surge_started"]),
            ),
        )
        return {
            "scenario": ring.name,
            "kind": ring.params.kind,
            "role": np.where(ring.shell, "RING_SHELL", "RING_MEMBER"),
            "idx": ring.members,
            "start_date": ring.days["scheme"],
            "end_date": np.full(len(ring.members), NO_DAY),
            "first_change_date": out["first_change"],
            "surge_date": out["surge_started"],
            "first_signal_date": signal,
            "detection_date": out["detected_on"],
        }

    def _feed_rows(self) -> pa.Table:
        rows: dict[str, list[Any]] = {f.name: [] for f in SCENARIO_TRUTH_SCHEMA}
        for windows in self.outages.values():
            for w in windows:
                withheld, delayed = self.outage_counts[(w.scenario, w.table)]
                values = {
                    "scenario": w.scenario,
                    "kind": "feed_outage",
                    "role": "FEED_TABLE",
                    "table": w.table,
                    "start_date": _date(w.start_us // US_PER_DAY),
                    "end_date": None
                    if w.resume_us is None
                    else _date(w.resume_us // US_PER_DAY),
                    "records_withheld": withheld,
                    "records_delayed": delayed,
                }
                for name, column in rows.items():
                    column.append(values.get(name))
        return pa.table(rows, schema=SCENARIO_TRUTH_SCHEMA)


def _dates(days: IntArray) -> pa.Array:
    days = np.asarray(days, dtype=np.int64)
    valid = days != NO_DAY
    return pa.array(np.where(valid, days, 0).astype(np.int32), pa.date32(), mask=~valid)


def _first_facts(
    idx: IntArray, since: IntArray, pop: Population, adverse: pa.Table, end_day: int
) -> tuple[IntArray, ObjectArray]:
    """First adverse event of each enterprise on or after ``since`` (by ``end``)."""
    k = len(idx)
    a_idx = pd.Index(pop.uscc).get_indexer(adverse["uscc"].to_numpy()).astype(np.int64)
    a_day = np.asarray(
        adverse["effective_date"].cast(pa.int32()).to_numpy(), dtype=np.int64
    )
    a_kind = np.asarray(adverse["kind"].to_numpy(zero_copy_only=False), dtype=object)
    keep = a_day <= end_day
    order = np.lexsort((a_day[keep], a_idx[keep]))
    a_idx, a_day, a_kind = a_idx[keep][order], a_day[keep][order], a_kind[keep][order]
    if not len(a_idx):
        return np.full(k, NO_DAY, dtype=np.int64), np.full(k, None, dtype=object)
    key = a_idx * 1_000_000 + a_day
    pos = np.minimum(np.searchsorted(key, idx * 1_000_000 + since), len(key) - 1)
    found = (a_idx[pos] == idx) & (a_day[pos] >= since)
    day = np.where(found, a_day[pos], NO_DAY)
    kinds = np.full(k, None, dtype=object)
    kinds[found] = a_kind[pos[found]]
    return day, kinds


def _enterprise_rows(
    parts: list[dict[str, Any]], pop: Population, adverse: pa.Table, end_day: int
) -> pa.Table:
    tables = []
    for part in parts:
        idx = part["idx"]
        k = len(idx)
        missing = np.full(k, NO_DAY, dtype=np.int64)
        first, kinds = _first_facts(idx, part["start_date"], pop, adverse, end_day)
        role = part["role"]
        columns = {
            "scenario": pa.array([part["scenario"]] * k, pa.string()),
            "kind": pa.array([part["kind"]] * k, pa.string()),
            "role": pa.array(
                list(role) if isinstance(role, np.ndarray) else [role] * k, pa.string()
            ),
            "uscc": pa.array(pop.uscc[idx], pa.string()),
            "table": pa.nulls(k, pa.string()),
            "first_statutory_date": _dates(first),
            "first_statutory_kind": pa.array(kinds, pa.string()),
            "records_withheld": pa.nulls(k, pa.int64()),
            "records_delayed": pa.nulls(k, pa.int64()),
        }
        for name in (
            "start_date",
            "end_date",
            "first_change_date",
            "surge_date",
            "first_signal_date",
            "detection_date",
        ):
            columns[name] = _dates(part.get(name, missing))
        tables.append(
            pa.table(
                [columns[f.name] for f in SCENARIO_TRUTH_SCHEMA],
                schema=SCENARIO_TRUTH_SCHEMA,
            )
        )
    return pa.concat_tables(tables) if tables else SCENARIO_TRUTH_SCHEMA.empty_table()


def _named(scenarios: Sequence[Scenario]) -> list[Scenario]:
    named = [
        s if s.name is not None else s.model_copy(update={"name": s.kind})
        for s in scenarios
    ]
    names = [str(s.name) for s in named]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SimulationError(
            f"scenario names must be unique, got {dupes} more than once; give "
            "each scenario its own 'name'"
        )
    return named


def _date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def _outage_windows(
    outages: list[FeedOutage], grid: MonthGrid, contracts: dict[str, SourceContract]
) -> dict[str, list[OutageWindow]]:
    by_department: dict[str, list[str]] = {}
    for name, contract in sorted(contracts.items()):
        by_department.setdefault(_department_of(contract), []).append(name)
    windows: dict[str, list[OutageWindow]] = {}
    for outage in outages:
        if outage.tables is not None:
            unknown = sorted(set(outage.tables) - set(contracts))
            if unknown:
                raise SimulationError(
                    f"feed outage {outage.name!r} names unknown tables {unknown}; "
                    f"known tables: {sorted(contracts)}"
                )
            tables = sorted(set(outage.tables))
        else:
            tables = by_department.get(str(outage.department), [])
        start = to_day(outage.start) * US_PER_DAY
        resume = None
        if outage.end is not None and to_day(outage.end) <= grid.end_day:
            resume = to_day(outage.end) * US_PER_DAY
        for table in tables:
            new = OutageWindow(str(outage.name), table, start, resume)
            for old in windows.get(table, []):
                if _overlap(old, new):
                    raise SimulationError(
                        f"feed outages {old.scenario!r} and {new.scenario!r} both "
                        f"stop table {table!r} at overlapping times; make them "
                        "disjoint or merge them"
                    )
            windows.setdefault(table, []).append(new)
    return windows


def _overlap(a: OutageWindow, b: OutageWindow) -> bool:
    big = np.iinfo(np.int64).max
    a_end = big if a.resume_us is None else a.resume_us
    b_end = big if b.resume_us is None else b.resume_us
    return a.start_us < b_end and b.start_us < a_end
