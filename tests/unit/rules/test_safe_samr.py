"""SAFE and SAMR facts on dated scenarios: classes, lists, expiry, early repair."""

from __future__ import annotations

import datetime as dt


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_the_safe_class_in_force_with_its_reason(records):
    r = records
    r.safe("A", "2013-01-01", end="2025-03-01")
    r.safe("B", "2025-03-01", reason="GOODS_FUNDS_MISMATCH", end="2026-03-01")
    r.safe("C", "2026-03-01", reason="B_PERSISTED")
    a = r.at("2025-02-28")["SAFE_CLASS_A"]
    assert a["favourable"]
    assert a["rule_set"] == "SAFE_2012"
    b = r.at("2025-03-01")["SAFE_CLASS_B"]
    assert (b["detail"], b["ceiling"], b["blocks_green_channel"]) == (
        "GOODS_FUNDS_MISMATCH",
        "B",
        True,
    )
    assert set(r.at("2025-03-01")) == {"SAFE_CLASS_B"}
    c = r.at("2026-03-01")["SAFE_CLASS_C"]
    assert (c["detail"], c["ceiling"], c["since"]) == (
        "B_PERSISTED",
        "D",
        d("2026-03-01"),
    )


def test_a_serious_list_entry_expires_after_the_maximum_without_a_removal(records):
    r = records
    r.serious("2023-06-01", known="2023-06-02")
    expiry = d("2023-06-01") + dt.timedelta(days=1095)
    assert expiry == d("2026-05-31")
    assert r.at("2023-06-01") == {}
    fact = r.at("2023-06-02")["SAMR_SERIOUS_LIST"]
    assert (fact["since"], fact["until"]) == (d("2023-06-01"), expiry)
    assert fact["joint_punishment"]
    assert fact["ceiling"] == "D"
    assert fact["detail"] == "HEAVIER_PENALTY"
    assert "SAMR_SERIOUS_LIST" in r.at(expiry - dt.timedelta(days=1))
    assert r.at(expiry) == {}  # no removal record has arrived


def test_an_early_repair_ends_the_entry_only_once_known(records):
    r = records
    r.serious(
        "2024-01-10",
        removal="EARLY_REPAIR",
        end="2025-03-01",
        end_known="2025-03-20",
    )
    before = r.at("2025-02-28")["SAMR_SERIOUS_LIST"]
    assert before["until"] == d("2024-01-10") + dt.timedelta(days=1095)
    # Repaired on 2025-03-01, but the record arrived on 2025-03-20: a rating
    # made in between still shows the entry.
    assert "SAMR_SERIOUS_LIST" in r.at("2025-03-10")
    assert "SAMR_SERIOUS_LIST" in r.at("2025-03-19")
    assert r.at("2025-03-20") == {}


def test_a_known_future_removal_is_the_until(records):
    r = records
    r.serious("2024-01-10", end="2025-06-01", end_known="2025-05-01")
    fact = r.at("2025-05-15")["SAMR_SERIOUS_LIST"]
    assert fact["until"] == d("2025-06-01")
    assert r.at("2025-06-01") == {}


def test_an_abnormal_listing_escalates_after_1095_days_until_removed(records):
    r = records
    r.abnormal("2022-07-15", end="2025-08-01", end_known="2025-08-02")
    r.abnormal("2025-01-10", uscc=r.B, cause="UNREACHABLE")
    listed = r.at("2025-07-13")
    assert set(listed) == {"SAMR_ABNORMAL_LIST"}
    assert listed["SAMR_ABNORMAL_LIST"]["detail"] == "ANNUAL_REPORT_MISSING"
    assert listed["SAMR_ABNORMAL_LIST"]["ceiling"] == "B"
    assert listed["SAMR_ABNORMAL_LIST"]["until"] is None  # removal not yet known
    due_on = d("2022-07-15") + dt.timedelta(days=1095)
    assert due_on == d("2025-07-14")
    escalation = r.at(due_on)["SAMR_ABNORMAL_ESCALATION_DUE"]
    assert (escalation["since"], escalation["ceiling"]) == (due_on, "C")
    assert not escalation["joint_punishment"]
    assert "SAMR_ABNORMAL_ESCALATION_DUE" in r.at("2025-08-01")  # removal not known
    assert r.at("2025-08-02") == {}
    assert r.at("2025-08-02", r.B)["SAMR_ABNORMAL_LIST"]["detail"] == "UNREACHABLE"


def test_a_revoked_or_cancelled_registration_is_not_in_business(records):
    r = records
    r.samr_status("IN_BUSINESS", "2015-01-01", end="2025-05-01", end_known="2025-05-03")
    r.samr_status("REVOKED", "2025-05-01", known="2025-05-03")
    r.samr_status("MOVED_OUT", "2024-01-01", uscc=r.B)
    assert r.at("2025-05-02") == {}
    fact = r.at("2025-05-03")["SAMR_NOT_IN_BUSINESS"]
    assert (fact["detail"], fact["ceiling"]) == ("REVOKED", "D")
    assert r.at("2025-05-03", r.B) == {}
