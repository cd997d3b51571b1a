"""Scorecard and LightGBM families: directions, points, calibration, reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from credit_engine.modeling import (
    GBMClassifier,
    MasterScale,
    PdoScaling,
    RatingModel,
    ScorecardClassifier,
    directions_for,
)


def _grid(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    values = np.linspace(frame[column].min(), frame[column].max(), 25)
    base = frame.median().to_frame().T
    grid = pd.concat([base] * len(values), ignore_index=True)
    grid[column] = values
    return grid


@pytest.fixture(scope="module")
def scorecard(credit_data):
    frame, y, directions = credit_data
    return ScorecardClassifier(directions=directions, max_features=3).fit(frame, y)


@pytest.fixture(scope="module")
def gbm(credit_data):
    frame, y, directions = credit_data
    groups = np.arange(len(y)) // 4
    return GBMClassifier(directions=directions, n_estimators=150).fit(
        frame, y, groups=groups
    )


def test_scorecard_points_sum_to_score_and_match_the_pd(scorecard, credit_data):
    frame, _, _ = credit_data
    points = scorecard.points(frame.head(200))
    score = scorecard.score_points(frame.head(200))
    np.testing.assert_allclose(points.sum(axis=1), score, rtol=1e-9)
    proba = scorecard.predict_proba(frame.head(200))[:, 1]
    np.testing.assert_allclose(scorecard.scaling.score(proba), score, rtol=1e-6)


def test_scorecard_bins_follow_the_declared_direction(scorecard, credit_data):
    frame, _, _ = credit_data
    up = scorecard.predict_proba(_grid(frame, "penalties"))[:, 1]
    down = scorecard.predict_proba(_grid(frame.fillna(4.0), "age_years"))[:, 1]
    assert np.all(np.diff(up) >= -1e-12)
    assert up[-1] > up[0]
    assert np.all(np.diff(down) <= 1e-12)
    assert down[-1] < down[0]


def test_scorecard_drops_noise_under_min_iv(credit_data):
    frame, y, directions = credit_data
    model = ScorecardClassifier(directions=directions, min_iv=0.05).fit(frame, y)
    assert "noise" not in model.selected_features_
    assert model.feature_iv_["penalties"] > model.feature_iv_["noise"]
    table = model.points_table()
    assert {"Variable", "Bin", "Points", "WoE", "IV"} <= set(table.columns)


def test_gbm_is_monotone_in_declared_directions(gbm, credit_data):
    frame, _, _ = credit_data
    up = gbm.predict_proba(_grid(frame, "penalties"))[:, 1]
    down = gbm.predict_proba(_grid(frame.fillna(4.0), "age_years"))[:, 1]
    assert np.all(np.diff(up) >= -1e-12)
    assert up[-1] > up[0]
    assert np.all(np.diff(down) <= 1e-12)
    assert gbm.monotone_constraints_ == [1, -1, 0]


def test_gbm_calibrated_pd_matches_the_event_rate(gbm, credit_data):
    frame, y, _ = credit_data
    proba = gbm.predict_proba(frame)[:, 1]
    # Isotonic on a 20 % slice: its mean is within sampling error of the rate.
    slice_se = np.sqrt(y.mean() * (1 - y.mean()) / (0.2 * len(y)))
    assert abs(proba.mean() - y.mean()) < 3 * slice_se
    assert roc_auc_score(y, proba) > 0.7


def test_gbm_is_deterministic(credit_data):
    frame, y, directions = credit_data
    fit = [
        GBMClassifier(directions=directions, n_estimators=40, random_state=3)
        .fit(frame, y)
        .predict_proba(frame)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fit[0], fit[1])


def test_gbm_contributions_explain_the_log_odds(gbm, credit_data):
    frame, _, _ = credit_data
    contrib = gbm.risk_contributions(frame.head(50))
    raw = gbm.booster_.predict_proba(frame.head(50))[:, 1]
    full = gbm.booster_.predict(frame.head(50), pred_contrib=True)
    np.testing.assert_allclose(full.sum(axis=1), np.log(raw / (1 - raw)), rtol=1e-6)
    assert list(contrib.columns) == list(frame.columns)


def test_directions_are_checked():
    assert directions_for(["a", "b"], {"a": "increasing"}) == ["increasing", "none"]
    with pytest.raises(ValueError, match="not in X"):
        directions_for(["a"], {"zzz": "increasing"})
    with pytest.raises(ValueError, match="must be one of"):
        directions_for(["a"], ["upwards"])
    with pytest.raises(ValueError, match="2 directions for 1 features"):
        directions_for(["a"], ["none", "none"])


def test_bad_calibration_parameter_is_named(credit_data):
    frame, y, _ = credit_data
    with pytest.raises(ValueError, match="'calibration' parameter"):
        GBMClassifier(calibration="beta").fit(frame, y)  # type: ignore[arg-type]


def test_master_scale_grades_are_ordered_and_stored():
    rng = np.random.default_rng(1)
    proba = rng.beta(1.0, 12.0, 5000)
    scale = MasterScale.fit(proba)
    assert scale.grades == tuple(f"G{i}" for i in range(1, 8))
    assert list(scale.grade_pd) == sorted(scale.grade_pd)
    grades = scale.assign(proba)
    shares = pd.Series(grades).value_counts(normalize=True)
    assert shares.max() < 0.25
    flags = np.zeros(5000, bool)
    flags[:3] = True
    assert set(scale.assign(proba, flags)[:3]) == {"GD"}
    assert MasterScale.from_dict(scale.to_dict()) == scale
    assert list(scale.table()["grade"]) == [*scale.grades, "GD"]


def test_master_scale_refuses_too_few_grades():
    with pytest.raises(ValueError, match="at least 7 grades"):
        MasterScale.fit(np.linspace(0, 1, 100), cumulative_shares=[0.5])


def test_pdo_scaling_doubles_odds_per_pdo():
    scaling = PdoScaling(pdo=20, odds=50, base_points=600)
    p = np.array([1 / 51, 1 / 101])
    np.testing.assert_allclose(scaling.score(p), [600.0, 620.0])
    np.testing.assert_allclose(scaling.proba(scaling.score(p)), p)


@pytest.mark.parametrize("family", ["scorecard", "gbm"])
def test_rating_model_rates_with_reasons(family, scorecard, gbm, credit_data):
    frame, _, _ = credit_data
    estimator = scorecard if family == "scorecard" else gbm
    scale = MasterScale.fit(estimator.predict_proba(frame)[:, 1])
    rows = frame.copy()
    rows["listed"] = 0.0
    rows.loc[0, "listed"] = 1.0
    model = RatingModel(
        name=family,
        family=family,
        features=list(frame.columns),
        estimator=estimator,
        master_scale=scale,
        scaling=PdoScaling(),
        default_state=["listed"],
    )
    rated = model.rate(rows.head(300))
    assert rated.loc[0, "grade"] == "GD"
    assert set(rated["grade"][1:]) <= set(scale.grades)
    probes = pd.DataFrame(
        {
            "penalties": [frame["penalties"].max(), 0.0],
            "age_years": [frame["age_years"].max(), frame["age_years"].min()],
            "noise": [0.0, 0.0],
            "listed": [0.0, 0.0],
        }
    )
    reasons = model.reasons(probes)
    assert reasons.loc[0, "reason_1"] == "penalties"  # many penalties, old firm
    assert reasons.loc[1, "reason_1"] == "age_years"  # no penalty, young firm
    assert rated["score"].corr(rated["proba_default"], method="spearman") < -0.99
    with pytest.raises(ValueError, match="missing 1 input feature"):
        model.rate(frame.drop(columns="noise"))


def test_gbm_latest_calibration_slice_holds_out_the_latest_dates(credit_data):
    frame, y, directions = credit_data
    dates = np.repeat(np.arange(10), len(y) // 10)
    model = GBMClassifier(
        directions=directions, calibration_split="latest", calibration_size=0.2
    )
    fit_idx, cal_idx = model._split(y, dates)
    assert set(dates[cal_idx]) == {8, 9}
    assert set(dates[fit_idx]) == set(range(8))
    fitted = model.set_params(n_estimators=30).fit(frame, y, groups=dates)
    assert fitted.calibrator_ is not None
    with pytest.raises(ValueError, match="'calibration_split' parameter"):
        GBMClassifier(calibration_split="oldest").fit(frame, y)  # type: ignore[arg-type]
