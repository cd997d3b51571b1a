"""Forex tables: cross-border receipts and payments, SAFE class history."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._arrow import (
    build_table,
    choose_per_row,
    code_array,
    expand,
    id_array,
    ingestion_lag_us,
    ts_array,
)
from credit_engine.simulation._calendar import cny_per_unit, random_timestamps
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._states import state_table
from credit_engine.simulation._types import BoolArray, FloatArray, IntArray

# Share of a month's trade whose funds move 0, 1, 2 and 3 months later.
RECEIPT_LAG = np.array([0.15, 0.50, 0.25, 0.10])
PAYMENT_LAG = np.array([0.50, 0.40, 0.10, 0.00])


def build_forex(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Build the forex tables of the chunk (needs the customs flows in ``ctx``)."""
    return {
        "fx_transaction": _transactions(ctx),
        "safe_classification": _classes(ctx),
    }


def _classes(ctx: ChunkContext) -> pa.Table:
    pop = ctx.pop
    return state_table(
        ctx,
        "safe_classification",
        ctx.dyn.spells.safe_classification,
        prefix="SC",
        columns=lambda ent, sp: {
            "fx_class": code_array(sp.value, ref.SAFE_NAMES),
            "on_list": pop.on_fx_list[ent],
            "reason_code": code_array(sp.reason, codes.SAFE_REASONS),
        },
    )


def _lagged(flow: FloatArray, kernel: FloatArray) -> FloatArray:
    """Funds moving ``lag`` months after the goods, weighted by ``kernel``.

    Months before the window are taken at the average of the first three
    simulated months, so the first months' funds are not artificially low.
    """
    pad = len(kernel) - 1
    before = np.repeat(flow[:, :3].mean(axis=1, keepdims=True), pad, axis=1)
    padded = np.concatenate([before, flow], axis=1)
    out = np.zeros_like(flow)
    m = flow.shape[1]
    for lag, w in enumerate(kernel):
        if w:
            out += w * padded[:, pad - lag : pad - lag + m]
    return out


def _carry_split(total: FloatArray, counts: IntArray) -> tuple[FloatArray, IntArray]:
    """Carry a month's amount forward while the month has no transaction."""
    amount = np.zeros_like(total)
    counts = counts.copy()
    carry = np.zeros(total.shape[0])
    for t in range(total.shape[1]):
        pending = total[:, t] + carry
        pay = (counts[:, t] > 0) & (pending > 0)
        amount[:, t] = np.where(pay, pending, 0.0)
        counts[:, t] = np.where(pay, counts[:, t], 0)
        carry = np.where(pay, 0.0, pending)
    return amount, counts


def _split(
    ctx: ChunkContext, amount: FloatArray, counts: IntArray
) -> tuple[IntArray, IntArray, FloatArray]:
    """Rows of (enterprise, month, CNY amount) splitting each month's amount."""
    ent, mon = expand(counts)
    m = amount.shape[1]
    cell = ent * m + mon
    w = ctx.rng.lognormal(0, 0.7, len(ent))
    total_w = np.bincount(cell, weights=w, minlength=amount.size)
    return ent, mon, amount.ravel()[cell] * w / total_w[cell]


def _round_trips(
    ctx: ChunkContext, e_in: IntArray, m_in: IntArray, cny_in: FloatArray
) -> tuple[IntArray, IntArray, FloatArray, BoolArray]:
    """Return the funds sent back out within the month of receipt (资金回流).

    Refund fraudsters return 30-70 % of each receipt, a running refund-ring
    scheme its ``round_trip`` share. Returns enterprise, month and CNY of each
    outgoing row, and whether it belongs to the ring.
    """
    pop = ctx.pop
    fraud_rows = np.flatnonzero(pop.refund_fraud[e_in])
    e_rt, m_rt = e_in[fraud_rows], m_in[fraud_rows]
    cny_rt = cny_in[fraud_rows] * ctx.rng.uniform(0.3, 0.7, len(fraud_rows))
    rt_ring = np.zeros(len(fraud_rows), dtype=bool)
    ring = ctx.ring
    if ring is not None:
        ring_rows = np.flatnonzero(ring.rows(e_in, m_in) & ~pop.refund_fraud[e_in])
        low, high = ring.params.round_trip
        share = ring.records_rng.uniform(low, high, len(ring_rows))
        e_rt = np.r_[e_rt, e_in[ring_rows]]
        m_rt = np.r_[m_rt, m_in[ring_rows]]
        cny_rt = np.r_[cny_rt, cny_in[ring_rows] * share]
        rt_ring = np.r_[rt_ring, np.ones(len(ring_rows), dtype=bool)]
    return e_rt, m_rt, cny_rt, rt_ring


def _payer_types(
    ctx: ChunkContext,
    ent: IntArray,
    mon: IntArray,
    kind: IntArray,
    ring_back: BoolArray,
) -> IntArray:
    """Return the counterparty type of each row (0 partner, 1 third party, 2 person).

    A round trip (``kind`` 2) goes to a third party, a ring's round trip
    (``ring_back``) half of the time to a personal account; a running ring's
    receipts come from third parties and individuals.
    """
    pop, ring = ctx.pop, ctx.ring
    third = pop.third_party_share[ent]
    u = ctx.rng.random(len(ent))
    individual = np.where(pop.model[ent] == 0, 0.6, 0.3)
    if ring is not None:
        paid_in = ring.rows(ent, mon) & (kind == 0)
        floor = ring.params.third_party_share
        third = np.where(paid_in, np.maximum(third, floor), third)
        individual = np.where(paid_in, 0.5, individual)
    ctype = np.select([kind == 2, u < third * individual, u < third], [1, 2, 1], 0)
    if ring is not None:
        personal = ring_back & (ring.records_rng.random(len(ent)) < 0.5)
        ctype = np.where(personal, 2, ctype)
    return np.asarray(ctype, dtype=np.int64)


def _transactions(ctx: ChunkContext) -> pa.Table:
    pop, dyn, rng, grid = ctx.pop, ctx.dyn, ctx.rng, ctx.grid
    receipts = (
        _lagged(ctx.flows["export_funds"], RECEIPT_LAG) * pop.collection_ratio[:, None]
    )
    payments = _lagged(ctx.flows["import_funds"], PAYMENT_LAG)
    rec_amt, rec_n = _carry_split(receipts, dyn.n_fx_in)
    pay_amt, pay_n = _carry_split(payments, dyn.n_fx_out)
    e_in, m_in, cny_in = _split(ctx, rec_amt, rec_n)
    e_out, m_out, cny_out = _split(ctx, pay_amt, pay_n)
    e_rt, m_rt, cny_rt, rt_ring = _round_trips(ctx, e_in, m_in, cny_in)
    ent = np.r_[e_in, e_out, e_rt]
    mon = np.r_[m_in, m_out, m_rt]
    cny = np.r_[cny_in, cny_out, cny_rt]
    kind = np.r_[
        np.zeros(len(e_in), np.int64),
        np.ones(len(e_out), np.int64),
        np.full(len(e_rt), 2),
    ]
    k = len(ent)

    is_in = kind == 0
    cur_w = np.where(
        is_in[:, None], ref.EXPORT_CURRENCY_WEIGHTS, ref.IMPORT_CURRENCY_WEIGHTS
    )
    currency = choose_per_row(cur_w, np.arange(k), rng)
    rate = cny_per_unit(currency, grid.abs_month[mon])
    usd = cny_per_unit(np.full(k, ref.USD_INDEX), grid.abs_month[mon])
    amount = np.round(cny / rate, 2)
    amount_usd = np.round(amount * rate / usd, 2)

    back = np.r_[np.zeros(len(e_in) + len(e_out), dtype=bool), rt_ring]
    ctype = _payer_types(ctx, ent, mon, kind, back)
    market = choose_per_row(pop.market_mix, ent, rng)
    origin = rng.choice(
        len(ref.IMPORT_ORIGINS), k, p=ref.normalise(ref.IMPORT_ORIGIN_WEIGHTS)
    )
    offshore = rng.integers(0, len(ref.OFFSHORE_PAYER_COUNTRIES), k)
    country = np.where(
        (ctype == 1) & (rng.random(k) < 0.5),
        np.array(ref.OFFSHORE_PAYER_COUNTRIES, object)[offshore],
        np.where(
            kind == 1,
            np.array(ref.IMPORT_ORIGINS, object)[origin],
            np.array(ref.EXPORT_MARKETS, object)[market],
        ),
    )
    via_pi = rng.random(k) < pop.pi_share[ent]
    own = rng.random(k) < 0.8
    bank = np.where(own, pop.bank[ent], rng.integers(0, ref.N_BANKS, k))
    institution = np.where(via_pi, 1000 + pop.payment_institution[ent], 100 + bank)
    goods = np.where(kind == 2, False, rng.random(k) < 0.96)

    day = grid.random_days(mon, rng)
    ts = random_timestamps(day, rng)
    lag = ingestion_lag_us(k, rng, max_days=5, late_share=0.05, late_days=(15, 60))
    inst_ids = pa.array(np.where(via_pi, "PI", "BK").astype(object), pa.string())
    inst = pa.compute.binary_join_element_wise(
        inst_ids, id_array("", institution, 4), ""
    )
    return build_table(
        ctx.contracts["fx_transaction"],
        {
            "uscc": ctx.uscc(ent),
            "source_record_id": id_array("FX", ctx.serials("fx_transaction", k), 10),
            "event_ts": ts_array(ts),
            "direction": code_array((kind != 0).astype(np.int64), ("IN", "OUT")),
            "currency": code_array(currency, ref.CURRENCIES),
            "amount": amount,
            "amount_usd": amount_usd,
            "counterparty_country": pa.array(country, pa.string()),
            "counterparty_type": code_array(
                ctype, ("TRADE_PARTNER", "THIRD_PARTY", "INDIVIDUAL")
            ),
            "channel": code_array(
                via_pi.astype(np.int64), ("BANK", "PAYMENT_INSTITUTION")
            ),
            "institution_code": inst,
            "is_goods_trade": goods,
            "ingested_at": ts_array(ts + lag),
        },
    )
