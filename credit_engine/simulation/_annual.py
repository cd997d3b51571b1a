"""Yearly statutory processes: tax credit ratings, annual reports, SAFE reviews."""

from __future__ import annotations

import numpy as np

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import NO_DAY
from credit_engine.simulation._hazards import (
    arrears_probability,
    late_filing_probability,
)
from credit_engine.simulation._spells import NONE
from credit_engine.simulation._state import ChunkState, StatutoryState
from credit_engine.simulation._types import BoolArray, IntArray

TAX_2025_DAY = int(ref.TAX_2025_EFFECTIVE.astype(np.int64))
B_THRESHOLD = 0.12
"""Under-declaration share above which SAFE's goods-vs-funds check can flag B."""


def _year_bounds(year: IntArray) -> tuple[IntArray, IntArray]:
    first = (
        (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
    )
    last = (year - 1969).astype("datetime64[Y]").astype("datetime64[D]").astype(
        np.int64
    ) - 1
    return first, last


class AnnualProcesses:
    """Processes that run once a year per enterprise.

    Parameters
    ----------
    chunk : ChunkState
        The chunk's shared state.
    statutory : StatutoryState
        Consequence bookkeeping (major violations, abnormal tax status, SAFE C).
    """

    def __init__(self, chunk: ChunkState, statutory: StatutoryState) -> None:
        self.d = chunk
        self.tr = chunk.trackers
        self.st = statutory

    # ---------------------------------------------------------- tax ratings
    def tax_publication(self, t: int) -> None:
        """Publish in April the ratings of the previous calendar year."""
        d = self.d
        year = int(d.grid.year[t])
        pub = d.publication_days(year)
        _, last_of_rated = _year_bounds(np.array([year - 1]))
        rated = (
            (d.pop.established_day <= last_of_rated[0])
            & ~d.closed
            & (pub >= d.grid.start_day)
            & (self.tr.tax_registration.value != NONE)
        )
        idx = np.flatnonzero(rated)
        if len(idx):
            self.publish_ratings(
                idx, np.full(len(idx), year - 1), pub[idx], initial=False
            )

    def _year_counts(self, idx: IntArray, year: IntArray) -> tuple[IntArray, IntArray]:
        """Late filing months and arrears months of ``year`` for ``idx``.

        Simulated months come from the month arrays; months of the year before the
        window are drawn from the enterprise's latent propensities.
        """
        d, pop = self.d, self.d.pop
        in_year = d.grid.year[None, :] == year[:, None]
        late = (d.months.late_vat[idx] & in_year).sum(1) + (
            d.months.late_cit[idx] & in_year
        ).sum(1)
        arrears = (d.months.arrears[idx] & in_year).sum(1)
        missing = 12 - in_year.sum(1)
        if missing.any():
            c, mu = pop.compliance[idx], pop.health_mean[idx]
            late = late + d.rng.binomial(
                missing + missing // 3, late_filing_probability(c, mu)
            )
            arrears = arrears + d.rng.binomial(missing, arrears_probability(mu))
        return late.astype(np.int64), arrears.astype(np.int64)

    def publish_ratings(
        self, idx: IntArray, year: IntArray, pub: IntArray, *, initial: bool
    ) -> None:
        """Evaluate ``year`` for ``idx`` and publish the levels on day ``pub``."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        k = len(idx)
        regime_2025 = pub >= TAX_2025_DAY
        u = rng.random(k)
        start = np.where(
            regime_2025,
            np.select([u < 0.80, u < 0.92], [100, 93], 90),
            np.where(u < 0.85, 100, 90),
        )
        late, arrears = self._year_counts(idx, year)
        c = pop.compliance[idx]
        invoice_abuse = rng.random(k) < 0.3 * np.clip((0.4 - c) / 0.4, 0, 1)
        score = start - 5.0 * late - 3.0 * arrears - 11.0 * invoice_abuse
        bonus = regime_2025 & (d.prev_level[idx] == codes.TL["A"])
        score = np.clip(score + bonus, 0, 100)

        y_first, y_last = _year_bounds(year)
        abnormal = (
            (self.st.abn_from[idx] != NO_DAY)
            & (self.st.abn_from[idx] <= y_last)
            & ((self.st.abn_to[idx] == NO_DAY) | (self.st.abn_to[idx] >= y_first))
        )
        major = self.st.major_year[idx] == year
        retained = d.prev_direct_d[idx]
        direct = np.select(
            [major, abnormal, retained],
            [self.st.major_code[idx], 9, d.prev_direct_code[idx]],
            0,
        )
        age_end = (y_last - pop.established_day[idx]) / 365.25
        level = np.select(
            [
                direct > 0,
                age_end < 1.0,
                score < 40,
                score < 70,
                score < 90,
                (age_end < 3) | (d.prev_level[idx] == codes.TL["D"]),
            ],
            [
                codes.TL["D"],
                codes.TL["M"],
                codes.TL["D"],
                codes.TL["C"],
                codes.TL["B"],
                codes.TL["B"],
            ],
            codes.TL["A"],
        )
        level = np.where(
            (level == codes.TL["M"]) & (score < 70),
            np.where(score < 40, codes.TL["D"], codes.TL["C"]),
            level,
        )
        d.logs.tax_rating.add(
            idx=idx,
            year=year,
            level=level,
            score=np.where(direct > 0, np.nan, score),
            start_score=start,
            direct_d=direct,
            day=pub,
            regime_2025=regime_2025,
        )
        if not initial:
            new_d = (level == codes.TL["D"]) & (d.prev_level[idx] != codes.TL["D"])
            trigger = np.select(
                [major, abnormal], [self.st.major_day[idx], self.st.abn_from[idx]], pub
            )
            trigger = np.minimum(trigger, pub)
            self.d.record_adverse(idx[new_d], pub[new_d], trigger[new_d], "TAX_LEVEL_D")
        d.prev_level[idx] = level
        d.prev_direct_d[idx] = (direct > 0) & ~retained
        d.prev_direct_code[idx] = direct

    # ------------------------------------------------------ annual reports
    def annual_reports(self, t: int, exists: BoolArray) -> None:
        """June 30: reports for the previous year are in, or the firm gets listed."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        report_year = int(d.grid.year[t]) - 1
        _, last = _year_bounds(np.array([report_year]))
        june30 = int(d.grid.month_end[t])
        eligible = exists & ~d.lost & (pop.established_day <= last[0])
        p_missing = hz.probability(hz.ANNUAL_REPORT_MISSING, d.drivers(t))
        missing = eligible & (rng.random(d.n) < p_missing)
        filed = np.flatnonzero(eligible & ~missing)
        jan15 = june30 - 166
        day = jan15 + (rng.beta(3.0, 1.5, len(filed)) * 166).astype(np.int64)
        keep = day >= d.grid.start_day
        self.log_reports(filed[keep], day[keep], np.full(keep.sum(), report_year))
        idx = np.flatnonzero(missing & (self.tr.abnormal_report.value == NONE))
        d.schedule.add(
            "abnormal_report_list",
            idx,
            june30 + 1 + rng.integers(0, 45, len(idx)),
            trigger=np.full(len(idx), june30),
            year=np.full(len(idx), report_year),
        )

    def log_reports(self, idx: IntArray, day: IntArray, year: IntArray) -> None:
        d, rng, pop = self.d, self.d.rng, self.d.pop
        k = len(idx)
        if k == 0:
            return
        employees = np.maximum(
            1, np.round(8 * pop.size[idx] ** 0.7 * rng.lognormal(0, 0.3, k))
        ).astype(np.int64)
        social = np.round(employees * (0.4 + 0.6 * pop.compliance[idx])).astype(
            np.int64
        )
        revenue = ref.TRADE_CNY_PER_YEAR * pop.size[idx] * (1 - 0.5 * d.under[idx])
        revenue = np.where(rng.random(k) < 0.6, np.round(revenue, -3), np.nan)
        d.logs.annual_report.add(
            idx=idx,
            day=day,
            year=year,
            employees=employees,
            social=social,
            revenue=revenue,
        )

    # --------------------------------------------------------- SAFE review
    def safe_reviews(self, t: int, active: BoolArray) -> None:
        """Annual SAFE classification review in each enterprise's review month."""
        d, rng, pop = self.d, self.d.rng, self.d.pop
        safe = self.tr.safe_classification
        due = active & (pop.review_month == d.grid.month[t] - 1) & (safe.value != NONE)
        idx = np.flatnonzero(due)
        if not len(idx):
            return
        day = self.d.days_in_month(t, len(idx))
        cur = safe.value[idx]
        under = d.under[idx] > B_THRESHOLD
        detect = under & (rng.random(len(idx)) < 0.6)
        fail = rng.random(len(idx)) < 0.01 + 0.02 * np.maximum(
            hz.noncompliance(pop.compliance[idx]), 0
        )
        c_over = (cur == ref.SAFE_C) & (day - self.st.safe_since[idx] >= 365)
        to_c = (cur == ref.SAFE_B) & d.safe_persist[idx]
        to_a = ((cur == ref.SAFE_B) & ~d.safe_persist[idx]) | (c_over & ~under)
        to_b = ((cur == ref.SAFE_A) & (detect | fail)) | (c_over & under)
        trigger = safe.start[idx].copy()
        safe.change(idx[to_c], day[to_c], ref.SAFE_C, codes.SR["B_PERSISTED"])
        self.st.safe_since[idx[to_c]] = day[to_c]
        self.d.record_adverse(idx[to_c], day[to_c], trigger[to_c], "SAFE_CLASS_C")
        safe.change(idx[to_a], day[to_a], ref.SAFE_A, codes.SR["CLASS_RESTORED"])
        reason = np.where(
            under, codes.SR["GOODS_FUNDS_MISMATCH"], codes.SR["REPORTING_FAILURE"]
        )
        safe.change(idx[to_b], day[to_b], ref.SAFE_B, reason[to_b])
        b_idx = idx[to_b]
        persist = under[to_b] & (rng.random(len(b_idx)) < 0.5)
        d.safe_persist[b_idx] = persist
        d.under[b_idx[under[to_b] & ~persist]] = 0.0
