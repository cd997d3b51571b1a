"""Market-regulation tables: registration, changes, annual reports, lists, penalties."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._arrow import (
    build_table,
    code_array,
    date_array,
    float_array,
    id_array,
    ingestion_lag_us,
    ts_array,
)
from credit_engine.simulation._calendar import random_timestamps
from credit_engine.simulation._context import ChunkContext
from credit_engine.simulation._spells import SpellTable
from credit_engine.simulation._states import state_table

Array = npt.NDArray[np.generic]


def build_market(ctx: ChunkContext) -> dict[str, pa.Table]:
    """Build every market-regulation table of the chunk."""
    return {
        "samr_registration": _registration(ctx),
        "samr_change": _changes(ctx),
        "annual_report": _annual_reports(ctx),
        "abnormal_list": _abnormal(ctx),
        "serious_violation_list": _serious(ctx),
        "admin_penalty": _penalties(ctx),
    }


def _registration(ctx: ChunkContext) -> pa.Table:
    pop = ctx.pop
    industry = np.array(ref.SECTOR_INDUSTRY, dtype=object)
    district = np.array(ref.DISTRICTS, dtype=object)
    return state_table(
        ctx,
        "samr_registration",
        ctx.dyn.spells.samr_registration,
        prefix="MR",
        columns=lambda ent, sp: {
            "name": pa.array(pop.name[ent], pa.string()),
            "established_date": date_array(pop.established_day[ent]),
            "reg_capital_cny": pop.reg_capital[ent],
            "industry_code": pa.array(industry[pop.sector[ent]], pa.string()),
            "district_code": pa.array(district[pop.district[ent]], pa.string()),
            "status": code_array(sp.value, codes.SAMR_STATUS),
        },
    )


def _changes(ctx: ChunkContext) -> pa.Table:
    cols = ctx.dyn.logs.samr_change.columns()
    k = len(cols["idx"])
    ts = random_timestamps(np.asarray(cols["day"], np.int64), ctx.rng)
    return build_table(
        ctx.contracts["samr_change"],
        {
            "uscc": ctx.uscc(np.asarray(cols["idx"], np.int64)),
            "source_record_id": id_array("MC", ctx.serials("samr_change", k), 10),
            "event_ts": ts_array(ts),
            "field": code_array(
                np.asarray(cols["field"], np.int64), codes.CHANGE_FIELDS
            ),
            "ingested_at": ts_array(ts + ingestion_lag_us(k, ctx.rng, max_days=20)),
        },
    )


def _annual_reports(ctx: ChunkContext) -> pa.Table:
    cols = ctx.dyn.logs.annual_report.columns()
    k = len(cols["idx"])
    ts = random_timestamps(np.asarray(cols["day"], np.int64), ctx.rng)
    return build_table(
        ctx.contracts["annual_report"],
        {
            "uscc": ctx.uscc(np.asarray(cols["idx"], np.int64)),
            "source_record_id": id_array("AR", ctx.serials("annual_report", k), 10),
            "event_ts": ts_array(ts),
            "report_year": cols["year"],
            "employees": cols["employees"],
            "social_insurance_count": cols["social"],
            "revenue_cny": float_array(np.asarray(cols["revenue"], np.float64)),
            "ingested_at": ts_array(ts + ingestion_lag_us(k, ctx.rng, max_days=1)),
        },
    )


def _merge_spells(*tables: SpellTable) -> SpellTable:
    fields = ("idx", "value", "reason", "start", "end", "end_reason")
    return SpellTable(
        *(np.concatenate([getattr(t, f) for t in tables]) for f in fields)
    )


def _list_table(
    ctx: ChunkContext,
    table: str,
    spells: SpellTable,
    *,
    prefix: str,
    causes: tuple[str, ...],
    removals: tuple[str, ...],
) -> pa.Table:
    """Rows of a list table (abnormal or serious list): cause and removal reason."""
    return state_table(
        ctx,
        table,
        spells,
        prefix=prefix,
        columns=lambda ent, sp: {
            "cause": code_array(sp.value, causes),
            "removal_reason": code_array(
                np.maximum(sp.end_reason, 0), removals, valid=sp.end_reason >= 0
            ),
        },
    )


def _abnormal(ctx: ChunkContext) -> pa.Table:
    spells = _merge_spells(
        ctx.dyn.spells.abnormal_report, ctx.dyn.spells.abnormal_unreachable
    )
    return _list_table(
        ctx, "abnormal_list", spells, prefix="AL",
        causes=codes.ABNORMAL_CAUSES, removals=codes.ABNORMAL_REMOVAL,
    )  # fmt: skip


def _serious(ctx: ChunkContext) -> pa.Table:
    return _list_table(
        ctx, "serious_violation_list", ctx.dyn.spells.serious_violation_list,
        prefix="SL", causes=codes.SERIOUS_CAUSES, removals=codes.SERIOUS_REMOVAL,
    )  # fmt: skip


def _penalties(ctx: ChunkContext) -> pa.Table:
    cols = ctx.dyn.logs.admin_penalty.columns()
    k = len(cols["idx"])
    ts = random_timestamps(np.asarray(cols["day"], np.int64), ctx.rng)
    return build_table(
        ctx.contracts["admin_penalty"],
        {
            "uscc": ctx.uscc(np.asarray(cols["idx"], np.int64)),
            "source_record_id": id_array("AP", ctx.serials("admin_penalty", k), 10),
            "event_ts": ts_array(ts),
            "matter": code_array(
                np.asarray(cols["matter"], np.int64), codes.ADMIN_MATTERS
            ),
            "penalty_type": code_array(
                np.asarray(cols["type"], np.int64), codes.ADMIN_TYPES
            ),
            "amount_cny": float_array(np.asarray(cols["amount"], np.float64)),
            "heavier": np.asarray(cols["heavier"], bool),
            "ingested_at": ts_array(ts + ingestion_lag_us(k, ctx.rng, max_days=7)),
        },
    )
