"""Typed state of one chunk of enterprises during the month loop (phase A).

The month loop (:mod:`_dynamics`) owns a :class:`ChunkState` and hands it, with
the :class:`StatutoryState` where needed, to the processes that act on it:
:mod:`_annual`, :mod:`_triggers`, :mod:`_truth` and :mod:`_consequences`. Each
process receives what it reads and writes as constructor arguments; none of them
reaches back into another, so the modules import one way only.

Arrays are one value per enterprise (shape ``(n,)``) unless said otherwise; the
:class:`MonthArrays` have shape ``(n, n_months)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation._calendar import NO_DAY, MonthGrid
from credit_engine.simulation._effects import ChunkEffects
from credit_engine.simulation._events import EventLogs
from credit_engine.simulation._population import Population
from credit_engine.simulation._spells import NONE, Schedule, SpellTracker, StateTables
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

__all__ = ["ChunkState", "MonthArrays", "StatutoryState", "to_day_np"]


def to_day_np(iso: str) -> int:
    """Day number of an ISO date string."""
    return int(np.datetime64(iso, "D").astype(np.int64))


@dataclass(frozen=True)
class MonthArrays:
    """What the month loop records per enterprise and month, shape ``(n, m)``.

    The arrays are filled in place month by month; the phase-A result
    (:class:`~credit_engine.simulation._dynamics.Dynamics`) hands them on.
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
    truth: FloatArray

    @classmethod
    def zeros(cls, n: int, m: int) -> MonthArrays:
        """Return zero-filled arrays for ``n`` enterprises and ``m`` months."""
        return cls(
            exists=np.zeros((n, m), bool),
            active=np.zeros((n, m), bool),
            activity=np.zeros((n, m)),
            health=np.zeros((n, m)),
            level=np.zeros((n, m), np.int64),
            n_decl_export=np.zeros((n, m), np.int64),
            n_decl_import=np.zeros((n, m), np.int64),
            n_inspections=np.zeros((n, m), np.int64),
            n_discrepancies=np.zeros((n, m), np.int64),
            n_invoice_out=np.zeros((n, m), np.int64),
            n_invoice_in=np.zeros((n, m), np.int64),
            n_fx_in=np.zeros((n, m), np.int64),
            n_fx_out=np.zeros((n, m), np.int64),
            late_vat=np.zeros((n, m), bool),
            late_cit=np.zeros((n, m), bool),
            arrears=np.zeros((n, m), bool),
            truth=np.zeros((n, m)),
        )


@dataclass
class StatutoryState:
    """Bookkeeping of the statutory consequences, one value per enterprise.

    Attributes
    ----------
    dishonest_since : numpy.ndarray
        Day the current customs dishonest spell counts from; ``NO_DAY`` if none.
    dishonest_crime : numpy.ndarray
        Whether that spell involves a smuggling crime (serious under Order 282).
    major_year, major_day, major_code : numpy.ndarray
        Year, day and direct-D code of the latest major tax violation.
    abn_from, abn_to : numpy.ndarray
        Current or latest abnormal tax status spell; ``NO_DAY`` when open/none.
    safe_since : numpy.ndarray
        Day the SAFE class C began.
    """

    dishonest_since: IntArray
    dishonest_crime: BoolArray
    major_year: IntArray
    major_day: IntArray
    major_code: IntArray
    abn_from: IntArray
    abn_to: IntArray
    safe_since: IntArray

    @classmethod
    def empty(cls, n: int) -> StatutoryState:
        """Return the state of ``n`` enterprises with no consequence yet."""
        return cls(
            dishonest_since=np.full(n, NO_DAY, dtype=np.int64),
            dishonest_crime=np.zeros(n, dtype=bool),
            major_year=np.full(n, -1, dtype=np.int64),
            major_day=np.full(n, NO_DAY, dtype=np.int64),
            major_code=np.zeros(n, dtype=np.int64),
            abn_from=np.full(n, NO_DAY, dtype=np.int64),
            abn_to=np.full(n, NO_DAY, dtype=np.int64),
            safe_since=np.full(n, NO_DAY, dtype=np.int64),
        )


@dataclass
class ChunkState:
    """Everything the processes of one chunk share during the month loop.

    Attributes
    ----------
    pop : Population
        The chunk's enterprises.
    grid : MonthGrid
        Simulated months.
    rng : numpy.random.Generator
        The chunk's dynamics stream (every draw of phase A, in a fixed order).
    schedule : Schedule
        Consequences due on future days.
    logs : EventLogs
        Record-level events.
    trackers : StateTables of SpellTracker
        Current spell of every state table.
    months : MonthArrays
        Per-month records.
    health : numpy.ndarray
        Latent financial health this month (replaced every month).
    under : numpy.ndarray
        Share of trade under-declared.
    lost, closed : numpy.ndarray
        Out of contact; closed (deregistered or revoked).
    last_penalty_day : numpy.ndarray
        Day of the latest intentional customs penalty; ``NO_DAY`` if none.
    safe_persist : numpy.ndarray
        Whether a SAFE class B will persist into C at the next review.
    pub_offset : numpy.ndarray
        Day in April on which the enterprise's tax rating is published.
    prev_level, prev_direct_d, prev_direct_code : numpy.ndarray
        Latest published tax level, whether it was a direct D, and its code.
    lam_import, lam_export : numpy.ndarray
        Expected declarations of the month (set by the month loop).
    effects : ChunkEffects, optional
        What the scenarios change in this chunk; ``None`` without scenarios.
    n : int
        Number of enterprises.
    """

    pop: Population
    grid: MonthGrid
    rng: np.random.Generator
    schedule: Schedule
    logs: EventLogs
    trackers: StateTables[SpellTracker]
    months: MonthArrays
    health: FloatArray
    under: FloatArray
    lost: BoolArray
    closed: BoolArray
    last_penalty_day: IntArray
    safe_persist: BoolArray
    pub_offset: IntArray
    prev_level: IntArray
    prev_direct_d: BoolArray
    prev_direct_code: IntArray
    lam_import: FloatArray
    lam_export: FloatArray
    effects: ChunkEffects | None = None
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = len(self.pop)

    def days_in_month(self, t: int, k: int) -> IntArray:
        """Draw ``k`` random days inside month ``t``."""
        days = self.grid.month_start[t] + self.rng.integers(
            0, self.grid.month_days[t], k
        )
        return np.asarray(days, dtype=np.int64)

    def record_adverse(
        self, idx: IntArray, effective: IntArray, trigger: IntArray, kind: str
    ) -> None:
        """Log adverse events of ``kind`` (a key of ``codes.AK``)."""
        self.logs.adverse.add(
            idx=idx, effective=effective, trigger=trigger, kind=codes.AK[kind]
        )

    def publication_days(self, year: int) -> IntArray:
        """Publication day of the ratings of ``year - 1`` (April of ``year``)."""
        return to_day_np(f"{year}-04-01") + self.pub_offset

    def drivers(self, t: int) -> hz.Drivers:
        """Standardised drivers of every enterprise in month ``t``."""
        pop = self.pop
        day = self.grid.month_end[t]
        recent = (self.last_penalty_day != NO_DAY) & (day - self.last_penalty_day < 365)
        effects = self.effects
        shift = None
        if effects is not None and effects.log_odds is not None:
            shift = effects.log_odds[:, t]
        return hz.Drivers(
            noncompliance=hz.noncompliance(pop.compliance),
            distress=-self.health,
            under=self.under,
            fraud=pop.refund_fraud.astype(np.float64),
            young=((day - pop.established_day) < 730).astype(np.float64),
            penalty=recent.astype(np.float64),
            shift=shift,
        )

    def close_entity(
        self, idx: IntArray, day: IntArray, status: int, *, deregister_tax: bool
    ) -> None:
        """Close ``idx`` on ``day`` with SAMR ``status``; end their registrations."""
        self.closed[idx] = True
        self.lost[idx] = True
        tr = self.trackers
        tr.samr_registration.change(idx, day, status, NONE)
        tr.customs_registration.change(idx, day, NONE, NONE)
        if deregister_tax:
            tr.tax_registration.change(idx, day, codes.TS["DEREGISTERED"], NONE)
            tr.safe_classification.change(idx, day, NONE, NONE)
