"""Adverse-event triggers drawn from the channel hazards, and entries and exits."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._spells import NONE
from credit_engine.simulation._state import ChunkState, StatutoryState
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

TriggerHandler = Callable[[IntArray, IntArray], None]
"""Records a channel's events for enterprises ``idx`` on days ``day``."""


DISHONEST_LEVELS = (ref.LEVEL_DISHONEST, ref.LEVEL_SERIOUS)


class Triggers:
    """Monthly draws of the adverse channels and their immediate records.

    Parameters
    ----------
    chunk : ChunkState
        The chunk's shared state.
    statutory : StatutoryState
        Consequence bookkeeping (major tax violations are recorded here).

    Raises
    ------
    RuntimeError
        If a monthly channel of :data:`hazards.MONTHLY_CHANNELS` has no handler
        or a handler no channel (a simulator bug).
    """

    def __init__(self, chunk: ChunkState, statutory: StatutoryState) -> None:
        self.d = chunk
        self.tr = chunk.trackers
        self.st = statutory
        self._handlers: dict[str, TriggerHandler] = {
            hz.SMUGGLING.name: self._trigger_customs_smuggling,
            hz.CUSTOMS_TAX_DEFAULT.name: self._trigger_customs_tax_default,
            hz.TAX_MAJOR.name: self._trigger_tax_major_violation,
            hz.FX_SERIOUS.name: self._trigger_fx_serious_violation,
            hz.LOST_CONTACT.name: self._trigger_samr_lost_contact,
            hz.HEAVIER_PENALTY.name: self._trigger_samr_heavier_penalty,
        }
        channels = {c.name for c in hz.MONTHLY_CHANNELS}
        if set(self._handlers) != channels:
            raise RuntimeError(
                "simulator bug: monthly channels without a trigger handler: "
                f"{sorted(channels - set(self._handlers))}; handlers without a "
                f"channel: {sorted(set(self._handlers) - channels)}; add one "
                "handler per entry of hazards.MONTHLY_CHANNELS to Triggers"
            )

    def eligibility(self, t: int, active: BoolArray) -> dict[str, BoolArray]:
        """Which enterprises can experience each monthly channel, by their state.

        The customs channels additionally need trade in the month (declarations
        for smuggling, import bills for a tax default); :meth:`trading_odds`
        gives the chance of that.
        """
        level = self.tr.customs_level.value
        customs_ok = active & ~np.isin(level, DISHONEST_LEVELS) & (level != NONE)
        safe = self.tr.safe_classification.value
        return {
            hz.SMUGGLING.name: customs_ok,
            hz.CUSTOMS_TAX_DEFAULT.name: customs_ok.copy(),
            hz.TAX_MAJOR.name: active & (self.st.major_year != self.d.grid.year[t]),
            hz.FX_SERIOUS.name: active & (safe != NONE) & (safe != ref.SAFE_C),
            hz.LOST_CONTACT.name: active.copy(),
            hz.HEAVIER_PENALTY.name: active
            & (self.tr.serious_violation_list.value == NONE),
        }

    def trading_odds(self) -> dict[str, FloatArray]:
        """Probability of the trade a channel needs, at this month's activity."""
        d = self.d
        return {
            hz.SMUGGLING.name: 1.0 - np.exp(-(d.lam_export + d.lam_import)),
            hz.CUSTOMS_TAX_DEFAULT.name: 1.0 - np.exp(-d.lam_import),
        }

    def hazard_triggers(self, t: int, active: BoolArray) -> None:
        """Draw every monthly channel and start its consequences."""
        d = self.d
        drivers = d.drivers(t)
        elig = self.eligibility(t, active)
        elig[hz.SMUGGLING.name] &= (
            d.months.n_decl_export[:, t] + d.months.n_decl_import[:, t]
        ) > 0
        elig[hz.CUSTOMS_TAX_DEFAULT.name] &= d.months.n_decl_import[:, t] > 0
        for channel in hz.MONTHLY_CHANNELS:
            p = hz.probability(channel, drivers)
            idx = np.flatnonzero(elig[channel.name] & (d.rng.random(d.n) < p))
            if len(idx):
                day = self.d.days_in_month(t, len(idx))
                self._handlers[channel.name](idx, day)

    def _trigger_customs_smuggling(self, idx: IntArray, day: IntArray) -> None:
        d, rng, k = self.d, self.d.rng, len(idx)
        crime = rng.random(k) < 0.1
        amount = np.clip(np.round(rng.lognormal(np.log(3e5), 1.0, k), 2), 1e4, 5e7)
        paid = np.where(rng.random(k) < 0.8, day + rng.integers(5, 15, k), NO_DAY)
        d.logs.customs_penalty.add(
            idx=idx,
            day=day,
            category=np.where(
                crime, codes.PC["SMUGGLING_CRIME"], codes.PC["SMUGGLING_ADMIN"]
            ),
            amount=amount,
            non_intentional=False,
            due=day + 15,
            paid=paid,
        )
        np.maximum.at(d.last_penalty_day, idx, day)
        reason = np.where(
            crime,
            codes.CR["ART22_1_SMUGGLING_CRIME"],
            codes.CR["ART22_2_SMUGGLING_ADMIN"],
        )
        d.schedule.add(
            "customs_dishonest",
            idx,
            day + rng.integers(5, 30, k),
            reason=reason,
            trigger=day,
        )

    def _trigger_customs_tax_default(self, idx: IntArray, day: IntArray) -> None:
        d, rng, k = self.d, self.d.rng, len(idx)
        due = day + 15
        paid = np.where(rng.random(k) < 0.7, due + rng.integers(100, 250, k), NO_DAY)
        d.logs.default_bill.add(
            idx=idx,
            day=day,
            due=due,
            paid=paid,
            amount=np.round(rng.lognormal(np.log(5e4), 1.0, k), 2),
        )
        d.schedule.add(
            "customs_dishonest",
            idx,
            due + 90 + rng.integers(1, 10, k),
            reason=np.full(k, codes.CR["ART22_4_TAX_OVERDUE"]),
            trigger=day,
        )

    def _trigger_tax_major_violation(self, idx: IntArray, day: IntArray) -> None:
        d, rng, k = self.d, self.d.rng, len(idx)
        fraud = d.pop.refund_fraud[idx]
        other = rng.choice(
            [
                codes.TV["EVASION"],
                codes.TV["FALSE_INVOICE"],
                codes.TV["ARREARS_EVASION"],
                codes.TV["INCENTIVE_FRAUD"],
            ],
            k,
            p=[0.5, 0.25, 0.15, 0.1],
        )
        kind = np.where(fraud, codes.TV["REFUND_FRAUD"], other)
        d.logs.tax_violation.add(
            idx=idx,
            day=day,
            type=kind,
            major=True,
            amount=np.round(rng.lognormal(np.log(8e5), 1.0, k), 2),
        )
        self.d.record_adverse(idx, day, day, "TAX_MAJOR_VIOLATION")
        self.st.major_year[idx] = d.grid.year[d.grid.month_of_day(day)]
        self.st.major_day[idx] = day
        direct = np.isin(kind, [codes.TV["REFUND_FRAUD"], codes.TV["FALSE_INVOICE"]])
        self.st.major_code[idx] = np.where(direct, 1, 12)
        flee = fraud & (rng.random(k) < 0.3)
        self.go_lost(
            idx[flee],
            day[flee] + rng.integers(5, 30, flee.sum()),
            status=codes.TS["ABSCONDED"],
            recover_p=0.0,
        )

    def _trigger_fx_serious_violation(self, idx: IntArray, day: IntArray) -> None:
        rng = self.d.rng
        self.d.schedule.add(
            "safe_c", idx, day + rng.integers(10, 40, len(idx)), trigger=day
        )

    def _trigger_samr_lost_contact(self, idx: IntArray, day: IntArray) -> None:
        self.go_lost(idx, day, status=codes.TS["ABNORMAL"], recover_p=0.3)

    def go_lost(
        self,
        idx: IntArray,
        day: IntArray,
        *,
        status: int,
        recover_p: float,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Put ``idx`` out of contact from ``day``: listing, tax status, then exit.

        The abnormal list (UNREACHABLE) follows in 10-40 days and the tax status
        ``status`` in 30-90 days; a share ``recover_p`` comes back within a
        year, the others are revoked (吊销) after 180-540 days. ``rng`` defaults
        to the chunk's dynamics stream (a scenario passes its own).
        """
        d, k = self.d, len(idx)
        rng = d.rng if rng is None else rng
        if k == 0:
            return
        d.lost[idx] = True
        sched = d.schedule
        sched.add(
            "abnormal_unreachable_list", idx, day + rng.integers(10, 40, k), trigger=day
        )
        sched.add(
            "tax_status", idx, day + rng.integers(30, 90, k), status=np.full(k, status)
        )
        back = rng.random(k) < recover_p
        sched.add("recover", idx[back], day[back] + rng.integers(90, 365, back.sum()))
        sched.add(
            "revoke", idx[~back], day[~back] + rng.integers(180, 540, (~back).sum())
        )

    def _trigger_samr_heavier_penalty(self, idx: IntArray, day: IntArray) -> None:
        d, rng, k = self.d, self.d.rng, len(idx)
        kind = rng.choice(
            [codes.AT["FINE"], codes.AT["SUSPENSION"], codes.AT["LICENCE_REVOKED"]],
            k,
            p=[0.6, 0.25, 0.15],
        )
        d.logs.admin_penalty.add(
            idx=idx,
            day=day,
            type=kind,
            matter=rng.integers(0, 6, k),
            heavier=True,
            amount=np.round(rng.lognormal(np.log(2e5), 1.0, k), 2),
        )
        d.schedule.add("serious_list", idx, day + rng.integers(20, 60, k), trigger=day)
        revoked = kind == codes.AT["LICENCE_REVOKED"]
        d.schedule.add(
            "revoke", idx[revoked], day[revoked] + rng.integers(10, 40, revoked.sum())
        )

    def aeo_and_exits(self, t: int, active: BoolArray) -> None:
        """AEO certifications and voluntary deregistrations (注销) of the month."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        m_end = int(d.grid.month_end[t])
        level = self.tr.customs_level
        clean = (d.last_penalty_day == NO_DAY) | (m_end - d.last_penalty_day > 730)
        eligible = (
            active
            & np.isin(level.value, (ref.LEVEL_REGULAR, ref.LEVEL_CERT))
            & (pop.compliance > 0.88)
            & (pop.size > 0.8)
            & (m_end - pop.established_day > 730)
            & clean
            & (d.health > -0.5)
        )
        idx = np.flatnonzero(eligible & (rng.random(d.n) < 0.0015))
        level.change(
            idx,
            self.d.days_in_month(t, len(idx)),
            ref.LEVEL_ADV_CERT,
            codes.CR["AEO_CERTIFIED"],
        )
        listed = (
            (self.tr.abnormal_report.value != NONE)
            | (self.tr.serious_violation_list.value != NONE)
            | np.isin(level.value, DISHONEST_LEVELS)
        )
        idx = np.flatnonzero(active & ~listed & (rng.random(d.n) < 0.0012))
        if len(idx):
            self.d.close_entity(
                idx,
                self.d.days_in_month(t, len(idx)),
                codes.MS["CANCELLED"],
                deregister_tax=True,
            )
            self.tr.customs_level.change(idx, np.full(len(idx), m_end), NONE, NONE)
