"""Periods at month and quarter boundaries; districts from the USCC; reference files."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from credit_engine.config import Settings
from credit_engine.exceptions import ReportError
from credit_engine.zone_statistics import (
    district_of,
    load_reference,
    period_of,
    periods_between,
)
from credit_engine.zone_statistics._periods import bucket_sql
from credit_engine.zone_statistics._reference import district_sql


@pytest.mark.parametrize(
    ("day", "kind", "label"),
    [
        (dt.date(2026, 1, 1), "month", "2026-01"),
        (dt.date(2026, 1, 31), "month", "2026-01"),
        (dt.date(2026, 3, 31), "quarter", "2026-Q1"),
        (dt.date(2026, 4, 1), "quarter", "2026-Q2"),
        (dt.date(2026, 12, 31), "quarter", "2026-Q4"),
    ],
)
def test_period_labels_at_boundaries(day, kind, label):
    assert period_of(day, kind) == label


def test_partial_periods_are_clipped_to_the_range_and_flagged():
    periods = periods_between(dt.date(2025, 11, 15), dt.date(2026, 2, 10), "quarter")
    assert [(p.label, p.start, p.end, p.complete) for p in periods] == [
        ("2025-Q4", dt.date(2025, 11, 15), dt.date(2025, 12, 31), False),
        ("2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 2, 10), False),
    ]
    assert periods[0].bucket == dt.date(2025, 10, 1)


def test_stocks_after_the_knowledge_date_are_read_at_it():
    periods = periods_between(
        dt.date(2026, 1, 1), dt.date(2026, 4, 30), knowledge_date=dt.date(2026, 3, 10)
    )
    assert [p.stock_date for p in periods] == [
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 10),
    ]
    assert [p.complete for p in periods] == [True, True, False, False]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            (dt.date(2026, 2, 1), dt.date(2026, 1, 1), "month"),
            "ends .* before it starts",
        ),
        ((dt.date(2026, 1, 1), dt.date(2026, 2, 1), "week"), "Unknown period 'week'"),
    ],
)
def test_bad_ranges_and_periods_are_refused(args, message):
    with pytest.raises(ReportError, match=message):
        periods_between(*args)


def test_sql_buckets_agree_with_python_labels_in_utc():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for moment, month, quarter in (
        ("2026-03-31 23:59:59+00", dt.date(2026, 3, 1), dt.date(2026, 1, 1)),
        ("2026-04-01 00:00:00+00", dt.date(2026, 4, 1), dt.date(2026, 4, 1)),
    ):
        expr = f"TIMESTAMPTZ '{moment}'"
        got = con.execute(
            f"SELECT {bucket_sql(expr, 'month')}, {bucket_sql(expr, 'quarter')}"
        ).fetchone()
        assert got == (month, quarter)


def test_district_is_characters_3_to_8_of_the_uscc_in_python_and_sql():
    code = "91350213MA2YH1234X"
    assert district_of(code) == "350213"
    con = duckdb.connect()
    assert con.execute(f"SELECT {district_sql(repr(code))}").fetchone() == ("350213",)


def test_the_shipped_reference_names_the_xiamen_districts_and_modes():
    reference = load_reference(Settings().definitions_dir)
    names = {code: name.zh for code, name in reference.districts.items()}
    assert {
        "350203": "思明区", "350205": "海沧区", "350206": "湖里区",
        "350211": "集美区", "350212": "同安区", "350213": "翔安区",
    }.items() <= names.items()  # fmt: skip
    assert reference.district_name("350206") == "湖里区 Huli"
    assert reference.district_name("440305") == "440305"
    assert reference.mode_labels == (
        "9610", "9710", "9810", "1210", "1239", "0110", "other",
    )  # fmt: skip


def test_a_malformed_reference_file_is_reported(tmp_path):
    folder = tmp_path / "features" / "reference"
    folder.mkdir(parents=True)
    (folder / "districts.yaml").write_text(
        'version: 1\nsource: test\ndistricts:\n  "3502": {zh: 厦门, en: Xiamen}\n',
        encoding="utf-8",
    )
    (folder / "trade_modes.yaml").write_text(
        'version: 1\ntrade_modes:\n  "9610": {zh: a, en: b}\n', encoding="utf-8"
    )
    with pytest.raises(ReportError, match=r"Reference codes \['3502'\]"):
        load_reference(tmp_path)
    (folder / "trade_modes.yaml").unlink()
    with pytest.raises(ReportError, match="Cannot read the reference file"):
        load_reference(tmp_path)
