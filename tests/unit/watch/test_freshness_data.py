"""The monitoring report's data section comes from the lake's freshness."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.exceptions import DataContractError
from credit_engine.monitoring import build_report, data_light
from credit_engine.watch import (
    FRESHNESS_UNKNOWN,
    findings,
    lake_freshness_data,
    unknown_freshness,
)
from tests.unit.monitoring.synthetic import thresholds

AS_OF = dt.date(2026, 12, 4)


def test_a_lake_that_delivered_nothing_turns_the_data_section_red(tmp_path):
    home = Settings(home=tmp_path)
    data = lake_freshness_data(home, AS_OF)
    assert set(data) == set(load_contracts(home.sources_dir))
    bills = data["customs_tax_bill"]
    assert bills["status"] == "red"
    assert (bills["freshness"], bills["department"]) == ("stale", "CUSTOMS")
    assert (bills["watermark"], bills["allowed_lag_days"]) == (None, 3)
    report = build_report(AS_OF, {}, thresholds=thresholds(), data=data)
    assert report.status == "red"
    found = findings(report)
    assert found[0].light == "red"
    assert {f.part for f in found if f.subject == "data"} >= {"customs_tax_bill"}


def test_without_a_provider_the_data_is_unknown_and_moves_nothing():
    assert unknown_freshness(Settings(), AS_OF) == {}
    report = build_report(AS_OF, {}, thresholds=thresholds(), data={})
    assert report.status is None or report.status != "red"
    assert "unknown" in FRESHNESS_UNKNOWN


def test_an_optional_source_never_delivered_reads_not_required_and_colours_nothing(
    tmp_path,
):
    home = Settings(home=tmp_path)
    data = lake_freshness_data(home, AS_OF)
    court = data["court_judgment"]
    assert court["required"] is False
    assert (court["status"], court["freshness"]) == ("n/a", "not_delivered")
    assert court["detail"] == "not delivered, not required"
    # Only the optional tables that never delivered: the report is green, and
    # nothing about them is a finding.
    optional = {t: e for t, e in data.items() if not e["required"]}
    assert {e["status"] for e in optional.values()} == {"n/a"}
    fresh = {"customs_declaration": {"status": "green"}}
    report = build_report(AS_OF, {}, thresholds=thresholds(), data=optional | fresh)
    assert report.status == "green"
    assert findings(report) == []
    # A required table never delivered stays red beside them.
    report = build_report(AS_OF, {}, thresholds=thresholds(), data=data)
    assert report.status == "red"
    assert "court_judgment" not in {f.part for f in findings(report)}


def test_a_data_entry_needs_a_light_or_not_delivered():
    with pytest.raises(DataContractError, match="'n/a'"):
        build_report(AS_OF, {}, thresholds=thresholds(), data={"t": {"status": "grey"}})
    assert data_light({"t": {"status": "n/a"}}) is None
    assert data_light({"t": {"status": "n/a"}, "u": {"status": "amber"}}) == "amber"
