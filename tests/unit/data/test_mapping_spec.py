"""Source mappings: the YAML models and their check against the contracts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from credit_engine.config import Settings
from credit_engine.data import KnownAt, load_mapping, load_vocabulary
from credit_engine.data._mapping_validate import sql_columns
from credit_engine.exceptions import ConfigurationError

VALID = """\
version: 1
name: test
crosswalks:
  firms: {file: ids.csv, id: 企业编号, uscc: 统一社会信用代码}
  anon: {pseudo: {namespace: XM}}
sources:
  - name: reports
    files: "年报*.csv"
    encoding: gbk
    targets:
      - table: annual_report
        known_at: {rule: end_of_period_plus, period_end: report_year, months: 6}
        columns:
          uscc: {column: 企业编号, crosswalk: firms}
          source_record_id: {template: "{企业编号}-{年度}"}
          event_ts: {column: 报送日期, date: ["%Y年%m月%d日", "%Y-%m-%d"]}
          report_year: 年度
          employees: 从业人数
          total_assets_cny: {column: 资产总额, scale: 10000}
          publication_status:
            column: 公示状态
            values: {已公示: PUBLISHED, 逾期公示: PUBLISHED_LATE}
          financials_published: {column: 是否公示, values: {是: true, 否: false}}
"""


def _load(tmp_path: Path, text: str, contracts):
    path = tmp_path / "mapping.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_mapping(path, contracts, definitions_dir=Settings().definitions_dir)


def _problems(tmp_path: Path, text: str, contracts) -> str:
    with pytest.raises(ConfigurationError, match="mapping") as info:
        _load(tmp_path, text, contracts)
    return info.value.message


def test_a_valid_mapping_loads_with_its_shorthands(tmp_path, contracts):
    mapping = _load(tmp_path, VALID, contracts)
    target = mapping.sources[0].targets[0]
    assert target.columns["report_year"].column == "年度"
    assert target.columns["event_ts"].date == ("%Y年%m月%d日", "%Y-%m-%d")
    assert target.known_at == KnownAt(
        rule="end_of_period_plus", period_end="report_year", months=6
    )
    assert mapping.crosswalk_path("firms") == tmp_path / "ids.csv"
    assert mapping.path == (tmp_path / "mapping.yaml").absolute()


def test_unknown_keys_are_errors_naming_source_table_and_column(tmp_path, contracts):
    text = VALID.replace("scale: 10000", "scael: 10000")
    message = _problems(tmp_path, text, contracts)
    assert (
        "source 'reports' → table 'annual_report' → columns → total_assets_cny"
        in message
    )
    assert "scael" in message


def test_a_misspelt_contract_column_gets_a_suggestion(tmp_path, contracts):
    text = VALID.replace("employees: 从业人数", "employes: 从业人数")
    message = _problems(tmp_path, text, contracts)
    assert "annual_report.employes: the contract has no column 'employes'" in message
    assert "Did you mean 'employees'" in message
    # ... and the required column is then missing, named as such.
    assert "required column(s) ['employees'] are not mapped" in message


def test_an_unknown_table_gets_a_suggestion(tmp_path, contracts):
    message = _problems(
        tmp_path,
        VALID.replace("table: annual_report", "table: annual_reports"),
        contracts,
    )
    assert "no contract for table 'annual_reports'" in message
    assert "Did you mean 'annual_report'" in message


def test_value_maps_must_give_contract_codes(tmp_path, contracts):
    message = _problems(
        tmp_path, VALID.replace("PUBLISHED_LATE}", "PUBLISHED_LAT}"), contracts
    )
    assert (
        "values['逾期公示']: 'PUBLISHED_LAT' is not one of the contract's codes"
        in message
    )
    assert "Did you mean 'PUBLISHED_LATE'" in message


def test_a_missing_knowledge_time_is_explained(tmp_path, contracts):
    text = VALID.replace(
        "        known_at: {rule: end_of_period_plus, period_end: report_year, "
        "months: 6}\n",
        "",
    )
    message = _problems(tmp_path, text, contracts)
    assert "required column(s) ['ingested_at'] are not mapped" in message
    assert "known_at" in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("crosswalk: firms", "crosswalk: firm"), "crosswalk 'firm' is not declared"),
        (("scale: 10000", "scale: 10000, date: '%Y'"), "date formats parse dates"),
        (
            ("period_end: report_year", "period_end: report_yr"),
            "reads column 'report_yr'",
        ),
        (
            ("namespace: XM", "namespace: SM"),
            "namespace 'SM' must be 1 to 4 characters",
        ),
        (
            ("report_year: 年度", "report_year: {column: 年度, constant: 2024}"),
            "not several",
        ),
        (("months: 6}", "months: 6, at: x}"), "is not an ISO 8601 time"),
        (("encoding: gbk", "encoding: klingon"), "encoding 'klingon' is unknown"),
        (
            (
                "source_record_id: {template:",
                "ingested_at: 入库时间\n          source_record_id: {template:",
            ),
            "give the knowledge time once",
        ),
    ],
)
def test_each_problem_is_named(tmp_path, contracts, change, expected):
    old, new = change
    assert old in VALID
    assert expected in _problems(tmp_path, VALID.replace(old, new), contracts)


def test_sql_expressions_are_one_row_expressions():
    assert sql_columns(
        '"发票状态" = \'有效发票\' AND TRY_CAST("金额" AS DOUBLE) < 0'
    ) == [
        "发票状态",
        "金额",
    ]
    for bad in ("x IN (SELECT 1)", "read_csv('secrets.csv')", "SELECT 1", "(("):
        with pytest.raises(
            ValueError, match="expression|reads a table|read files|statement"
        ):
            sql_columns(bad)


def test_the_tax_vocabulary_maps_names_aliases_and_codes():
    labels = load_vocabulary(Settings().definitions_dir, "tax_category")
    assert (
        labels["印花税"] == labels["STAMP_DUTY"] == labels["Stamp duty"] == "STAMP_DUTY"
    )
    assert labels["城建税"] == labels["城市维护建设税"] == "URBAN_CONSTRUCTION_TAX"
    assert labels["教育费附加"] == "EDUCATION_SURCHARGE"
    assert labels["社保费"] == "SOCIAL_INSURANCE"


def test_the_tax_vocabulary_and_the_contract_list_the_same_codes(contracts):
    labels = load_vocabulary(Settings().definitions_dir, "tax_category")
    assert set(labels.values()) == set(
        contracts["tax_filing"].column("tax_type").values or ()
    )
    # 18 taxes, the surcharges and fees, and social insurance
    assert len(set(labels.values())) == 32


def test_an_unknown_vocabulary_is_named(tmp_path, contracts):
    text = VALID.replace(
        "{已公示: PUBLISHED, 逾期公示: PUBLISHED_LATE}", "{vocabulary: publication}"
    )
    assert "No vocabulary 'publication'" in _problems(tmp_path, text, contracts)
