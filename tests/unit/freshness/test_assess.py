"""Freshness at a date: statuses, the freshness date, stale marks, lights."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from credit_engine.freshness import (
    Cadence,
    FreshnessPolicy,
    FreshnessStatus,
    SourcePolicy,
    StaleSource,
    TableWatermark,
    Watermarks,
    assess_freshness,
    default_serving_date,
    freshness_date,
    freshness_lights,
    knowledge_date,
)
from credit_engine.vocabulary import Department

D = dt.date


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(D.fromisoformat(day), dt.time(hour), dt.UTC)


RULES = {
    "customs_tax_bill": (Department.CUSTOMS, Cadence.DAILY, 3, True),
    "customs_credit_level": (Department.CUSTOMS, Cadence.WEEKLY, 14, True),
    "tax_filing": (Department.TAX, Cadence.MONTHLY, 35, True),
    "samr_change": (Department.SAMR, Cadence.DAILY, 7, False),
}
POLICY = FreshnessPolicy(
    1,
    {
        name: SourcePolicy(name, dept, cadence, lag, True, required, "test")
        for name, (dept, cadence, lag, required) in RULES.items()
    },
)


def marks(**latest: str | None) -> Watermarks:
    return Watermarks(
        None,
        {
            name: TableWatermark(
                name,
                RULES[name][0],
                None if latest.get(name) is None else at(latest[name]),  # type: ignore[arg-type]
                None,
                0 if latest.get(name) is None else 5,
            )
            for name in RULES
        },
    )


LAKE = marks(
    customs_tax_bill="2026-09-30",
    customs_credit_level="2026-09-25",
    tax_filing="2026-09-15",
    samr_change="2026-08-01",
)


@pytest.mark.parametrize(
    ("day", "status", "age"),
    [
        ("2026-09-30", FreshnessStatus.FRESH, 0),
        ("2026-10-01", FreshnessStatus.FRESH, 1),  # the next delivery is due
        ("2026-10-02", FreshnessStatus.LATE, 2),
        ("2026-10-03", FreshnessStatus.LATE, 3),  # the last day of the lag
        ("2026-10-04", FreshnessStatus.STALE, 4),
    ],
)
def test_a_daily_feed_is_fresh_then_late_then_stale(day, status, age):
    report = assess_freshness(LAKE, POLICY, D.fromisoformat(day))
    bills = report.tables["customs_tax_bill"]
    assert (bills.status, bills.age_days) == (status, age)
    assert bills.expected_next == D(2026, 10, 1)
    assert bills.stale_since == D(2026, 10, 4)


def test_departments_take_their_worst_required_table_and_overall_too():
    report = assess_freshness(LAKE, POLICY, D(2026, 10, 5))
    customs = report.departments[Department.CUSTOMS]
    assert customs.status is FreshnessStatus.STALE
    assert customs.stale_tables == ("customs_tax_bill",)
    assert customs.oldest_watermark == at("2026-09-25")
    # samr_change is stale but not required: reported, never marks a decision.
    assert report.tables["samr_change"].status is FreshnessStatus.STALE
    assert report.departments[Department.SAMR].status is FreshnessStatus.FRESH
    assert report.departments[Department.TAX].status is FreshnessStatus.FRESH
    assert report.status is FreshnessStatus.STALE
    assert [s.table for s in report.stale_sources] == ["customs_tax_bill"]


def test_the_freshness_date_is_the_last_day_no_required_table_is_stale():
    # bills 09-30 + 3, levels 09-25 + 14, filings 09-15 + 35: the earliest.
    assert freshness_date(LAKE, POLICY) == D(2026, 10, 3)
    on = assess_freshness(LAKE, POLICY, D(2026, 10, 3))
    after = assess_freshness(LAKE, POLICY, D(2026, 10, 4))
    assert on.stale_sources == ()
    assert [s.table for s in after.stale_sources] == ["customs_tax_bill"]
    assert on.freshness_date == after.freshness_date == D(2026, 10, 3)
    # A required table never delivered: no freshness date, always stale.
    never = marks(customs_tax_bill=None, customs_credit_level="2026-09-25",
                  tax_filing="2026-09-15")  # fmt: skip
    assert freshness_date(never, POLICY) is None
    report = assess_freshness(never, POLICY, D(2026, 9, 26))
    (stale,) = report.stale_sources
    assert (stale.table, stale.watermark, stale.age_days, stale.since) == (
        "customs_tax_bill", None, None, None,
    )  # fmt: skip


def test_the_knowledge_date_is_when_the_stale_sources_last_delivered():
    report = assess_freshness(LAKE, POLICY, D(2026, 12, 4))
    assert {s.table for s in report.stale_sources} == {
        "customs_tax_bill", "customs_credit_level", "tax_filing",
    }  # fmt: skip
    assert report.knowledge_date == D(2026, 9, 15)
    assert knowledge_date(report.stale_sources, D(2026, 9, 1)) == D(2026, 9, 1)
    fresh = assess_freshness(LAKE, POLICY, D(2026, 10, 1))
    assert fresh.knowledge_date == D(2026, 10, 1)


def test_a_service_serves_the_freshness_date_never_a_future_one():
    day, why = default_serving_date(LAKE, POLICY, D(2026, 12, 4))
    assert day == D(2026, 10, 3)
    assert why.startswith("the lake's freshness date (customs_tax_bill (CUSTOMS)")
    day, why = default_serving_date(LAKE, POLICY, D(2026, 10, 1))
    assert day == D(2026, 10, 1)
    assert why.startswith("today: every required source is within its allowed lag")
    never = marks(customs_credit_level="2026-09-25", tax_filing="2026-09-15")
    day, why = default_serving_date(never, POLICY, D(2026, 10, 1))
    assert day == D(2026, 10, 1)
    assert "never delivered" in why
    assert "customs_tax_bill" in why


def test_stale_marks_round_trip_and_the_report_is_plain_json():
    report = assess_freshness(LAKE, POLICY, D(2026, 12, 4))
    for mark in report.stale_sources:
        assert StaleSource.from_dict(json.loads(json.dumps(mark.to_dict()))) == mark
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["freshness_date"] == "2026-10-03"
    assert data["tables"]["tax_filing"]["expected_next_delivery"] == "2026-10-15"
    assert data["departments"]["CUSTOMS"]["stale_tables"] == [
        "customs_credit_level", "customs_tax_bill",
    ]  # fmt: skip


def test_monitoring_lights_follow_each_table_s_own_cadence():
    lights = freshness_lights(assess_freshness(LAKE, POLICY, D(2026, 10, 2)))
    assert lights["customs_tax_bill"]["status"] == "amber"  # late
    assert lights["customs_credit_level"]["status"] == "green"
    # An optional table marks no decision: stale, it is amber, not red.
    assert lights["samr_change"]["freshness"] == "stale"
    assert lights["samr_change"]["status"] == "amber"
    later = freshness_lights(assess_freshness(LAKE, POLICY, D(2026, 10, 20)))
    assert later["customs_tax_bill"]["status"] == "red"  # required and stale
    assert lights["tax_filing"] == {
        "status": "green",
        "freshness": "fresh",
        "department": "TAX",
        "age_days": 17,
        "allowed_lag_days": 35,
        "cadence": "monthly",
        "watermark": "2026-09-15T10:00:00+00:00",
        "delivered": "2026-09-15T10:00:00+00:00",
        "expected_next_delivery": "2026-10-15",
        "stale_since": "2026-10-21",
        "required": True,
    }


def test_a_quiet_table_is_judged_by_the_delivery_that_carries_it():
    rules = dict(POLICY.sources)
    rules["customs_credit_level"] = dataclasses.replace(
        rules["customs_credit_level"], delivered_with="customs_tax_bill"
    )
    policy = FreshnessPolicy(1, rules)
    quiet = marks(
        customs_tax_bill="2026-09-30",
        customs_credit_level="2026-08-01",  # no level changed for two months
        tax_filing="2026-09-15",
    )
    report = assess_freshness(quiet, policy, D(2026, 10, 2))
    levels = report.tables["customs_credit_level"]
    assert levels.watermark == at("2026-08-01")  # what the lake holds of it
    assert levels.delivered == at("2026-09-30")  # the delivery that carried it
    assert (levels.status, levels.age_days) == (FreshnessStatus.FRESH, 2)
    assert report.evidence()["customs_credit_level"] == at("2026-09-30")
    # Judged alone it would be stale, and bound the freshness date.
    alone = assess_freshness(quiet, POLICY, D(2026, 10, 2))
    assert alone.tables["customs_credit_level"].status is FreshnessStatus.STALE
    assert freshness_date(quiet, policy) == D(2026, 10, 3)
    assert freshness_date(quiet, POLICY) == D(2026, 8, 15)
    # A carrier that stops takes its quiet tables with it.
    late = assess_freshness(quiet, policy, D(2026, 10, 20))
    assert {s.table for s in late.stale_sources} == {
        "customs_tax_bill", "customs_credit_level",
    }  # fmt: skip
