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


def test_gbm_cross_fitted_calibration_refits_the_booster_on_every_row(credit_data):
    frame, y, directions = credit_data
    groups = np.arange(len(y)) // 4
    model = GBMClassifier(
        directions=directions, n_estimators=60, calibration="sigmoid"
    ).fit(frame, y, groups=groups)
    assert model.calibration_split == "cross"
    assert model.calibrator_ is not None
    # Nothing held out: the booster is the one fitted on every row.
    raw = model.booster_.predict_proba(frame)[:, 1]
    on_all = model._booster().fit(frame, y).predict_proba(frame)[:, 1]
    np.testing.assert_array_equal(raw, on_all)
    proba = model.predict_proba(frame)[:, 1]
    # Platt keeps the booster's ranking: same AUC as the raw probabilities.
    assert roc_auc_score(y, proba) == pytest.approx(roc_auc_score(y, raw), abs=1e-12)
    assert abs(proba.mean() - y.mean()) < 0.01


def test_gbm_tuning_grid_is_scored_out_of_fold_and_the_best_refitted(credit_data):
    frame, y, directions = credit_data
    model = GBMClassifier(
        directions=directions,
        n_estimators=40,
        min_child_samples=2000,  # hobbles the trees: the grid must win
        tuning={"min_child_samples": [50], "n_estimators": [40, 80]},
        tuning_budget=3,
    ).fit(frame, y)
    assert len(model.tuning_results_) == 3
    assert model.tuning_results_[0]["params"] == {}
    best = max(model.tuning_results_, key=lambda r: r["auc"])
    assert model.best_params_["min_child_samples"] == 50
    assert model.best_params_ == {
        k: best["params"].get(k, getattr(model, k)) for k in model.best_params_
    }
    assert model.booster_.get_params()["min_child_samples"] == 50
    with pytest.raises(ValueError, match="cannot be tuned"):
        GBMClassifier(tuning={"calibration": ["sigmoid"]}).fit(frame, y)
    with pytest.raises(ValueError, match="needs calibration_split='cross'"):
        GBMClassifier(tuning={"num_leaves": [7]}, calibration_split="latest").fit(
            frame, y
        )


def test_gbm_splits_category_codes_natively(credit_data):
    frame, y, _ = credit_data
    rng = np.random.default_rng(5)
    coded = frame.assign(sector=rng.integers(0, 6, len(y)).astype(float))
    sector_risk = np.isin(coded["sector"], [1.0, 4.0])
    y = np.where(sector_risk & (rng.random(len(y)) < 0.3), 1, y)
    model = GBMClassifier(n_estimators=60, categorical_features=["sector"]).fit(
        coded, y
    )
    assert model.categorical_features_ == ["sector"]
    probes = coded.head(2).copy()
    probes["sector"] = [1.0, 2.0]
    p = model.predict_proba(probes)[:, 1]
    assert p[0] > p[1]
    with pytest.raises(ValueError, match="cannot be monotone 'increasing'"):
        GBMClassifier(
            directions={"sector": "increasing"}, categorical_features=["sector"]
        ).fit(coded, y)


def test_scorecard_leaves_out_empty_and_constant_columns(credit_data):
    frame, y, directions = credit_data
    wider = frame.assign(empty=np.nan, same=1.0, sector="x")
    wider["sector"] = np.random.default_rng(2).integers(0, 4, len(y)).astype(float)
    model = ScorecardClassifier(
        directions=directions, categorical_features=["sector"]
    ).fit(wider, y)
    assert model.excluded_features_ == {"empty": "all missing", "same": "constant"}
    assert "empty" not in model.used_features_
    proba = model.predict_proba(wider.head(10))[:, 1]
    assert np.all((proba > 0) & (proba < 1))
    with pytest.raises(ValueError, match="None of the 2 feature"):
        ScorecardClassifier().fit(wider[["empty", "same"]], y)


def test_master_scale_grade_pds_cover_every_sample_given():
    rng = np.random.default_rng(4)
    proba = rng.beta(1.0, 10.0, 20_000)
    y = (rng.random(20_000) < proba).astype(int)
    plain = MasterScale.fit(proba, y)
    # A second sample where the worst grades default twice as often.
    worse_y = (rng.random(20_000) < np.minimum(1.0, 2 * proba)).astype(int)
    covered = MasterScale.fit(proba, y, also=[(proba, worse_y)])
    assert covered.upper == plain.upper
    assert all(c >= p for c, p in zip(covered.grade_pd, plain.grade_pd, strict=True))
    assert covered.grade_pd[-1] > 1.5 * plain.grade_pd[-1]
    with pytest.raises(ValueError, match="need the outcomes"):
        MasterScale.fit(proba, also=[(proba, y)])
