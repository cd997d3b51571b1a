"""Customs tables: registration, levels, declarations, inspections, penalties, bills."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._arrow import (
    build_table,
    choose_per_row,
    code_array,
    date_array,
    expand,
    float_array,
    group_rank,
    id_array,
    ingestion_lag_us,
    ts_array,
)
from credit_engine.simulation._calendar import (
    NO_DAY,
    US_PER_DAY,
    cny_per_unit,
    random_timestamps,
)
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._dynamics import DECLARATIONS_PER_YEAR, TRADE_CNY_PER_YEAR
from credit_engine.simulation._states import state_table, versions
from credit_engine.simulation._types import FloatArray, IntArray

REGIME_282_DAY = int(ref.ORDER_282_EFFECTIVE.astype(np.int64))
CBEC_IMPORT_VAT = 0.091  # 70 % of the 13 % VAT on retail CBEC imports
SECTOR_DUTY = np.array([0.05, 0.10, 0.08, 0.06, 0.05, 0.10, 0.06, 0.04])


def build_customs(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Build every customs table of the chunk; record monthly trade flows in ctx."""
    decl, rows = _declarations(ctx)
    return {
        "customs_registration": _registration(ctx),
        "customs_credit_level": _credit_levels(ctx),
        "customs_declaration": decl,
        "customs_inspection": _inspections(ctx, rows),
        "customs_penalty": _penalties(ctx),
        "customs_tax_bill": _tax_bills(ctx, rows),
    }


def _registration(ctx: ChunkContext) -> pa.Table:
    spells = ctx.dyn.spells.customs_registration
    pop = ctx.pop
    return state_table(
        ctx,
        "customs_registration",
        spells,
        prefix="CR",
        columns=lambda ent, sp: {
            "customs_code": pa.array(pop.customs_code[ent], pa.string()),
            "is_customs_broker": pop.is_broker[ent],
            "cbec_role": pa.array(
                np.array(ref.MODEL_CBEC_ROLE, dtype=object)[pop.model[ent]], pa.string()
            ),
        },
    )


def _credit_levels(ctx: ChunkContext) -> pa.Table:
    spells = ctx.dyn.spells.customs_level
    return state_table(
        ctx,
        "customs_credit_level",
        spells,
        prefix="CL",
        columns=lambda ent, sp: {
            "credit_level": code_array(sp.value, ref.LEVEL_NAMES),
            "regime": code_array(
                (sp.start >= REGIME_282_DAY).astype(np.int64),
                ("CUSTOMS_251", "CUSTOMS_282"),
            ),
            "reason_code": code_array(sp.reason, codes.CUSTOMS_REASONS),
        },
    )


def _modes(ctx: ChunkContext, ent: IntArray, imports: bool) -> IntArray:
    """Trade mode index (into TRADE_MODES) per declaration, from the firm's mix."""
    pop = ctx.pop
    mix = pop.mode_mix
    s0110, s9610 = pop.import_share_0110, pop.import_share_9610
    if imports:
        w = np.column_stack(
            [mix[:, 0] * s0110, mix[:, 1] * s9610, 0 * s0110, 0 * s0110, mix[:, 4]]
        )
    else:
        w = np.column_stack(
            [
                mix[:, 0] * (1 - s0110),
                mix[:, 1] * (1 - s9610),
                mix[:, 2],
                mix[:, 3],
                0 * s0110,
            ]
        )
    w = w + 1e-9 * (np.arange(5) == (4 if imports else 0))
    return choose_per_row(w, ent, ctx.rng)


def _declarations(
    ctx: ChunkContext,
) -> tuple[pa.Table, dict[str, IntArray | FloatArray]]:
    pop, dyn, grid, rng = ctx.pop, ctx.dyn, ctx.grid, ctx.rng
    ent_i, mon_i = expand(dyn.n_decl_import)
    ent_e, mon_e = expand(dyn.n_decl_export)
    ent = np.concatenate([ent_e, ent_i])
    mon = np.concatenate([mon_e, mon_i])
    is_import = np.r_[np.zeros(len(ent_e), bool), np.ones(len(ent_i), bool)]
    k = len(ent)
    mode = np.concatenate([_modes(ctx, ent_e, False), _modes(ctx, ent_i, True)])
    ring = ctx.ring
    scheme = None if ring is None else ring.rows(ent, mon) & ~is_import

    mean_value = TRADE_CNY_PER_YEAR / (DECLARATIONS_PER_YEAR * pop.decl_factor[ent])
    true_cny = mean_value * rng.lognormal(-0.405, 0.9, k)
    under = dyn.under_declaration[ent]
    fraud = pop.refund_fraud[ent] & ~is_import
    declared_cny = np.where(fraud, true_cny * 1.5, true_cny * (1 - under))
    if ring is not None and scheme is not None:
        # 低值高报: low-value goods declared at a multiple of their value, on
        # refundable modes (a 9610 row becomes 0110 or 9710).
        multiple = ring.params.declared_value_multiplier
        declared_cny = np.where(scheme, true_cny * multiple, declared_cny)
        swap = np.flatnonzero(scheme & (mode == 1))
        mode = mode.copy()
        mode[swap] = np.where(ring.records_rng.random(len(swap)) < 0.5, 0, 2)
    cur_w = np.where(
        is_import[:, None], ref.IMPORT_CURRENCY_WEIGHTS, ref.EXPORT_CURRENCY_WEIGHTS
    )
    currency = choose_per_row(cur_w, np.arange(k), rng)
    rate = cny_per_unit(currency, grid.abs_month[mon])
    declared_value = np.round(declared_cny / rate, 2)
    value_cny = np.round(declared_value * rate, 2)

    market = choose_per_row(pop.market_mix, ent, rng)
    origin = rng.choice(
        len(ref.IMPORT_ORIGINS), k, p=ref.normalise(ref.IMPORT_ORIGIN_WEIGHTS)
    )
    country = np.where(
        is_import,
        np.array(ref.IMPORT_ORIGINS, object)[origin],
        np.array(ref.EXPORT_MARKETS, object)[market],
    )
    port = rng.choice(len(ref.PORT_CODES), k, p=ref.normalise(ref.PORT_WEIGHTS))
    product = np.minimum((rng.random(k) ** 2 * 6).astype(np.int64), 5)
    hs = pop.products[ent, product]
    items = 1 + rng.poisson(np.where(mode == 1, 6.0, 2.0))
    # The goods weigh what they are worth, not what is declared.
    basis = value_cny if scheme is None else np.where(scheme, true_cny, value_cny)
    weight = basis / ref.SECTOR_CNY_PER_KG[pop.sector[ent]] * rng.lognormal(0, 0.3, k)
    modified = rng.random(k) < 0.01 + 0.08 * (1 - pop.compliance[ent])

    day = grid.random_days(mon, rng)
    ts = random_timestamps(day, rng)
    serial = ctx.serials("customs_declaration", k)
    year = grid.year[mon]
    entry = (
        np.array([int(p) for p in ref.PORT_CODES])[port] * 10**14
        + year * 10**10
        + (~is_import) * 10**9
        + serial % 10**9
    )
    entry_ids = id_array("", entry, 18)
    lag = ingestion_lag_us(k, rng, max_days=2, late_share=0.02)
    table = build_table(
        ctx.contracts["customs_declaration"],
        {
            "uscc": ctx.uscc(ent),
            "source_record_id": entry_ids,
            "event_ts": ts_array(ts),
            "ie_flag": np.where(is_import, "I", "E").astype(object),
            "trade_mode": code_array(mode, ref.TRADE_MODES),
            "hs_code": id_array("", hs, 10),
            "declared_value": declared_value,
            "currency": code_array(currency, ref.CURRENCIES),
            "value_cny": value_cny,
            "country": pa.array(country, pa.string()),
            "port_code": code_array(port, ref.PORT_CODES),
            "item_count": np.minimum(items, 50),
            "gross_weight_kg": float_array(weight),
            "modified_or_cancelled": modified,
            "ingested_at": ts_array(ts + lag),
        },
    )
    rows = {
        "ent": ent,
        "mon": mon,
        "ts": ts,
        "entry": entry,
        "is_import": is_import,
        "mode": mode,
        "value_cny": value_cny,
        "declared_cny": declared_cny,
        "true_cny": true_cny,
        "fraud": fraud if scheme is None else fraud | scheme,
        "under": under,
        "scheme": np.zeros(k, dtype=bool) if scheme is None else scheme,
    }
    _record_flows(ctx, rows)
    return table, rows


def _record_flows(ctx: ChunkContext, rows: dict[str, npt.NDArray[np.generic]]) -> None:
    """Monthly declared and true trade per enterprise, for tax and forex tables."""
    n, m = len(ctx.pop), ctx.grid.n_months
    ent, mon = np.asarray(rows["ent"]), np.asarray(rows["mon"])
    is_import, mode = np.asarray(rows["is_import"]), np.asarray(rows["mode"])
    value_cny, fraud = np.asarray(rows["value_cny"]), np.asarray(rows["fraud"])
    declared_cny, true_cny = (
        np.asarray(rows["declared_cny"]),
        np.asarray(rows["true_cny"]),
    )
    cell = ent * m + mon

    def monthly(mask: npt.NDArray[np.bool_], values: FloatArray) -> FloatArray:
        return np.bincount(cell[mask], weights=values[mask], minlength=n * m).reshape(
            n, m
        )

    exp = ~is_import
    refundable = exp & np.isin(mode, (0, 2, 3))
    # Funds follow the true goods value, except that refund fraudsters round-trip
    # money so that receipts match their inflated declarations.
    funds = np.where(fraud, declared_cny, true_cny)
    ctx.flows.update(
        export_declared=monthly(exp, value_cny),
        export_refundable=monthly(refundable, value_cny),
        export_funds=monthly(exp, funds),
        import_declared=monthly(is_import, value_cny),
        import_funds=monthly(is_import, true_cny),
    )


def _inspections(ctx: ChunkContext, rows: dict[str, IntArray | FloatArray]) -> pa.Table:
    dyn, rng = ctx.dyn, ctx.rng
    ent = np.asarray(rows["ent"], dtype=np.int64)
    mon = np.asarray(rows["mon"], dtype=np.int64)
    m = ctx.grid.n_months
    cell = ent * m + mon
    rank = group_rank(cell, rng.random(len(cell)))
    inspected = rank < dyn.n_inspections.ravel()[cell]
    discrepancy = rank < dyn.n_discrepancies.ravel()[cell]
    sel = np.flatnonzero(inspected)
    k = len(sel)
    e = ent[sel]
    ts = np.asarray(rows["ts"])[sel] + rng.integers(2 * 3600, 3 * 86400, k) * 1_000_000
    value_share = np.where(np.asarray(rows["under"])[sel] > 0, 0.7, 0.3)
    value_share = np.where(np.asarray(rows["scheme"])[sel], 0.85, value_share)
    dtype = np.where(rng.random(k) < value_share, 0, rng.integers(1, 5, k))
    disc = discrepancy[sel]
    return build_table(
        ctx.contracts["customs_inspection"],
        {
            "uscc": ctx.uscc(e),
            "source_record_id": id_array(
                "INSP", ctx.serials("customs_inspection", k), 10
            ),
            "entry_id": id_array("", np.asarray(rows["entry"])[sel], 18),
            "event_ts": ts_array(ts),
            "result": code_array(disc.astype(np.int64), ("NO_ISSUE", "DISCREPANCY")),
            "discrepancy_type": code_array(
                dtype,
                ("VALUE", "QUANTITY", "HS_CODE", "ORIGIN", "PROHIBITED_GOODS"),
                valid=disc,
            ),
            "ingested_at": ts_array(
                ts + ingestion_lag_us(k, rng, max_days=1, late_share=0.01)
            ),
        },
    )


def _penalties(ctx: ChunkContext) -> pa.Table:
    cols = ctx.dyn.logs.customs_penalty.columns()
    rng = ctx.rng
    k = len(cols["idx"])
    ids = ctx.serials("customs_penalty", k)
    decided = random_timestamps(cols["day"], rng)
    row, known, update = versions(
        rng, cols["day"] + rng.integers(1, 10, k), cols["paid"], not_before_us=decided
    )
    decided = decided[row]
    return build_table(
        ctx.contracts["customs_penalty"],
        {
            "uscc": ctx.uscc(cols["idx"][row]),
            "source_record_id": id_array("CP", ids[row], 10),
            "event_ts": ts_array(decided),
            "category": code_array(cols["category"][row], codes.PENALTY_CATEGORIES),
            "amount_cny": float_array(cols["amount"][row]),
            "non_intentional": cols["non_intentional"][row],
            "due_date": date_array(cols["due"][row]),
            "paid_date": date_array(np.where(update, cols["paid"][row], NO_DAY)),
            "ingested_at": ts_array(known),
        },
    )


def _tax_bills(ctx: ChunkContext, rows: dict[str, IntArray | FloatArray]) -> pa.Table:
    """One bill per CBEC import, duty and VAT bills per general-trade import."""
    rng, pop, dyn = ctx.rng, ctx.pop, ctx.dyn
    imp = np.flatnonzero(np.asarray(rows["is_import"]))
    mode = np.asarray(rows["mode"])[imp]
    general = mode == 0
    src = np.r_[imp, imp[general]]
    tax_type = np.r_[np.where(general, 0, 1), np.ones(general.sum(), np.int64)]
    ent = np.asarray(rows["ent"], dtype=np.int64)[src]
    mon = np.asarray(rows["mon"], dtype=np.int64)[src]
    value = np.asarray(rows["value_cny"])[src]
    duty = SECTOR_DUTY[pop.sector[ent]]
    amount = np.where(
        tax_type == 0,
        value * duty,
        np.where(
            np.r_[~general, np.zeros(general.sum(), bool)],
            value * CBEC_IMPORT_VAT,
            value * (1 + duty) * 0.13,
        ),
    )
    issue = np.asarray(rows["ts"])[src] // US_PER_DAY + rng.integers(0, 2, len(src))
    health = dyn.health[ent, mon]
    late = rng.random(len(src)) < 0.02 + 0.15 / (1 + np.exp(2 * health))
    paid = np.where(
        late,
        issue + 15 + rng.integers(1, 60, len(src)),
        issue + rng.integers(1, 14, len(src)),
    )
    entry = np.asarray(rows["entry"])[src]
    # Late fees for late payments, and the bills a tax default leaves unpaid.
    fee_src = np.flatnonzero(late)
    d_cols = dyn.logs.default_bill.columns()
    parts = {
        "ent": [ent, ent[fee_src]],
        "issue": [issue, paid[fee_src]],
        "type": [tax_type, np.full(len(fee_src), 3)],
        "amount": [amount, amount[fee_src] * 0.0005 * (paid - issue - 15)[fee_src]],
        "paid": [paid, paid[fee_src] + rng.integers(0, 10, len(fee_src))],
        "entry": [entry, entry[fee_src]],
    }
    if len(d_cols["idx"]):
        d_ent = d_cols["idx"]
        d_mon = ctx.grid.month_of_day(d_cols["day"])
        parts["ent"].append(d_ent)
        parts["issue"].append(d_cols["day"])
        parts["type"].append(np.ones(len(d_ent), np.int64))
        parts["amount"].append(d_cols["amount"])
        parts["paid"].append(d_cols["paid"])
        parts["entry"].append(_import_entry_of(rows, d_ent, d_mon, ctx.grid.n_months))
    cols = {k: np.concatenate(v) for k, v in parts.items()}
    n_bills = len(cols["ent"])
    ids = ctx.serials("customs_tax_bill", n_bills)
    # A bill paid by its due date is shared once, paid; a bill still open after
    # its due date is shared as overdue first and updated when paid.
    due = cols["issue"] + 15
    on_time = (cols["paid"] != NO_DAY) & (cols["paid"] <= due)
    first_day = np.where(on_time, cols["paid"], due + 1)
    issued = random_timestamps(cols["issue"], rng)
    row, known, update = versions(
        rng,
        first_day,
        np.where(on_time, NO_DAY, cols["paid"]),
        max_lag_days=1,
        not_before_us=issued,
    )
    issued = issued[row]
    paid_shown = np.where(update | on_time[row], cols["paid"][row], NO_DAY)
    return build_table(
        ctx.contracts["customs_tax_bill"],
        {
            "uscc": ctx.uscc(cols["ent"][row]),
            "source_record_id": id_array("TB", ids[row], 10),
            "entry_id": id_array("", cols["entry"][row], 18),
            "event_ts": ts_array(issued),
            "tax_type": code_array(
                cols["type"][row], ("DUTY", "IMPORT_VAT", "CONSUMPTION_TAX", "LATE_FEE")
            ),
            "amount_cny": float_array(cols["amount"][row]),
            "due_date": date_array(cols["issue"][row] + 15),
            "paid_date": date_array(paid_shown),
            "ingested_at": ts_array(known),
        },
    )


def _import_entry_of(
    rows: dict[str, IntArray | FloatArray], ent: IntArray, mon: IntArray, m: int
) -> IntArray:
    """Entry id of an import declaration of each (enterprise, month)."""
    imp = np.asarray(rows["is_import"])
    cell = (np.asarray(rows["ent"]) * m + np.asarray(rows["mon"]))[imp]
    entry = np.asarray(rows["entry"])[imp]
    order = np.argsort(cell, kind="stable")
    pos = np.searchsorted(cell[order], ent * m + mon)
    pos = np.minimum(pos, len(order) - 1)
    return np.asarray(entry[order][pos], dtype=np.int64)


__all__ = ["build_customs"]
