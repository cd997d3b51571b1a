"""The lake's figures on the mini zone: enterprises, declarations, refunds, FX."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.zone_statistics import build_zone_report
from tests.unit.zone_statistics.conftest import E1, E2, END, KNOWN, START


@pytest.fixture(scope="module")
def report(mini_zone, reference):
    return build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference
    )


def rows(report, name, *columns):
    frame = report.table(name).frame
    return [tuple(r) for r in frame.loc[:, list(columns)].itertuples(index=False)]


def test_enterprises_registered_at_period_end_as_known_then(report):
    assert rows(
        report, "enterprises", "period", "registered", "active", "new", "deregistered"
    ) == [
        ("2026-01", 2, 1, 0, 0),  # E1, E3; E1 declared
        ("2026-02", 3, 1, 1, 0),  # E2 established on 02-15
        # E3 was cancelled on 03-20 but the zone learned it in April: still
        # registered at the end of March (stock as known then), deregistered
        # in March (flow by event date).
        ("2026-03", 3, 1, 0, 1),
        ("2026-04", 2, 0, 0, 0),
        ("2026-05", 3, 0, 0, 0),  # E4 first known on 05-20
        ("2026-06", 3, 1, 0, 0),
    ]


def test_enterprises_by_district_read_uscc_characters_3_to_8(report):
    march = report.table("enterprises_by_district").frame.query("period == '2026-03'")
    got = dict(zip(march["district"], march["registered"], strict=True))
    assert got == {"110105": 1, "350203": 1, "350206": 1}
    names = dict(zip(march["district"], march["district_name"], strict=True))
    assert names["350203"] == "思明区 Siming"
    assert names["110105"] == "110105"  # not in the reference: shown raw


def test_enterprises_by_role_and_department(report):
    roles = report.table("enterprises_by_cbec_role").frame.query("period == '2026-03'")
    assert dict(zip(roles["cbec_role"], roles["registered"], strict=True)) == {
        "ECOMMERCE_ENTERPRISE": 1,
        "NO_CUSTOMS_REGISTRATION": 2,
    }
    dept = report.table("enterprises_by_department").frame
    feb = dept.query("period == '2026-02'")
    mar = dept.query("period == '2026-03'")
    # E2's first customs record (a declaration) arrived in March.
    assert dict(zip(feb["department"], feb["registered"], strict=True)) == {
        "CUSTOMS": 1, "SAMR": 3, "SAFE": 1, "TAX": 1,
    }  # fmt: skip
    assert dict(zip(mar["department"], mar["registered"], strict=True))["CUSTOMS"] == 2


def test_declarations_by_mode_bucket_on_utc_month_boundaries(report):
    got = rows(
        report, "declarations_by_trade_mode", "period", "trade_mode", "declarations",
        "value_cny", "enterprises",
    )  # fmt: skip
    assert got == [
        ("2026-01", "9610", 1, 100.0, 1),
        ("2026-01", "9710", 1, 50.0, 1),  # 01-31 23:59:59 UTC
        ("2026-02", "0110", 1, 30.0, 1),  # 02-01 00:00:00 UTC
        ("2026-03", "1210", 1, 70.0, 1),  # E4's 9810 arrived after the cutoff
        ("2026-06", "other", 1, 10.0, 1),  # 0130 is not a reported mode
    ]
    totals = rows(report, "declarations", "period", "declarations", "value_cny")
    assert totals == [
        ("2026-01", 2, 150.0), ("2026-02", 1, 30.0), ("2026-03", 1, 70.0),
        ("2026-04", 0, 0.0), ("2026-05", 0, 0.0), ("2026-06", 1, 10.0),
    ]  # fmt: skip


def test_declarations_by_direction_district_and_role(report):
    direction = rows(
        report, "declarations_by_direction", "period", "direction", "value_cny"
    )
    assert ("2026-02", "import", 30.0) in direction
    assert ("2026-01", "export", 150.0) in direction
    district = rows(
        report, "declarations_by_district", "period", "district", "value_cny"
    )
    assert ("2026-03", "350206", 70.0) in district
    role = rows(
        report, "declarations_by_cbec_role", "period", "cbec_role", "declarations"
    )
    assert ("2026-03", "NO_CUSTOMS_REGISTRATION", 1) in role
    assert ("2026-01", "ECOMMERCE_ENTERPRISE", 2) in role


def test_a_record_ingested_after_the_knowledge_cutoff_counts_on_a_later_run(
    mini_zone, reference
):
    later = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=dt.date(2026, 7, 31),
        reference=reference,
    )  # fmt: skip
    march = later.table("declarations").frame.query("period == '2026-03'")
    assert march["declarations"].tolist() == [2]
    assert march["value_cny"].tolist() == [570.0]
    # Stocks at the end of March stay as known then: E4 is still not there.
    stock = later.table("enterprises").frame.query("period == '2026-03'")
    assert stock["registered"].tolist() == [3]


def test_quarters_sum_the_months(mini_zone, reference):
    quarterly = build_zone_report(
        mini_zone, start=START, end=END, period="quarter", knowledge_date=KNOWN,
        reference=reference,
    )  # fmt: skip
    assert rows(
        quarterly,
        "enterprises",
        "period",
        "registered",
        "active",
        "new",
        "deregistered",
    ) == [("2026-Q1", 3, 2, 1, 1), ("2026-Q2", 3, 1, 0, 0)]
    assert rows(quarterly, "declarations", "period", "declarations", "value_cny") == [
        ("2026-Q1", 4, 250.0),
        ("2026-Q2", 1, 10.0),
    ]


def test_refunds_use_the_latest_known_version_and_fx_splits_directions(
    mini_zone, reference
):
    before_review = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=dt.date(2026, 2, 20),
        reference=reference,
    )  # fmt: skip
    after_review = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference
    )
    for report, status, approved in (
        (before_review, "FILED", 0.0),
        (after_review, "APPROVED", 12.0),
    ):
        feb = report.table("refunds").frame.query("period == '2026-02'")
        assert feb["claims"].tolist() == [1]
        assert feb["refund_claimed_cny"].tolist() == [13.0]
        assert feb["refund_approved_cny"].tolist() == [approved]
        by_status = report.table("refunds_by_status").frame
        assert by_status["status"].tolist() == [status]
    fx = rows(
        after_review, "forex", "period", "direction", "amount_usd", "goods_trade_usd"
    )
    assert fx == [("2026-01", "paid", 5.0, 0.0), ("2026-01", "received", 20.0, 20.0)]


def test_no_enterprise_identifier_leaves_the_report(report):
    text = str(report.to_json_dict())
    assert E1 not in text
    assert E2 not in text
