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


def _ts(*days: str) -> pd.Series:
    return pd.to_datetime(list(days), utc=True)


def _optional_sources() -> dict[str, pd.DataFrame]:
    """Court cases, IP rights and news of enterprise 1; some known late."""
    court = pd.DataFrame(
        {
            "uscc": [_uscc(1)] * 4,
            "source_record_id": [
                "(2025)闽0203民初1号",
                "(2025)闽0203执1号",
                "(2025)闽0203执1号",
                "(2025)闽0203民初9号",
            ],  # fmt: skip
            "event_ts": _ts("2025-03-01", "2025-04-01", "2025-04-01", "2025-07-15"),
            "case_type": ["CIVIL", "ENFORCEMENT", "ENFORCEMENT", "CIVIL"],
            "role": ["DEFENDANT", "ENFORCED", "ENFORCED", "DEFENDANT"],
            "amount_cny": [50_000.0, 80_000.0, 80_000.0, 1e6],
            "outcome": ["LOST", "PENDING", "CLOSED", "LOST"],
            # The enforcement case closes after the rating date (a later
            # version); the last judgment is published after it.
            "ingested_at": _ts("2025-03-05", "2025-04-02", "2025-09-01", "2025-08-10"),
        }
    )
    ip = pd.DataFrame(
        {
            "uscc": [_uscc(1)] * 2,
            "source_record_id": ["TM1", "ZL1"],
            "event_ts": _ts("2020-01-01", "2025-06-01"),
            "right_type": ["TRADEMARK", "INVENTION_PATENT"],
            "status": ["GRANTED", "GRANTED"],
            "expiry_date": [dt.date(2030, 1, 1), dt.date(2045, 6, 1)],
            "ingested_at": _ts("2021-01-01", "2025-08-01"),  # patent known late
        }
    )
    news = pd.DataFrame(
        {
            "uscc": [_uscc(1)] * 3,
            "source_record_id": ["n1", "n2", "n3"],
            "event_ts": _ts("2025-06-01", "2025-07-01", "2025-07-30"),
            "sentiment": ["NEGATIVE", "NEUTRAL", "NEGATIVE"],
            "sentiment_score": [-0.8, 0.0, None],
            "ingested_at": _ts("2025-06-01", "2025-07-01", "2025-08-02"),
        }
    )
    return {"court_judgment": court, "ip_right": ip, "news_item": news}


def test_optional_sources_are_unknown_when_absent_and_read_at_the_date(defs):
    names = [
        "court_cases:present",
        "court_cases:defendant_365d",
        "court_cases:enforced_open",
        "court_cases:enforced_amount_open",
        "ip_rights:present",
        "ip_rights:trademarks_in_force",
        "ip_rights:patents_in_force",
        "news_sentiment:present",
        "news_sentiment:negative_365d",
        "news_sentiment:mean_score_365d",
    ]
    columns = [n.replace(":", "__") for n in names]
    spine = pd.DataFrame({"uscc": [_uscc(1), _uscc(2)], "as_of": [AS_OF] * 2})
    resolved = defs.resolve_features(names)
    # A zone without the optional sources: every such feature, `present` too, is
    # unknown, not 0.
    none = FrameSources({"annual_report": _reports()}, defs.contracts)
    absent = build_feature_frame(spine, resolved, definitions=defs, sources=none)
    assert absent[columns].isna().all().all()
    # With them: read at the rating date (records known later are left out,
    # the version known then is used); enterprise 2 has no record: unknown.
    optional = {}
    for name, frame in _optional_sources().items():
        # The fields an extract did not give: empty columns.
        empty = pd.Series([None] * len(frame), dtype=object)
        names = [c.name for c in defs.contracts[name].columns]
        optional[name] = frame.assign(**{c: empty for c in names if c not in frame})[
            names
        ]
    given = FrameSources({"annual_report": _reports(), **optional}, defs.contracts)
    frame = build_feature_frame(spine, resolved, definitions=defs, sources=given)
    one = frame.set_index("uscc").loc[_uscc(1)]
    assert one["court_cases__present"] == 1
    assert one["court_cases__defendant_365d"] == 1  # the July case is known 08-10
    assert one["court_cases__enforced_open"] == 1  # closed only after the date
    assert one["court_cases__enforced_amount_open"] == 80_000.0
    assert one["ip_rights__trademarks_in_force"] == 1
    assert one["ip_rights__patents_in_force"] == 0  # the patent is known 08-01
    assert one["news_sentiment__negative_365d"] == 1
    assert one["news_sentiment__mean_score_365d"] == pytest.approx(-0.4)
    two = frame.set_index("uscc").loc[_uscc(2)]
    # Enterprise 2 is in none of the sources the zone has: not present (0),
    # its other features unknown.
    assert two["court_cases__present"] == 0
    assert two["news_sentiment__present"] == 0
    assert two[[c for c in columns if not c.endswith("__present")]].isna().all()
    # Before the zone had any record of a source, `present` is unknown again.
    early = pd.DataFrame({"uscc": [_uscc(1)], "as_of": [dt.date(2020, 6, 30)]})
    before = build_feature_frame(early, resolved, definitions=defs, sources=given)
    assert pd.isna(before.loc[0, "court_cases__present"])
    assert pd.isna(before.loc[0, "ip_rights__present"])  # trademark known 2021
    between = early.assign(as_of=[dt.date(2025, 3, 31)])
    mid = build_feature_frame(between, resolved, definitions=defs, sources=given)
    assert mid.loc[0, "ip_rights__present"] == 1
    assert pd.isna(mid.loc[0, "news_sentiment__present"])  # first item 06-01
