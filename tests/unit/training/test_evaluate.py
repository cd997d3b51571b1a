"""``cross_validate_labels`` on plain tables: both families, figures, isolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.config import default_definitions_dir
from credit_engine.training import (
    cross_validate_labels,
    fit_and_rate,
    load_model_spec,
    plan_columns,
)

MODELS = default_definitions_dir() / "models"


@pytest.fixture(scope="module")
def specs():
    return [load_model_spec(MODELS, name) for name in ("risk_gbm", "scorecard")]


def _prepared(frame, target, group=None):
    plan = plan_columns(frame, exclude={target, *([group] if group else [])})
    data = plan.transform(frame)
    for column in (target, group):
        if column:
            data[column] = frame[column].to_numpy()
    return plan, data


def test_binary_text_target_with_categories_gives_every_figure(zoo, specs):
    frame, target, _ = zoo.make_table("applications", n=600)
    plan, data = _prepared(frame, target)
    result = cross_validate_labels(
        data, plan.features, target, specs, directions={}, folds=3, seed=1,
        groups=None, categorical=plan.categorical, threshold=0.3,
    )  # fmt: skip
    assert result.kind == "binary"
    assert result.classes == ["good", "bad"]
    assert result.succeeded() == ["risk_gbm", "scorecard"]
    for figures in result.models.values():
        assert 0.6 < figures["auc"] <= 1.0
        assert len(figures["auc_folds"]) == 3
        assert figures["at_threshold"]["threshold"] == 0.3
        best = figures["best_f1"]
        assert 0 < best["f1"] <= 1
        assert 0 < best["threshold"] < 1
        assert best["f1"] >= figures["at_threshold"]["f1"] - 1e-12
        assert 0 < figures["average_precision"] <= 1
    oof = result.oof_frame(frame)
    assert len(oof) == 600
    assert {"row", "target", "level", "fold", "risk_gbm_proba",
            "risk_gbm_predicted", "scorecard_proba"} <= set(oof.columns)  # fmt: skip
    assert oof["fold"].nunique() == 3
    assert oof["risk_gbm_predicted"].eq(oof["risk_gbm_proba"].ge(0.3).astype(int)).all()


def test_agency_grades_merge_rare_levels_and_keep_firms_in_one_fold(zoo, specs):
    frame, target, options = zoo.make_table("agency_grades", n=1_200)
    plan, data = _prepared(frame, target, options["group"])
    result = cross_validate_labels(
        data, plan.features, target, specs[:1], directions={}, folds=3, seed=0,
        groups=options["group"], categorical=plan.categorical,
    )  # fmt: skip
    assert result.kind == "ordinal"
    assert result.encoding is not None
    assert result.encoding.merged
    assert all(c >= 3 for c in result.encoding.counts)
    folds_per_firm = (
        pd.Series(result.fold)
        .groupby(frame[options["group"]].to_numpy()[result.index])
        .nunique()
    )
    assert folds_per_firm.max() == 1
    figures = result.models["risk_gbm"]
    assert figures["qwk"] > 0.5
    assert len(figures["per_level"]) == len(result.classes)
    assert figures["worst_vs_rest"]["level"] == result.classes[-1]
    oof = result.oof_frame(frame, keys=["firm"])
    level_columns = [f"risk_gbm_p_{c}" for c in result.classes]
    np.testing.assert_allclose(oof[level_columns].sum(axis=1), 1.0, atol=1e-9)


def test_one_family_failing_leaves_the_others_figures(zoo, specs):
    frame, target, _ = zoo.make_table("narrow", n=400)
    broken = specs[0].model_copy(
        update={"name": "broken", "params": {**specs[0].params, "num_leaves": 1}}
    )
    result = cross_validate_labels(
        frame, ["a", "b"], target, [broken, specs[1]], directions={}, folds=3,
        groups=None,
    )  # fmt: skip
    assert result.succeeded() == ["scorecard"]
    assert "num_leaves" in result.models["broken"]["error"]
    assert result.models["scorecard"]["auc"] > 0.6
    assert "broken" not in result.predictions


def test_empty_and_constant_columns_do_not_stop_the_scorecard(specs):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=500), "empty": np.nan, "same": 2.0})
    frame["y"] = (frame["a"] + rng.logistic(size=500) > 1).astype(int)
    result = cross_validate_labels(
        frame, ["a", "empty", "same"], "y", specs, directions={}, folds=3,
        groups=None,
    )  # fmt: skip
    assert result.succeeded() == ["risk_gbm", "scorecard"]


def test_the_engine_matches_a_default_lightgbm_on_the_same_folds(zoo, specs):
    from lightgbm import LGBMClassifier
    from sklearn.metrics import roc_auc_score

    frame, target, _ = zoo.make_table("bankruptcy", n=2_500, p=24)
    plan, data = _prepared(frame, target)
    result = cross_validate_labels(
        data, plan.features, target, specs[:1], directions={}, folds=4, seed=0,
        groups=None,
    )  # fmt: skip
    x = data[plan.features]
    y = result.y
    plain = []
    for k in range(4):
        pred = result.fold == k
        model = LGBMClassifier(verbosity=-1, n_jobs=1).fit(x[~pred], y[~pred])
        plain.append(roc_auc_score(y[pred], model.predict_proba(x[pred])[:, 1]))
    engine = result.models["risk_gbm"]["auc_folds"]
    assert np.mean(engine) >= np.mean(plain) - 0.005, (engine, plain)


def test_the_best_family_rates_new_rows_with_the_levels_of_the_target(zoo, specs):
    frame, target, options = zoo.make_table("declared_order", n=500)
    plan, data = _prepared(frame, target)
    rated = fit_and_rate(
        data, plan.features, target, specs[0], plan.transform(frame.head(7)),
        directions={}, order=options["order"], keys=(),
    )  # fmt: skip
    assert list(rated.columns) == [
        "proba", "predicted", "p_low", "p_medium", "p_high",
    ]  # fmt: skip
    assert set(rated["predicted"]) <= {"low", "medium", "high"}
    assert rated["proba"].between(0, 2).all()
