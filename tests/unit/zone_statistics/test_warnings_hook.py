"""Early warnings through the documented hook; the store adapter when a table exists."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Column, Date, MetaData, String, Table, create_engine

from credit_engine.exceptions import ReportError
from credit_engine.store import UTCDateTime
from credit_engine.zone_statistics import (
    WARNING_COLUMNS,
    build_zone_report,
    store_warning_source,
)
from tests.unit.zone_statistics.conftest import END, KNOWN, START

D = dt.date


def warnings_frame() -> pd.DataFrame:
    return pd.DataFrame(
        [
            ("X", "S1", D(2026, 1, 31), D(2026, 2, 10)),
            ("X", "S2", D(2026, 1, 31), None),
            ("Y", "S1", D(2026, 2, 28), D(2026, 2, 28)),
            ("Z", "S1", D(2026, 3, 31), None),
        ],
        columns=list(WARNING_COLUMNS),
    )


def test_warnings_raised_closed_and_open_per_period(mini_zone, reference):
    seen = {}

    def source(start, end, known_before):
        seen.update(start=start, end=end, known_before=known_before)
        return warnings_frame()

    report = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference,
        warnings=source,
    )  # fmt: skip
    assert seen == {
        "start": START,
        "end": END,
        "known_before": dt.datetime(2026, 7, 16, tzinfo=dt.UTC),
    }
    frame = report.table("warnings").frame
    got = [tuple(r) for r in frame.iloc[:4].itertuples(index=False)]
    assert got == [
        ("2026-01", 2, 1, 0, 2),
        ("2026-02", 1, 1, 2, 1),
        ("2026-03", 1, 1, 0, 2),
        ("2026-04", 0, 0, 0, 2),
    ]
    by_signal = report.table("warnings_by_signal").frame
    feb = by_signal.query("period == '2026-02'")
    assert list(zip(feb.signal_code, feb.raised, feb.closed, strict=True)) == [
        ("S1", 1, 2)
    ]


def test_a_source_with_missing_columns_is_refused(mini_zone, reference):
    def bad(start, end, known_before):
        return pd.DataFrame({"uscc": ["X"]})

    with pytest.raises(ReportError, match=r"returned no columns \['signal_code'"):
        build_zone_report(
            mini_zone, start=START, end=END, knowledge_date=KNOWN, warnings=bad,
            reference=reference,
        )  # fmt: skip


def test_the_sections_say_when_there_is_nothing_to_show(mini_zone, reference):
    report = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference
    )
    assert not report.sections["warnings"].available
    assert "No early-warning data" in report.sections["warnings"].note
    assert not report.sections["freshness"].available


def test_a_freshness_hook_becomes_a_table(mini_zone, reference):
    def freshness(knowledge_date):
        return pd.DataFrame({"table": ["customs_declaration"], "lag_days": [1.5]})

    report = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference,
        freshness=freshness,
    )  # fmt: skip
    table = report.table("freshness")
    assert table.dimensions == ("table",)
    assert table.frame["lag_days"].tolist() == [1.5]


def test_the_store_adapter_reads_the_engines_warnings(tmp_path):
    from credit_engine.store import OperationalStore
    from credit_engine.store import metadata as store_metadata

    assert "warnings" in store_metadata.tables  # revision 0003_warnings
    assert store_warning_source(create_engine("sqlite://"), MetaData()) is None
    utc = dt.UTC
    with OperationalStore(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.create_schema()
        rows = [
            {"uscc": u, "signal": code, "priority": 3.0, "evidence": {"values": {}}}
            for u, code in (("X", "EW-04"), ("Y", "EW-08"), ("W", "EW-09"))
        ]
        with store.unit_of_work("record") as uow:
            ids = uow.warnings.record_warnings(
                D(2026, 1, 31),
                rows[:2],
                signals_version=1,
                recorded_at=dt.datetime(2026, 2, 1, tzinfo=utc),
            ).warning_ids
            uow.warnings.record_warnings(  # stored after the cutoff: not known
                D(2026, 3, 31),
                rows[2:],
                signals_version=1,
                recorded_at=dt.datetime(2026, 8, 1, tzinfo=utc),
            )
            uow.warnings.close(
                ids[0], "sup.li", "explained", at=dt.datetime(2026, 2, 3, 8, tzinfo=utc)
            )
            uow.warnings.close(
                ids[1], "sup.li", "fined", at=dt.datetime(2026, 8, 1, tzinfo=utc)
            )
        source = store_warning_source(store.engine)
        assert source is not None
        frame = source(START, END, dt.datetime(2026, 7, 16, tzinfo=utc))
    assert list(frame.columns) == list(WARNING_COLUMNS)
    # W was stored after the cutoff; Y's closing came after it.
    assert frame["uscc"].tolist() == ["X", "Y"]
    assert frame["signal_code"].tolist() == ["EW-04", "EW-08"]
    assert frame["raised_on"].tolist() == [D(2026, 1, 31)] * 2
    assert frame["closed_on"].tolist() == [D(2026, 2, 3), None]


def test_the_store_adapter_reads_a_minimal_warnings_table(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    metadata = MetaData()
    table = Table(
        "warnings", metadata,
        Column("uscc", String), Column("signal_code", String),
        Column("first_raised_as_of", Date), Column("status", String),
        Column("status_changed_at", UTCDateTime),
    )  # fmt: skip
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"uscc": "X", "signal_code": "S1", "first_raised_as_of": D(2026, 1, 31),
                 "status": "CLOSED",
                 "status_changed_at": dt.datetime(2026, 2, 3, 8, tzinfo=dt.UTC)},
                {"uscc": "Y", "signal_code": "S2", "first_raised_as_of": D(2026, 2, 28),
                 "status": "CLOSED",
                 "status_changed_at": dt.datetime(2026, 8, 1, tzinfo=dt.UTC)},
                {"uscc": "Z", "signal_code": "S1", "first_raised_as_of": D(2026, 9, 30),
                 "status": "OPEN", "status_changed_at": None},
            ],
        )  # fmt: skip
    source = store_warning_source(engine, metadata)
    assert source is not None
    frame = source(START, END, dt.datetime(2026, 7, 16, tzinfo=dt.UTC))
    assert list(frame.columns) == list(WARNING_COLUMNS)
    # Z was raised after the report; Y's closing came after the cutoff.
    assert frame["uscc"].tolist() == ["X", "Y"]
    assert frame["closed_on"].tolist() == [D(2026, 2, 3), None]
