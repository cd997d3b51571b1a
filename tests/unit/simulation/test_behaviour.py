"""The zone behaves like a zone: drivers act consistently across departments,
adverse events follow the drivers, and statutory categories follow the rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from credit_engine.simulation import SimulationConfig as _Config

SMALL_ZONE = _Config(enterprises=600, seed=7)


def _per_enterprise(
    frame: pd.DataFrame, value: str, query: str | None = None
) -> pd.Series:
    sub = frame.query(query) if query else frame
    return sub.groupby("uscc")[value].sum()


def test_under_declarers_show_a_funds_gap_in_forex_and_a_sales_gap_in_tax(clean, truth):
    ent = truth["enterprises"].set_index("uscc")
    exports = _per_enterprise(
        clean["customs_declaration"], "value_cny", "ie_flag == 'E'"
    )
    fx = clean["fx_transaction"].query("direction == 'IN' and is_goods_trade")
    receipts_usd = fx.groupby("uscc")["amount_usd"].sum()
    tax_exports = _per_enterprise(
        clean["tax_filing"].dropna(subset=["sales_export_cny"]), "sales_export_cny"
    )
    frame = (
        pd.DataFrame(
            {"exports": exports, "receipts": receipts_usd * 7.1, "tax": tax_exports}
        )
        .join(ent)
        .dropna()
    )
    frame = frame[(frame["exports"] > 1e6) & ~frame["refund_fraud"]]
    frame["funds_over_goods"] = frame["receipts"] / frame["exports"]
    frame["tax_over_funds"] = frame["tax"] / frame["receipts"]
    # Some under-declarers reform once SAFE classes them B; test those who persist.
    cheats = frame["under_declaration_final"] > 0.1
    honest = frame["under_declaration_initial"] == 0
    assert cheats.sum() >= 10
    assert (
        frame.loc[cheats, "funds_over_goods"].median()
        > 1.1 * frame.loc[honest, "funds_over_goods"].median()
    )
    assert (
        frame.loc[cheats, "tax_over_funds"].median()
        < 0.9 * frame.loc[honest, "tax_over_funds"].median()
    )


def test_adverse_events_follow_the_latent_drivers(truth):
    ent = truth["enterprises"].set_index("uscc")
    events = truth["adverse_events"].groupby("uscc").size()
    ent["events"] = events.reindex(ent.index, fill_value=0)
    low, high = ent["compliance"].quantile([0.25, 0.75])
    rate_low = (ent.loc[ent["compliance"] <= low, "events"] > 0).mean()
    rate_high = (ent.loc[ent["compliance"] >= high, "events"] > 0).mean()
    assert rate_low > 2 * rate_high


def test_truth_ranks_the_realised_adverse_events(truth):
    monthly = truth["monthly"]
    events = truth["adverse_events"]
    as_of = (
        pd.Timestamp(SMALL_ZONE.start) + pd.DateOffset(months=12) - pd.Timedelta(days=1)
    )
    snap = monthly[(pd.to_datetime(monthly["as_of"]) == as_of) & monthly["active"]]
    eff = pd.to_datetime(events["effective_date"])
    window = events[(eff > as_of) & (eff <= as_of + pd.Timedelta(days=365))]
    y = snap["uscc"].isin(window["uscc"])
    assert 0.04 < y.mean() < 0.2
    u = mannwhitneyu(
        snap.loc[y, "p_adverse_12m"], snap.loc[~y, "p_adverse_12m"]
    ).statistic
    auc = u / (y.sum() * (~y).sum())
    assert auc > 0.75, f"the latent truth ranks realised events with AUC {auc:.2f} only"
    assert abs(snap["p_adverse_12m"].mean() - y.mean()) < 0.05


def test_dishonest_levels_follow_an_article_22_cause(clean):
    levels = clean["customs_credit_level"]
    start = pd.Timestamp(SMALL_ZONE.start, tz="UTC")
    new = levels[
        levels["credit_level"].isin(["DISHONEST", "SERIOUS_DISHONEST"])
        & (levels["effective_from"] > start)
        & levels["effective_to"].isna()
        & (levels["reason_code"] != "REGIME_TRANSITION")
    ]
    assert len(new) > 0
    assert new["reason_code"].str.startswith("ART22_").all()
    smuggling = new[new["reason_code"].str.contains("SMUGGLING")]
    penalties = clean["customs_penalty"]
    smuggle_pen = penalties[penalties["category"].str.startswith("SMUGGLING")]
    for _, row in smuggling.iterrows():
        before = smuggle_pen[
            (smuggle_pen["uscc"] == row["uscc"])
            & (smuggle_pen["event_ts"] <= row["effective_from"])
            & (smuggle_pen["event_ts"] > row["effective_from"] - pd.Timedelta(days=45))
        ]
        # The penalty record may itself have been made dirty; most must be there.
        smuggling.loc[_, "found"] = len(before) > 0
    assert smuggling["found"].mean() > 0.9


def test_order_282_levels_appear_only_from_2026_04_01(clean):
    levels = clean["customs_credit_level"]
    transition = pd.Timestamp("2026-04-01", tz="UTC")
    new_tiers = levels[levels["credit_level"].isin(["CERT", "SERIOUS_DISHONEST"])]
    assert (new_tiers["effective_from"] >= transition).all()
    assert (
        levels.loc[levels["effective_from"] >= transition, "regime"] == "CUSTOMS_282"
    ).all()
    assert (
        levels.loc[levels["effective_from"] < transition, "regime"] == "CUSTOMS_251"
    ).all()
    assert (new_tiers["credit_level"] == "CERT").any()


def test_tax_levels_follow_the_score_bands_and_direct_d(clean):
    rating = clean["tax_credit_rating"].drop_duplicates("source_record_id")
    scored = rating.dropna(subset=["score"])
    a = scored[scored["level"] == "A"]
    assert (a["score"] >= 90).all()
    assert (
        scored.loc[scored["level"] == "C", "score"].between(40, 70, inclusive="left")
    ).all()
    d = rating[rating["level"] == "D"]
    assert (d["direct_d_code"].notna() | (d["score"] < 40)).all()
    assert (rating.loc[rating["direct_d_code"].notna(), "level"] == "D").all()
    published = pd.to_datetime(rating["effective_from"])
    assert (published.dt.month == 4).all()
    regime = np.where(
        published >= pd.Timestamp("2025-07-01", tz="UTC"), "TAX_2025", "TAX_2014"
    )
    assert (rating["regime"] == regime).all()


def test_missing_annual_reports_lead_to_the_abnormal_list(clean):
    lists = clean["abnormal_list"].drop_duplicates("source_record_id")
    missing = lists[
        (lists["cause"] == "ANNUAL_REPORT_MISSING")
        & (lists["effective_from"] > pd.Timestamp(SMALL_ZONE.start, tz="UTC"))
    ]
    assert len(missing) > 0
    reports = clean["annual_report"]
    for _, row in missing.iterrows():
        year = row["effective_from"].year - 1
        deadline = pd.Timestamp(f"{year + 1}-07-01", tz="UTC")
        on_time = reports[
            (reports["uscc"] == row["uscc"])
            & (reports["report_year"] == year)
            & (reports["event_ts"] < deadline)
        ]
        assert on_time.empty, f"{row['uscc']} filed its {year} report but was listed"
    assert (missing["effective_from"].dt.month.isin([7, 8])).all()


def test_safe_class_c_has_a_statutory_reason(clean):
    safe = clean["safe_classification"].drop_duplicates("source_record_id")
    c = safe[safe["fx_class"] == "C"]
    assert set(c["reason_code"]) <= {"SERIOUS_VIOLATION", "B_PERSISTED"}
    persisted = c[c["reason_code"] == "B_PERSISTED"]
    for _, row in persisted.iterrows():
        prior = safe[
            (safe["uscc"] == row["uscc"])
            & (safe["fx_class"] == "B")
            & (safe["effective_from"] < row["effective_from"])
        ]
        assert len(prior) > 0


def test_inspection_rates_follow_the_credit_level(clean):
    decl = clean["customs_declaration"][["uscc", "source_record_id", "event_ts"]].copy()
    decl["inspected"] = decl["source_record_id"].isin(
        clean["customs_inspection"]["entry_id"]
    )
    decl["month_start"] = (
        decl["event_ts"].dt.tz_localize(None).dt.to_period("M").dt.start_time
    )
    spells = clean["customs_credit_level"].drop_duplicates("source_record_id")
    spells = spells.assign(month_start=spells["effective_from"].dt.tz_localize(None))
    joined = pd.merge_asof(
        decl.sort_values("month_start"),
        spells[["uscc", "month_start", "credit_level"]].sort_values("month_start"),
        on="month_start",
        by="uscc",
    )
    rate = joined.groupby("credit_level")["inspected"].mean()
    assert rate["ADV_CERT"] < 0.5 * rate["REGULAR"] < rate["DISHONEST"]
    assert rate["DISHONEST"] > 0.6
