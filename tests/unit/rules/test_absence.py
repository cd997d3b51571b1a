"""Facts inferred from missing records hold only as far as their feed has spoken.

A bill unpaid, a fine unpaid, a listing not removed, two clean years: each is
inferred from the *absence* of a record. The absence counts only up to the
feed's watermark (the latest ``ingested_at`` known at the rating date), so a
feed that stopped delivering asserts nothing against an enterprise past its
last delivery. The scenarios measure the watermarks from their own records
(``feeds="records"``) or pass them (``watermarks=``).
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import yaml

from credit_engine.config import Settings
from credit_engine.exceptions import ConfigurationError
from credit_engine.freshness import source_watermarks
from credit_engine.rules import REGIMES, RuleBook

PENDING = "CUSTOMS_ART22_PENDING"
d = dt.date.fromisoformat


def mark(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def test_an_unpaid_bill_is_overdue_only_once_the_feed_has_spoken_past_its_grace(
    records,
):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.bill("2025-01-10")  # never paid; overdue from 2025-04-11 (due + 91 days)
    r.bill("2025-02-01", uscc=r.B, known="2025-03-01 08:00")  # the feed's last word
    # The feed stopped on 2025-03-01: its silence after that is not evidence.
    assert PENDING not in r.at("2025-06-30", feeds="records")
    # The same records on a feed that is current: the bill is overdue.
    fact = r.at("2025-06-30")[PENDING]
    assert (fact["since"], fact["detail"]) == (d("2025-04-11"), "ART22_4")
    # The feed speaks again after the grace: the situation is asserted, with
    # the date it arose (not the date the feed spoke).
    r.bill("2025-05-01", uscc=r.B, known="2025-04-20 09:00")
    fact = r.at("2025-06-30", feeds="records")[PENDING]
    assert (fact["since"], fact["detail"]) == (d("2025-04-11"), "ART22_4")
    # ... but not at a date before the end of the grace, whatever the feed says.
    assert PENDING not in r.at("2025-04-10", feeds="records")


def test_a_watermark_before_the_grace_ends_asserts_nothing_even_if_given(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.bill("2025-01-10")
    given = {"customs_tax_bill": mark("2025-04-10 23:00")}
    assert PENDING not in r.at("2025-06-30", watermarks=given)
    given = {"customs_tax_bill": mark("2025-04-11 00:30")}
    assert r.at("2025-06-30", watermarks=given)[PENDING]["since"] == d("2025-04-11")
    # A table never delivered is evidence of nothing.
    assert PENDING not in r.at("2025-06-30", watermarks={"customs_tax_bill": None})


def test_an_unpaid_fine_counts_only_to_the_penalty_feed_s_watermark(records):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.penalty("2024-06-01", amount=50_000, due="2024-07-01")  # overdue 2024-12-29
    assert PENDING not in r.at(
        "2025-03-31", watermarks={"customs_penalty": mark("2024-12-28 12:00")}
    )
    fact = r.at("2025-03-31", watermarks={"customs_penalty": mark("2024-12-29 01:00")})
    assert (fact[PENDING]["since"], fact[PENDING]["detail"]) == (
        d("2024-12-29"),
        "ART22_5",
    )
    # Items from records (a smuggling penalty) do not wait for the feed: they
    # are records, not silences.
    r.penalty("2025-03-01", uscc=r.B, category="SMUGGLING_ADMIN")
    r.level("REGULAR", "2020-01-01", uscc=r.B)
    stopped = r.at("2025-03-31", r.B, feeds="records")
    assert stopped[PENDING]["detail"] == "ART22_2"


def test_an_abnormal_listing_escalates_only_as_far_as_the_list_has_spoken(records):
    r = records
    r.abnormal("2022-07-15")  # escalation due 2025-07-14 unless removed
    r.abnormal("2025-05-01", uscc=r.B)  # the list's last word: 2025-05-01 06:00
    assert "SAMR_ABNORMAL_ESCALATION_DUE" not in r.at("2025-09-30", feeds="records")
    assert set(r.at("2025-09-30", feeds="records")) == {"SAMR_ABNORMAL_LIST"}
    assert "SAMR_ABNORMAL_ESCALATION_DUE" in r.at("2025-09-30")


def test_a_repair_needs_two_clean_years_evidenced_by_the_payment_feeds(records):
    r = records
    r.penalty("2023-11-01", category="SMUGGLING_ADMIN", paid="2023-11-10")
    r.level("DISHONEST", "2023-11-15", reason="ART22_2_SMUGGLING_ADMIN")
    due_on = d("2023-11-15") + dt.timedelta(days=731)
    current = r.at(due_on)
    assert current["CUSTOMS_REPAIR_DUE"]["since"] == due_on
    # The penalty and bill feeds last spoke in 2024: two clean years are not
    # evidenced, so the (favourable) repair is not asserted from their silence.
    stopped = r.at(due_on, feeds="records")
    assert set(stopped) == {"CUSTOMS_DISHONEST"}


def test_given_watermarks_and_measured_ones_give_the_same_facts(records, contracts):
    r = records
    r.level("REGULAR", "2020-01-01")
    r.bill("2025-01-10")
    r.bill("2025-02-01", uscc=r.B, known="2025-04-20 08:00")
    r.penalty("2024-06-01", amount=50_000, due="2024-07-01")
    r.abnormal("2022-07-15", uscc=r.C)
    for day in ("2025-03-31", "2025-06-30", "2025-09-30"):
        as_of = d(day)
        measured = r.facts(as_of, feeds="records")
        given = source_watermarks(r.sources(), as_of).instants()
        assert measured.equals(r.facts(as_of, watermarks=given)), day


def _declare(root, rule_set: str, fact: str, tables: list[str] | None) -> None:
    path = root / "rules" / f"{rule_set}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if tables is None:
        data["facts"][fact].pop("inferred_from_absence", None)
    else:
        data["facts"][fact]["inferred_from_absence"] = tables
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("rule_set", "fact", "tables", "named"),
    [
        ("customs_282", PENDING, None, "['customs_penalty', 'customs_tax_bill']"),
        ("customs_251", PENDING, ["customs_tax_bill"], "['customs_tax_bill']"),
        ("samr_2021", "SAMR_SERIOUS_LIST", ["serious_violation_list"], "no table"),
    ],
)
def test_the_rule_sets_must_declare_exactly_what_the_sql_infers_from_absence(
    tmp_path, rule_set, fact, tables, named
):
    shutil.copytree(Settings().definitions_dir / "rules", tmp_path / "rules")
    _declare(tmp_path, rule_set, fact, tables)
    with pytest.raises(ConfigurationError, match=f"fact {fact} is inferred") as info:
        RuleBook.load(tmp_path)
    assert named in str(info.value)
    assert rule_set.upper() in str(info.value)


def test_every_absence_inference_is_declared_and_its_tables_have_contracts(
    rulebook, contracts
):
    declared = rulebook.absence_tables()
    implemented = {
        code: tuple(sorted(tables))
        for layer in REGIMES
        for code, tables in layer.absence.items()
    }
    assert (
        declared
        == implemented
        == {
            PENDING: ("customs_penalty", "customs_tax_bill"),
            "CUSTOMS_REPAIR_DUE": ("customs_penalty", "customs_tax_bill"),
            "SAMR_ABNORMAL_ESCALATION_DUE": ("abnormal_list",),
        }
    )
    assert {t for tables in declared.values() for t in tables} <= set(contracts)
