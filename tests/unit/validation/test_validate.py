from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.validation import (
    GradeScale,
    ScoredSample,
    ValidationPolicy,
    freeze_bins,
    hhi,
    information_value,
    psi,
    validate_model,
)

SCALE = GradeScale(grades=("A", "B", "C", "D"), pd=(0.01, 0.02, 0.05, 0.10))


def make_sample(counts: dict[str, tuple[int, int]], *, seed: int = 0) -> ScoredSample:
    """Rows with exactly ``d`` defaults among ``n`` per grade; PD = grade PD."""
    rng = np.random.default_rng(seed)
    y, proba, grade = [], [], []
    for g, (n, d) in counts.items():
        y += [1] * d + [0] * (n - d)
        proba += [SCALE.pd_of(g)] * n
        grade += [g] * n
    order = rng.permutation(len(y))
    return ScoredSample(
        y=np.array(y)[order], proba=np.array(proba)[order], grade=np.array(grade)[order]
    )


def features_for(sample: ScoredSample, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"x": sample.proba + rng.normal(scale=0.01, size=sample.n_rows)}
    )


def run(dev: ScoredSample, oot: ScoredSample, **kwargs) -> object:
    return validate_model(
        model_name="m",
        dev=dev,
        oot=oot,
        scale=SCALE,
        features_dev=features_for(dev),
        features_oot=features_for(oot, 1),
        **kwargs,
    )


DEV = {"A": (1000, 10), "B": (1000, 20), "C": (600, 30), "D": (400, 40)}


def test_grade_far_above_its_pd_is_red_matching_is_green_empty_is_empty():
    oot = make_sample({"A": (1000, 10), "B": (1000, 60), "C": (0, 0), "D": (300, 30)})
    report = run(make_sample(DEV), oot)
    grades = {g.grade: g for g in report.oot.calibration.grades}
    assert grades["A"].colour == "green"
    assert grades["A"].binomial_colour == grades["A"].jeffreys_colour == "green"
    assert grades["B"].colour == "red"
    assert grades["B"].observed_rate == pytest.approx(0.06)
    assert grades["C"].colour == "empty"
    assert grades["C"].n == 0
    assert grades["C"].binomial_p is None
    assert report.oot.calibration.red_grades == ("B",)
    assert report.oot.calibration.hl_dof == 3
    summary = report.summary()
    assert summary["calibration"] == {
        "A": "green",
        "B": "red",
        "C": "empty",
        "D": "green",
    }
    assert summary["red_grades"] == ["B"]


def test_grade_colour_is_the_worst_of_the_two_tests():
    # 1000 rows, PD 1 %, 18 defaults: binomial p ~ 0.014 (amber), Jeffreys ~ 0.009.
    oot = make_sample(
        {"A": (1000, 18), "B": (1000, 20), "C": (600, 30), "D": (400, 40)}
    )
    grade = run(make_sample(DEV), oot).oot.calibration.grades[0]
    assert grade.binomial_colour == "amber"
    assert grade.jeffreys_colour == "red"
    assert grade.colour == "red"


def test_rank_ordering_break_is_detected_and_empty_grades_skipped():
    oot = make_sample({"A": (1000, 30), "B": (1000, 20), "C": (0, 0), "D": (400, 40)})
    ordering = run(make_sample(DEV), oot).oot.rank_ordering
    assert not ordering.monotone
    assert [(b.better_grade, b.worse_grade) for b in ordering.breaks] == [("A", "B")]
    assert ordering.breaks[0].better_rate == pytest.approx(0.03)
    fine = make_sample({"A": (1000, 10), "B": (1000, 20), "C": (0, 0), "D": (400, 40)})
    assert run(make_sample(DEV), fine).oot.rank_ordering.monotone


def test_concentration_flags_grades_over_the_limit():
    oot = make_sample({"A": (600, 6), "B": (200, 4), "C": (100, 5), "D": (100, 10)})
    conc = run(make_sample(DEV), oot).oot.concentration
    assert conc.shares == {"A": 0.6, "B": 0.2, "C": 0.1, "D": 0.1}
    assert conc.over_limit == ("A",)
    assert conc.max_share_grade == "A"
    assert conc.hhi == pytest.approx(0.36 + 0.04 + 0.01 + 0.01)
    strict = run(make_sample(DEV), oot, policy=ValidationPolicy(max_grade_share=0.15))
    assert strict.oot.concentration.over_limit == ("A", "B")


def test_calibrated_simulation(dev_data, oot_data, scale):
    report = validate_model(
        model_name="pd_model",
        dev=dev_data.sample,
        oot=oot_data.sample,
        scale=scale,
        features_dev=dev_data.features,
        features_oot=oot_data.features,
    )
    oot = report.oot
    assert 0.75 < oot.discrimination.auc < 0.85
    assert oot.discrimination.gini == pytest.approx(2 * oot.discrimination.auc - 1)
    assert oot.calibration.red_grades == ()
    assert oot.calibration.hl_colour != "red"
    assert report.stability.score_colour == "green"
    assert report.stability.grade_colour == "green"
    edges = freeze_bins(dev_data.sample.proba, 10)
    assert report.stability.score_edges == tuple(edges)
    assert report.stability.score_psi == pytest.approx(
        psi(dev_data.sample.proba, oot_data.sample.proba, edges)
    )
    shares = np.array(list(oot.concentration.shares.values()))
    assert oot.concentration.hhi == pytest.approx(hhi(shares))
    assert [f.feature for f in report.information_value][0] == "strong"
    assert report.information_value[0].iv == pytest.approx(
        information_value(
            dev_data.features["strong"].to_numpy(), dev_data.sample.y, n_bins=10
        )
    )
    assert {f.feature: f.kind for f in report.stability.features} == {
        "strong": "numeric",
        "noise": "numeric",
        "sector": "categorical",
    }
    assert all(f.colour == "green" for f in report.stability.features)
    assert [a.as_of for a in report.per_as_of] == [
        "2024-01-31",
        "2024-03-01",
        "2024-03-31",
    ]
    assert sum(a.rows for a in report.per_as_of) == oot.discrimination.rows


def test_a_shifted_population_turns_stability_red(dev_data, scale, simulate_rows):
    shifted = simulate_rows(3000, np.random.default_rng(7), shift=1.5)
    report = validate_model(
        model_name="m",
        dev=dev_data.sample,
        oot=shifted.sample,
        scale=scale,
        features_dev=dev_data.features,
        features_oot=shifted.features,
    )
    assert report.stability.score_colour == "red"
    assert report.stability.features[0].feature == "strong"
    assert report.stability.features[0].colour == "red"


def test_given_iv_and_stored_edges_are_used():
    dev = make_sample(DEV)
    edges = np.array([-np.inf, 0.015, 0.03, np.inf])
    report = run(
        dev, make_sample(DEV, seed=1), feature_iv={"x": 0.42}, score_edges=edges
    )
    assert report.stability.score_edges == (-np.inf, 0.015, 0.03, np.inf)
    [iv] = report.information_value
    assert (iv.feature, iv.iv, iv.band, iv.source) == ("x", 0.42, "strong", "given")


def test_single_class_sample_is_named():
    oot = make_sample({"A": (100, 0), "B": (100, 0), "C": (0, 0), "D": (0, 0)})
    with pytest.raises(ValueError, match="The oot sample holds only non-defaults"):
        run(make_sample(DEV), oot)


def test_grades_off_the_scale_are_named():
    dev = make_sample(DEV)
    bad = ScoredSample(
        y=dev.y, proba=dev.proba, grade=np.where(dev.grade == "D", "DD", dev.grade)
    )
    with pytest.raises(
        ValueError, match=r"dev sample has grades that are not on the scale: \[DD\]"
    ):
        run(bad, make_sample(DEV))


def test_feature_frames_must_match():
    dev = make_sample(DEV)
    with pytest.raises(
        ValueError, match=r"features_oot lacks \[y\] and has extra \[x\]"
    ):
        validate_model(
            model_name="m",
            dev=dev,
            oot=dev,
            scale=SCALE,
            features_dev=pd.DataFrame({"y": dev.proba}),
            features_oot=pd.DataFrame({"x": dev.proba}),
        )
    with pytest.raises(ValueError, match="features_dev has 3 rows but its sample has"):
        validate_model(
            model_name="m",
            dev=dev,
            oot=dev,
            scale=SCALE,
            features_dev=pd.DataFrame({"x": [1.0, 2.0, 3.0]}),
            features_oot=features_for(dev),
        )


def test_scored_sample_checks_its_arrays():
    with pytest.raises(ValueError, match=r"must hold only 0 and 1; got values \[2\]"):
        ScoredSample(
            y=np.array([0, 2]), proba=np.array([0.1, 0.2]), grade=np.array(["A", "A"])
        )
    with pytest.raises(ValueError, match=r"y.shape=\(2,\), proba.shape=\(3,\)"):
        ScoredSample(
            y=np.array([0, 1]),
            proba=np.array([0.1, 0.2, 0.3]),
            grade=np.array(["A", "A"]),
        )
    with pytest.raises(ValueError, match=r"proba must lie in \[0, 1\] without NaN"):
        ScoredSample(
            y=np.array([0, 1]), proba=np.array([0.1, 1.2]), grade=np.array(["A", "A"])
        )


def test_grade_scale_checks_its_pds():
    with pytest.raises(
        ValueError,
        match=r"increase from the best grade to the worst; got \[B=0.02 >= C=0.01\]",
    ):
        GradeScale(grades=("A", "B", "C"), pd=(0.01, 0.02, 0.01))
    with pytest.raises(ValueError, match="got 2 grades and 1 PDs"):
        GradeScale(grades=("A", "B"), pd=(0.01,))
