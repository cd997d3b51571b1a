"""The freshness policy file: every contract table covered, defaults, clear refusals."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml

from credit_engine.config import Settings
from credit_engine.exceptions import ConfigurationError
from credit_engine.freshness import (
    POLICY_FILE,
    Cadence,
    FreshnessPolicy,
    department_of,
    load_freshness_policy,
)
from credit_engine.vocabulary import Department

SETTINGS = Settings()
FILE = SETTINGS.definitions_dir / POLICY_FILE


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(FILE.read_text(encoding="utf-8"))


def refused(raw: dict, contracts, *fragments: str) -> str:
    with pytest.raises(ConfigurationError, match="Invalid freshness policy") as info:
        FreshnessPolicy.from_mapping(raw, contracts, path=Path("freshness.yaml"))
    message = str(info.value)
    assert "freshness.yaml" in message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_the_shipped_policy_covers_every_contract_table(contracts):
    policy = load_freshness_policy(SETTINGS.definitions_dir, contracts)
    assert set(policy.sources) == set(contracts)
    for name, rule in policy.sources.items():
        assert rule.department is department_of(contracts[name])
        assert rule.allowed_lag_days >= rule.cadence.max_gap_days
        assert rule.note.strip()
    # The examples of the issue: declarations daily, tax filings monthly.
    assert policy["customs_declaration"].cadence is Cadence.DAILY
    assert policy["tax_filing"].cadence is Cadence.MONTHLY
    assert policy["tax_credit_rating"].cadence is Cadence.YEARLY
    # Department defaults apply where a table gives no numbers.
    assert policy["vat_invoice"].allowed_lag_days == 3
    assert policy["abnormal_list"].cadence is Cadence.WEEKLY
    # Conventions are marked as such (none of these numbers is law).
    assert all(rule.convention for rule in policy.sources.values())


def test_contracts_name_their_department():
    assert department_of(_contract("customs_tax_bill")) is Department.CUSTOMS
    assert department_of(_contract("safe_classification")) is Department.SAFE
    assert department_of(_contract("abnormal_list")) is Department.SAMR
    assert department_of(_contract("vat_invoice")) is Department.TAX


def _contract(name):
    from credit_engine.data import load_contracts

    return load_contracts(SETTINGS.sources_dir)[name]


def test_a_table_without_an_entry_is_refused(raw, contracts):
    broken = copy.deepcopy(raw)
    del broken["tables"]["customs_tax_bill"]
    refused(broken, contracts, "['customs_tax_bill'] have contracts but no entry")


def test_an_unknown_table_is_refused(raw, contracts):
    broken = copy.deepcopy(raw)
    broken["tables"]["customs_bills"] = {"note": "typo"}
    refused(broken, contracts, "['customs_bills'] have no record contract")


def test_a_lag_shorter_than_the_cadence_is_refused(raw, contracts):
    broken = copy.deepcopy(raw)
    broken["tables"]["tax_filing"]["allowed_lag_days"] = 20
    refused(
        broken,
        contracts,
        "tables.tax_filing: allowed_lag_days 20 is shorter than the monthly",
        "31 days",
    )


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (("tables", "vat_invoice", "allowed_lag_days", "3"), "tables.vat_invoice"),
        (("tables", "vat_invoice", "cadence", "hourly"), "tables.vat_invoice.cadence"),
        (("tables", "vat_invoice", "note", ""), "tables.vat_invoice.note"),
        (("tables", "vat_invoice", "owner", "x"), "Extra inputs are not permitted"),
        (("departments", "CUSTOMS", "convention", "yes"), "departments.CUSTOMS"),
    ],
)
def test_malformed_entries_are_refused_by_field(raw, contracts, change, fragment):
    broken = copy.deepcopy(raw)
    *path, key, value = change
    node = broken
    for part in path:
        node = node[part]
    node[key] = value
    refused(broken, contracts, fragment)


def test_a_table_needs_numbers_when_its_department_has_no_default(raw, contracts):
    broken = copy.deepcopy(raw)
    del broken["departments"]["SAFE"]
    refused(broken, contracts, "tables.fx_transaction: no department default for SAFE")


def test_a_missing_or_unreadable_file_says_where(tmp_path, contracts):
    with pytest.raises(ConfigurationError, match="Freshness policy missing"):
        load_freshness_policy(tmp_path, contracts)
    (tmp_path / "features").mkdir()
    (tmp_path / POLICY_FILE).write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must be a YAML mapping"):
        load_freshness_policy(tmp_path, contracts)


def test_an_unknown_table_name_asked_of_the_policy_is_named(contracts):
    policy = load_freshness_policy(SETTINGS.definitions_dir, contracts)
    with pytest.raises(ConfigurationError, match="no table 'nope'"):
        policy["nope"]


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        (Cadence.DAILY, dt.date(2026, 9, 30), dt.date(2026, 10, 1)),
        (Cadence.WEEKLY, dt.date(2026, 9, 30), dt.date(2026, 10, 7)),
        (Cadence.MONTHLY, dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
        (Cadence.QUARTERLY, dt.date(2026, 11, 30), dt.date(2027, 2, 28)),
        (Cadence.YEARLY, dt.date(2024, 2, 29), dt.date(2025, 2, 28)),
    ],
)
def test_the_next_delivery_is_one_cadence_later(cadence, day, expected):
    assert cadence.next_after(day) == expected
    assert (expected - day).days <= cadence.max_gap_days


@pytest.mark.parametrize(
    ("table", "carrier", "fragment"),
    [
        ("customs_penalty", "vat_invoice", "belongs to TAX, not CUSTOMS"),
        ("customs_penalty", "customs_registration", "is itself delivered with"),
        ("customs_penalty", "customs_bills", "is not a table of the policy"),
    ],
)
def test_a_quiet_table_is_carried_by_an_uncarried_table_of_its_department(
    raw, contracts, table, carrier, fragment
):
    broken = copy.deepcopy(raw)
    broken["tables"][table]["delivered_with"] = carrier
    refused(broken, contracts, f"tables.{table}: delivered_with {carrier!r}", fragment)


def test_the_shipped_carriers_are_dense_tables_judged_on_their_own(contracts):
    policy = load_freshness_policy(SETTINGS.definitions_dir, contracts)
    carried = {
        n: r.delivered_with for n, r in policy.sources.items() if r.delivered_with
    }
    assert carried["serious_violation_list"] == "samr_change"
    assert carried["customs_penalty"] == "customs_declaration"
    # The tables whose silence the rules read about payments are judged on
    # their own records (a stopped bill feed must be seen), or carried by one.
    assert "customs_tax_bill" not in carried
    assert all(policy[c].delivered_with is None for c in carried.values())
