"""Known enterprises (registration or any record) and unknown fields in features."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.features import (
    FrameSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    source_record_counts,
)
from credit_engine.uscc import check_character

AS_OF = dt.date(2025, 7, 31)
UTC = dt.UTC


def _uscc(n: int) -> str:
    body = f"91350203MA{n:07d}"
    return body + check_character(body)


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


def _reports(**extra) -> pd.DataFrame:
    rows = {
        "uscc": [_uscc(1), _uscc(1), _uscc(2)],
        "source_record_id": ["a", "b", "c"],
        "event_ts": pd.to_datetime(
            ["2024-05-01", "2025-05-01", "2025-05-01"], utc=True
        ),
        "report_year": [2023, 2024, 2024],
        "employees": [10, 12, 5],
        "social_insurance_count": [8, 9, 5],
        "revenue_cny": [1e6, None, 2e5],
        "ingested_at": pd.to_datetime(
            ["2024-05-02", "2025-05-02", "2025-05-02"], utc=True
        ),
    }
    return pd.DataFrame({**rows, **extra})


def _registration() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uscc": [_uscc(3)],
            "source_record_id": ["r"],
            "name": ["x"],
            "established_date": [dt.date(2010, 1, 1)],
            "reg_capital_cny": [1e6],
            "industry_code": ["F5191"],
            "district_code": ["350203"],
            "status": ["IN_BUSINESS"],
            "effective_from": pd.to_datetime(["2010-01-01"], utc=True),
            "effective_to": pd.to_datetime([None], utc=True),
            "ingested_at": pd.to_datetime(["2024-01-01"], utc=True),
        }
    )


def test_enterprises_become_known_from_registration_or_any_record(defs):
    events = FrameSources({"annual_report": _reports()}, defs.contracts)
    assert enterprise_spine(events, defs, [AS_OF]).empty
    anything = enterprise_spine(events, defs, [AS_OF], known_from="any_record")
    assert anything["uscc"].tolist() == [_uscc(1), _uscc(2)]
    assert anything.attrs["known_from"] == "any_record"
    auto = enterprise_spine(events, defs, [AS_OF], known_from="auto")
    assert auto.equals(anything)
    assert auto.attrs["known_from"] == "any_record"
    # Point in time: before the first report was ingested nobody is known.
    early = enterprise_spine(
        events, defs, [dt.date(2024, 5, 1)], known_from="any_record"
    )
    assert early.empty
    both = FrameSources(
        {"annual_report": _reports(), "samr_registration": _registration()},
        defs.contracts,
    )
    registered = enterprise_spine(both, defs, [AS_OF], known_from="auto")
    assert registered["uscc"].tolist() == [_uscc(3)]
    assert registered.attrs["known_from"] == "registration"
    with pytest.raises(ValueError, match="known_from must be one of"):
        enterprise_spine(both, defs, [AS_OF], known_from="everyone")


def test_source_counts_name_the_sources_that_give_nothing(defs):
    sources = FrameSources({"annual_report": _reports()}, defs.contracts)
    counts = source_record_counts(sources, defs, defs.resolve("extracts_v1"), AS_OF)
    assert counts["annual_report"] == 3
    assert counts["tax_filing"] == 0
    assert counts["court_judgment"] == 0


def _features(defs, reports: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    sources = FrameSources({"annual_report": reports}, defs.contracts)
    spine = pd.DataFrame({"uscc": [_uscc(1), _uscc(2), _uscc(9)], "as_of": [AS_OF] * 3})
    resolved = defs.resolve_features(names)
    return build_feature_frame(spine, resolved, definitions=defs, sources=sources)


def test_fields_the_extract_lacks_are_unknown_never_zero(defs):
    names = [
        "annual_report_financials:loss_years_3y",
        "annual_report_financials:debt_ratio_last",
        "annual_report_financials:published_late_count",
        "annual_reports:employees_last",
    ]
    # The simulator's layout: no financial figures at all.
    bare = _features(defs, _reports(), names).set_index("uscc")
    assert bare.loc[_uscc(1), "annual_report_financials__loss_years_3y"] != 0
    assert pd.isna(bare.loc[_uscc(1), "annual_report_financials__loss_years_3y"])
    assert pd.isna(bare.loc[_uscc(1), "annual_report_financials__published_late_count"])
    assert pd.isna(bare.loc[_uscc(1), "annual_report_financials__debt_ratio_last"])
    assert bare.loc[_uscc(1), "annual_reports__employees_last"] == 12
    # With the figures: counted, 0 where there is none, and still null where the
    # enterprise has no report at all.
    full = _reports(
        net_profit_cny=[-5.0, 3.0, None],
        total_assets_cny=[100.0, 200.0, None],
        total_liabilities_cny=[50.0, 150.0, None],
        publication_status=["PUBLISHED", "PUBLISHED", None],
    )
    given = _features(defs, full, names).set_index("uscc")
    assert given.loc[_uscc(1), "annual_report_financials__loss_years_3y"] == 1
    assert given.loc[_uscc(1), "annual_report_financials__debt_ratio_last"] == 0.75
    assert given.loc[_uscc(1), "annual_report_financials__published_late_count"] == 0
    # Enterprise 2 filed a report without the figures: unknown, not 0.
    assert pd.isna(given.loc[_uscc(2), "annual_report_financials__loss_years_3y"])
    assert pd.isna(given.loc[_uscc(9), "annual_report_financials__loss_years_3y"])


def test_every_new_view_compiles_for_spark(defs):
    from credit_engine.features import compile_feature_sql, to_spark

    sql = compile_feature_sql(defs.resolve("extracts_v1"), defs.contracts)
    assert "court_judgment" in to_spark(sql)
