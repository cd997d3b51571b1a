"""Tax tables: registration, filings, invoices, refunds, credit levels, violations."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._arrow import (
    build_table,
    code_array,
    date_array,
    day_ts_array,
    expand,
    float_array,
    id_array,
    ingestion_lag_us,
    ts_array,
)
from credit_engine.simulation._calendar import NO_DAY, US_PER_DAY, random_timestamps
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._dynamics import TRADE_CNY_PER_YEAR
from credit_engine.simulation._spells import SpellTable
from credit_engine.simulation._states import state_table, versions
from credit_engine.simulation._types import FloatArray, IntArray


def build_tax(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Build every tax table of the chunk (needs the customs flows in ``ctx``)."""
    domestic = _domestic_sales(ctx)
    return {
        "tax_registration": _registration(ctx),
        "tax_filing": _filings(ctx, domestic),
        "vat_invoice": _invoices(ctx, domestic),
        "export_refund_claim": _refund_claims(ctx),
        "tax_credit_rating": _ratings(ctx),
        "tax_violation": _violations(ctx),
    }


def _domestic_sales(ctx: ChunkContext) -> FloatArray:
    pop, dyn = ctx.pop, ctx.dyn
    noise = ctx.rng.lognormal(-0.02, 0.2, dyn.activity.shape)
    share = pop.domestic_share[:, None]
    return np.asarray(
        TRADE_CNY_PER_YEAR
        / 12
        * pop.size[:, None]
        * dyn.activity
        * share
        / (1 - share)
        * noise
        * 0.5,
        dtype=np.float64,
    )


def _registration(ctx: ChunkContext) -> pa.Table:
    pop = ctx.pop
    return state_table(
        ctx,
        "tax_registration",
        ctx.dyn.spells.tax_registration,
        prefix="TR",
        columns=lambda ent, sp: {
            "taxpayer_type": code_array(
                (~pop.general_taxpayer[ent]).astype(np.int64),
                ("GENERAL", "SMALL_SCALE"),
            ),
            "collection_method": code_array(
                pop.deemed_collection[ent].astype(np.int64), ("AUDIT", "DEEMED")
            ),
            "status": code_array(sp.value, codes.TAX_STATUS),
        },
    )


def _due_days(ctx: ChunkContext) -> IntArray:
    """Due day (15th of the following month) of each month's filing."""
    grid = ctx.grid
    return np.asarray(grid.month_start + grid.month_days + 14, dtype=np.int64)


def _filings(ctx: ChunkContext, domestic: FloatArray) -> pa.Table:
    pop, dyn, grid, rng = ctx.pop, ctx.dyn, ctx.grid, ctx.rng
    registered = dyn.exists.copy()
    quarter = np.isin(grid.month, (3, 6, 9, 12))
    vat_ent, vat_mon = np.nonzero(registered)
    cit_ent, cit_mon = np.nonzero(registered & quarter[None, :])
    ent = np.r_[vat_ent, cit_ent].astype(np.int64)
    mon = np.r_[vat_mon, cit_mon].astype(np.int64)
    is_cit = np.r_[np.zeros(len(vat_ent), bool), np.ones(len(cit_ent), bool)]
    k = len(ent)
    late = np.where(is_cit, dyn.late_cit[ent, mon], dyn.late_vat[ent, mon])
    lost = ~dyn.active[ent, mon]
    due = _due_days(ctx)[mon]
    filed = np.where(
        late,
        np.where(lost, NO_DAY, due + rng.integers(1, 60, k)),
        due - rng.integers(0, 14, k),
    )

    dom = domestic[ent, mon]
    exports = ctx.flows["export_declared"][ent, mon]
    gap = np.where(dyn.under_declaration[ent] > 0, rng.uniform(0.0, 0.1, k), 0.0)
    sales_export = exports * rng.uniform(0.97, 1.0, k) * (1 - gap)
    general = pop.general_taxpayer[ent]
    vat = np.where(general, 0.13 * 0.3 * dom * rng.lognormal(0, 0.2, k), 0.01 * dom)
    vat = np.where(dom < 5_000, 0.0, vat)
    quarter_sales = 3 * (dom + exports)
    profit = 0.06 * quarter_sales * np.exp(0.3 * np.clip(dyn.health[ent, mon], -3, 3))
    cit = np.maximum(profit, 0) * np.where(general, 0.25, 0.05)
    payable = np.where(is_cit, cit, vat)
    arrears = dyn.arrears[ent, mon]
    paid = np.where(arrears, payable * rng.uniform(0, 0.6, k), payable)

    # First version at the due date (ON_TIME or OVERDUE); late filings get a
    # second version when filed.
    row, known, update = versions(
        rng,
        due,
        np.where(late, filed, NO_DAY),
        max_lag_days=2,
        not_before_us=due * US_PER_DAY,
    )
    status = np.where(update, 1, np.where(late[row], 2, 0))
    has_values = status != 2
    r_dom = np.where(is_cit[row], np.nan, dom[row])
    r_exp = np.where(is_cit[row], np.nan, sales_export[row])
    return build_table(
        ctx.contracts["tax_filing"],
        {
            "uscc": ctx.uscc(ent[row]),
            "source_record_id": id_array("TF", ctx.serials("tax_filing", k)[row], 10),
            "event_ts": day_ts_array(due[row]),
            "period": pc.cast(
                pa.array(grid.year[mon[row]] * 100 + grid.month[mon[row]]), pa.string()
            ),
            "tax_type": code_array(is_cit[row].astype(np.int64), ("VAT", "CIT")),
            "filing_status": code_array(status, ("ON_TIME", "LATE", "OVERDUE")),
            "filed_date": date_array(np.where(has_values, filed[row], NO_DAY)),
            "sales_domestic_cny": float_array(np.where(has_values, r_dom, np.nan)),
            "sales_export_cny": float_array(np.where(has_values, r_exp, np.nan)),
            "payable_cny": float_array(np.where(has_values, payable[row], np.nan)),
            "paid_cny": float_array(np.where(has_values, paid[row], np.nan)),
            "ingested_at": ts_array(known),
        },
    )


def _counterparty_ids(ctx: ChunkContext, pool: IntArray, prefix: str) -> pa.Array:
    """Zone counterparties as their USCC, others as masked ids like CUMCM's."""
    zone = pool < 0
    zone_idx = np.where(zone, -1 - pool, 0)
    zone_ids = ctx.zone_uscc.take(pa.array(zone_idx))
    ext_ids = id_array(prefix, np.where(zone, 0, pool), 5)
    return pc.if_else(pa.array(zone), zone_ids, ext_ids)


def _invoices(ctx: ChunkContext, domestic: FloatArray) -> pa.Table:
    pop, dyn, rng = ctx.pop, ctx.dyn, ctx.rng
    ent_o, mon_o = expand(dyn.n_invoice_out)
    ent_i, mon_i = expand(dyn.n_invoice_in)
    ent = np.r_[ent_o, ent_i]
    mon = np.r_[mon_o, mon_i]
    is_in = np.r_[np.zeros(len(ent_o), bool), np.ones(len(ent_i), bool)]
    k = len(ent)
    n_out = np.maximum(dyn.n_invoice_out, 1)
    n_in = np.maximum(dyn.n_invoice_in, 1)
    purchases = 0.75 * (ctx.flows["export_funds"] + domestic)
    mean = np.where(
        is_in,
        purchases[ent, mon] / n_in[ent, mon],
        domestic[ent, mon] / n_out[ent, mon],
    )
    amount = np.maximum(mean * rng.lognormal(-0.32, 0.8, k), 1.0)
    c = pop.compliance[ent]
    u = rng.random(k)
    p_void = 0.01 + 0.06 * (1 - c)
    p_red = 0.01 + 0.04 * (1 - c)
    status = np.select([u < p_void, u < p_void + p_red], [1, 2], 0)
    amount = np.where(status == 2, -amount * rng.uniform(0.1, 1.0, k), amount)
    amount = np.clip(np.round(amount, 2), -9e8, 9e8)
    general = pop.general_taxpayer[ent]
    rate = np.where(
        is_in | general,
        rng.choice([0.13, 0.09, 0.06], k, p=[0.85, 0.1, 0.05]),
        rng.choice([0.01, 0.03], k, p=[0.8, 0.2]),
    )
    tax = np.round(amount * rate, 2)
    pick = np.minimum(
        (rng.random(k) ** 2.5 * pop.pool_size[ent]).astype(np.int64),
        pop.pool_size[ent] - 1,
    )
    pool = np.where(is_in, pop.suppliers[ent, pick], pop.buyers[ent, pick])
    ring = ctx.ring
    if ring is not None:
        pool = ring.bought_suppliers(ent, mon, is_in, pool)
    cp = pc.if_else(
        pa.array(is_in),
        _counterparty_ids(ctx, pool, "A"),
        _counterparty_ids(ctx, pool, "B"),
    )
    day = ctx.grid.random_days(mon, rng)
    ts = random_timestamps(day, rng)
    lag = ingestion_lag_us(k, rng, max_days=3, late_share=0.03, late_days=(30, 90))
    return build_table(
        ctx.contracts["vat_invoice"],
        {
            "uscc": ctx.uscc(ent),
            "source_record_id": id_array("", ctx.serials("vat_invoice", k), 10),
            "event_ts": ts_array(ts),
            "direction": code_array(is_in.astype(np.int64), ("OUTPUT", "INPUT")),
            "counterparty_id": cp,
            "amount_cny": amount,
            "tax_cny": tax,
            "total_cny": np.round(amount + tax, 2),
            "status": code_array(status, ("VALID", "VOID", "RED_LETTER")),
            "ingested_at": ts_array(ts + lag),
        },
    )


def _refund_claims(ctx: ChunkContext) -> pa.Table:
    pop, dyn, grid, rng = ctx.pop, ctx.dyn, ctx.grid, ctx.rng
    refundable = ctx.flows["export_refundable"]
    eligible = pop.general_taxpayer[:, None] & (refundable > 0) & dyn.active
    ent, mon = np.nonzero(eligible)
    ent, mon = ent.astype(np.int64), mon.astype(np.int64)
    k = len(ent)
    claim_day = grid.month_start[mon] + grid.month_days[mon] + rng.integers(0, 20, k)
    value = refundable[ent, mon]
    fraud = pop.refund_fraud[ent]
    ring = ctx.ring
    # A running refund-ring scheme claims like a fraudster; a detected member's
    # later claims are suspended.
    scheme = fraud if ring is None else fraud | ring.rows(ent, mon)
    fraudster = fraud if ring is None else fraud | ring.member[ent]
    claimed = (
        value
        * ref.SECTOR_REFUND_RATE[pop.sector[ent]]
        * 0.8
        * np.where(scheme, 1.3, 1.0)
    )
    letter = rng.random(k) < 0.03 + 0.4 * scheme
    issue = letter & (rng.random(k) < 0.05 + 0.6 * scheme)
    major_day = dyn.major_day[ent]
    suspended = (major_day != NO_DAY) & (claim_day > major_day) & fraudster
    review = claim_day + np.where(
        letter, rng.integers(30, 90, k), rng.integers(5, 15, k)
    )
    status = np.select([suspended, issue], [3, 2], 1)
    approved = np.where(status == 1, claimed, 0.0)
    filed_ts = random_timestamps(claim_day, rng)
    row, known, update = versions(
        rng, claim_day, review, max_lag_days=1, not_before_us=filed_ts
    )
    filed_ts = filed_ts[row]
    letter_code = np.where(
        update, np.where(issue[row], 2, letter[row].astype(np.int64)), 0
    )
    letter_code = np.where(~update & letter[row], 1, letter_code)
    return build_table(
        ctx.contracts["export_refund_claim"],
        {
            "uscc": ctx.uscc(ent[row]),
            "source_record_id": id_array(
                "RC", ctx.serials("export_refund_claim", k)[row], 10
            ),
            "event_ts": ts_array(filed_ts),
            "period": pc.cast(
                pa.array(grid.year[mon[row]] * 100 + grid.month[mon[row]]), pa.string()
            ),
            "export_value_cny": float_array(value[row]),
            "refund_claimed_cny": float_array(claimed[row]),
            "refund_approved_cny": float_array(np.where(update, approved[row], np.nan)),
            "status": code_array(
                np.where(update, status[row], 0),
                ("FILED", "APPROVED", "REJECTED", "SUSPENDED"),
            ),
            "letter_check": code_array(letter_code, ("NONE", "SENT", "ISSUE_FOUND")),
            "ingested_at": ts_array(known),
        },
    )


def _ratings(ctx: ChunkContext) -> pa.Table:
    log = ctx.dyn.logs.tax_rating
    cols = log.columns()
    idx, day = cols["idx"], cols["day"]
    order = np.lexsort((day, idx))
    idx, day = idx[order], day[order]
    nxt = np.r_[idx[1:] == idx[:-1], False]
    end = np.where(nxt, np.r_[day[1:], 0], NO_DAY)
    spells = SpellTable(
        idx,
        cols["level"][order],
        cols["direct_d"][order],
        day,
        end,
        np.full(len(idx), -1),
    )
    extra = {k: cols[k][order] for k in ("year", "score", "start_score", "regime_2025")}
    # Map output rows back to their rating through (idx, start) pairs.
    key = idx * 10**6 + day

    def columns(ent: IntArray, sp: SpellTable) -> dict[str, object]:
        pos = np.searchsorted(key, sp.idx * 10**6 + sp.start)
        return {
            "rating_year": extra["year"][pos],
            "level": code_array(sp.value, codes.TAX_LEVELS),
            "score": float_array(extra["score"][pos], 1),
            "start_score": extra["start_score"][pos],
            "direct_d_code": pa.array(sp.reason, pa.int64(), mask=sp.reason == 0),
            "regime": code_array(
                extra["regime_2025"][pos].astype(np.int64), ("TAX_2014", "TAX_2025")
            ),
        }

    return state_table(
        ctx, "tax_credit_rating", spells, prefix="TCR", columns=columns, max_lag_days=1
    )


def _violations(ctx: ChunkContext) -> pa.Table:
    cols = ctx.dyn.logs.tax_violation.columns()
    rng = ctx.rng
    k = len(cols["idx"])
    ts = random_timestamps(cols["day"], rng)
    return build_table(
        ctx.contracts["tax_violation"],
        {
            "uscc": ctx.uscc(cols["idx"]),
            "source_record_id": id_array("TV", ctx.serials("tax_violation", k), 10),
            "event_ts": ts_array(ts),
            "violation_type": code_array(cols["type"], codes.TAX_VIOLATIONS),
            "amount_cny": float_array(cols["amount"]),
            "major_violation": cols["major"].astype(bool),
            "ingested_at": ts_array(ts + ingestion_lag_us(k, rng, max_days=10)),
        },
    )


__all__ = ["build_tax"]
