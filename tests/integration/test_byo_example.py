"""The worked example of docs/bring-your-own-records.md, command by command.

Extracts in their own layout (GBK and GB18030 CSVs, Chinese headers, 万元,
2024年3月5日 dates, anonymised enterprise numbers with a crosswalk) are checked,
ingested through the mapping, turned into features and evaluated against labels,
with the CLI only: no Python is written for a new layout.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.cli import app
from credit_engine.features import read_snapshot_lineage

pytestmark = pytest.mark.integration

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "byo"
MAPPING = EXAMPLE / "mapping" / "siming.yaml"
EXTRACTS = EXAMPLE / "extracts"


def _text(output: str) -> str:
    return " ".join(output.split())


def _run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return _text(result.output)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("byo") / "home"
    out = _run("ingest", str(EXTRACTS), "--mapping", str(MAPPING), "--home", str(home))
    assert "annual_report │ 300 │ 296 │ 4 │ 0" in out
    assert "samr_registration │ 300 │ 100 │ 1 │ 199" in out
    assert "tax_filing │ 11,837 │ 11,837 │ 0 │ 0" in out
    return home


def test_the_mapping_is_checked_without_and_with_the_extracts(tmp_path):
    out = _run("mapping", "check", str(MAPPING), "--home", str(tmp_path))
    assert "is valid" in out
    out = _run(
        "mapping",
        "check",
        str(MAPPING),
        str(EXTRACTS),
        "--all",
        "--home",
        str(tmp_path),
    )
    assert "annual_report │ 300 │ 296 │ 4 │ 0" in out
    for reason in (
        "unmapped_value",
        "unparseable_date",
        "unknown_identifier",
        "not_a_number",
    ):
        assert reason in out
    assert "'SM-0999'" in out  # the example of unknown_identifier
    assert "nothing was written" in out
    assert not (tmp_path / "lake").exists()
    _run(
        "mapping",
        "check",
        str(MAPPING),
        str(EXTRACTS),
        "--rows",
        "50",
        "--fail-on-quarantine",
        "--home",
        str(tmp_path),
        code=1,
    )


def test_an_invalid_mapping_exits_2_naming_what_to_fix(tmp_path):
    broken = tmp_path / "mapping" / "siming.yaml"
    broken.parent.mkdir()
    text = MAPPING.read_text(encoding="utf-8").replace(
        "employees: 从业人数", "employes: 从业人数"
    )
    broken.write_text(text, encoding="utf-8")
    out = _run("mapping", "check", str(broken), "--home", str(tmp_path), code=2)
    assert "source 'annual_reports' → annual_report.employes" in out
    assert "Did you mean 'employees'" in out


def test_features_are_built_and_empty_sources_named(home, tmp_path):
    snap = tmp_path / "snap.parquet"
    out = _run(
        "features",
        "--set",
        "extracts_v1",
        "--as-of",
        "2025-07-31",
        "--out",
        str(snap),
        "--home",
        str(home),
    )
    assert "2025-07-31 │ 100 │ 127" in out
    assert "enterprises known from: registration" in out
    assert "contribute no record known at 2025-07-31" in out
    lineage = read_snapshot_lineage(snap)
    assert lineage["known_enterprises"] == "registration"
    assert "court_judgment" in lineage["empty_sources"]
    # Lines recorded after the rating date are not known at it.
    assert 11_000 < lineage["source_records"]["tax_filing"] < 11_837
    frame = pd.read_parquet(snap)
    assert frame["tax_lines__social_insurance_months_365d"].max() == 12
    assert frame["annual_report_financials__debt_ratio_last"].notna().sum() > 50
    # The same with --fail-on-empty: written, but the exit code says a source is empty.
    _run(
        "features",
        "--set",
        "extracts_v1",
        "--as-of",
        "2025-07-31",
        "--out",
        str(snap),
        "--fail-on-empty",
        "--home",
        str(home),
        code=1,
    )


def test_an_empty_snapshot_is_said_loudly(home, tmp_path):
    out = _run(
        "features",
        "--set",
        "extracts_v1",
        "--as-of",
        "2020-01-31",
        "--out",
        str(tmp_path / "s.parquet"),
        "--fail-on-empty",
        "--home",
        str(home),
        code=1,
    )
    assert "the snapshot is EMPTY" in out


def test_labels_by_source_id_are_translated_and_evaluated(home, tmp_path):
    labels = tmp_path / "labels.csv"
    out = _run(
        "mapping",
        "ids",
        str(MAPPING),
        str(EXAMPLE / "labels" / "违约观察.csv"),
        "--crosswalk",
        "firms",
        "--column",
        "企业编号",
        "--out",
        str(labels),
        "--home",
        str(home),
    )
    assert "wrote 100 rows" in out
    frame = pd.read_csv(labels)
    assert list(frame.columns) == ["uscc", "as_of", "label"]
    report = tmp_path / "eval.json"
    _run(
        "evaluate",
        "--labels",
        str(labels),
        "--feature-set",
        "extracts_v1",
        "--folds",
        "5",
        "--report-json",
        str(report),
        "--home",
        str(home),
    )
    figures = json.loads(report.read_text(encoding="utf-8"))
    # both families hold on the extracts' many all-missing and constant columns
    assert figures["models"]["risk_gbm"]["auc"] > 0.7
    assert figures["models"]["scorecard"]["auc"] > 0.7
