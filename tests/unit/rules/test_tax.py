"""Tax facts on dated scenarios: levels, D retention across TAX_2014/TAX_2025,
major violations, refund fraud and abnormal households."""

from __future__ import annotations

import datetime as dt

import pytest


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_the_level_in_force_follows_the_april_publications(records):
    r = records
    r.rating(2023, "B", "2024-04-15", end="2025-04-15")
    r.rating(2024, "D", "2025-04-15", direct_d=9)
    b = r.at("2025-04-14")["TAX_LEVEL_B"]
    assert (b["detail"], b["since"], b["until"]) == ("2023", d("2024-04-15"), None)
    assert b["favourable"]
    assert b["ceiling"] is None
    facts = r.at("2025-04-15")
    assert set(facts) == {"TAX_LEVEL_D"}
    assert facts["TAX_LEVEL_D"]["detail"] == "2024;direct_d=9"
    assert facts["TAX_LEVEL_D"]["ceiling"] == "D"
    assert facts["TAX_LEVEL_D"]["blocks_green_channel"]


@pytest.mark.parametrize(
    ("level", "ceiling", "blocks", "favourable"),
    [
        ("A", None, False, True),
        ("B", None, False, True),
        ("M", None, True, False),
        ("C", None, True, False),
        ("D", "D", True, False),
    ],
)
def test_each_level_has_its_effects(records, level, ceiling, blocks, favourable):
    records.rating(2024, level, "2025-04-20")
    fact = records.at("2025-08-01")[f"TAX_LEVEL_{level}"]
    assert fact["ceiling"] == ceiling
    assert fact["blocks_green_channel"] is blocks
    assert fact["favourable"] is favourable
    assert fact["rule_set"] == "TAX_2025"


def test_a_score_based_d_is_retained_under_2014_but_not_under_2025(records):
    r = records
    r.rating(2023, "D", "2024-04-20", end="2025-04-20")  # score-based D
    r.rating(2024, "B", "2025-04-20")
    old = r.at("2025-06-30")
    assert set(old) == {"TAX_LEVEL_B", "TAX_D_RETENTION"}
    kept = old["TAX_D_RETENTION"]
    assert kept["rule_set"] == "TAX_2014"
    assert kept["ceiling"] == "B"
    assert kept["blocks_green_channel"]
    assert (kept["since"], kept["until"], kept["detail"]) == (
        d("2024-04-20"),
        d("2027-01-01"),  # the bar runs through 2023 + 3
        "2023",
    )
    assert set(r.at("2025-07-01")) == {"TAX_LEVEL_B"}  # TAX_2025: extra 11 points only


def test_a_direct_d_is_retained_under_2025_through_rating_year_plus_3(records):
    r = records
    r.rating(2023, "D", "2024-04-20", direct_d=1, end="2025-04-20")
    r.rating(2024, "B", "2025-04-20")
    for as_of in ("2025-06-30", "2025-07-01", "2026-12-31"):
        assert "TAX_D_RETENTION" in r.at(as_of), as_of
    assert r.at("2025-07-01")["TAX_D_RETENTION"]["detail"] == "2023;direct_d=1"
    assert r.at("2025-07-01")["TAX_D_RETENTION"]["rule_set"] == "TAX_2025"
    assert set(r.at("2027-01-01")) == {"TAX_LEVEL_B"}


def test_direct_d_items_10_and_11_are_not_retained_under_2025(records):
    r = records
    r.rating(2024, "D", "2025-04-20", direct_d=11, end="2025-05-10")
    r.rating(2024, "C", "2025-05-10")  # re-rated after an objection
    assert "TAX_D_RETENTION" in r.at("2025-06-30")  # TAX_2014: any D
    assert set(r.at("2025-07-01")) == {"TAX_LEVEL_C"}


def test_no_retention_while_the_d_is_in_force(records):
    records.rating(2024, "D", "2025-04-20", direct_d=1)
    assert set(records.at("2025-09-01")) == {"TAX_LEVEL_D"}


def test_a_major_violation_holds_for_the_maximum_serious_publicity(records):
    r = records
    r.violation(
        "2023-06-15 09:00", kind="FALSE_INVOICE", major=True, known="2023-06-16"
    )
    assert r.at("2023-06-15") == {}
    fact = r.at("2023-06-16")["TAX_MAJOR_VIOLATION"]
    assert fact["rule_set"] == "TAX_2014"
    assert fact["joint_punishment"]
    assert fact["ceiling"] == "D"
    assert fact["detail"] == "FALSE_INVOICE"
    expiry = d("2023-06-15") + dt.timedelta(days=1095)  # REPAIR: serious max
    assert fact["until"] == expiry
    last = r.at(expiry - dt.timedelta(days=1))["TAX_MAJOR_VIOLATION"]
    assert last["rule_set"] == "TAX_2025"
    assert r.at(expiry) == {}


def test_refund_fraud_blocks_the_green_channel_for_three_years(records):
    r = records
    r.violation("2023-09-01", kind="REFUND_FRAUD")
    r.violation("2024-03-01", uscc=r.B, kind="EVASION")
    fact = r.at("2026-08-31")["TAX_REFUND_FRAUD_3Y"]
    assert (fact["since"], fact["until"]) == (d("2023-09-01"), d("2026-09-01"))
    assert fact["blocks_green_channel"]
    assert fact["ceiling"] is None
    assert r.at("2026-09-01") == {}
    assert r.at("2026-08-31", r.B) == {}  # ordinary evasion: no fact


def test_an_abnormal_household_is_a_fact_once_known(records):
    r = records
    r.tax_status("NORMAL", "2015-01-01", end="2025-02-01", end_known="2025-02-03")
    r.tax_status("ABNORMAL", "2025-02-01", known="2025-02-03", end="2025-09-01")
    r.tax_status("NORMAL", "2025-09-01")
    assert r.at("2025-02-02") == {}
    fact = r.at("2025-02-03")["TAX_ABNORMAL_HOUSEHOLD"]
    assert (fact["detail"], fact["ceiling"]) == ("ABNORMAL", "C")
    assert fact["since"] == d("2025-02-01")
    assert r.at("2025-09-01") == {}
