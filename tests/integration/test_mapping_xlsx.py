"""Excel workbooks as mapped sources: the same rows as a CSV give the same lake."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from credit_engine.config import Settings
from credit_engine.data import dry_run_batch, ingest_batch
from credit_engine.exceptions import DataContractError
from tests.integration.test_mapping_ingest import (
    REPORT_ROWS,
    REPORTS_HEADER,
    _lake,
    _write_batch,
)

pytestmark = pytest.mark.integration

NUMERIC = {
    "注册资本(万元)",
    "从业人数",
    "资产总额(万元)",
    "负债总额(万元)",
    "净利润(万元)",
}


def _typed(column: str, text: str) -> object:
    """The cell as a department's Excel would hold it: numbers typed as numbers."""
    if column in NUMERIC and text:
        try:
            number = float(text)
        except ValueError:
            return text  # "一千": text in a numeric column, as people type it
        return int(number) if number.is_integer() else number
    if column == "年报年度":
        return int(text)
    return text or None


def _workbook(
    path: Path, rows: list[str], *, extra: list[object] | None = None
) -> None:
    header = REPORTS_HEADER.strip().split(",")
    book = Workbook()
    cover = book.active
    cover.title = "说明"
    cover.append(["本表由市场监管局导出"])
    sheet = book.create_sheet("年报")
    sheet.append(["2024年7月15日导出（单位：万元）"])  # a title row above the header
    sheet.append(header)
    for line in rows:
        cells = line.split(",")
        sheet.append([_typed(c, v) for c, v in zip(header, cells, strict=True)])
        sheet.append([None] * len(header))  # blank rows are skipped, as in a CSV
    if extra is not None:
        sheet.append(extra)
    book.save(path)


def _xlsx_batch(root: Path, rows: list[str] = REPORT_ROWS, **kw) -> tuple[Path, Path]:
    data, mapping = _write_batch(root, rows)
    folder = data / "市场监管"
    (folder / "年报_20240715.csv").unlink()
    _workbook(folder / "年报_20240715.xlsx", rows, **kw)
    text = mapping.read_text(encoding="utf-8")
    text = text.replace('files: "市场监管/年报_*.csv"', 'files: "市场监管/年报_*.xlsx"')
    text = text.replace("    encoding: gbk\n", "    sheet: 年报\n    skip_rows: 1\n", 1)
    text = text.replace("\\\\.csv$", "\\\\.xlsx$")
    mapping.write_text(text, encoding="utf-8")
    return data, mapping


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    drop = [c for c in frame.columns if c.startswith("_") or c == "source_file"]
    out = frame.drop(columns=drop)
    return out.sort_values(list(out.columns)[:3]).reset_index(drop=True)


def test_a_workbook_gives_the_lake_rows_of_the_same_csv(tmp_path):
    csv_data, csv_mapping = _write_batch(tmp_path / "csv")
    csv_settings = Settings(home=tmp_path / "csv" / "home")
    csv_report = ingest_batch(csv_data, csv_settings, mapping=csv_mapping)
    data, mapping = _xlsx_batch(tmp_path / "xlsx")
    settings = Settings(home=tmp_path / "xlsx" / "home")
    report = ingest_batch(data, settings, mapping=mapping)

    for table in ("annual_report", "samr_registration"):
        got = _comparable(_lake(settings, table))
        expected = _comparable(_lake(csv_settings, table))
        pd.testing.assert_frame_equal(got, expected)
        assert report.tables[table].loaded == csv_report.tables[table].loaded > 0
        assert report.tables[table].quarantined == csv_report.tables[table].quarantined
    # the same bad cells are quarantined for the same reasons
    reasons = report.tables["annual_report"].reasons
    assert reasons == csv_report.tables["annual_report"].reasons
    got_q = _lake(settings, "annual_report", "quarantine").set_index("_row_number")
    exp_q = _lake(csv_settings, "annual_report", "quarantine")
    expected = exp_q.set_index("_row_number")["_reasons"].map(list).to_dict()
    assert got_q["_reasons"].map(list).to_dict() == expected
    assert set(got_q["_source_file"]) == {"市场监管/年报_20240715.xlsx"}


def test_a_real_excel_date_cell_reads_as_an_iso_date(tmp_path):
    data, mapping = _xlsx_batch(tmp_path, REPORT_ROWS[:1])
    book_path = data / "市场监管" / "年报_20240715.xlsx"
    from openpyxl import load_workbook

    book = load_workbook(book_path)
    sheet = book["年报"]
    header = [c.value for c in sheet[2]]
    column = header.index("报送日期") + 1
    sheet.cell(row=3, column=column, value=dt.datetime(2023, 5, 10))
    book.save(book_path)
    text = mapping.read_text(encoding="utf-8").replace(
        'event_ts: {column: 报送日期, date: "%Y年%m月%d日"}',
        'event_ts: {column: 报送日期, date: "%Y-%m-%d"}',
    )
    mapping.write_text(text, encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    ingest_batch(data, settings, mapping=mapping)
    rows = _lake(settings, "annual_report")
    assert len(rows) == 1
    assert rows["event_ts"].dt.tz_convert("Asia/Shanghai").dt.date.tolist() == [
        dt.date(2023, 5, 10)
    ]


def test_a_missing_sheet_is_named_with_the_sheets_there_are(tmp_path):
    data, mapping = _xlsx_batch(tmp_path)
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("sheet: 年报", "sheet: 年度报告"),
        encoding="utf-8",
    )
    listed = r"no sheet '年度报告'.*\['说明', '年报'\]"
    with pytest.raises(DataContractError, match=listed):
        dry_run_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)


def test_values_right_of_the_header_are_refused_with_the_row(tmp_path):
    width = len(REPORTS_HEADER.split(","))
    data, mapping = _xlsx_batch(
        tmp_path, REPORT_ROWS[:2], extra=["XM001"] + [None] * (width - 1) + ["多出"]
    )
    with pytest.raises(DataContractError, match="right of the header's last column"):
        ingest_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("年报_20240716.xls", b"\xd0\xcf\x11\xe0", "save it as .xlsx"),
        ("年报_20240716.xlsx", b"PK\x03\x04", "cannot open the workbook"),
    ],
)
def test_old_or_broken_workbooks_are_refused_with_a_way_out(
    tmp_path, name, content, message
):
    data, mapping = _xlsx_batch(tmp_path)
    (data / "市场监管" / name).write_bytes(content)
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("年报_*.xlsx", "年报_*.xls*"),
        encoding="utf-8",
    )
    with pytest.raises(DataContractError, match=message):
        dry_run_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)
