"""``credit-engine evaluate`` end to end on real invoices (a CUMCM 2020 C subset).

Real components, no mocks: the adapter converts 60 enterprises of the contest
data, ``ingest`` loads them into a temporary home, and ``evaluate`` builds the
``invoices_v1`` features from the lake and cross-validates both model families.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
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


# ------------------------------------------------------- plain feature tables
def _table(tmp_path: Path, frame: pd.DataFrame, name: str = "table.csv") -> Path:
    path = tmp_path / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _grades_frame(n: int = 240, seed: int = 5) -> pd.DataFrame:
    """Text grades AAA..D of a latent score, a category, dates, ids, junk columns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    score = x[:, 0] + 0.5 * x[:, 1] + rng.normal(scale=0.5, size=n)
    scale = np.asarray(["AAA", "AA", "A", "BBB", "BB", "B"], dtype=object)
    cuts = np.quantile(score, [0.1, 0.25, 0.45, 0.65, 0.85])
    grades = scale[np.searchsorted(cuts, score)]
    grades[np.argsort(score)[-2:]] = "D"  # two defaulted: too few for 3 folds
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    frame["region"] = rng.choice(["north", "south", "east"], n)
    frame["opened"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(
        rng.integers(0, 700, n), "D"
    )
    frame["opened"] = frame["opened"].dt.strftime("%Y-%m-%d")
    frame["client_id"] = np.arange(1, n + 1)
    frame["empty"] = np.nan
    frame["constant"] = 7
    frame["firm"] = [f"F{i // 2}" for i in range(n)]
    frame["rating"] = grades
    return frame


def _run(args: list[str], tmp_path: Path) -> Any:
    return runner.invoke(app, ["evaluate", *args, "--home", str(tmp_path)])


def test_text_grades_rare_ones_merged_columns_listed_and_predictions_kept(tmp_path):
    path = _table(tmp_path, _grades_frame(), "grades.parquet")
    report, oof = tmp_path / "report.json", tmp_path / "oof.csv"
    result = _run(
        ["--table", str(path), "--target", "rating", "--group", "firm",
         "--folds", "3", "--threshold", "0.2", "--oof-out", str(oof),
         "--report-json", str(report)],
        tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = _text(result.output)
    assert "order from rating scale" in text
    assert "merged D (2 rows, too few for the folds) into B" in text
    assert "client_id" in text
    assert "identifier" in text
    assert "all values missing" in text
    assert "constant" in text
    assert "folds grouped by firm" in text
    payload = json.loads(report.read_text(encoding="utf-8"))
    assert payload["target"]["kind"] == "ordinal"
    assert payload["target"]["classes"] == ["AAA", "AA", "A", "BBB", "BB", "B/D"]
    assert payload["columns"]["dropped"] == {
        "client_id": "identifier (a distinct integer per row)",
        "empty": "all values missing",
        "constant": "constant (one value, none missing)",
    }
    assert payload["columns"]["categorical"] == ["region"]
    assert payload["columns"]["converted"]["opened"].startswith("date")
    for figures in payload["models"].values():
        assert "error" not in figures
        assert -1 <= figures["qwk"] <= 1
        assert figures["worst_vs_rest"]["at_threshold"]["threshold"] == 0.2
        assert {"precision", "recall", "f1"} <= set(figures["worst_vs_rest"]["best_f1"])
    table = pd.read_csv(oof)
    assert len(table) == 240
    assert table["fold"].nunique() == 3
    assert table.groupby("firm")["fold"].nunique().max() == 1
    assert {"risk_gbm_p_AAA", "risk_gbm_predicted", "scorecard_expected"} <= set(
        table.columns
    )


def test_a_declared_order_reads_text_classes_and_rates_a_table(tmp_path):
    frame = _grades_frame(seed=6)
    frame["rating"] = frame["rating"].map(
        lambda g: (
            "low"
            if g in {"AAA", "AA", "A"}
            else "mid"
            if g.startswith("B") and g != "B"
            else "high"
        )
    )
    path = _table(tmp_path, frame)
    rated = tmp_path / "rated.csv"
    result = _run(
        ["--table", str(path), "--target", "rating", "--order", "low,mid,high",
         "--folds", "3", "--rate", str(path), "--rate-out", str(rated)],
        tmp_path,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "order from declared" in _text(result.output)
    out = pd.read_csv(rated)
    assert len(out) == len(frame)
    assert "client_id" in out.columns  # the identifier comes back with the rating
    assert set(out["predicted"]) <= {"low", "mid", "high"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "ratng"], "has no target column 'ratng'"),
        (["--target", "rating", "--group", "company"], "has no group column 'company'"),
        (["--target", "rating", "--order", "AAA,AA,A"], "does not list"),
        (["--target", "constant"], "needs at least two classes"),
        (["--target", "region"], "whose order is unknown"),
        (["--target", "rating", "--threshold", "1.5"], "--threshold must be"),
    ],
    ids=["unknown target", "unknown group", "order misses values", "one class",
         "text without order", "threshold"],
)  # fmt: skip
def test_bad_inputs_are_refused_naming_the_column_and_the_fix(tmp_path, args, message):
    path = _table(tmp_path, _grades_frame())
    result = _run(["--table", str(path), "--folds", "3", *args], tmp_path)
    assert result.exit_code == 2, result.output
    assert message in _text(result.output)
    assert "Traceback" not in result.output
