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
from credit_engine.simulation._calendar import NO_DAY, MonthGrid, to_day
from credit_engine.simulation._consequences import Consequences
from credit_engine.simulation._events import EVENT_SCHEMAS, EventLog
from credit_engine.simulation._population import Population
from credit_engine.simulation._spells import NONE, Schedule, SpellTable, SpellTracker
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
    spells: dict[str, SpellTable]
    logs: dict[str, EventLog]
    truth: FloatArray


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
    """

    def __init__(
        self,
        pop: Population,
        grid: MonthGrid,
        sector_shock: FloatArray,
        rng: np.random.Generator,
    ) -> None:
        self.pop, self.grid, self.rng = pop, grid, rng
        self.sector_shock = sector_shock
        n, m = len(pop), grid.n_months
        self.n, self.m = n, m
        self.schedule = Schedule()
        self.logs = {name: EventLog(schema) for name, schema in EVENT_SCHEMAS.items()}
        self.health = pop.health_start.copy()
        self.under = pop.under_declaration.copy()
        self.lost = np.zeros(n, dtype=bool)
        self.closed = np.zeros(n, dtype=bool)
        self.last_penalty_day = np.full(n, NO_DAY, dtype=np.int64)
        self.safe_persist = np.zeros(n, dtype=bool)
        self.pub_offset = rng.integers(0, 24, n)
        self.prev_level = np.full(n, NONE)
        self.prev_direct_d = np.zeros(n, dtype=bool)
        self.prev_direct_code = np.zeros(n, dtype=np.int64)
        self.lam_import = np.zeros(n)
        self.lam_export = np.zeros(n)
        self.out = {
            "exists": np.zeros((n, m), bool),
            "active": np.zeros((n, m), bool),
            "activity": np.zeros((n, m)),
            "health": np.zeros((n, m)),
            "level": np.zeros((n, m), np.int64),
            "n_decl_export": np.zeros((n, m), np.int64),
            "n_decl_import": np.zeros((n, m), np.int64),
            "n_inspections": np.zeros((n, m), np.int64),
            "n_discrepancies": np.zeros((n, m), np.int64),
            "n_invoice_out": np.zeros((n, m), np.int64),
            "n_invoice_in": np.zeros((n, m), np.int64),
            "n_fx_in": np.zeros((n, m), np.int64),
            "n_fx_out": np.zeros((n, m), np.int64),
            "late_vat": np.zeros((n, m), bool),
            "late_cit": np.zeros((n, m), bool),
            "arrears": np.zeros((n, m), bool),
            "truth": np.zeros((n, m)),
        }
        self.cons = Consequences(self)
        self.trackers: dict[str, SpellTracker] = {}
        self.trackers = self._initial_states()

    # ------------------------------------------------------------------ setup
    def _initial_states(self) -> dict[str, SpellTracker]:
        pop, rng, n = self.pop, self.rng, self.n
        day0 = self.grid.start_day
        est = pop.established_day
        age = (day0 - est) / 365.25
        none = np.full(n, NONE)
        reg_day = est + 30

        level = np.full(n, ref.LEVEL_REGULAR)
        level_start = reg_day.copy()
        reason = np.full(n, codes.CR["INITIAL"])
        aeo = (
            (pop.compliance > 0.9) & (pop.size > 1) & (age >= 3) & (rng.random(n) < 0.6)
        )
        level[aeo] = ref.LEVEL_ADV_CERT
        level_start[aeo] = np.maximum(
            reg_day[aeo], day0 - rng.integers(0, 1460, n)[aeo]
        )
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
        self.schedule.add(
            "customs_repair",
            dis,
            level_start[dis] + 730,
            gen=customs_level.generation[dis],
            reason=np.full(len(dis), codes.CR["REPAIR_AUTO_2Y"]),
        )
        self.schedule.add("open_registration", np.flatnonzero(~pre), reg_day[~pre])

        safe = np.where(pre, ref.SAFE_A, NONE)
        safe_start = est + 60
        safe_reason = np.full(n, codes.SR["INITIAL"])
        b_now = pre & (self.under > 0.12) & (rng.random(n) < 0.3)
        safe[b_now] = ref.SAFE_B
        safe_start[b_now] = np.maximum(
            safe_start[b_now], day0 - rng.integers(30, 300, n)[b_now]
        )
        safe_reason[b_now] = codes.SR["GOODS_FUNDS_MISMATCH"]
        self.safe_persist = b_now & (rng.random(n) < 0.5)
        self.under[b_now & ~self.safe_persist] = 0.0

        exists0 = est <= day0
        status = np.where(exists0, 0, NONE)
        trackers = {
            "customs_level": customs_level,
            "customs_registration": SpellTracker(np.where(pre, 0, none), reg_day, none),
            "safe_classification": SpellTracker(safe, safe_start, safe_reason),
            "tax_registration": SpellTracker(status, est + 10, none),
            "samr_registration": SpellTracker(status, est, none),
            "abnormal_report": SpellTracker(none, none, none),
            "abnormal_unreachable": SpellTracker(none, none, none),
            "serious_violation_list": SpellTracker(none, none, none),
        }
        self._initial_lists(trackers, exists0 & (age >= 1.5))
        self._initial_rating(exists0)
        return trackers

    def _initial_lists(
        self, trackers: dict[str, SpellTracker], eligible: BoolArray
    ) -> None:
        """Draw listings that began before the window (some still open at its start)."""
        pop, rng, n, day0 = self.pop, self.rng, self.n, self.grid.start_day
        risk = hz.noncompliance(pop.compliance)
        p = 0.02 * np.exp(0.5 * risk) / np.exp(0.5 * risk).mean()
        listed = np.flatnonzero(eligible & (rng.random(n) < p))
        start = day0 - rng.integers(30, 3 * 365, len(listed))
        start = np.maximum(start, pop.established_day[listed] + 400)
        tracker = trackers["abnormal_report"]
        tracker.change(listed, start, codes.AC["ANNUAL_REPORT_MISSING"], NONE)
        repaired = rng.random(len(listed)) < 0.5
        repair_day = start + rng.integers(30, 400, len(listed))
        self.schedule.add(
            "abnormal_report_remove",
            listed[repaired],
            repair_day[repaired],
            gen=tracker.generation[listed[repaired]],
            why=np.full(repaired.sum(), codes.AR["REPAIRED"]),
        )
        keep = ~repaired
        self.schedule.add(
            "abnormal_escalate",
            listed[keep],
            start[keep] + 3 * 365,
            gen=tracker.generation[listed[keep]],
        )
        serious = np.flatnonzero(
            eligible & (rng.random(n) < 0.003 * np.exp(0.5 * risk))
        )
        s_start = day0 - rng.integers(30, 2 * 365, len(serious))
        s_start = np.maximum(s_start, pop.established_day[serious] + 200)
        st = trackers["serious_violation_list"]
        st.change(serious, s_start, codes.SC["HEAVIER_PENALTY"], NONE)
        self.schedule.add(
            "serious_remove",
            serious,
            s_start + 3 * 365,
            gen=st.generation[serious],
            why=np.full(len(serious), codes.SRM["EXPIRED"]),
        )

    def _initial_rating(self, exists0: BoolArray) -> None:
        """Publish the tax rating in force when the window starts (from before it)."""
        first_year = int(self.grid.year[0])
        pub = self._publication_days(first_year)
        year = np.where(pub < self.grid.start_day, first_year - 1, first_year - 2)
        pub = np.where(
            year == first_year - 1, pub, self._publication_days(first_year - 1)
        )
        rated = exists0 & (self.pop.established_day < self._year_start(year + 1))
        idx = np.flatnonzero(rated)
        if len(idx):
            self.cons.annual.publish_ratings(idx, year[idx], pub[idx], initial=True)

    # ------------------------------------------------------------ helpers
    def _year_start(self, year: IntArray | int) -> IntArray:
        return np.asarray(
            (np.asarray(year) - 1970).astype("datetime64[Y]").astype("datetime64[D]"),
        ).astype(np.int64)

    def _publication_days(self, year: int) -> IntArray:
        """Publication day of the ratings of ``year - 1`` (April of ``year``)."""
        return to_day_np(f"{year}-04-01") + self.pub_offset

    def drivers(self, t: int, health: FloatArray | None = None) -> hz.Drivers:
        """Standardised drivers of every enterprise in month ``t``."""
        pop = self.pop
        day = self.grid.month_end[t]
        recent = (self.last_penalty_day != NO_DAY) & (day - self.last_penalty_day < 365)
        return hz.Drivers(
            noncompliance=hz.noncompliance(pop.compliance),
            distress=-(self.health if health is None else health),
            under=self.under,
            fraud=pop.refund_fraud.astype(np.float64),
            young=((day - pop.established_day) < 730).astype(np.float64),
            penalty=recent.astype(np.float64),
        )

    # --------------------------------------------------------------- run
    def run(self) -> Dynamics:
        """Simulate every month and return the phase-A result."""
        for t in range(self.m):
            self._step(t)
        self.cons.truth.finalise_truth()
        spells = {name: tr.finish() for name, tr in self.trackers.items()}
        return Dynamics(
            **self.out,
            under_declaration=self.under,
            major_day=self.cons.major_day,
            spells=spells,
            logs=self.logs,
        )

    def _step(self, t: int) -> None:
        grid, pop, rng, n = self.grid, self.pop, self.rng, self.n
        m_start, m_end = int(grid.month_start[t]), int(grid.month_end[t])
        shock = self.sector_shock[pop.sector, t]
        jump = np.where(rng.random(n) < 0.004, -rng.normal(2.0, 0.5, n), 0.0)
        self.health = (
            pop.health_mean
            + hz.HEALTH_RHO * (self.health - pop.health_mean)
            + hz.HEALTH_SIGMA * rng.standard_normal(n)
            + shock
            + jump
        )
        self.cons.apply_due(m_end)
        if grid.month[t] == 4 and grid.year[t] == 2026:
            self.cons.regime_transition(to_day_np("2026-04-01"))
        if grid.month[t] == 4:
            self.cons.annual.tax_publication(t)

        exists = (pop.established_day <= m_end) & ~self.closed
        active = exists & ~self.lost
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
            * np.exp(0.25 * np.clip(self.health, -3, 3))
        )
        self._draw_counts(t, act)
        self.out["exists"][:, t] = exists
        self.out["active"][:, t] = active & (act > 0)
        self.out["activity"][:, t] = act
        self.out["health"][:, t] = self.health
        self.out["level"][:, t] = np.maximum(self.trackers["customs_level"].value, 0)

        self.cons.customs_behaviour(t, active)
        self.cons.tax_behaviour(t, exists, active)
        self.cons.market_behaviour(t, active)
        self.cons.triggers.hazard_triggers(t, active)
        if grid.month[t] == 6:
            self.cons.annual.annual_reports(t, exists)
        self.cons.annual.safe_reviews(t, active)
        self.cons.triggers.aeo_and_exits(t, active)
        self.cons.truth.truth_month(t, active, exists)

    def _draw_counts(self, t: int, act: FloatArray) -> None:
        pop, rng = self.pop, self.rng
        size = pop.size
        mix = pop.mode_mix
        import_share = (
            mix[:, 0] * pop.import_share_0110
            + mix[:, 1] * pop.import_share_9610
            + mix[:, 4]
        )
        decl = DECLARATIONS_PER_YEAR / 12 * size * pop.decl_factor * act
        self.lam_import = decl * import_share
        self.lam_export = decl * (1 - import_share)
        self.out["n_decl_import"][:, t] = rng.poisson(self.lam_import)
        self.out["n_decl_export"][:, t] = rng.poisson(self.lam_export)
        domestic = 0.3 + pop.domestic_share
        self.out["n_invoice_out"][:, t] = rng.poisson(
            OUTPUT_INVOICES_PER_YEAR / 12 * size * act * domestic / 0.55
        )
        self.out["n_invoice_in"][:, t] = rng.poisson(
            INPUT_INVOICES_PER_YEAR / 12 * size * act
        )
        self.out["n_fx_in"][:, t] = rng.poisson(
            FX_RECEIPTS_PER_YEAR / 12 * size**0.9 * act * (1 - import_share) / 0.75
        )
        self.out["n_fx_out"][:, t] = rng.poisson(
            FX_PAYMENTS_PER_YEAR / 12 * size**0.9 * act * (import_share + 0.1) / 0.35
        )


def to_day_np(iso: str) -> int:
    """Day number of an ISO date string."""
    return int(np.datetime64(iso, "D").astype(np.int64))


__all__ = ["ChunkDynamics", "Dynamics", "to_day", "TRADE_CNY_PER_YEAR", "WINDOW_DAYS"]
