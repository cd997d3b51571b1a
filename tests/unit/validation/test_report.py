from __future__ import annotations

import base64
import json
import re

import numpy as np
import pytest

from credit_engine.validation import (
    ScoredSample,
    validate_model,
    write_validation_report,
)


@pytest.fixture(scope="module")
def report(dev_data, oot_data, scale):
    oot = oot_data.sample
    # One rating date holds only non-defaults: its AUC is undefined (JSON null).
    as_of = oot.as_of.copy()
    quiet = np.flatnonzero(oot.y == 0)[:50]
    as_of[quiet] = np.datetime64("2024-06-30")
    oot = ScoredSample(y=oot.y, proba=oot.proba, grade=oot.grade, as_of=as_of)
    return validate_model(
        model_name="<b>sme_pd</b>",
        dev=dev_data.sample,
        oot=oot,
        scale=scale,
        features_dev=dev_data.features,
        features_oot=oot_data.features,
    )


def test_summary_holds_the_headline_oot_figures(report):
    summary = report.summary()
    assert list(summary) == [
        "auc",
        "gini",
        "ks",
        "brier",
        "psi",
        "calibration",
        "red_grades",
        "monotone_default_rate",
    ]
    assert summary["auc"] == report.oot.discrimination.auc
    assert summary["psi"] == report.stability.score_psi
    assert list(summary["calibration"]) == ["G1", "G2", "G3", "G4", "G5", "G6", "G7"]
    assert isinstance(summary["monotone_default_rate"], bool)
    assert type(summary["auc"]) is float


def test_json_round_trips_without_nan(report, tmp_path):
    out = report.to_json_dict()
    assert list(out) == [
        "model_name",
        "summary",
        "policy",
        "dev",
        "oot",
        "gini_relative_change",
        "gini_colour",
        "stability",
        "information_value",
        "per_as_of",
    ]
    assert list(out["oot"]) == [
        "discrimination",
        "calibration",
        "concentration",
        "rank_ordering",
    ]
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text) == out
    assert out["per_as_of"][-1] == {
        "as_of": "2024-06-30",
        "rows": 50,
        "events": 0,
        "auc": None,
        "gini": None,
    }
    edges = [float(e) for e in out["stability"]["score_edges"]]
    assert edges == list(report.stability.score_edges)
    assert out["stability"]["score_edges"][0] == "-inf"
    path = write_validation_report(report, tmp_path / "out").json
    assert path == tmp_path / "out" / "validation.json"
    assert json.loads(path.read_text(encoding="utf-8")) == out


def test_html_is_self_contained_with_charts_and_grade_rows(report, tmp_path):
    path = write_validation_report(report, tmp_path / "out").html
    assert path == tmp_path / "out" / "validation.html"
    html = path.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) == 5  # ROC, KS, calibration, grade distribution, CSI
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "&lt;b&gt;sme_pd&lt;/b&gt;" in html
    assert "<b>sme_pd</b>" not in html
    for grade in report.oot.calibration.grades:
        assert f"<td>{grade.grade}</td>" in html
    assert html.count('class="grade-row"') == 2 * 7  # OOT and dev tables
    assert "<script" not in html
    assert "http" not in html
    assert "Hosmer–Lemeshow" in html
    assert "strong" in html
