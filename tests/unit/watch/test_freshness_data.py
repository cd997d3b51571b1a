"""The monitoring report's data section comes from the lake's freshness."""

from __future__ import annotations

import datetime as dt

from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.monitoring import build_report
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
