"""``credit-engine evaluate`` end to end on real invoices (a CUMCM 2020 C subset).

Real components, no mocks: the adapter converts 60 enterprises of the contest
data, ``ingest`` loads them into a temporary home, and ``evaluate`` builds the
``invoices_v1`` features from the lake and cross-validates both model families.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from credit_engine.adapters import CumcmBatch, convert_cumcm
from credit_engine.cli import app
from credit_engine.config import default_definitions_dir

pytestmark = pytest.mark.integration

runner = CliRunner()

CUMCM_DIR = default_definitions_dir() / "data" / "cumcm2020c"
PER_GRADE = 12  # graded enterprises taken per grade A-D (every D defaulted)
UNGRADED = 12  # ungraded enterprises, to rate


def _text(output: str) -> str:
    return " ".join(output.split())


def _subset() -> list[str]:
    """The first 12 enterprises of each grade and the first 12 ungraded: 60."""
    graded = pd.read_csv(CUMCM_DIR / "attach1_enterprises.csv.gz")
    ungraded = pd.read_csv(CUMCM_DIR / "attach2_enterprises.csv.gz")
    picked = graded.groupby("信誉评级", sort=True).head(PER_GRADE)["企业代号"]
    return [*picked, *ungraded["企业代号"].head(UNGRADED)]


@pytest.fixture(scope="module")
def cumcm(tmp_path_factory) -> tuple[CumcmBatch, Path]:
    """The subset, converted and ingested into a fresh home."""
    home = tmp_path_factory.mktemp("evaluate_home")
    batch = convert_cumcm(CUMCM_DIR, home / "cumcm", enterprises=_subset())
    ingested = runner.invoke(
        app, ["ingest", str(batch.records_dir), "--home", str(home)]
    )
    assert ingested.exit_code == 0, ingested.output
    return batch, home


def _evaluate(home: Path, report: Path, *args: str) -> dict[str, Any]:
    result = runner.invoke(
        app,
        ["evaluate", *args, "--folds", "3", "--seed", "7",
         "--report-json", str(report), "--home", str(home)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Cross-validation (3 folds" in result.output
    payload: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return payload


def test_binary_labels_are_cross_validated_on_lake_features(cumcm, tmp_path):
    batch, home = cumcm
    assert (batch.labelled, batch.to_rate, batch.grade_d) == (48, 12, 12)
    report = _evaluate(
        home,
        tmp_path / "default.json",
        "--labels", str(batch.labels_default_path),
        "--feature-set", "invoices_v1",
    )  # fmt: skip
    assert report["feature_set"] == "invoices_v1"
    assert report["target"] == {"kind": "binary", "rows": 48, "classes": [0, 1]}
    assert report["folds"] == 3
    assert set(report["models"]) == {"risk_gbm", "scorecard"}
    for name, figures in report["models"].items():
        assert figures["family"] == {"risk_gbm": "gbm", "scorecard": "scorecard"}[name]
        assert len(figures["auc_folds"]) == 3
        assert all(0.0 <= v <= 1.0 for v in figures["auc_folds"])
        # 12 of 48 defaulted, all of grade D: invoices tell them apart.
        assert 0.5 < figures["auc"] <= 1.0, (name, figures)


def test_ordinal_grades_are_cross_validated_and_the_ungraded_rated(cumcm, tmp_path):
    batch, home = cumcm
    rated_path = tmp_path / "rated.csv"
    report = _evaluate(
        home,
        tmp_path / "grade.json",
        "--labels", str(batch.labels_grade_path),
        "--feature-set", "invoices_v1",
        "--rate", str(batch.to_rate_path),
        "--rate-out", str(rated_path),
    )  # fmt: skip
    assert report["target"] == {
        "kind": "ordinal",
        "rows": 48,
        "classes": [0, 1, 2, 3],
    }
    for figures in report["models"].values():
        assert -1.0 <= figures["qwk"] <= 1.0
        assert 0.0 <= figures["accuracy"] <= 1.0
        assert len(figures["qwk_folds"]) == 3
    rated = report["rated"]
    assert rated["rows"] == 12
    assert rated["model"] in report["models"]
    assert sum(rated["predicted"].values()) == 12
    assert set(rated["predicted"]) <= {"0", "1", "2", "3"}
    table = pd.read_csv(rated_path)
    assert list(table.columns) == [
        "uscc", "as_of", "proba", "predicted", "p_0", "p_1", "p_2", "p_3",
    ]  # fmt: skip
    assert set(table["uscc"]) == set(pd.read_csv(batch.to_rate_path)["uscc"])
    assert table["proba"].between(0, 3).all()
    probabilities = table[["p_0", "p_1", "p_2", "p_3"]].sum(axis=1)
    assert probabilities.round(6).eq(1).all()


def test_a_ready_feature_table_is_cross_validated(cumcm, tmp_path):
    batch, home = cumcm
    grades = pd.read_csv(batch.labels_grade_path)
    table = pd.read_parquet(batch.invoices_path).query("direction == 'OUTPUT'")
    features = table.groupby("uscc").agg(
        invoices=("amount_cny", "size"),
        sales=("amount_cny", "sum"),
        buyers=("counterparty_id", "nunique"),
    )
    ready = grades.merge(features, left_on="uscc", right_index=True)
    ready["bad"] = (ready.pop("label") >= 2).astype(int)  # grades C and D
    path = tmp_path / "table.csv"
    ready.to_csv(path, index=False)
    report = _evaluate(
        home, tmp_path / "table.json", "--table", str(path), "--target", "bad"
    )
    assert report["table"] == str(path)
    assert report["features"] == "3"  # invoices, sales, buyers; not uscc/as_of
    assert report["target"]["kind"] == "binary"
    assert report["target"]["rows"] == 48
    for figures in report["models"].values():
        assert 0.0 <= figures["auc"] <= 1.0


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "Give exactly one of --labels FILE or --table FILE"),
        (["--labels", "labels.csv", "--table", "table.csv"],
         "Give exactly one of --labels FILE or --table FILE"),
    ],
    ids=["neither", "both"],
)  # fmt: skip
def test_neither_or_both_sources_is_refused(tmp_path, sources, message):
    args = [a if a.startswith("--") else str(tmp_path / a) for a in sources]
    result = runner.invoke(app, ["evaluate", *args, "--home", str(tmp_path)])
    assert result.exit_code == 2
    assert message in _text(result.output)
    assert "Traceback" not in result.output


def test_a_labels_file_without_as_of_is_refused_naming_the_column(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("uscc,label\n91990000CUMC000019,0\n", encoding="utf-8")
    result = runner.invoke(
        app, ["evaluate", "--labels", str(labels), "--home", str(tmp_path)]
    )
    assert result.exit_code == 2
    text = _text(result.output)
    assert "lacks column(s) ['as_of']" in text
    assert "needs ['uscc', 'as_of', 'label']" in text
    assert "Traceback" not in result.output
