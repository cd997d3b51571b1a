"""Monthly behaviour and the statutory consequences, with their delays.

Split from :mod:`_dynamics` so that each module keeps one job: the dynamics own
the month loop and the state; this module owns what an enterprise does in a
month (inspections, filings, registrations) and what follows from the adverse
triggers of :mod:`_triggers` and :mod:`_annual`, with the delays of DOMAIN.md.
Scheduled consequences are applied through a table from each :data:`DueKind` to
its handler, checked complete when the object is built.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._annual import AnnualProcesses
from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._hazards import (
    arrears_probability,
    late_filing_probability,
    sigmoid,
)
from credit_engine.simulation._spells import DUE_KINDS, NONE, DueKind, SpellTracker
from credit_engine.simulation._state import ChunkState, StatutoryState
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

DISHONEST_LEVELS = (ref.LEVEL_DISHONEST, ref.LEVEL_SERIOUS)

DueHandler = Callable[[dict[str, IntArray]], None]
"""Applies the scheduled entries of one kind (payload columns by name)."""


class Consequences:
    """Monthly behaviour and the scheduled consequences, acting on one chunk.

    Parameters
    ----------
    chunk : ChunkState
        The chunk's shared state.
    statutory : StatutoryState
        Consequence bookkeeping, read and written here.
    annual : AnnualProcesses
        Files the annual reports of enterprises that repair a missing one.

    Raises
    ------
    RuntimeError
        If a kind of :data:`DueKind` has no handler or a handler no kind (a
        simulator bug).
    """

    def __init__(
        self, chunk: ChunkState, statutory: StatutoryState, annual: AnnualProcesses
    ) -> None:
        self.d = chunk
        self.tr = chunk.trackers
        self.st = statutory
        self.annual = annual
        self.pen: list[tuple[IntArray, IntArray, FloatArray, BoolArray]] = []
        self._handlers: dict[DueKind, DueHandler] = {
            "abnormal_escalate": self._due_abnormal_escalate,
            "abnormal_report_list": self._due_abnormal_report_list,
            "abnormal_report_remove": self._due_abnormal_report_remove,
            "abnormal_unreachable_list": self._due_abnormal_unreachable_list,
            "abnormal_unreachable_remove": self._due_abnormal_unreachable_remove,
            "aeo_revoke": self._due_aeo_revoke,
            "annual_report_late": self._due_annual_report_late,
            "customs_dishonest": self._due_customs_dishonest,
            "customs_repair": self._due_customs_repair,
            "open_registration": self._due_open_registration,
            "recover": self._due_recover,
            "revoke": self._due_revoke,
            "safe_c": self._due_safe_c,
            "serious_list": self._due_serious_list,
            "serious_remove": self._due_serious_remove,
            "tax_status": self._due_tax_status,
        }
        if set(self._handlers) != set(DUE_KINDS):
            raise RuntimeError(
                "simulator bug: scheduled kinds without a handler: "
                f"{sorted(set(DUE_KINDS) - set(self._handlers))}; handlers without "
                f"a kind: {sorted(set(self._handlers) - set(DUE_KINDS))}; give "
                "every DueKind of _spells one handler in Consequences"
            )

    # ----------------------------------------------------------- schedule
    def apply_due(self, last_day: int) -> None:
        """Apply every scheduled consequence due by ``last_day``."""
        due = self.d.schedule.pop_until(last_day)
        for kind, items in due.items():
            self._handlers[kind](items)

    def _due_open_registration(self, it: dict[str, IntArray]) -> None:
        idx, day = it["idx"], it["day"]
        self.tr.customs_registration.change(idx, day, 0, NONE)
        self.tr.customs_level.change(idx, day, ref.LEVEL_REGULAR, codes.CR["INITIAL"])
        est = self.d.pop.established_day[idx]
        new = self.tr.samr_registration.value[idx] == NONE
        self.tr.samr_registration.change(
            idx[new], est[new], codes.MS["IN_BUSINESS"], NONE
        )
        self.tr.tax_registration.change(
            idx[new], est[new] + 10, codes.TS["NORMAL"], NONE
        )
        self.tr.safe_classification.change(
            idx[new], est[new] + 60, ref.SAFE_A, codes.SR["INITIAL"]
        )

    def _due_customs_dishonest(self, it: dict[str, IntArray]) -> None:
        idx, day, reason, trigger = it["idx"], it["day"], it["reason"], it["trigger"]
        level = self.tr.customs_level
        keep = level.value[idx] != NONE
        idx, day, reason, trigger = idx[keep], day[keep], reason[keep], trigger[keep]
        idx, first = np.unique(idx, return_index=True)
        day, reason, trigger = day[first], reason[first], trigger[first]
        was = np.isin(level.value[idx], DISHONEST_LEVELS)
        crime = reason == codes.CR["ART22_1_SMUGGLING_CRIME"]
        serious = crime & (day >= int(ref.ORDER_282_EFFECTIVE.astype(np.int64)))
        value = np.where(serious, ref.LEVEL_SERIOUS, ref.LEVEL_DISHONEST)
        level.change(idx, day, value, reason)
        self.st.dishonest_since[idx] = np.maximum(day, level.start[idx])
        self.st.dishonest_crime[idx] |= crime
        self.d.record_adverse(idx[~was], day[~was], trigger[~was], "CUSTOMS_DISHONEST")
        self._schedule_repairs(idx, reason)

    def _schedule_repairs(self, idx: IntArray, reason: IntArray) -> None:
        rng, level, sched = self.d.rng, self.tr.customs_level, self.d.schedule
        since = self.st.dishonest_since[idx]
        gen = level.generation[idx]
        sched.add(
            "customs_repair",
            idx,
            since + 730,
            gen=gen,
            reason=np.full(len(idx), codes.CR["REPAIR_AUTO_2Y"]),
        )
        wait = np.select(
            [
                reason == codes.CR["ART22_2_SMUGGLING_ADMIN"],
                reason == codes.CR["ART22_3_REPEATED_PENALTIES"],
                np.isin(
                    reason,
                    [codes.CR["ART22_4_TAX_OVERDUE"], codes.CR["ART22_5_FINE_OVERDUE"]],
                ),
            ],
            [365, 180, 90],
            default=-1,
        )
        apply = (wait > 0) & (rng.random(len(idx)) < np.where(wait == 365, 0.4, 0.6))
        day = since + wait + rng.integers(0, 180, len(idx))
        sched.add(
            "customs_repair",
            idx[apply],
            day[apply],
            gen=gen[apply],
            reason=np.full(apply.sum(), codes.CR["REPAIR_APPLICATION"]),
        )

    def _due_customs_repair(self, it: dict[str, IntArray]) -> None:
        level = self.tr.customs_level
        idx = it["idx"]
        ok = (level.generation[idx] == it["gen"]) & np.isin(
            level.value[idx], DISHONEST_LEVELS
        )
        idx, first = np.unique(idx[ok], return_index=True)
        level.change(
            idx, it["day"][ok][first], ref.LEVEL_REGULAR, it["reason"][ok][first]
        )
        self.st.dishonest_since[idx] = NO_DAY
        self.st.dishonest_crime[idx] = False

    def _due_aeo_revoke(self, it: dict[str, IntArray]) -> None:
        level = self.tr.customs_level
        idx = it["idx"]
        ok = (level.generation[idx] == it["gen"]) & np.isin(
            level.value[idx], (ref.LEVEL_ADV_CERT, ref.LEVEL_CERT)
        )
        idx, first = np.unique(idx[ok], return_index=True)
        level.change(
            idx, it["day"][ok][first], ref.LEVEL_REGULAR, codes.CR["AEO_REVOKED"]
        )

    def _due_safe_c(self, it: dict[str, IntArray]) -> None:
        safe = self.tr.safe_classification
        idx, first = np.unique(it["idx"], return_index=True)
        day, trigger = it["day"][first], it["trigger"][first]
        ok = (safe.value[idx] != NONE) & (safe.value[idx] != ref.SAFE_C)
        idx, day, trigger = idx[ok], day[ok], trigger[ok]
        safe.change(idx, day, ref.SAFE_C, codes.SR["SERIOUS_VIOLATION"])
        self.st.safe_since[idx] = day
        self.d.record_adverse(idx, day, trigger, "SAFE_CLASS_C")

    def _due_abnormal_report_list(self, it: dict[str, IntArray]) -> None:
        d, rng = self.d, self.d.rng
        tracker = self.tr.abnormal_report
        idx, first = np.unique(it["idx"], return_index=True)
        day, trigger, year = it["day"][first], it["trigger"][first], it["year"][first]
        ok = (tracker.value[idx] == NONE) & ~d.closed[idx]
        idx, day, trigger, year = idx[ok], day[ok], trigger[ok], year[ok]
        tracker.change(idx, day, codes.AC["ANNUAL_REPORT_MISSING"], NONE)
        self.d.record_adverse(idx, day, trigger, "SAMR_ABNORMAL_LIST")
        repair = rng.random(len(idx)) < 0.6
        gen = tracker.generation[idx]
        d.schedule.add(
            "annual_report_late",
            idx[repair],
            day[repair] + rng.integers(15, 300, repair.sum()),
            gen=gen[repair],
            year=year[repair],
        )
        d.schedule.add(
            "abnormal_escalate", idx[~repair], day[~repair] + 3 * 365, gen=gen[~repair]
        )

    def _due_annual_report_late(self, it: dict[str, IntArray]) -> None:
        d = self.d
        tracker = self.tr.abnormal_report
        idx = it["idx"]
        ok = (tracker.generation[idx] == it["gen"]) & ~d.lost[idx] & ~d.closed[idx]
        idx, day, year = idx[ok], it["day"][ok], it["year"][ok]
        self.annual.log_reports(idx, day, year)
        d.schedule.add(
            "abnormal_report_remove",
            idx,
            day + 7,
            gen=tracker.generation[idx],
            why=np.full(len(idx), codes.AR["REPAIRED"]),
        )

    def _due_abnormal_report_remove(self, it: dict[str, IntArray]) -> None:
        self._remove(self.tr.abnormal_report, it)

    def _due_abnormal_unreachable_remove(self, it: dict[str, IntArray]) -> None:
        self._remove(self.tr.abnormal_unreachable, it)

    def _due_serious_remove(self, it: dict[str, IntArray]) -> None:
        self._remove(self.tr.serious_violation_list, it)

    def _remove(self, tracker: SpellTracker, it: dict[str, IntArray]) -> None:
        idx = it["idx"]
        ok = (tracker.generation[idx] == it["gen"]) & (tracker.value[idx] != NONE)
        idx, first = np.unique(idx[ok], return_index=True)
        tracker.change(idx, it["day"][ok][first], NONE, NONE, it["why"][ok][first])

    def _due_abnormal_escalate(self, it: dict[str, IntArray]) -> None:
        tracker = self.tr.abnormal_report
        idx = it["idx"]
        ok = (tracker.generation[idx] == it["gen"]) & (tracker.value[idx] != NONE)
        idx, first = np.unique(idx[ok], return_index=True)
        day = it["day"][ok][first]
        trigger = tracker.start[idx].copy()
        tracker.change(idx, day, NONE, NONE, codes.AR["ESCALATED"])
        self._list_serious(idx, day, trigger, codes.SC["ABNORMAL_3_YEARS"])

    def _due_serious_list(self, it: dict[str, IntArray]) -> None:
        idx, first = np.unique(it["idx"], return_index=True)
        self._list_serious(
            idx, it["day"][first], it["trigger"][first], codes.SC["HEAVIER_PENALTY"]
        )

    def _list_serious(
        self, idx: IntArray, day: IntArray, trigger: IntArray, cause: int
    ) -> None:
        rng, tracker = self.d.rng, self.tr.serious_violation_list
        ok = tracker.value[idx] == NONE
        idx, day, trigger = idx[ok], day[ok], trigger[ok]
        tracker.change(idx, day, cause, NONE)
        self.d.record_adverse(idx, day, trigger, "SAMR_SERIOUS_LIST")
        early = rng.random(len(idx)) < 0.35
        end = np.where(early, day + rng.integers(365, 700, len(idx)), day + 3 * 365)
        why = np.where(early, codes.SRM["EARLY_REPAIR"], codes.SRM["EXPIRED"])
        self.d.schedule.add(
            "serious_remove", idx, end, gen=tracker.generation[idx], why=why
        )

    def _due_abnormal_unreachable_list(self, it: dict[str, IntArray]) -> None:
        tracker = self.tr.abnormal_unreachable
        idx, first = np.unique(it["idx"], return_index=True)
        day, trigger = it["day"][first], it["trigger"][first]
        ok = (tracker.value[idx] == NONE) & self.d.lost[idx]
        idx, day, trigger = idx[ok], day[ok], trigger[ok]
        tracker.change(idx, day, codes.AC["UNREACHABLE"], NONE)
        self.d.record_adverse(idx, day, trigger, "SAMR_ABNORMAL_LIST")

    def _due_tax_status(self, it: dict[str, IntArray]) -> None:
        tracker = self.tr.tax_registration
        idx, first = np.unique(it["idx"], return_index=True)
        day, status = it["day"][first], it["status"][first]
        ok = (tracker.value[idx] != NONE) & (
            tracker.value[idx] != codes.TS["DEREGISTERED"]
        )
        idx, day, status = idx[ok], day[ok], status[ok]
        tracker.change(idx, day, status, NONE)
        bad = status != codes.TS["NORMAL"]
        self.st.abn_from[idx[bad]] = day[bad]
        self.st.abn_to[idx[bad]] = NO_DAY
        self.st.abn_to[idx[~bad]] = day[~bad]

    def _due_recover(self, it: dict[str, IntArray]) -> None:
        d = self.d
        idx, first = np.unique(it["idx"], return_index=True)
        day = it["day"][first]
        ok = d.lost[idx] & ~d.closed[idx]
        idx, day = idx[ok], day[ok]
        d.lost[idx] = False
        tracker = self.tr.abnormal_unreachable
        listed = tracker.value[idx] != NONE
        d.schedule.add(
            "abnormal_unreachable_remove",
            idx[listed],
            day[listed] + 7,
            gen=tracker.generation[idx[listed]],
            why=np.full(listed.sum(), codes.AR["REPAIRED"]),
        )
        d.schedule.add(
            "tax_status", idx, day + 10, status=np.full(len(idx), codes.TS["NORMAL"])
        )

    def _due_revoke(self, it: dict[str, IntArray]) -> None:
        d = self.d
        idx, first = np.unique(it["idx"], return_index=True)
        day = it["day"][first]
        ok = ~d.closed[idx]
        idx, day = idx[ok], day[ok]
        self.d.close_entity(idx, day, codes.MS["REVOKED"], deregister_tax=False)

    # ------------------------------------------------------ regime change
    def regime_transition(self, day: int) -> None:
        """Order 282 replaces Order 251: every customs level is re-decided."""
        d, rng = self.d, self.d.rng
        level = self.tr.customs_level
        idx = np.flatnonzero(level.value != NONE)
        cur = level.value[idx]
        pop = d.pop
        clean = (d.last_penalty_day[idx] == NO_DAY) | (
            day - d.last_penalty_day[idx] > 730
        )
        cert = (
            (cur == ref.LEVEL_REGULAR)
            & (pop.compliance[idx] > 0.85)
            & (pop.size[idx] > 0.5)
            & clean
            & (rng.random(len(idx)) < 0.5)
        )
        new = np.where(cert, ref.LEVEL_CERT, cur)
        new = np.where(
            (cur == ref.LEVEL_DISHONEST) & self.st.dishonest_crime[idx],
            ref.LEVEL_SERIOUS,
            new,
        )
        level.change(
            idx, np.full(len(idx), day), new, codes.CR["REGIME_TRANSITION"], force=True
        )
        dis = idx[np.isin(new, DISHONEST_LEVELS)]
        since = np.maximum(self.st.dishonest_since[dis], day - 729)
        d.schedule.add(
            "customs_repair",
            dis,
            since + 730,
            gen=level.generation[dis],
            reason=np.full(len(dis), codes.CR["REPAIR_AUTO_2Y"]),
        )

    # -------------------------------------------------- monthly behaviour
    def customs_behaviour(self, t: int, active: BoolArray) -> None:
        """Inspections, discrepancies and supervision penalties (Art. 22(3)-(5))."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        months = d.months
        n_decl = months.n_decl_export[:, t] + months.n_decl_import[:, t]
        lvl = months.level[:, t]
        risk = np.maximum(hz.noncompliance(pop.compliance), 0.0)
        p_insp = np.minimum(ref.LEVEL_INSPECTION_RATE[lvl] + 0.01 * risk, 0.9)
        n_insp = rng.binomial(n_decl, p_insp)
        p_disc = np.minimum(
            0.02 + 0.25 * (1 - pop.compliance) ** 2 + 0.6 * d.under, 0.9
        )
        ring = None if d.effects is None else d.effects.ring
        if ring is not None:
            # Inflated declarations of a refund scheme fail inspection more often.
            boost = ring.params.discrepancy_boost * ring.active[:, t]
            p_disc = np.minimum(p_disc + boost, 0.9)
        n_disc = rng.binomial(n_insp, p_disc)
        months.n_inspections[:, t] = n_insp
        months.n_discrepancies[:, t] = n_disc
        n_pen = rng.binomial(n_disc, 0.5)
        idx = np.repeat(np.arange(d.n), n_pen)
        k = len(idx)
        if k:
            day = self.d.days_in_month(t, k)
            amount = np.clip(
                np.round(rng.lognormal(np.log(20_000), 1.0, k), 2), 500, 800_000
            )
            non_int = rng.random(k) < (0.2 + 0.4 * pop.compliance[idx])
            unpaid = rng.random(k) < 0.02 + 0.2 * sigmoid(-2 * d.health[idx] - 1)
            paid = np.where(
                unpaid,
                day + 15 + rng.integers(181, 400, k),
                day + rng.integers(1, 15, k),
            )
            d.logs.customs_penalty.add(
                idx=idx,
                day=day,
                category=codes.PC["SUPERVISION_VIOLATION"],
                amount=amount,
                non_intentional=non_int,
                due=day + 15,
                paid=paid,
            )
            counted = ~non_int | pop.is_broker[idx]
            self.pen.append((idx, day, amount, counted))
            np.maximum.at(d.last_penalty_day, idx[~non_int], day[~non_int])
            fine = unpaid & (amount > 10_000)
            d.schedule.add(
                "customs_dishonest",
                idx[fine],
                day[fine] + 15 + 181,
                reason=np.full(fine.sum(), codes.CR["ART22_5_FINE_OVERDUE"]),
                trigger=day[fine] + 15,
            )
            level = self.tr.customs_level
            aeo = (
                np.isin(level.value[idx], (ref.LEVEL_ADV_CERT, ref.LEVEL_CERT))
                & ~non_int
            )
            aeo &= rng.random(k) < 0.5
            d.schedule.add(
                "aeo_revoke",
                idx[aeo],
                day[aeo] + rng.integers(30, 90, aeo.sum()),
                gen=level.generation[idx[aeo]],
            )
        self._article_22_3(t, n_decl)

    def _article_22_3(self, t: int, n_decl: IntArray) -> None:
        """Repeated supervision penalties over the Order 251 Art. 22(3) thresholds."""
        if not self.pen:
            return
        d, grid, pop = self.d, self.d.grid, self.d.pop
        m_end = int(grid.month_end[t])
        idx, day, amount, counted = (
            np.concatenate(c) for c in zip(*self.pen, strict=True)
        )
        keep = (m_end - day < 365) & counted
        idx, amount = idx[keep], amount[keep]
        cnt = np.bincount(idx, minlength=d.n)
        amt = np.bincount(idx, weights=amount, minlength=d.n)
        prior = grid.year == grid.year[t] - 1
        docs = d.months.n_decl_export[:, prior].sum(1) + d.months.n_decl_import[
            :, prior
        ].sum(1)
        missing_months = 12 - prior.sum()
        docs = docs + missing_months * n_decl
        ratio = np.where(pop.is_broker, 0.0005, 0.001)
        limit = np.where(pop.is_broker, 300_000.0, 1_000_000.0)
        breach = (cnt > ratio * docs) & (amt > limit)
        level = self.tr.customs_level
        breach &= ~np.isin(level.value, DISHONEST_LEVELS) & (level.value != NONE)
        hit = np.flatnonzero(breach)
        d.schedule.add(
            "customs_dishonest",
            hit,
            np.full(len(hit), m_end + 10),
            reason=np.full(len(hit), codes.CR["ART22_3_REPEATED_PENALTIES"]),
            trigger=np.full(len(hit), m_end),
        )

    def tax_behaviour(self, t: int, exists: BoolArray, active: BoolArray) -> None:
        """Late filings, arrears and minor tax violations of the month."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        p_late = late_filing_probability(pop.compliance, d.health)
        registered = exists & (
            self.tr.tax_registration.value != codes.TS["DEREGISTERED"]
        )
        late = registered & (d.lost | (rng.random(d.n) < p_late))
        d.months.late_vat[:, t] = late
        if d.grid.month[t] in (3, 6, 9, 12):
            d.months.late_cit[:, t] = registered & (d.lost | (rng.random(d.n) < p_late))
        d.months.arrears[:, t] = active & (
            rng.random(d.n) < arrears_probability(d.health)
        )
        p_minor = 0.0008 * np.exp(0.7 * hz.noncompliance(pop.compliance))
        idx = np.flatnonzero(active & (rng.random(d.n) < p_minor))
        if len(idx):
            kind = rng.choice(
                [
                    codes.TV["EVASION"],
                    codes.TV["ARREARS_EVASION"],
                    codes.TV["FALSE_INVOICE"],
                ],
                len(idx),
            )
            d.logs.tax_violation.add(
                idx=idx,
                day=self.d.days_in_month(t, len(idx)),
                type=kind,
                amount=np.round(rng.lognormal(np.log(50_000), 1.0, len(idx)), 2),
                major=False,
            )

    def market_behaviour(self, t: int, active: BoolArray) -> None:
        """Registration changes and ordinary administrative penalties."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        c = pop.compliance
        rate = (0.35 + 1.2 * (1 - c) ** 2 + 0.8 * sigmoid(-2 * d.health)) / 12
        n_change = rng.poisson(rate * active)
        idx = np.repeat(np.arange(d.n), n_change)
        if len(idx):
            risky = hz.noncompliance(c[idx]) > 1.0
            base = np.array([0.15, 0.25, 0.15, 0.30, 0.05, 0.10])
            shady = np.array([0.35, 0.35, 0.05, 0.10, 0.05, 0.10])
            u = rng.random(len(idx))
            field = np.where(
                risky,
                np.searchsorted(np.cumsum(shady), u * shady.sum()),
                np.searchsorted(np.cumsum(base), u * base.sum()),
            )
            d.logs.samr_change.add(
                idx=idx,
                day=self.d.days_in_month(t, len(idx)),
                field=np.minimum(field, 5),
            )
        p_pen = 0.0015 * np.exp(0.8 * hz.noncompliance(c))
        idx = np.flatnonzero(active & (rng.random(d.n) < p_pen))
        if len(idx):
            kind = rng.choice(
                [codes.AT["WARNING"], codes.AT["FINE"], codes.AT["CONFISCATION"]],
                len(idx),
                p=[0.4, 0.5, 0.1],
            )
            amount = np.where(
                kind == codes.AT["WARNING"],
                0.0,
                np.round(rng.lognormal(np.log(10_000), 1.0, len(idx)), 2),
            )
            d.logs.admin_penalty.add(
                idx=idx,
                day=self.d.days_in_month(t, len(idx)),
                type=kind,
                amount=amount,
                matter=rng.integers(0, 6, len(idx)),
                heavier=False,
            )
