"""What the scenarios change inside one chunk of enterprises.

The zone-level plan (:mod:`_plan`) resolves the scenarios once for the whole
zone and hands each chunk a :class:`ChunkEffects`: the month loop (phase A)
reads the health offsets and hazard shifts and runs the refund ring's
behaviour; the record builders (phase B) read which (enterprise, month) cells
belong to the ring's scheme. Without scenarios a chunk gets ``None`` and the
simulator runs exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._scenarios import RefundRing
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

__all__ = ["ChunkEffects", "RingChunk", "ShockPart"]


@dataclass
class RingChunk:
    """The refund ring's members inside one chunk (one entry per member).

    Attributes
    ----------
    params : RefundRing
        The scenario.
    idx : numpy.ndarray
        Chunk-local index of each member (sorted).
    shell : numpy.ndarray
        Whether the member is a newly founded shell.
    scheme_day, change_day, second_change_day, surge_day : numpy.ndarray
        Planned days: scheme start, first and second registration change
        (``NO_DAY``: none), start of the inflated exports and refund claims.
    change_field, second_field : numpy.ndarray
        Index into ``CHANGE_FIELDS`` (0 legal representative, 1 address).
    detect_day, penalty_day : numpy.ndarray
        Planned tax detection and customs penalty (``NO_DAY``: never).
    abscond : numpy.ndarray
        Whether the member absconds once detected.
    zone_members : numpy.ndarray
        Zone-wide index of every member of the ring (for invoice links).
    zone_abnormal : numpy.ndarray
        Zone-wide index of the abnormal households invoices are bought from.
    offset : int
        Zone-wide index of the chunk's first enterprise.
    dynamics_rng, records_rng : numpy.random.Generator
        The ring's own streams for phase A and phase B of this chunk.
    n, m : int
        Enterprises and months of the chunk.
    active : numpy.ndarray
        ``(n, m)``: the scheme runs (inflated exports, claims, round trips);
        filled month by month in phase A.
    member : numpy.ndarray
        ``(n,)``: whether the enterprise is a member.
    first_change, surge_started, detected_on : numpy.ndarray
        Per member, the day its first change was logged, the day its surge
        began and the day the tax inspection found it (``NO_DAY``: did not
        happen, e.g. lost before); set in phase A.
    """

    params: RefundRing
    idx: IntArray
    shell: BoolArray
    scheme_day: IntArray
    change_day: IntArray
    change_field: IntArray
    second_change_day: IntArray
    second_field: IntArray
    surge_day: IntArray
    detect_day: IntArray
    abscond: BoolArray
    penalty_day: IntArray
    zone_members: IntArray
    zone_abnormal: IntArray
    offset: int
    dynamics_rng: np.random.Generator
    records_rng: np.random.Generator
    n: int
    m: int
    active: BoolArray = field(init=False)
    member: BoolArray = field(init=False)
    first_change: IntArray = field(init=False)
    surge_started: IntArray = field(init=False)
    detected_on: IntArray = field(init=False)

    def __post_init__(self) -> None:
        self.active = np.zeros((self.n, self.m), dtype=bool)
        self.member = np.zeros(self.n, dtype=bool)
        self.member[self.idx] = True
        self.first_change = np.full(len(self.idx), NO_DAY, dtype=np.int64)
        self.surge_started = np.full(len(self.idx), NO_DAY, dtype=np.int64)
        self.detected_on = np.full(len(self.idx), NO_DAY, dtype=np.int64)

    def rows(self, ent: IntArray, mon: IntArray) -> BoolArray:
        """Whether each (enterprise, month) row lies inside a running scheme."""
        return np.asarray(self.active[ent, mon], dtype=bool)

    def bought_suppliers(
        self, ent: IntArray, mon: IntArray, is_in: BoolArray, pool: IntArray
    ) -> IntArray:
        """Counterparties of invoices, with the scheme's input invoices bought.

        A share ``bought_invoice_share`` of the input invoices of a running
        scheme come from another member (``ring_supplier_share``) or from an
        abnormal household (买单配票); ``pool`` holds ``-1 - k`` for zone
        enterprise ``k``, as in the population's counterparty pools.
        """
        rows = np.flatnonzero(is_in & self.rows(ent, mon))
        k = len(rows)
        if k == 0:
            return pool
        rng, params = self.records_rng, self.params
        bought = rng.random(k) < params.bought_invoice_share
        from_ring = rng.random(k) < params.ring_supplier_share
        members = self.zone_members
        pick = rng.integers(0, len(members), k)
        own = self.offset + ent[rows]
        # Never from yourself: the next member instead.
        pick = np.where(members[pick] == own, (pick + 1) % len(members), pick)
        chosen = members[pick]
        if len(self.zone_abnormal):
            abnormal = self.zone_abnormal[rng.integers(0, len(self.zone_abnormal), k)]
            chosen = np.where(from_ring, chosen, abnormal)
        out = pool.copy()
        out[rows] = np.where(bought, -1 - chosen, pool[rows])
        return np.asarray(out, dtype=np.int64)


@dataclass(frozen=True)
class ShockPart:
    """One sector shock as it hits one chunk.

    Attributes
    ----------
    first_month : int
        Index of the first month the shock acts in.
    hit : numpy.ndarray
        ``(n,)``: enterprises of the shocked sector.
    health, log_odds : numpy.ndarray
        ``(m + 12,)``: offset added to latent health and to the logit of every
        adverse channel in each month (the 12 extra months let the truth look a
        year ahead).
    """

    first_month: int
    hit: BoolArray
    health: FloatArray
    log_odds: FloatArray


@dataclass
class ChunkEffects:
    """Scenario effects on one chunk; empty fields change nothing.

    Attributes
    ----------
    shocks : list of ShockPart
        Sector shocks hitting enterprises of this chunk.
    ring : RingChunk, optional
        The refund ring's members in this chunk.
    health_offset, log_odds : numpy.ndarray or None
        ``(n, m + 12)``: the shocks' offsets summed per enterprise and month
        (``None`` without shocks).
    """

    shocks: list[ShockPart] = field(default_factory=list)
    ring: RingChunk | None = None
    health_offset: FloatArray | None = field(init=False, default=None)
    log_odds: FloatArray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.shocks:
            self.health_offset = sum(
                (np.outer(p.hit, p.health) for p in self.shocks[1:]),
                np.outer(self.shocks[0].hit, self.shocks[0].health),
            )
            self.log_odds = sum(
                (np.outer(p.hit, p.log_odds) for p in self.shocks[1:]),
                np.outer(self.shocks[0].hit, self.shocks[0].log_odds),
            )

    def known_ahead(self, t: int, horizon: int) -> tuple[FloatArray, FloatArray]:
        """Offsets of months ``t+1 .. t+horizon`` as known at the end of month ``t``.

        A shock is news when it starts: before its first month the latent
        truth does not anticipate it; from then on its whole profile is known.
        Returns the health offsets and logit shifts, each ``(n, horizon)``.
        """
        ahead = slice(t + 1, t + 1 + horizon)
        n = len(self.shocks[0].hit) if self.shocks else 0
        health = np.zeros((n, horizon))
        log_odds = np.zeros((n, horizon))
        for part in self.shocks:
            if part.first_month <= t:
                health += np.outer(part.hit, part.health[ahead])
                log_odds += np.outer(part.hit, part.log_odds[ahead])
        return health, log_odds
