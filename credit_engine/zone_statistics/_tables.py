"""Turn the query results into the report's tidy tables, with notes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from credit_engine.vocabulary import DecidedBy, Tier
from credit_engine.zone_statistics._periods import Period
from credit_engine.zone_statistics._reference import NO_MODE, ZoneReference
from credit_engine.zone_statistics._report import StatTable

__all__ = [
    "declaration_tables",
    "enterprise_tables",
    "forex_tables",
    "refund_tables",
    "tier_tables",
]

_ENTERPRISE_MEASURES = ("registered", "active", "new", "deregistered")
_SELF = {m: m for m in _ENTERPRISE_MEASURES}
_DECLARATION_MEASURES = ("declarations", "value_cny", "enterprises")
_BY_ENTERPRISES = dict.fromkeys(_DECLARATION_MEASURES, "enterprises")


def _sorted(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    return frame.sort_values(list(keys), kind="stable").reset_index(drop=True)


def _per_period(
    frame: pd.DataFrame, periods: Sequence[Period], measures: Sequence[str]
) -> pd.DataFrame:
    """One row per period (zeros where the query found nothing)."""
    labels = [p.label for p in periods]
    out = (
        frame.set_index("period")
        .reindex(labels)
        .loc[:, list(measures)]
        .fillna(0)
        .rename_axis("period")
        .reset_index()
    )
    return out


def _counts(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    return frame.astype(dict.fromkeys(columns, "int64"))


def enterprise_tables(
    raw: pd.DataFrame, periods: Sequence[Period], reference: ZoneReference
) -> tuple[StatTable, ...]:
    """Tables of the enterprises section from :meth:`LakeQueries.enterprises`."""
    m = list(_ENTERPRISE_MEASURES)
    total = _counts(_per_period(raw[raw.dimension == "total"], periods, m), m)
    out = [
        StatTable(
            "enterprises",
            "Enterprises registered, active, new and deregistered",
            total,
            ("period",),
            _ENTERPRISE_MEASURES,
            _SELF,
            note=(
                "registered: in business (SAMR 存续) at the period's stock date, as "
                "known then; active: registered and declared to customs in the "
                "period; new: established in the period; deregistered: left the "
                "register in the period (cancelled 注销, revoked 吊销 or moved out "
                "迁出). New and deregistered count by event date, as known at the "
                "knowledge cutoff."
            ),
        )
    ]
    for dimension, title, note in (
        ("district", "Enterprises by district (USCC characters 3-8)", ""),
        (
            "cbec_role",
            "Enterprises by cross-border e-commerce role",
            "Role of the enterprise's latest customs registration known at the "
            "period's stock date; NO_CUSTOMS_REGISTRATION if it has none.",
        ),
        (
            "department",
            "Enterprises by department holding records on them",
            "An enterprise counts under every department that had received a "
            "record on it by the period's stock date, so the rows do not add "
            "up to the total.",
        ),
    ):
        part = raw[raw.dimension == dimension].rename(columns={"value": dimension})
        part = _counts(part.loc[:, ["period", dimension, *m]], m)
        labels: tuple[str, ...] = ()
        if dimension == "district":
            part["district_name"] = part["district"].map(reference.district_name)
            labels = ("district_name",)
        out.append(
            StatTable(
                f"enterprises_by_{dimension}",
                title,
                _sorted(part, ["period", dimension]),
                ("period", dimension),
                _ENTERPRISE_MEASURES,
                _SELF,
                labels=labels,
                note=note,
            )
        )
    return tuple(out)


def declaration_tables(
    raw: pd.DataFrame, periods: Sequence[Period], reference: ZoneReference
) -> tuple[StatTable, ...]:
    """Tables of the declarations section from :meth:`LakeQueries.declarations`."""
    m = list(_DECLARATION_MEASURES)
    counts = ["declarations", "enterprises"]
    total = _per_period(raw[raw.grouping == "total"], periods, m)
    out = [
        StatTable(
            "declarations",
            "Customs declarations and declared value (CNY)",
            _counts(total, counts),
            ("period",),
            _DECLARATION_MEASURES,
            _BY_ENTERPRISES,
            note=(
                "Declarations counted by declaration date in the period, as known "
                "at the knowledge cutoff; value_cny is the declared value at the "
                "customs rate of the month; enterprises are distinct declarants."
            ),
        )
    ]
    mode_order = {code: i for i, code in enumerate(reference.mode_labels)}
    for grouping, dims, title in (
        ("trade_mode", ("trade_mode",), "Declarations by supervision mode"),
        ("direction", ("direction",), "Declarations by direction"),
        (
            "trade_mode_direction",
            ("trade_mode", "direction"),
            "Declarations by supervision mode and direction",
        ),
        ("district", ("district",), "Declarations by district of the declarant"),
        ("cbec_role", ("cbec_role",), "Declarations by CBEC role of the declarant"),
    ):
        part = raw[raw.grouping == grouping].loc[:, ["period", *dims, *m]]
        part = _counts(part, counts)
        labels: tuple[str, ...] = ()
        if "trade_mode" in dims:
            part["trade_mode_name"] = part["trade_mode"].map(reference.mode_name)
            part["_order"] = part["trade_mode"].map(mode_order)
            part = _sorted(part, ["period", "_order", *dims[1:]]).drop(columns="_order")
            labels = ("trade_mode_name",)
        else:
            part = _sorted(part, ["period", *dims])
        if "district" in dims:
            part["district_name"] = part["district"].map(reference.district_name)
            labels = ("district_name",)
        out.append(
            StatTable(
                f"declarations_by_{grouping}",
                title,
                part,
                ("period", *dims),
                _DECLARATION_MEASURES,
                _BY_ENTERPRISES,
                labels=labels,
            )
        )
    return tuple(out)


def refund_tables(
    raw: pd.DataFrame, periods: Sequence[Period]
) -> tuple[StatTable, ...]:
    """Tables of the refunds section from :meth:`LakeQueries.refunds`."""
    measures = (
        "claims",
        "enterprises",
        "export_value_cny",
        "refund_claimed_cny",
        "refund_approved_cny",
    )
    guards = dict.fromkeys(measures, "enterprises")
    total = _per_period(raw[raw.status.isna()], periods, measures)
    by_status = raw[raw.status.notna()].loc[:, ["period", "status", *measures]]
    note = (
        "Claims counted by filing date in the period; amounts and status from "
        "the latest version of each claim known at the knowledge cutoff "
        "(refund_approved_cny: approved so far)."
    )
    return (
        StatTable(
            "refunds",
            "Export refunds claimed (tax)",
            _counts(total, ["claims", "enterprises"]),
            ("period",),
            measures,
            guards,
            note=note,
        ),
        StatTable(
            "refunds_by_status",
            "Export refund claims by review status",
            _sorted(
                _counts(by_status, ["claims", "enterprises"]), ["period", "status"]
            ),
            ("period", "status"),
            measures,
            guards,
        ),
    )


def forex_tables(raw: pd.DataFrame) -> tuple[StatTable, ...]:
    """Tables of the forex section from :meth:`LakeQueries.forex`."""
    measures = ("transactions", "enterprises", "amount_usd", "goods_trade_usd")
    frame = _sorted(
        _counts(raw.loc[:, ["period", "direction", *measures]], measures[:2]),
        ["period", "direction"],
    )
    return (
        StatTable(
            "forex",
            "Foreign exchange received and paid (SAFE), USD",
            frame,
            ("period", "direction"),
            measures,
            dict.fromkeys(measures, "enterprises"),
            note=(
                "Receipts (received) and payments (paid) by value date in the "
                "period, as known at the knowledge cutoff; goods_trade_usd is the "
                "part declared as goods trade."
            ),
        ),
    )


def _with_share(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    total = frame.groupby(list(keys))["enterprises"].transform("sum")
    frame = frame.copy()
    frame["share"] = (frame["enterprises"] / total).where(total > 0)
    return frame


def tier_tables(
    raw: pd.DataFrame,
    representative: Mapping[str, object],
    reference: ZoneReference,
) -> tuple[StatTable, ...]:
    """Tables of the tiers section from :meth:`DecisionFigures.tiers`."""
    guards = {"enterprises": "enterprises", "share": "enterprises"}
    measures = ("enterprises", "share")
    tiers = raw[raw.grouping == "tier"].loc[
        :, ["period", "as_of", "tier", "enterprises"]
    ]
    full = pd.MultiIndex.from_product(
        [list(representative), list(Tier.values())], names=["period", "tier"]
    )
    tiers = (
        tiers.set_index(["period", "tier"])["enterprises"]
        .reindex(full, fill_value=0)
        .reset_index()
    )
    tiers["as_of"] = tiers["period"].map(representative)
    out = [
        StatTable(
            "tiers",
            "Enterprises by treatment tier",
            _with_share(_counts(tiers, ["enterprises"]), ["period"]),
            ("period", "tier"),
            measures,
            guards,
            labels=("as_of",),
            note=(
                "Each period shows its latest rating date (as_of): the latest run "
                "of that date finished before the knowledge cutoff."
            ),
        )
    ]
    layer_order = {d: i for i, d in enumerate(DecidedBy.values())}
    for grouping, title, note in (
        ("district", "Tiers by district", ""),
        (
            "main_mode",
            "Tiers by main supervision mode",
            "Main mode: the supervision mode with the largest declared value in "
            f"the 365 days up to the rating date, as known then; {NO_MODE!r} "
            "without declarations.",
        ),
        ("cbec_role", "Tiers by CBEC role", "Role at the period's stock date."),
    ):
        part = raw[raw.grouping == grouping].loc[
            :, ["period", "as_of", grouping, "tier", "enterprises"]
        ]
        part = _with_share(_counts(part, ["enterprises"]), ["period", grouping])
        labels: tuple[str, ...] = ("as_of",)
        if grouping == "district":
            part["district_name"] = part["district"].map(reference.district_name)
            labels = ("as_of", "district_name")
        if grouping == "main_mode":
            part["main_mode_name"] = part["main_mode"].map(
                lambda c: "no declarations" if c == NO_MODE else reference.mode_name(c)
            )
            labels = ("as_of", "main_mode_name")
        out.append(
            StatTable(
                f"tiers_by_{grouping}",
                title,
                _sorted(part, ["period", grouping, "tier"]),
                ("period", grouping, "tier"),
                measures,
                guards,
                labels=labels,
                note=note,
            )
        )
    layers = raw[raw.grouping == "decided_by"].loc[
        :, ["period", "as_of", "decided_by", "enterprises"]
    ]
    layers = _with_share(_counts(layers, ["enterprises"]), ["period"])
    layers["_order"] = layers["decided_by"].map(layer_order)
    out.append(
        StatTable(
            "decided_by",
            "Deciding layer (statutory > override > policy > model)",
            _sorted(layers, ["period", "_order"]).drop(columns="_order"),
            ("period", "decided_by"),
            measures,
            guards,
            labels=("as_of",),
        )
    )
    return tuple(out)
