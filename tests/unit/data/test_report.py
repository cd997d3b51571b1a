from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from credit_engine.data import IngestReport, TableReport, write_ingest_html

T0 = dt.datetime(2024, 5, 1, 8, tzinfo=dt.UTC)


def make_report(tmp_path, quarantined=2):
    table = TableReport(
        name="customs_declaration",
        department="customs",
        source_files=["customs_declaration.csv"],
        rows_in=10,
        loaded=8 - quarantined,
        quarantined=quarantined,
        duplicates=2,
        reasons={"unknown_code": quarantined, "bad_format": 1} if quarantined else {},
        samples={
            "unknown_code": [
                {
                    "_source_file": "customs_declaration.csv",
                    "_row_number": "3",
                    "_reason_text": "trade_mode '<b>9999</b>' is not one of 0110",
                    "_raw_values": "",
                }
            ]
        }
        if quarantined
        else {},
    )
    return IngestReport(
        batch_id="0123456789abcdef",
        started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=3),
        input_dir="/data/in",
        tables={"customs_declaration": table},
        commit_seq=1,
        html_report=str(tmp_path / "r" / "ingest.html"),
        data_docs=str(tmp_path / "r" / "data_docs" / "index.html"),
        json_report=str(tmp_path / "r" / "ingest.json"),
    )


def test_rows_must_balance():
    with pytest.raises(ValidationError, match="rows_in=10 but loaded=5 .* it's a bug"):
        TableReport(
            name="t",
            department="tax",
            rows_in=10,
            loaded=5,
            quarantined=1,
            duplicates=1,
        )


def test_json_dict_shape(tmp_path):
    out = make_report(tmp_path).to_json_dict()
    assert list(out) == [
        "batch_id",
        "started_at",
        "finished_at",
        "input_dir",
        "html_report",
        "data_docs",
        "tables",
    ]
    assert out["tables"] == {
        "customs_declaration": {
            "rows_in": 10,
            "loaded": 6,
            "quarantined": 2,
            "duplicates": 2,
            "reasons": {"bad_format": 1, "unknown_code": 2},
        }
    }
    assert out["started_at"] == "2024-05-01T08:00:00+00:00"


def test_html_report_is_self_contained(tmp_path):
    report = make_report(tmp_path)
    path = write_ingest_html(report, tmp_path / "r" / "ingest.html")
    html = path.read_text(encoding="utf-8")
    assert "customs_declaration" in html
    assert "<svg" in html
    assert "A code column holds a value outside the allowed list." in html
    assert "&lt;b&gt;9999&lt;/b&gt;" in html  # sample text is escaped
    assert 'href="data_docs/index.html"' in html
    assert "<script" not in html
    assert "http" not in html.split("<svg")[0]
    assert "Committed as commit #1" in html


def test_html_report_without_quarantine(tmp_path):
    report = make_report(tmp_path, quarantined=0)
    html = write_ingest_html(report, tmp_path / "x" / "ingest.html").read_text()
    assert "No row was quarantined." in html
    assert "<svg" not in html
    assert 'href="../r/data_docs/index.html"' in html
