"""Month-by-month life of the enterprises of one chunk (phase A of the simulator).

For every month it evolves latent financial health, draws activity and record
counts, draws the adverse-event channels from their hazards, applies the
statutory consequences (customs credit levels, tax levels, SAFE classes, SAMR
lists) with their delays and repairs, and computes the latent truth: each
enterprise's probability of an adverse event in the next twelve months.
The high-volume records are expanded afterwards from these arrays (phase B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._annual import AnnualProcesses
from credit_engine.simulation._calendar import NO_DAY, MonthGrid, to_day
from credit_engine.simulation._consequences import Consequences
from credit_engine.simulation._effects import ChunkEffects
from credit_engine.simulation._events import EventLogs
from credit_engine.simulation._population import Population
from credit_engine.simulation._ring import RingProcess
from credit_engine.simulation._spells import (
    NONE,
    Schedule,
    SpellTable,
    SpellTracker,
    StateTables,
)
from credit_engine.simulation._state import (
    ChunkState,
    MonthArrays,
    StatutoryState,
    to_day_np,
)
from credit_engine.simulation._triggers import Triggers
from credit_engine.simulation._truth import Truth
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

# Mean records per enterprise-year of the volume tables, for a size-1 enterprise
# at activity 1; calibrated so that all tables together average ~300 per
# enterprise-year (see docs/simulator.md, "Volume").
DECLARATIONS_PER_YEAR = 85.0
OUTPUT_INVOICES_PER_YEAR = 40.0
INPUT_INVOICES_PER_YEAR = 55.0
FX_RECEIPTS_PER_YEAR = 28.0
FX_PAYMENTS_PER_YEAR = 9.0
TRADE_CNY_PER_YEAR = ref.TRADE_CNY_PER_YEAR
WINDOW_DAYS = 365


@dataclass(frozen=True)
class Dynamics:
    """Everything phase A hands to the record builders of one chunk.

    Month arrays have shape ``(n_enterprises, n_months)``.
    """

    exists: BoolArray
    active: BoolArray
    activity: FloatArray
    health: FloatArray
    level: IntArray
    n_decl_export: IntArray
    n_decl_import: IntArray
    n_inspections: IntArray
    n_discrepancies: IntArray
    n_invoice_out: IntArray
    n_invoice_in: IntArray
    n_fx_in: IntArray
    n_fx_out: IntArray
    late_vat: BoolArray
    late_cit: BoolArray
    arrears: BoolArray
    under_declaration: FloatArray
    major_day: IntArray
    spells: StateTables[SpellTable]
    logs: EventLogs
    truth: FloatArray
    effects: ChunkEffects | None = None


class ChunkDynamics:
    """Simulate the months of one chunk of enterprises.

    Parameters
    ----------
    pop : Population
        The enterprises of the chunk.
    grid : MonthGrid
        Simulated months.
    sector_shock : numpy.ndarray
        Common health shock per sector and month, shape ``(n_sectors, n_months)``.
    rng : numpy.random.Generator
        The chunk's dynamics stream.
    effects : ChunkEffects, optional
        What the scenarios change in this chunk (health offsets, hazard shifts,
        the refund ring); ``None`` runs the zone as it is.

    Attributes
    ----------
    chunk : ChunkState
        State shared by the processes below (arrays, trackers, logs, schedule).
    statutory : StatutoryState
        Bookkeeping of the consequences.
    annual, triggers, truth, consequences
        The processes of a month; each receives the state it acts on (and the
        truth the triggers, the consequences the annual processes) when built.
    ring : RingProcess or None
        The refund ring's behaviour and consequences, when the chunk has members.
    """

    def __init__(
        self,
        pop: Population,
        grid: MonthGrid,
        sector_shock: FloatArray,
        rng: np.random.Generator,
        effects: ChunkEffects | None = None,
    ) -> None:
        self.sector_shock = sector_shock
        n, m = len(pop), grid.n_months
        self.m = m
        pub_offset = rng.integers(0, 24, n)
        schedule = Schedule()
        under = pop.under_declaration.copy()
        trackers, safe_persist = _initial_states(pop, grid, rng, schedule, under)
        self.chunk = ChunkState(
            pop=pop,
            grid=grid,
            rng=rng,
            schedule=schedule,
            logs=EventLogs.empty(),
            trackers=trackers,
            months=MonthArrays.zeros(n, m),
            health=pop.health_start.copy(),
            under=under,
            lost=np.zeros(n, dtype=bool),
            closed=np.zeros(n, dtype=bool),
            last_penalty_day=np.full(n, NO_DAY, dtype=np.int64),
            safe_persist=safe_persist,
            pub_offset=pub_offset,
            prev_level=np.full(n, NONE),
            prev_direct_d=np.zeros(n, dtype=bool),
            prev_direct_code=np.zeros(n, dtype=np.int64),
            lam_import=np.zeros(n),
            lam_export=np.zeros(n),
            effects=effects,
        )
        self.statutory = StatutoryState.empty(n)
        self.annual = AnnualProcesses(self.chunk, self.statutory)
        self.triggers = Triggers(self.chunk, self.statutory)
        self.truth = Truth(self.chunk, self.triggers)
        self.consequences = Consequences(self.chunk, self.statutory, self.annual)
        self.ring = (
            RingProcess(self.chunk, self.statutory, self.triggers, self.consequences)
            if effects is not None and effects.ring is not None
            else None
        )
        self._initial_rating()

    # ------------------------------------------------------------------ setup
    def _initial_rating(self) -> None:
        """Publish the tax rating in force when the window starts (from before it)."""
        chunk, grid = self.chunk, self.chunk.grid
        exists0 = chunk.pop.established_day <= grid.start_day
        first_year = int(grid.year[0])
        pub = chunk.publication_days(first_year)
        year = np.where(pub < grid.start_day, first_year - 1, first_year - 2)
        pub = np.where(
            year == first_year - 1, pub, chunk.publication_days(first_year - 1)
        )
        rated = exists0 & (chunk.pop.established_day < _year_start(year + 1))
        idx = np.flatnonzero(rated)
        if len(idx):
            self.annual.publish_ratings(idx, year[idx], pub[idx], initial=True)

    # --------------------------------------------------------------- run
    def run(self) -> Dynamics:
        """Simulate every month and return the phase-A result."""
        for t in range(self.m):
            self._step(t)
        self.truth.finalise_truth()
        chunk, months = self.chunk, self.chunk.months
        return Dynamics(
            exists=months.exists,
            active=months.active,
            activity=months.activity,
            health=months.health,
            level=months.level,
            n_decl_export=months.n_decl_export,
            n_decl_import=months.n_decl_import,
            n_inspections=months.n_inspections,
            n_discrepancies=months.n_discrepancies,
            n_invoice_out=months.n_invoice_out,
            n_invoice_in=months.n_invoice_in,
            n_fx_in=months.n_fx_in,
            n_fx_out=months.n_fx_out,
            late_vat=months.late_vat,
            late_cit=months.late_cit,
            arrears=months.arrears,
            under_declaration=chunk.under,
            major_day=self.statutory.major_day,
            spells=chunk.trackers.map(SpellTracker.finish),
            logs=chunk.logs,
            truth=months.truth,
            effects=chunk.effects,
        )

    def _step(self, t: int) -> None:
        chunk, cons = self.chunk, self.consequences
        grid, pop, rng, n = chunk.grid, chunk.pop, chunk.rng, chunk.n
        m_start, m_end = int(grid.month_start[t]), int(grid.month_end[t])
        shock = self.sector_shock[pop.sector, t]
        jump = np.where(rng.random(n) < 0.004, -rng.normal(2.0, 0.5, n), 0.0)
        # A scenario's health offset sits on top of the latent AR(1) process.
        offset = None if chunk.effects is None else chunk.effects.health_offset
        latent = chunk.health
        if offset is not None and t > 0:
            latent = latent - offset[:, t - 1]
        chunk.health = (
            pop.health_mean
            + hz.HEALTH_RHO * (latent - pop.health_mean)
            + hz.HEALTH_SIGMA * rng.standard_normal(n)
            + shock
            + jump
        )
        if offset is not None:
            chunk.health = chunk.health + offset[:, t]
        cons.apply_due(m_end)
        if grid.month[t] == 4 and grid.year[t] == 2026:
            cons.regime_transition(to_day_np("2026-04-01"))
        if grid.month[t] == 4:
            self.annual.tax_publication(t)

        exists = (pop.established_day <= m_end) & ~chunk.closed
        active = exists & ~chunk.lost
        frac = np.clip(
            (m_end + 1 - np.maximum(pop.established_day, m_start)) / grid.month_days[t],
            0.0,
            1.0,
        )
        season = grid.seasonality(pop.season_amp)[:, t]
        act = (
            active
            * frac
            * season
            * pop.growth ** (t / 12.0)
            * np.exp(0.25 * np.clip(chunk.health, -3, 3))
        )
        scheme = None if self.ring is None else self.ring.start_month(t, active)
        self._draw_counts(t, act, scheme)
        months = chunk.months
        months.exists[:, t] = exists
        months.active[:, t] = active & (act > 0)
        months.activity[:, t] = act
        months.health[:, t] = chunk.health
        months.level[:, t] = np.maximum(chunk.trackers.customs_level.value, 0)

        cons.customs_behaviour(t, active)
        cons.tax_behaviour(t, exists, active)
        cons.market_behaviour(t, active)
        self.triggers.hazard_triggers(t, active)
        if self.ring is not None:
            self.ring.month_events(t, active)
        if grid.month[t] == 6:
            self.annual.annual_reports(t, exists)
        self.annual.safe_reviews(t, active)
        self.triggers.aeo_and_exits(t, active)
        self.truth.truth_month(t, active, exists)

    def _draw_counts(
        self, t: int, act: FloatArray, scheme: BoolArray | None = None
    ) -> None:
        """Draw the month's record counts; a running refund scheme inflates some."""
        chunk = self.chunk
        pop, rng, months = chunk.pop, chunk.rng, chunk.months
        size = pop.size
        mix = pop.mode_mix
        import_share = (
            mix[:, 0] * pop.import_share_0110
            + mix[:, 1] * pop.import_share_9610
            + mix[:, 4]
        )
        decl = DECLARATIONS_PER_YEAR / 12 * size * pop.decl_factor * act
        chunk.lam_import = decl * import_share
        chunk.lam_export = decl * (1 - import_share)
        lam_in = INPUT_INVOICES_PER_YEAR / 12 * size * act
        lam_fx_in = (
            FX_RECEIPTS_PER_YEAR / 12 * size**0.9 * act * (1 - import_share) / 0.75
        )
        if scheme is not None and self.ring is not None:
            params = self.ring.ring.params
            more = np.where(scheme, params.export_volume_multiplier, 1.0)
            chunk.lam_export = chunk.lam_export * more
            lam_fx_in = lam_fx_in * more
            lam_in = lam_in * np.where(scheme, params.input_invoice_multiplier, 1.0)
        months.n_decl_import[:, t] = rng.poisson(chunk.lam_import)
        months.n_decl_export[:, t] = rng.poisson(chunk.lam_export)
        domestic = 0.3 + pop.domestic_share
        months.n_invoice_out[:, t] = rng.poisson(
            OUTPUT_INVOICES_PER_YEAR / 12 * size * act * domestic / 0.55
        )
        months.n_invoice_in[:, t] = rng.poisson(lam_in)
        months.n_fx_in[:, t] = rng.poisson(lam_fx_in)
        months.n_fx_out[:, t] = rng.poisson(
            FX_PAYMENTS_PER_YEAR / 12 * size**0.9 * act * (import_share + 0.1) / 0.35
        )


def _year_start(year: IntArray | int) -> IntArray:
    return np.asarray(
        (np.asarray(year) - 1970).astype("datetime64[Y]").astype("datetime64[D]"),
    ).astype(np.int64)


def _initial_states(
    pop: Population,
    grid: MonthGrid,
    rng: np.random.Generator,
    schedule: Schedule,
    under: FloatArray,
) -> tuple[StateTables[SpellTracker], BoolArray]:
    """Draw the states in force when the window starts, and the listings before it.

    Schedules their pending repairs and removals, sets ``under`` to 0 where a
    SAFE class B will be restored, and returns the trackers with the
    ``safe_persist`` flags.
    """
    n = len(pop)
    day0 = grid.start_day
    est = pop.established_day
    age = (day0 - est) / 365.25
    none = np.full(n, NONE)
    reg_day = est + 30

    level = np.full(n, ref.LEVEL_REGULAR)
    level_start = reg_day.copy()
    reason = np.full(n, codes.CR["INITIAL"])
    aeo = (pop.compliance > 0.9) & (pop.size > 1) & (age >= 3) & (rng.random(n) < 0.6)
    level[aeo] = ref.LEVEL_ADV_CERT
    level_start[aeo] = np.maximum(reg_day[aeo], day0 - rng.integers(0, 1460, n)[aeo])
    reason[aeo] = codes.CR["AEO_CERTIFIED"]
    dishonest = (pop.compliance < 0.35) & (age >= 1) & (rng.random(n) < 0.08)
    level[dishonest] = ref.LEVEL_DISHONEST
    level_start[dishonest] = np.maximum(
        reg_day[dishonest], day0 - rng.integers(30, 700, n)[dishonest]
    )
    reason[dishonest] = codes.CR["ART22_2_SMUGGLING_ADMIN"]
    pre = reg_day <= day0
    customs_level = SpellTracker(np.where(pre, level, none), level_start, reason)
    dis = np.flatnonzero(dishonest & pre)
    schedule.add(
        "customs_repair",
        dis,
        level_start[dis] + 730,
        gen=customs_level.generation[dis],
        reason=np.full(len(dis), codes.CR["REPAIR_AUTO_2Y"]),
    )
    schedule.add("open_registration", np.flatnonzero(~pre), reg_day[~pre])

    safe = np.where(pre, ref.SAFE_A, NONE)
    safe_start = est + 60
    safe_reason = np.full(n, codes.SR["INITIAL"])
    b_now = pre & (under > 0.12) & (rng.random(n) < 0.3)
    safe[b_now] = ref.SAFE_B
    safe_start[b_now] = np.maximum(
        safe_start[b_now], day0 - rng.integers(30, 300, n)[b_now]
    )
    safe_reason[b_now] = codes.SR["GOODS_FUNDS_MISMATCH"]
    safe_persist = b_now & (rng.random(n) < 0.5)
    under[b_now & ~safe_persist] = 0.0

    exists0 = est <= day0
    status = np.where(exists0, 0, NONE)
    trackers = StateTables(
        customs_level=customs_level,
        customs_registration=SpellTracker(np.where(pre, 0, none), reg_day, none),
        safe_classification=SpellTracker(safe, safe_start, safe_reason),
        tax_registration=SpellTracker(status, est + 10, none),
        samr_registration=SpellTracker(status, est, none),
        abnormal_report=SpellTracker(none, none, none),
        abnormal_unreachable=SpellTracker(none, none, none),
        serious_violation_list=SpellTracker(none, none, none),
    )
    _initial_lists(
        pop,
        grid,
        rng,
        schedule=schedule,
        trackers=trackers,
        eligible=exists0 & (age >= 1.5),
    )
    return trackers, safe_persist


def _initial_lists(
    pop: Population,
    grid: MonthGrid,
    rng: np.random.Generator,
    *,
    schedule: Schedule,
    trackers: StateTables[SpellTracker],
    eligible: BoolArray,
) -> None:
    """Draw listings that began before the window (some still open at its start)."""
    n, day0 = len(pop), grid.start_day
    risk = hz.noncompliance(pop.compliance)
    p = 0.02 * np.exp(0.5 * risk) / np.exp(0.5 * risk).mean()
    listed = np.flatnonzero(eligible & (rng.random(n) < p))
    start = day0 - rng.integers(30, 3 * 365, len(listed))
    start = np.maximum(start, pop.established_day[listed] + 400)
    tracker = trackers.abnormal_report
    tracker.change(listed, start, codes.AC["ANNUAL_REPORT_MISSING"], NONE)
    repaired = rng.random(len(listed)) < 0.5
    repair_day = start + rng.integers(30, 400, len(listed))
    schedule.add(
        "abnormal_report_remove",
        listed[repaired],
        repair_day[repaired],
        gen=tracker.generation[listed[repaired]],
        why=np.full(repaired.sum(), codes.AR["REPAIRED"]),
    )
    keep = ~repaired
    schedule.add(
        "abnormal_escalate",
        listed[keep],
        start[keep] + 3 * 365,
        gen=tracker.generation[listed[keep]],
    )
    serious = np.flatnonzero(eligible & (rng.random(n) < 0.003 * np.exp(0.5 * risk)))
    s_start = day0 - rng.integers(30, 2 * 365, len(serious))
    s_start = np.maximum(s_start, pop.established_day[serious] + 200)
    st = trackers.serious_violation_list
    st.change(serious, s_start, codes.SC["HEAVIER_PENALTY"], NONE)
    schedule.add(
        "serious_remove",
        serious,
        s_start + 3 * 365,
        gen=st.generation[serious],
        why=np.full(len(serious), codes.SRM["EXPIRED"]),
    )


__all__ = ["ChunkDynamics", "Dynamics", "to_day", "TRADE_CNY_PER_YEAR", "WINDOW_DAYS"]
