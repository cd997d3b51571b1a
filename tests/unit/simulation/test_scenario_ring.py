"""A refund ring shows in every department's records months before its statutory facts.

The stress zone runs a ring of 40 (6 shells) from 2024-10-01, 15 months before
the extract, next to an apparel shock.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.simulation.scenario_zones import RING

pytestmark = pytest.mark.xdist_group("scenarios")

START = pd.Timestamp(RING.start, tz="UTC")
YEAR = pd.Timedelta(days=365)


@pytest.fixture(scope="module")
def ring(stress_zone) -> pd.DataFrame:
    return stress_zone.truth("scenarios").query("kind == 'refund_ring'")


def _period(frame: pd.DataFrame, ring: pd.DataFrame) -> pd.Series:
    """Label each row: a member's year before the start ('before'), its scheme
    from surge to detection ('scheme', per the truth), 'other', 'non-member'."""
    dates = ring.set_index("uscc")
    ts = frame["event_ts"]
    surge = pd.to_datetime(frame["uscc"].map(dates["surge_date"]), utc=True)
    found = pd.to_datetime(frame["uscc"].map(dates["detection_date"]), utc=True)
    label = pd.Series("other", index=frame.index)
    label[(ts >= START - YEAR) & (ts < START)] = "before"
    label[(ts >= surge) & (found.isna() | (ts < found))] = "scheme"
    return label.where(frame["uscc"].isin(ring["uscc"]), "non-member")


def test_the_truth_lists_the_members_with_their_scheme_dates(ring):
    assert len(ring) == RING.size
    assert (ring["role"] == "RING_SHELL").sum() == RING.new_shells
    assert ring["uscc"].is_unique
    start = pd.Timestamp(RING.start)
    scheme = pd.to_datetime(ring["start_date"])
    assert ((scheme >= start) & (scheme <= start + pd.Timedelta(days=30))).all()
    acted = ring.dropna(subset=["first_signal_date"])
    assert len(acted) >= 0.9 * RING.size
    signal = pd.to_datetime(acted["first_signal_date"])
    assert (signal >= pd.to_datetime(acted["start_date"])).all()


def test_members_change_legal_representative_or_address_soon_after_the_start(
    stress_zone, ring
):
    changes = stress_zone.clean("samr_change")
    soon = changes[
        changes["field"].isin(["LEGAL_REP", "ADDRESS"])
        & (changes["event_ts"] >= START)
        & (changes["event_ts"] < START + pd.Timedelta(days=120))
    ]
    members = soon["uscc"].isin(ring["uscc"])
    member_share = soon.loc[members, "uscc"].nunique() / len(ring)
    everyone = stress_zone.clean("samr_registration")["uscc"].nunique()
    other_share = soon.loc[~members, "uscc"].nunique() / everyone
    assert member_share > 0.85
    assert other_share < 0.25


def test_members_refund_claims_surge(stress_zone, ring):
    claims = stress_zone.clean("export_refund_claim").drop_duplicates(
        "source_record_id", keep="last"
    )
    members = claims["uscc"].isin(ring["uscc"])
    ts = claims["event_ts"]
    before = members & (ts >= START - YEAR) & (ts < START)
    after = members & (ts >= START)
    monthly_before = claims.loc[before, "refund_claimed_cny"].sum() / 12
    monthly_after = claims.loc[after, "refund_claimed_cny"].sum() / 15
    assert monthly_after > 2.5 * monthly_before, (monthly_before, monthly_after)


def test_members_funds_come_from_third_parties_and_flow_back_out(stress_zone, ring):
    fx = stress_zone.clean("fx_transaction")
    period = _period(fx, ring)
    receipts = fx["direction"] == "IN"
    not_partner = (fx["counterparty_type"] != "TRADE_PARTNER")[receipts]
    by_payer = not_partner.groupby(period[receipts]).mean()
    assert by_payer["scheme"] > 0.4 > 0.2 > by_payer["before"], by_payer
    back_out = (fx["direction"] == "OUT") & ~fx["is_goods_trade"].astype(bool)
    out_usd = fx.loc[back_out, "amount_usd"].groupby(period[back_out]).sum()
    in_usd = fx.loc[receipts, "amount_usd"].groupby(period[receipts]).sum()
    round_trip = out_usd.reindex(in_usd.index, fill_value=0.0) / in_usd
    assert round_trip["scheme"] > 0.3, round_trip
    assert round_trip["before"] < 0.05, round_trip
    assert round_trip["non-member"] < 0.05, round_trip


def test_members_buy_invoices_in_the_ring_and_fail_more_inspections(stress_zone, ring):
    invoices = stress_zone.clean("vat_invoice").query("direction == 'INPUT'")
    period = _period(invoices, ring)
    from_ring = invoices["counterparty_id"].isin(ring["uscc"]).groupby(period).mean()
    assert from_ring["scheme"] > 0.15 > 0.03 > from_ring["before"], from_ring
    checks = stress_zone.clean("customs_inspection")
    period = _period(checks, ring)
    found = (checks["result"] == "DISCREPANCY").groupby(period).mean()
    assert found["scheme"] > 2 * found["before"], found
    assert found["scheme"] > 2 * found["non-member"], found


def test_exports_are_declared_far_above_what_the_goods_weigh(stress_zone, ring):
    decl = stress_zone.clean("customs_declaration").query("ie_flag == 'E'")
    period = _period(decl, ring)
    per_kg = (decl["value_cny"] / decl["gross_weight_kg"]).groupby(period).median()
    assert per_kg["scheme"] > 2 * per_kg["before"], per_kg


def test_statutory_facts_follow_for_most_members_months_after_the_first_signal(
    stress_zone, ring
):
    facts = ring.dropna(subset=["first_statutory_date"])
    assert len(facts) >= 0.7 * RING.size
    lead = pd.to_datetime(facts["first_statutory_date"]) - pd.to_datetime(
        facts["first_signal_date"]
    )
    assert lead.median() >= pd.Timedelta(days=90), lead.describe()
    assert (lead > pd.Timedelta(days=0)).mean() > 0.85
    assert (facts["first_statutory_kind"] == "TAX_MAJOR_VIOLATION").mean() > 0.7
    detected = ring.dropna(subset=["detection_date"])
    violations = stress_zone.clean("tax_violation").query(
        "major_violation and violation_type == 'REFUND_FRAUD'"
    )
    assert set(detected["uscc"]) <= set(violations["uscc"])
    lists = stress_zone.clean("abnormal_list").query("cause == 'UNREACHABLE'")
    absconded = set(lists["uscc"]) & set(detected["uscc"])
    assert len(absconded) >= 0.15 * len(detected)
    fines = stress_zone.clean("customs_penalty")
    fined = set(fines.loc[fines["event_ts"] >= START, "uscc"]) & set(ring["uscc"])
    assert len(fined) >= 0.4 * len(detected)


def test_the_truth_knows_a_detected_member_from_its_surge(stress_zone, ring):
    monthly = stress_zone.truth("monthly")
    monthly["as_of"] = pd.to_datetime(monthly["as_of"])
    found = ring.dropna(subset=["detection_date", "surge_date"])
    frame = monthly.merge(found, on="uscc")
    surge = pd.to_datetime(frame["surge_date"])
    detect = pd.to_datetime(frame["detection_date"])
    known = (
        (frame["as_of"] >= surge)
        & (frame["as_of"] < detect)
        & (detect <= frame["as_of"] + YEAR)
    )
    assert known.sum() > 3 * len(found)
    assert (frame.loc[known, "p_adverse_12m"] == 1.0).all()
