"""Customs facts on dated scenarios: levels, the regime change, Art. 22, repair."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

PENDING = "CUSTOMS_ART22_PENDING"


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# -------------------------------------------------------------------- levels
def test_dishonest_level_appears_when_known_and_ends_with_the_repair_record(records):
    r = records
    r.level("REGULAR", "2020-01-01", end="2024-03-10", end_known="2024-03-11")
    r.level(
        "DISHONEST",
        "2024-03-10",
        known="2024-03-11",
        reason="ART22_2_SMUGGLING_ADMIN",
        end="2025-03-20",
        end_known="2025-03-25",
    )
    r.level("REGULAR", "2025-03-20", known="2025-03-25", reason="REPAIR_APPLICATION")

    assert r.at("2024-03-09") == {}
    assert "CUSTOMS_DISHONEST" not in r.at("2024-03-10")  # decided, not yet known
    fact = r.at("2024-03-11")["CUSTOMS_DISHONEST"]
    assert fact["since"] == d("2024-03-10")
    assert fact["until"] is None
    assert fact["detail"] == "ART22_2_SMUGGLING_ADMIN"
    assert fact["rule_set"] == "CUSTOMS_251"
    assert fact["department"] == "CUSTOMS"
    assert fact["ceiling"] == "D"
    assert fact["inspection_min_rate"] == 0.8
    assert fact["blocks_green_channel"]
    assert not fact["joint_punishment"]
    # Repaired on 2025-03-20, but the zone learned it on 2025-03-25.
    assert "CUSTOMS_DISHONEST" in r.at("2025-03-24")
    assert r.at("2025-03-25") == {}


def test_the_regime_change_switches_rule_sets_and_keeps_the_level_since(records):
    r = records
    r.level(
        "ADV_CERT",
        "2022-05-01",
        reason="AEO_CERTIFIED",
        end="2026-04-01",
        end_known="2026-04-02",
    )
    r.level(
        "ADV_CERT", "2026-04-01", reason="REGIME_TRANSITION", known="2026-04-01 05:00"
    )
    before, after = r.at("2026-03-31"), r.at("2026-04-01")
    assert before["CUSTOMS_ADV_CERT"]["rule_set"] == "CUSTOMS_251"
    assert after["CUSTOMS_ADV_CERT"]["rule_set"] == "CUSTOMS_282"
    for facts in (before, after):
        fact = facts["CUSTOMS_ADV_CERT"]
        assert fact["since"] == d("2022-05-01")
        assert fact["detail"] == "AEO_CERTIFIED"
        assert fact["inspection_factor_cap"] == 0.2
        assert fact["favourable"]
        assert fact["ceiling"] is None
    assert set(after) == {"CUSTOMS_ADV_CERT"}  # one level in force, not two


def test_a_revoked_certification_ends_the_adv_cert_fact(records):
    r = records
    r.level("ADV_CERT", "2022-05-01", reason="AEO_CERTIFIED", end="2025-02-01")
    r.level("REGULAR", "2025-02-01", reason="AEO_REVOKED")
    assert set(r.at("2025-01-31")) == {"CUSTOMS_ADV_CERT"}
    assert r.at("2025-01-31")["CUSTOMS_ADV_CERT"]["until"] is None
    assert r.at("2025-02-01") == {}


def test_a_cert_level_is_a_fact_only_under_order_282(records):
    r = records
    r.level("CERT", "2026-01-15")  # cannot exist under Order 251
    assert r.at("2026-03-31") == {}
    fact = r.at("2026-04-01")["CUSTOMS_CERT"]
    assert fact["inspection_factor_cap"] == 0.5
    assert fact["rule_set"] == "CUSTOMS_282"


def test_a_smuggling_crime_dishonest_becomes_seriously_dishonest_at_282(records):
    r = records
    r.penalty("2026-01-20", category="SMUGGLING_CRIME", amount=0.0)
    r.level("REGULAR", "2019-01-01", end="2026-02-01")
    r.level(
        "DISHONEST",
        "2026-02-01",
        reason="ART22_1_SMUGGLING_CRIME",
        end="2026-04-01",
        end_known="2026-04-01 03:00",
    )
    r.level("SERIOUS_DISHONEST", "2026-04-01", reason="REGIME_TRANSITION")
    before, after = r.at("2026-03-31"), r.at("2026-04-01")
    assert set(before) == {"CUSTOMS_DISHONEST"}
    assert set(after) == {"CUSTOMS_SERIOUS_DISHONEST"}
    fact = after["CUSTOMS_SERIOUS_DISHONEST"]
    assert fact["since"] == d("2026-04-01")
    assert fact["ceiling"] == "D"
    assert fact["joint_punishment"]
    assert fact["blocks_green_channel"]
    assert fact["detail"] == "REGIME_TRANSITION"


def test_a_late_closing_version_does_not_leave_two_levels(records):
    r = records
    r.level("REGULAR", "2020-01-01")  # never closed in the records
    r.level("DISHONEST", "2025-01-10", reason="ART22_4_TAX_OVERDUE")
    assert set(r.at("2025-02-01")) == {"CUSTOMS_DISHONEST"}


# --------------------------------------------------------- Art. 22 pending
def test_a_smuggling_penalty_is_pending_until_customs_acts(records):
    r = records
    r.level("REGULAR", "2020-01-01", end="2025-05-30", end_known="2025-05-31")
    r.penalty("2025-05-10 10:00", category="SMUGGLING_ADMIN", known="2025-05-12")
    r.level(
        "DISHONEST", "2025-05-30", known="2025-05-31", reason="ART22_2_SMUGGLING_ADMIN"
    )

    assert r.at("2025-05-11") == {}  # the penalty was ingested after as_of
    fact = r.at("2025-05-12")[PENDING]
    assert fact["detail"] == "ART22_2"
    assert fact["since"] == d("2025-05-10")
    assert fact["ceiling"] is None  # an inference: no tier bound
    assert fact["blocks_green_channel"]
    assert fact["blocks_green_channel"]
    assert not fact["joint_punishment"]
    assert set(r.at("2025-05-31")) == {"CUSTOMS_DISHONEST"}


def test_a_smuggling_case_stays_pending_for_the_lookback_only(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.penalty("2025-05-10 10:00", category="SMUGGLING_CRIME", amount=0.0)
    assert r.at("2026-03-31")[PENDING]["rule_set"] == "CUSTOMS_251"
    fact = r.at("2026-05-09")[PENDING]
    assert (fact["detail"], fact["rule_set"]) == ("ART22_1", "CUSTOMS_282")
    assert PENDING not in r.at("2026-05-10")  # older than 365 days


def test_a_case_customs_already_judged_and_repaired_is_not_pending(records):
    r = records
    r.penalty("2024-06-01", category="SMUGGLING_ADMIN")
    r.level("REGULAR", "2020-01-01", end="2024-06-20")
    r.level(
        "DISHONEST", "2024-06-20", end="2025-01-15", reason="ART22_2_SMUGGLING_ADMIN"
    )
    r.level("REGULAR", "2025-01-15", reason="REPAIR_APPLICATION")
    assert r.at("2025-02-01") == {}


def _supervision(r, uscc, when, amounts, non_intentional=()):
    for i, amount in enumerate(amounts):
        r.penalty(
            f"{when} {10 + i:02d}:00",
            uscc=uscc,
            amount=amount,
            non_intentional=i in non_intentional,
            paid=when,
        )


@pytest.mark.parametrize(
    ("broker", "amounts", "pending"),
    [
        # 2,000 declarations: a non-broker needs > 2 penalties and > RMB 1,000,000.
        (False, [600_000, 600_000], False),  # count 2 is not > 2
        (False, [600_000, 600_000, 10_000], True),
        (False, [300_000, 300_000, 300_000], False),  # amount 900,000
        # A broker needs > 1 penalty (5/10000 of 2,000) and > RMB 300,000.
        (True, [200_000, 200_000], True),
        (True, [400_000], False),  # count 1 is not > 1
        (True, [150_000, 150_000], False),  # amount 300,000 is not > 300,000
    ],
)
def test_repeated_penalties_use_the_broker_or_non_broker_thresholds(
    records, broker, amounts, pending
):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.registration(broker=broker)
    r.declarations(2000, "2024-07-01", "2025-06-29")
    r.declarations(500, "2023-01-01", "2024-06-29")  # before the prior 365 days
    _supervision(r, r.A, "2025-03-03", amounts)
    facts = r.at("2025-06-30")
    assert (PENDING in facts) is pending
    if pending:
        assert facts[PENDING]["detail"] == "ART22_3"
        assert facts[PENDING]["since"] == d("2025-03-03")


def test_the_situation_arises_with_the_penalty_that_crosses_both_thresholds(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.registration(broker=False)
    r.declarations(2500, "2024-07-01", "2025-06-29")  # count must exceed 2.5
    r.penalty("2024-09-01", amount=900_000, paid="2024-09-10")
    r.penalty("2024-11-01", amount=200_000, paid="2024-11-10")  # amount crossed
    r.penalty("2025-02-01", amount=1_000, paid="2025-02-10")  # count crossed
    assert r.at("2025-06-30")[PENDING]["since"] == d("2025-02-01")
    # The first penalty leaves the 365-day window on 2025-09-01.
    assert PENDING not in r.at("2025-09-01")


@pytest.mark.parametrize(
    ("broker", "as_of", "pending"),
    [
        (False, "2023-11-21", False),  # 公告2023年第170号: not counted for non-brokers
        (False, "2023-11-20", True),  # the announcement is not yet in force
        (True, "2023-11-21", True),  # brokers are not excluded
    ],
)
def test_non_intentional_penalties_do_not_count_for_non_brokers(
    records, broker, as_of, pending
):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.registration(broker=broker)
    # No declarations on record: the amount test alone decides.
    _supervision(r, r.A, "2023-10-02", [700_000, 400_000], non_intentional={1})
    assert (PENDING in r.at(as_of)) is pending


def test_an_overdue_tax_bill_is_pending_after_90_days_until_a_paid_version_arrives(
    records,
):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.bill("2025-01-10", paid="2025-05-02", paid_known="2025-05-05")
    r.bill("2025-01-10", uscc=r.B, paid="2025-04-09", paid_known="2025-04-09")
    assert PENDING not in r.at("2025-04-10")  # 90 days overdue, not more
    fact = r.at("2025-04-11")[PENDING]
    assert fact["detail"] == "ART22_4"
    assert fact["since"] == d("2025-04-11")
    assert PENDING in r.at("2025-05-04")  # paid on 05-02, known on 05-05
    assert r.at("2025-05-05") == {}
    assert r.facts("2025-04-11")["uscc"].tolist() == [r.A]  # B paid in time


def test_an_unpaid_fine_over_the_minimum_is_pending_after_180_days(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.penalty("2024-12-20", amount=20_000, due="2025-01-10")
    r.penalty("2024-12-20", uscc=r.B, amount=10_000, due="2025-01-10")
    assert r.facts("2025-07-09").empty
    fact = r.at("2025-07-10")[PENDING]
    assert (fact["detail"], fact["since"]) == ("ART22_5", d("2025-07-10"))
    assert r.at("2025-07-10", r.B) == {}  # RMB 10,000 is not above 10,000


def test_several_items_are_listed_with_the_earliest_since(records):
    r = records
    r.bill("2025-01-10")
    r.penalty("2025-04-20", category="SMUGGLING_ADMIN", paid="2025-05-01")
    fact = r.at("2025-06-30")[PENDING]  # no level on record at all
    assert fact["detail"] == "ART22_2;ART22_4"
    assert fact["since"] == d("2025-04-11")


# ------------------------------------------------------------- repair due
def test_repair_is_due_two_years_after_the_dishonest_decision(records):
    r = records
    r.penalty("2024-01-05", category="SMUGGLING_ADMIN", paid="2024-01-15")
    r.level("REGULAR", "2020-01-01", end="2024-01-15")
    r.level(
        "DISHONEST",
        "2024-01-15",
        reason="ART22_2_SMUGGLING_ADMIN",
        end="2026-04-01",
        end_known="2026-04-01 02:00",
    )
    r.level("DISHONEST", "2026-04-01", reason="REGIME_TRANSITION")
    due_on = d("2024-01-15") + dt.timedelta(days=731)  # more than 730 days
    assert due_on == d("2026-01-15")  # 2024 is a leap year
    assert set(r.at("2026-01-14")) == {"CUSTOMS_DISHONEST"}
    facts = r.at("2026-01-15")
    assert set(facts) == {"CUSTOMS_DISHONEST", "CUSTOMS_REPAIR_DUE"}
    due = facts["CUSTOMS_REPAIR_DUE"]
    assert due["since"] == due_on
    assert due["ceiling"] is None
    assert not due["blocks_green_channel"]
    # The regime change re-issues the level but the two-year clock runs on.
    after = r.at("2026-04-01")
    assert after["CUSTOMS_REPAIR_DUE"]["since"] == due_on
    assert after["CUSTOMS_REPAIR_DUE"]["rule_set"] == "CUSTOMS_282"
    assert after["CUSTOMS_DISHONEST"]["since"] == d("2024-01-15")


def test_a_later_art22_situation_restarts_the_repair_clock(records):
    r = records
    r.level("DISHONEST", "2023-11-01", reason="ART22_2_SMUGGLING_ADMIN")
    # A fine overdue from 2024-08-29 (due + 181 days) until paid on 2024-12-01.
    r.penalty("2024-02-15", amount=50_000, due="2024-03-01", paid="2024-12-01")
    last_overdue_day = d("2024-11-30")
    due = last_overdue_day + dt.timedelta(days=731)
    assert "CUSTOMS_REPAIR_DUE" not in r.at(due - dt.timedelta(days=1))
    assert r.at(due)["CUSTOMS_REPAIR_DUE"]["since"] == due
    # A still-unpaid overdue bill keeps the situation alive: never due.
    r.bill("2024-01-10", uscc=r.B)
    r.level("DISHONEST", "2023-11-01", uscc=r.B, reason="ART22_4_TAX_OVERDUE")
    assert set(r.at("2026-09-30", r.B)) == {"CUSTOMS_DISHONEST"}


def test_facts_have_one_row_per_enterprise_and_code(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    for i in range(3):
        r.penalty(f"2025-0{i + 1}-05", category="SMUGGLING_ADMIN")
        r.bill(f"2025-0{i + 1}-01")
    frame = r.facts("2025-06-30")
    assert not frame.duplicated(["uscc", "code"]).any()
    assert frame.loc[0, "since"] == d("2025-01-05")
    assert isinstance(frame.loc[0, "since"], dt.date)
    assert pd.isna(frame.loc[0, "inspection_min_rate"])
