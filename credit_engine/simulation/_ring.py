"""The refund ring's behaviour and its statutory consequences (phase A).

Each member follows its planned days (drawn once for the zone by :mod:`_plan`):
a change of legal representative and/or address, then the scheme runs
(inflated exports, surging refund claims, round-tripped funds, bought input
invoices, more inspection discrepancies: the month loop and the record builders
read :attr:`RingChunk.active`), and the tax inspection finds it months later:
a major violation (REFUND_FRAUD, direct D the next April), absconding for some
(lost contact, abnormal list, tax status ABSCONDED) and a customs penalty.

Every draw comes from the ring's own stream, so the chunk's dynamics stream is
only disturbed by the consequences (see docs/simulator.md, *Scenarios*).
"""

from __future__ import annotations

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._consequences import Consequences
from credit_engine.simulation._effects import RingChunk
from credit_engine.simulation._state import ChunkState, StatutoryState
from credit_engine.simulation._triggers import Triggers
from credit_engine.simulation._types import BoolArray, IntArray

__all__ = ["RingProcess"]


class RingProcess:
    """The refund ring inside one chunk, month by month.

    Parameters
    ----------
    chunk : ChunkState
        The chunk's shared state; ``chunk.effects.ring`` holds the members.
    statutory : StatutoryState
        Where the major tax violation is recorded (for the April D).
    triggers : Triggers
        Sends absconders out of contact (:meth:`Triggers.go_lost`).
    consequences : Consequences
        Counts the ring's customs penalties towards Art. 22(3).

    Raises
    ------
    ValueError
        If the chunk has no ring (a simulator bug).
    """

    def __init__(
        self,
        chunk: ChunkState,
        statutory: StatutoryState,
        triggers: Triggers,
        consequences: Consequences,
    ) -> None:
        if chunk.effects is None or chunk.effects.ring is None:
            raise ValueError(
                "simulator bug: RingProcess built for a chunk without ring"
            )
        self.d = chunk
        self.st = statutory
        self.triggers = triggers
        self.consequences = consequences
        self.ring: RingChunk = chunk.effects.ring

    def _in_month(self, t: int, day: IntArray) -> BoolArray:
        grid = self.d.grid
        return np.asarray(
            (day >= grid.month_start[t]) & (day <= grid.month_end[t]), dtype=bool
        )

    def start_month(self, t: int, active: BoolArray) -> BoolArray:
        """Mark the members whose scheme runs in month ``t``; return the mask.

        The scheme runs from the month of the surge through the month of the
        detection, while the member is active (not lost, not closed).
        """
        ring, grid = self.ring, self.d.grid
        running = (ring.surge_day <= grid.month_end[t]) & (
            (ring.detect_day == NO_DAY) | (ring.detect_day >= grid.month_start[t])
        )
        running &= active[ring.idx]
        ring.active[ring.idx[running], t] = True
        first = running & (ring.surge_started == NO_DAY)
        ring.surge_started[first] = np.maximum(
            ring.surge_day[first], grid.month_start[t]
        )
        return np.asarray(ring.active[:, t])

    def month_events(self, t: int, active: BoolArray) -> None:
        """Registration changes, detections and customs penalties of month ``t``."""
        self._changes(t, active)
        self._detections(t)
        self._customs_penalties(t)

    def _changes(self, t: int, active: BoolArray) -> None:
        ring, logs = self.ring, self.d.logs
        for day, field in (
            (ring.change_day, ring.change_field),
            (ring.second_change_day, ring.second_field),
        ):
            sel = self._in_month(t, day) & active[ring.idx]
            if not sel.any():
                continue
            logs.samr_change.add(idx=ring.idx[sel], day=day[sel], field=field[sel])
            seen = ring.first_change[sel]
            ring.first_change[sel] = np.where(
                seen == NO_DAY, day[sel], np.minimum(seen, day[sel])
            )

    def _detections(self, t: int) -> None:
        d, ring, st = self.d, self.ring, self.st
        sel = (
            self._in_month(t, ring.detect_day)
            & (ring.surge_started != NO_DAY)
            & ~d.closed[ring.idx]
        )
        if not sel.any():
            return
        rng = ring.dynamics_rng
        idx, day = ring.idx[sel], ring.detect_day[sel]
        k = len(idx)
        amount = rng.lognormal(np.log(1.5e6), 0.8, k) * np.sqrt(d.pop.size[idx])
        d.logs.tax_violation.add(
            idx=idx,
            day=day,
            type=codes.TV["REFUND_FRAUD"],
            amount=np.round(np.clip(amount, 1e4, 5e8), 2),
            major=True,
        )
        # The cause is the scheme itself: the truth knows from the surge on.
        d.record_adverse(idx, day, ring.surge_started[sel], "TAX_MAJOR_VIOLATION")
        ring.detected_on[sel] = day
        st.major_year[idx] = d.grid.year[d.grid.month_of_day(day)]
        st.major_day[idx] = day
        st.major_code[idx] = 1  # refund fraud: direct D, 2025 Art. 18 item 1
        flee = ring.abscond[sel] & ~d.lost[idx]
        self.triggers.go_lost(
            idx[flee],
            day[flee] + rng.integers(5, 31, flee.sum()),
            status=codes.TS["ABSCONDED"],
            recover_p=0.0,
            rng=rng,
        )

    def _customs_penalties(self, t: int) -> None:
        d, ring = self.d, self.ring
        sel = (
            self._in_month(t, ring.penalty_day)
            & (ring.surge_started != NO_DAY)
            & ~d.closed[ring.idx]
        )
        if not sel.any():
            return
        rng = ring.dynamics_rng
        idx, day = ring.idx[sel], ring.penalty_day[sel]
        k = len(idx)
        amount = np.clip(np.round(rng.lognormal(np.log(3e5), 0.8, k), 2), 1e4, 5e7)
        unpaid = d.lost[idx]  # an absconded firm does not pay
        paid = np.where(unpaid, NO_DAY, day + rng.integers(5, 15, k))
        d.logs.customs_penalty.add(
            idx=idx,
            day=day,
            category=codes.PC["SUPERVISION_VIOLATION"],
            amount=amount,
            non_intentional=False,
            due=day + 15,
            paid=paid,
        )
        self.consequences.pen.append((idx, day, amount, np.ones(k, dtype=bool)))
        np.maximum.at(d.last_penalty_day, idx, day)
        fine = unpaid & (amount > 10_000)
        d.schedule.add(
            "customs_dishonest",
            idx[fine],
            day[fine] + 15 + 181,
            reason=np.full(fine.sum(), codes.CR["ART22_5_FINE_OVERDUE"]),
            trigger=day[fine] + 15,
        )
