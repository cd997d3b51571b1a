"""Ingesting extracts in their own layout through a source mapping, end to end."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.data import (
    Lake,
    QuarantineReason,
    dry_run_batch,
    ingest_batch,
    load_contracts,
    load_mapping,
    prepare_mapped_batch,
    translate_ids,
)
from credit_engine.exceptions import ConfigurationError, DataContractError
from credit_engine.uscc import check_character, pseudo_uscc

pytestmark = pytest.mark.integration

UTC = dt.UTC


def _uscc(n: int) -> str:
    body = f"91350203MA{n:07d}"
    return body + check_character(body)


REPORTS_HEADER = (
    "企业编号,企业名称,成立日期,注册资本(万元),行业代码,区划,登记状态,年报年度,报送日期,"
    "公示状态,从业人数,是否公示,资产总额(万元),负债总额(万元),净利润(万元)\n"
)
REPORT_ROWS = [
    # good rows
    "XM001,厦门甲公司,2015年3月5日,500,F5191,350203,存续,2022,2023年5月10日,已公示,12,是,1234.56,600,-3.5",
    "XM001,厦门甲公司,2015年3月5日,500,F5191,350203,存续,2023,2024年4月2日,已公示,15,是,1300,700.25,12",
    "XM002,厦门乙公司,2019年11月20日,100,F5292,350206,存续,2023,2024年7月9日,逾期公示,,否,,,",
    # one problem each
    "XM003,厦门丙公司,2018年1月1日,50,F5191,350203,存续,2023,2024年6月1日,待定,3,是,10,5,1",
    "XM004,厦门丁公司,2018年1月1日,50,F5191,350203,存续,2023,2024年13月45日,已公示,3,是,10,5,1",
    "XM999,无名公司,2018年1月1日,50,F5191,350203,存续,2023,2024年6月1日,已公示,3,是,10,5,1",
    "XM005,厦门戊公司,2018年1月1日,50,F5191,350203,存续,2023,2024年6月1日,已公示,3,是,一千,5,1",
]

MAPPING = """\
version: 1
name: siming
timezone: Asia/Shanghai
crosswalks:
  firms: {file: crosswalk.csv, id: 企业编号, uscc: 统一社会信用代码, encoding: gbk}
sources:
  - name: reports
    files: "市场监管/年报_*.csv"
    encoding: gbk
    null_values: ["-", "--"]
    targets:
      - table: annual_report
        known_at: {rule: end_of_period_plus, period_end: event_ts, months: 0}
        columns:
          uscc: {column: 企业编号, crosswalk: firms}
          source_record_id: {template: "{企业编号}-{年报年度}"}
          event_ts: {column: 报送日期, date: "%Y年%m月%d日"}
          report_year: 年报年度
          employees: 从业人数
          publication_status:
            column: 公示状态
            values: {已公示: PUBLISHED, 逾期公示: PUBLISHED_LATE}
          financials_published: {column: 是否公示, values: {是: true, 否: false}}
          total_assets_cny: {column: 资产总额(万元), scale: 10000}
          total_liabilities_cny: {column: 负债总额(万元), scale: 10000}
          net_profit_cny: {column: 净利润(万元), scale: 10000}
      - table: samr_registration
        known_at: {rule: file_date, pattern: "_(\\\\d{8})\\\\.csv$", format: "%Y%m%d"}
        columns:
          uscc: {column: 企业编号, crosswalk: firms}
          source_record_id: 企业编号
          name: 企业名称
          established_date: {column: 成立日期, date: "%Y年%m月%d日"}
          reg_capital_cny: {column: 注册资本(万元), scale: 10000}
          industry_code: 行业代码
          district_code: 区划
          status:
            column: 登记状态
            values: {存续: IN_BUSINESS, 吊销: REVOKED, 注销: CANCELLED}
          effective_from: {column: 成立日期, date: "%Y年%m月%d日"}
"""


def _write_batch(root: Path, rows: list[str] = REPORT_ROWS) -> tuple[Path, Path]:
    data = root / "batch"
    (data / "市场监管").mkdir(parents=True)
    text = REPORTS_HEADER + "\n".join(rows) + "\n"
    (data / "市场监管" / "年报_20240715.csv").write_bytes(text.encode("gbk"))
    crosswalk = "企业编号,统一社会信用代码\n" + "".join(
        f"XM{n:03d},{_uscc(n)}\n" for n in range(1, 6)
    )
    mapping = root / "mapping" / "siming.yaml"
    mapping.parent.mkdir()
    mapping.write_text(MAPPING, encoding="utf-8")
    (mapping.parent / "crosswalk.csv").write_bytes(crosswalk.encode("gbk"))
    return data, mapping


def _lake(settings: Settings, table: str, area: str = "lake") -> pd.DataFrame:
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    files = lake.table_files(table) if area == "lake" else lake.quarantine_files(table)
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    root = tmp_path_factory.mktemp("mapped")
    data, mapping = _write_batch(root)
    settings = Settings(home=root / "home")
    report = ingest_batch(data, settings, mapping=mapping)
    return settings, report, data, mapping


def test_good_rows_are_mapped_to_contract_values(mapped):
    settings, report, _, _ = mapped
    lake = _lake(settings, "annual_report").set_index("source_record_id")
    first = lake.loc["XM001-2022"]
    assert first["uscc"] == _uscc(1)
    assert first["report_year"] == 2022
    assert first["employees"] == 12
    assert first["total_assets_cny"] == 12345600.0  # 1234.56 万元, exactly
    assert first["net_profit_cny"] == -35000.0
    assert first["publication_status"] == "PUBLISHED"
    assert bool(first["financials_published"]) is True
    # 2023年5月10日 is a local date: midnight in Shanghai, 16:00 UTC the day before;
    # known at the end of that local day.
    assert first["event_ts"] == pd.Timestamp("2023-05-09 16:00", tz="UTC")
    assert first["ingested_at"] == pd.Timestamp("2023-05-10 15:59:59", tz="UTC")
    second = lake.loc["XM002-2023"]
    assert second["publication_status"] == "PUBLISHED_LATE"
    # Figures withheld: empty, not zero; employees may be empty then.
    assert pd.isna(second["total_assets_cny"])
    assert pd.isna(second["employees"])
    assert bool(second["financials_published"]) is False
    assert report.tables["annual_report"].loaded == 3


def test_rows_the_mapping_cannot_place_are_quarantined_with_their_reason(mapped):
    settings, report, _, _ = mapped
    table = report.tables["annual_report"]
    assert table.rows_in == 7
    assert table.quarantined == 4
    assert table.reasons == {
        "unmapped_value": 1,
        "unparseable_date": 1,
        "unknown_identifier": 1,
        "not_a_number": 1,
        # the knowledge time derives from the unparseable date: it is empty too
        "missing_required": 1,
    }
    q = _lake(settings, "annual_report", "quarantine").set_index("_row_number")
    assert list(q.loc[3, "_reasons"]) == ["unmapped_value:publication_status"]
    assert json.loads(q.loc[3, "_raw_values"]) == {"publication_status": "待定"}
    assert "'待定' is not in the value map" in q.loc[3, "_reason_text"]
    assert list(q.loc[4, "_reasons"]) == [
        "missing_required:ingested_at",
        "unparseable_date:event_ts",
    ]
    assert "2024年13月45日" in q.loc[4, "_raw_values"]
    assert list(q.loc[5, "_reasons"]) == ["unknown_identifier:uscc"]
    assert list(q.loc[6, "_reasons"]) == ["not_a_number:total_assets_cny"]
    assert set(q["_source_file"]) == {"市场监管/年报_20240715.csv"}


def test_one_file_feeds_two_contracts_and_repeats_are_duplicates(mapped):
    settings, report, _, _ = mapped
    reg = report.tables["samr_registration"]
    # XM001 twice (two report years) with the same registration: a duplicate.
    assert (reg.rows_in, reg.loaded, reg.duplicates, reg.quarantined) == (7, 5, 1, 1)
    assert reg.reasons == {"unknown_identifier": 1}
    lake = _lake(settings, "samr_registration").set_index("source_record_id")
    assert lake.loc["XM001", "reg_capital_cny"] == 5_000_000.0
    assert lake.loc["XM001", "effective_from"] == pd.Timestamp(
        "2015-03-04 16:00", tz="UTC"
    )
    # file_date: known at the end of the extract's date, 2024-07-15 in Shanghai
    assert lake.loc["XM001", "ingested_at"] == pd.Timestamp(
        "2024-07-15 15:59:59", tz="UTC"
    )


def test_the_report_says_what_each_source_gave_each_table(mapped):
    _, report, _, mapping = mapped
    payload = report.to_json_dict()["mapping"]
    assert payload["file"] == str(mapping.absolute())
    assert [
        (t["table"], t["rows_read"], t["rows_out"], t["left_out"])
        for t in payload["targets"]
    ] == [
        ("annual_report", 7, 7, 0),
        ("samr_registration", 7, 7, 0),
    ]
    assert report.tables["annual_report"].source_files == ["市场监管/年报_20240715.csv"]
    html = Path(str(report.html_report)).read_text(encoding="utf-8")
    assert "Source mapping" in html
    assert "samr_registration" in html


def test_a_mapped_batch_is_idempotent_and_its_id_covers_the_mapping(mapped, tmp_path):
    settings, report, data, mapping = mapped
    again = ingest_batch(data, settings, mapping=mapping)
    assert again.already_ingested
    assert again.batch_id == report.batch_id
    changed = tmp_path / "siming.yaml"
    changed.write_text(
        mapping.read_text(encoding="utf-8").replace("siming", "siming2"),
        encoding="utf-8",
    )
    (tmp_path / "crosswalk.csv").write_bytes(
        (mapping.parent / "crosswalk.csv").read_bytes()
    )
    dry = dry_run_batch(data, settings, mapping=changed)
    assert dry.batch_id != report.batch_id
    assert dry.dry_run
    # Same rows, already in the lake or the quarantine: duplicates, all of them.
    assert dry.tables["annual_report"].duplicates == 7


def test_a_dry_run_writes_nothing(tmp_path):
    data, mapping = _write_batch(tmp_path)
    settings = Settings(home=tmp_path / "home")
    report = dry_run_batch(data, settings, mapping=mapping, sample_rows=2)
    assert report.dry_run
    assert report.commit_seq is None
    assert report.tables["annual_report"].rows_in == 2
    assert not settings.lake_dir.exists() or not any(
        settings.lake_dir.rglob("*.parquet")
    )
    assert not settings.reports_dir.exists()


WIDE_TAX = """\
version: 1
timezone: Asia/Shanghai
sources:
  - name: wide
    files: "tax_*.csv"
    targets:
      - table: tax_filing
        where: "\\"状态\\" IS DISTINCT FROM '作废'"
        unpivot:
          key: tax_type
          groups:
            增值税: {payable_cny: 增值税, paid_cny: 增值税}
            城建税: {payable_cny: 城建税, paid_cny: 城建税}
            印花税: {payable_cny: 印花税, paid_cny: 印花税}
        known_at: {rule: event_ts_plus_days, days: 3}
        columns:
          uscc: 纳税人识别号
          source_record_id: {template: "{纳税人识别号}-{所属期止}-{_group}"}
          tax_type: {values: {vocabulary: tax_category}}
          period: {column: 所属期止, date: "%Y-%m-%d", format: "%Y%m"}
          period_end: {column: 所属期止, date: "%Y-%m-%d"}
          event_ts: {derive: {rule: end_of_period_plus, period_end: period, days: 15}}
          filing_status:
            constant: FILED
            cases: [{when: "TRY_CAST(\\"增值税\\" AS DOUBLE) < 0", value: CORRECTION}]
          tax_rate: {column: 税率, percent: true}
          payable_cny: {thousands: ","}
          paid_cny: {thousands: ","}
"""


def test_wide_rows_become_tax_lines_with_rules_and_signs(tmp_path):
    data = tmp_path / "batch"
    data.mkdir()
    u = _uscc(7)
    (data / "tax_2024.csv").write_text(
        "纳税人识别号,所属期止,增值税,城建税,印花税,税率,状态\n"
        f'{u},2024-03-31,"1,300.00",91.00,,13%,\n'
        f"{u},2024-04-30,-200.00,-14.00,5.5,13%,\n"
        f"{u},2024-05-31,1.00,,,13%,作废\n",
        encoding="utf-8",
    )
    (tmp_path / "wide.yaml").write_text(WIDE_TAX, encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    report = ingest_batch(data, settings, mapping=tmp_path / "wide.yaml")
    table = report.tables["tax_filing"]
    assert (table.rows_in, table.loaded, table.quarantined) == (5, 5, 0)
    targets = report.to_json_dict()["mapping"]["targets"]
    assert targets[0]["rows_read"] == 3
    assert targets[0]["left_out"] == 4  # 9 cells, 5 lines
    lake = _lake(settings, "tax_filing").set_index("source_record_id")
    vat = lake.loc[f"{u}-2024-03-31-增值税"]
    assert vat["tax_type"] == "VAT"
    assert vat["payable_cny"] == 1300.0
    assert vat["period"] == "202403"
    assert vat["period_end"] == dt.date(2024, 3, 31)
    assert vat["tax_rate"] == pytest.approx(0.13)
    assert vat["filing_status"] == "FILED"
    # Due on the 15th day after the period's end, end of day in Shanghai.
    assert vat["event_ts"] == pd.Timestamp("2024-04-15 15:59:59", tz="UTC")
    assert vat["ingested_at"] == pd.Timestamp("2024-04-18 15:59:59", tz="UTC")
    assert lake.loc[f"{u}-2024-03-31-城建税", "tax_type"] == "URBAN_CONSTRUCTION_TAX"
    correction = lake.loc[f"{u}-2024-04-30-城建税"]
    assert correction["filing_status"] == "CORRECTION"
    assert correction["paid_cny"] == -14.0
    assert lake.loc[f"{u}-2024-04-30-印花税", "tax_type"] == "STAMP_DUTY"


def test_data_problems_are_listed_before_anything_is_read(tmp_path):
    data, mapping = _write_batch(tmp_path)
    text = mapping.read_text(encoding="utf-8").replace(
        "employees: 从业人数", "employees: 从业人员"
    )
    text = text.replace(
        'files: "市场监管/年报_*.csv"', 'files: ["市场监管/年报_*.csv", "税务/*.csv"]'
    )
    mapping.write_text(text, encoding="utf-8")
    with pytest.raises(DataContractError, match="2 problem") as info:
        dry_run_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)
    message = info.value.message
    assert "column '从业人员' is in none of the source's files" in message
    assert "Did you mean '从业人数'" in message
    assert "file pattern '税务/*.csv' matches no file" in message


def test_a_source_mixing_csv_and_excel_is_refused(tmp_path):
    data, mapping = _write_batch(tmp_path)
    (data / "市场监管" / "年报_20240716.xlsx").write_bytes(b"PK\x03\x04")
    mapping.write_text(
        mapping.read_text(encoding="utf-8").replace("年报_*.csv", "年报_*"),
        encoding="utf-8",
    )
    with pytest.raises(DataContractError, match="mixes file formats"):
        dry_run_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)


def test_an_invalid_crosswalk_is_refused(tmp_path):
    data, mapping = _write_batch(tmp_path)
    (mapping.parent / "crosswalk.csv").write_bytes(
        "企业编号,统一社会信用代码\nXM001,91350203MA00000010\n".encode("gbk")
    )
    with pytest.raises(DataContractError, match="invalid USCC"):
        dry_run_batch(data, Settings(home=tmp_path / "home"), mapping=mapping)


PSEUDO = """\
version: 1
crosswalks:
  anon: {pseudo: {namespace: XM, number: "^C([0-9]+)$"}}
  hashed: {pseudo: {namespace: XM}}
sources:
  - name: news
    files: news_*.csv
    targets:
      - table: news_item
        known_at: {rule: constant, at: "2025-01-01T00:00:00"}
        columns:
          uscc: {column: 企业, crosswalk: anon}
          source_record_id: {hash_of: [企业, 标题], repeats: {within: [uscc]}}
          event_ts: {column: 时间, date: "%Y-%m-%d %H:%M"}
          sentiment:
            column: 情感
            values: {正面: POSITIVE, 中性: NEUTRAL, 负面: NEGATIVE}
          media: {file_name: "news_(\\\\w+)\\\\.csv"}
          title: 标题
"""


def test_pseudo_usccs_hashes_file_names_and_constants(tmp_path):
    data = tmp_path / "batch"
    data.mkdir()
    (data / "news_weibo.csv").write_text(
        "企业,时间,情感,标题\n"
        "C12,2024-11-02 09:30,负面,拖欠工资\n"
        "C12,2024-11-02 09:30,负面,拖欠工资\n"
        "C7,2024-12-01 20:00,正面,新品发布\n"
        "X1,2024-12-01 20:00,正面,无效编号\n",
        encoding="utf-8",
    )
    (tmp_path / "m.yaml").write_text(PSEUDO, encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    report = ingest_batch(data, settings, mapping=tmp_path / "m.yaml")
    assert report.tables["news_item"].reasons == {"unknown_identifier": 1}
    lake = _lake(settings, "news_item")
    number = "^C([0-9]+)$"
    assert set(lake["uscc"]) == {
        pseudo_uscc("XM", "C12", number=number),
        pseudo_uscc("XM", "C7", number=number),
    }
    ids = lake["source_record_id"].tolist()
    assert len(set(ids)) == 3
    assert ids[1] == ids[0] + "-2"  # the repeat is numbered
    assert set(lake["media"]) == {"weibo"}
    assert set(lake["ingested_at"]) == {pd.Timestamp("2024-12-31 16:00", tz="UTC")}
    assert lake["event_ts"].iloc[0] == pd.Timestamp("2024-11-02 01:30", tz="UTC")
    mapping = load_mapping(tmp_path / "m.yaml", load_contracts(settings.sources_dir))
    assert translate_ids(mapping, "anon", ["C12", "X1", None]) == [
        pseudo_uscc("XM", "C12", number=number),
        None,
        None,
    ]
    assert translate_ids(mapping, "hashed", ["abc"]) == [pseudo_uscc("XM", "abc")]
    with pytest.raises(ConfigurationError, match="no crosswalk 'anonx'"):
        translate_ids(mapping, "anonx", ["C1"])


def test_every_mapping_reason_is_a_quarantine_reason():
    codes = {c.value for c in QuarantineReason}
    assert {
        "unmapped_value",
        "unparseable_date",
        "unknown_identifier",
        "not_a_number",
    } <= codes


def _many_rows(
    root: Path, n: int, extra_columns: int = 0, year: int = 1000
) -> tuple[Path, Path]:
    """A reports file of ``n`` rows whose ids go back and forth over the crosswalk."""
    extra = [f"未使用的备注栏目_{i:05d}" for i in range(extra_columns)]
    header = REPORTS_HEADER.rstrip("\n") + "".join("," + c for c in extra) + "\n"
    blanks = "," * extra_columns
    rows = [
        f"XM{(k * 7) % 5 + 1:03d},公司{k},2015年3月5日,500,F5191,350203,存续,"
        f"{year + k},2023年5月10日,已公示,12,是,{k}.25,600,-3.5{blanks}"
        for k in range(n)
    ]
    data, mapping = _write_batch(root, [])
    path = data / "市场监管" / "年报_20240715.csv"
    path.write_bytes((header + "\n".join(rows) + "\n").encode("gbk"))
    return data, mapping


def test_crosswalked_rows_keep_file_order_without_a_sort(tmp_path):
    # The crosswalk is a lookup, not a join: the query has no ORDER BY and the
    # rows must come out in file order across many vectors and pieces.
    data, mapping = _many_rows(tmp_path, 30_000)
    contracts = load_contracts(Settings(home=tmp_path / "home").sources_dir)
    loaded = load_mapping(mapping, contracts)
    batch = prepare_mapped_batch(data, loaded, contracts)
    table = next(t for t in batch.tables if t.contract.name == "annual_report")
    assert not table.parts[0].compiled.ordered
    assert "ORDER BY" not in table.parts[0].compiled.sql
    rows, years, usccs = [], [], []
    for piece in table.pieces(4_096):
        rows += piece.row_number.to_pylist()
        years += piece.raw.column("report_year").to_pylist()
        usccs += piece.raw.column("uscc").to_pylist()
    assert rows == list(range(30_000))
    assert [int(y) for y in years] == [1000 + k for k in range(30_000)]
    assert usccs == [_uscc((k * 7) % 5 + 1) for k in range(30_000)]
    stats = table.parts[0].stats
    assert (stats.rows_read, stats.rows_out) == (30_000, 30_000)


def test_a_header_longer_than_the_first_block_is_read(tmp_path):
    # 3,000 unused columns: a header line of about 90 KiB, over the 64 KiB
    # block the header is first read from.
    data, mapping = _many_rows(tmp_path, 10, extra_columns=3_000, year=2014)
    header = (data / "市场监管" / "年报_20240715.csv").read_bytes().split(b"\n")[0]
    assert len(header) > 64 << 10
    settings = Settings(home=tmp_path / "home")
    report = ingest_batch(data, settings, mapping=mapping)
    assert report.tables["annual_report"].loaded == 10
    lake = _lake(settings, "annual_report")
    assert sorted(lake["report_year"]) == list(range(2014, 2024))


def test_rows_out_of_file_order_stop_the_ingestion():
    import pyarrow as pa

    from credit_engine.data._mapping_apply import _check_order

    batch = pa.RecordBatch.from_pydict({"_ord": pa.array([0, 1, 2], pa.int64())})
    assert _check_order(batch, -1, "t") == 2
    with pytest.raises(DataContractError, match="file order"):
        _check_order(batch, 2, "t")  # the next batch starts before the last row
    shuffled = pa.RecordBatch.from_pydict({"_ord": pa.array([3, 5, 4], pa.int64())})
    with pytest.raises(DataContractError, match="file order"):
        _check_order(shuffled, 2, "t")


def test_pseudo_usccs_and_numbered_repeats_keep_file_order_without_a_sort(tmp_path):
    # Pseudo-USCCs are a function, not a join, and repeats are numbered from a
    # separate query as the rows stream out: the query has no ORDER BY, the
    # rows come out in file order across many vectors and pieces, and the k-th
    # repeat of a key (in file order) is numbered "-k" even across pieces.
    data = tmp_path / "batch"
    data.mkdir()
    n = 20_000
    keys = [(f"C{(k * 13) % 41 + 1}", f"标题{(k * 7) % 293}") for k in range(n)]
    lines = [f"{c},2024-11-02 09:30,中性,{t}" for c, t in keys]
    (data / "news_weibo.csv").write_text(
        "企业,时间,情感,标题\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    (tmp_path / "m.yaml").write_text(PSEUDO, encoding="utf-8")
    contracts = load_contracts(Settings(home=tmp_path / "home").sources_dir)
    loaded = load_mapping(tmp_path / "m.yaml", contracts)
    batch = prepare_mapped_batch(data, loaded, contracts)
    (table,) = batch.tables
    compiled = table.parts[0].compiled
    assert not compiled.ordered
    assert "ORDER BY" not in compiled.sql
    assert " JOIN " not in compiled.sql
    assert [name for name, _ in compiled.repeats] == ["source_record_id"]
    rows, ids, usccs = [], [], []
    for piece in table.pieces(3_000):
        rows += piece.row_number.to_pylist()
        ids += piece.raw.column("source_record_id").to_pylist()
        usccs += piece.raw.column("uscc").to_pylist()
    assert rows == list(range(n))
    number = "^C([0-9]+)$"
    assert usccs == [pseudo_uscc("XM", c, number=number) for c, _ in keys]
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    for key, value in zip(keys, ids, strict=True):
        if key not in seen:
            seen[key] = (value, 1)
            assert "-" not in value
            continue
        base, count = seen[key]
        seen[key] = (base, count + 1)
        assert value == f"{base}-{count + 1}"
    assert len(set(ids)) == n


def test_repeats_are_counted_by_key_across_batches_even_when_hashes_collide():
    import pyarrow as pa

    from credit_engine.data._mapping_apply import _Repeats

    def batch(ids: list[str | None], groups: list[str], hashes: list[int]) -> Any:
        return pa.RecordBatch.from_pydict(
            {
                "id": pa.array(ids, pa.string()),
                "uscc": pa.array(groups, pa.string()),
                "_h0": pa.array(hashes, pa.uint64()),
            }
        )

    numbers = _Repeats("id", ("uscc", "id"), "_h0")
    # ("A", "x") and ("B", "y") share hash 5 (a collision): counted apart.
    first = numbers.apply(
        batch(["x", "y", "x", None], ["A", "B", "A", "A"], [5, 5, 5, 9])
    )
    assert first.column("id").to_pylist() == ["x", "y", "x-2", None]
    second = numbers.apply(
        batch(["y", "x", None, "z"], ["B", "A", "A", "A"], [5, 5, 9, 7])
    )
    # The third ("A", "x"), the second ("B", "y"); a repeated empty id stays empty.
    assert second.column("id").to_pylist() == ["y-2", "x-3", None, "z"]
    untouched = batch(["w"], ["A"], [11])
    assert numbers.apply(untouched) is untouched
