"""Decision-path attributions: exact additivity, agreement with TreeSHAP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.modeling import GBMClassifier
from credit_engine.modeling._paths import path_contributions, path_tables


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame(
        {
            "penalties": rng.poisson(0.5, n).astype(float),
            "late_days": rng.exponential(10, n),
            "age_years": rng.uniform(0, 20, n),
            "noise": rng.normal(size=n),
        }
    )
    logit = -2 + 0.9 * X["penalties"] + 0.05 * X["late_days"] - 0.1 * X["age_years"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = GBMClassifier(n_estimators=60, num_leaves=7, min_child_samples=30)
    return model.fit(X, y), X


def test_path_credits_sum_exactly_to_the_raw_score(fitted):
    model, X = fitted
    contrib = model.risk_contributions(X, method="path").to_numpy()
    raw = model.booster_.predict(X, raw_score=True)
    assert np.allclose(contrib.sum(axis=1) + model.path_tables_.bias, raw, atol=1e-9)


def test_shap_method_is_lightgbm_pred_contrib(fitted):
    model, X = fitted
    shap = model.risk_contributions(X.head(50), method="shap").to_numpy()
    expected = model.booster_.predict(X.head(50), pred_contrib=True)[:, :-1]
    assert np.allclose(shap, expected)


def test_path_and_shap_agree_on_the_strongest_factor(fitted):
    model, X = fitted
    path = model.risk_contributions(X, method="path").to_numpy()
    shap = model.risk_contributions(X, method="shap").to_numpy()
    # Rows with a clear adverse factor (the ones a reason is given for).
    clear = path.max(axis=1) > 0.2
    assert clear.sum() > 300
    agree = (path[clear].argmax(axis=1) == shap[clear].argmax(axis=1)).mean()
    assert agree > 0.8
    # The pure-noise feature is rarely the clear top factor.
    assert (path[clear].argmax(axis=1) == 3).mean() < 0.05


def test_tables_are_rebuilt_for_a_model_fitted_without_them(fitted):
    model, X = fitted
    kept = model.path_tables_
    try:
        del model.path_tables_
        again = model.risk_contributions(X.head(20), method="path")
    finally:
        model.path_tables_ = kept
    assert np.allclose(again, model.risk_contributions(X.head(20), method="path"))


def test_one_leaf_trees_credit_nothing():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    y = np.r_[np.zeros(100, int), np.ones(100, int)]
    # min_child_samples above half the rows: no split is possible.
    model = GBMClassifier(n_estimators=5, min_child_samples=150, calibration=None)
    model.fit(X, y)
    tables = path_tables(model.booster_.booster_)
    leaves = model.booster_.predict(X, pred_leaf=True)
    contrib = path_contributions(tables, leaves)
    assert np.allclose(contrib, 0.0)
    assert np.allclose(tables.bias, model.booster_.predict(X, raw_score=True))


def test_unknown_method_is_refused(fitted):
    model, X = fitted
    with pytest.raises(ValueError, match="method must be 'path' or 'shap'"):
        model.risk_contributions(X.head(2), method="lime")
