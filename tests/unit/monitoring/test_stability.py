from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from credit_engine.exceptions import ConfigurationError
from credit_engine.monitoring import (
    FeatureReference,
    MonitoringThresholds,
    bin_shares,
    build_feature_references,
    feature_csi,
    feature_stability,
    parse_thresholds,
    psi_from_shares,
)
from credit_engine.validation import freeze_bins, psi, psi_categorical
from tests.unit.monitoring.synthetic import thresholds


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


def test_psi_from_shares_matches_the_validation_psi_on_raw_values(rng):
    dev = rng.normal(size=5000)
    dev[rng.random(5000) < 0.03] = np.nan
    now = rng.normal(loc=0.3, size=4000)
    now[rng.random(4000) < 0.10] = np.nan
    edges = freeze_bins(dev, 10)
    expected = psi(dev, now, edges)
    got = psi_from_shares(bin_shares(dev, edges), bin_shares(now, edges))
    assert got == pytest.approx(expected, rel=1e-12)


def test_psi_from_shares_known_value_and_errors():
    # (0.5, 0.5) -> (0.75, 0.25): 0.25 ln 1.5 - 0.25 ln 0.5 = 0.25 ln 3
    assert psi_from_shares([1, 1], [3, 1]) == pytest.approx(0.25 * np.log(3))
    assert psi_from_shares([0.2, 0.8], [0.2, 0.8]) == 0.0
    with pytest.raises(ValueError, match="same length"):
        psi_from_shares([0.5, 0.5], [1.0])
    with pytest.raises(ValueError, match="non-negative with a positive sum"):
        psi_from_shares([0.0, 0.0], [0.5, 0.5])


def test_bin_shares_puts_outside_values_in_outer_bins_and_nan_last():
    shares = bin_shares([-100.0, 0.0, 1.0, 100.0, np.nan], [-np.inf, 0.5, np.inf])
    assert shares.tolist() == [0.4, 0.4, 0.2]


def test_numeric_csi_counts_missing_as_its_own_bin(rng):
    dev = pd.DataFrame({"x": rng.normal(size=2000)})
    dev.loc[dev.sample(frac=0.05, random_state=1).index, "x"] = np.nan
    (ref,) = build_feature_references(dev, n_bins=10)
    same, missing_now = feature_csi(dev["x"], ref)
    assert same == pytest.approx(0.0, abs=1e-12)
    assert missing_now == pytest.approx(0.05)
    # the same values, but a third of them now missing: CSI sees it
    now = dev["x"].copy()
    now.iloc[:700] = np.nan
    csi, missing_now = feature_csi(now, ref)
    edges = np.asarray(ref.edges)
    assert csi == pytest.approx(psi(dev["x"].to_numpy(), now.to_numpy(), edges))
    assert csi > 0.25


def test_categorical_csi_puts_unseen_labels_in_other_and_missing_apart():
    dev = pd.DataFrame({"c": ["a"] * 50 + ["b"] * 40 + [None] * 10})
    (ref,) = build_feature_references(dev, n_bins=10)
    assert ref.kind == "categorical"
    assert ref.categories == ("a", "b")
    assert ref.shares_dev == (0.5, 0.4)
    assert ref.missing_share_dev == pytest.approx(0.1)
    now = pd.Series(["a"] * 50 + ["z"] * 40 + [None] * 10)
    csi, missing_now = feature_csi(now, ref)
    expected = psi_from_shares([0.5, 0.4, 0.0, 0.1], [0.5, 0.0, 0.4, 0.1])
    assert csi == pytest.approx(expected)
    assert missing_now == pytest.approx(0.1)
    # the validation pack's categorical PSI lumps missing and unseen together;
    # with neither present both agree
    clean = pd.Series(["a"] * 60 + ["b"] * 40)
    csi_clean, _ = feature_csi(
        clean,
        FeatureReference.categorical(
            "c", categories=("a", "b"), shares_dev=(0.5, 0.5), missing_share_dev=0.0
        ),
    )
    assert csi_clean == pytest.approx(
        psi_categorical(["a", "b"], clean.tolist(), categories=["a", "b"])
    )


def test_booleans_are_categorical():
    (ref,) = build_feature_references(
        pd.DataFrame({"flag": [True, False, True, True]}), n_bins=4
    )
    assert ref.kind == "categorical"
    assert ref.categories == ("False", "True")


def test_feature_reference_json_round_trip_and_checks(rng):
    frame = pd.DataFrame({"x": rng.normal(size=100), "c": rng.choice(["p", "q"], 100)})
    refs = build_feature_references(frame, n_bins=5)
    for ref in refs:
        data = ref.to_json_dict()
        assert FeatureReference.from_json_dict(data) == ref
    assert refs[0].to_json_dict()["edges"][0] == "-inf"
    with pytest.raises(ValueError, match="sum to"):
        FeatureReference.numeric(
            "x", edges=(-np.inf, np.inf), shares_dev=(0.5,), missing_share_dev=0.0
        )
    with pytest.raises(ValueError, match="2 shares for 1 bins"):
        FeatureReference.numeric(
            "x", edges=(-np.inf, np.inf), shares_dev=(0.5, 0.5), missing_share_dev=0.0
        )
    with pytest.raises(ConfigurationError, match="lacks the key 'kind'"):
        FeatureReference.from_json_dict({"name": "x"})
    with pytest.raises(ValueError, match=r"Columns \['nope'\]"):
        build_feature_references(frame, n_bins=5, columns=["nope"])


def test_numeric_reference_meets_text_column():
    ref = FeatureReference.numeric(
        "x", edges=(-np.inf, 0.0, np.inf), shares_dev=(0.5, 0.5), missing_share_dev=0.0
    )
    with pytest.raises(ValueError, match="numeric in development but has dtype"):
        feature_csi(pd.Series(["a", "b"]), ref)


def test_feature_stability_counts_red_features_and_missing_columns(rng):
    n = 3000
    dev = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(4)})
    refs = build_feature_references(dev, n_bins=10)
    now = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(4)})
    t = thresholds()
    result = feature_stability(now, refs, t, as_of=dt.date(2025, 1, 31))
    assert result.light == "green"
    assert result.red_features == ()
    now["f0"] = now["f0"] + 2.0  # one red feature: amber
    assert feature_stability(now, refs, t).light == "amber"
    now["f1"] = now["f1"] + 2.0
    now = now.drop(columns=["f3"])  # absent counts as red: three red -> red
    result = feature_stability(now, refs, t)
    assert result.light == "red"
    assert result.missing_columns == ("f3",)
    assert set(result.red_features) == {"f0", "f1", "f3"}
    assert [f.feature for f in result.features][:2] in (["f0", "f1"], ["f1", "f0"])


def _with_rules(rules: dict) -> MonitoringThresholds:
    raw = thresholds().model_dump()
    raw["status"]["model_parts"] = list(raw["status"]["model_parts"])
    raw["csi_features"] = rules
    return parse_thresholds(raw, source="test")


def test_a_feature_drifting_by_construction_is_shown_but_not_counted(rng):
    n = 3000
    dev = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(3)})
    dev["days_registered"] = rng.uniform(0, 700, size=n)
    refs = build_feature_references(dev, n_bins=10)
    now = pd.DataFrame({f"f{i}": rng.normal(size=n) for i in range(3)})
    now["days_registered"] = dev["days_registered"] + 365  # a year older
    plain = feature_stability(now, refs, thresholds())
    assert plain.red_features == ("days_registered",)
    assert plain.light == "amber"
    reason = "a days counter bounded by the lake's history: it grows with time"
    rules = _with_rules(
        {"days_registered": {"treatment": "informational", "reason": reason}}
    )
    shown = feature_stability(now, refs, rules)
    assert shown.light == "green"
    assert (shown.red_features, shown.amber_features) == ((), ())
    (info,) = shown.informational
    assert (info.feature, info.light, info.counted, info.reason) == (
        "days_registered", "red", False, reason,
    )  # fmt: skip
    assert info.csi == pytest.approx(plain.features[0].csi)
    # Another feature still colours the model.
    now["f0"] = now["f0"] + 2.0
    assert feature_stability(now, refs, rules).red_features == ("f0",)
    # Excluded: not computed at all, listed with the reason, even when absent.
    rules = _with_rules({"days_registered": {"treatment": "exclude", "reason": reason}})
    gone = feature_stability(now.drop(columns=["days_registered"]), refs, rules)
    assert "days_registered" not in {f.feature for f in gone.features}
    assert gone.missing_columns == ()
    assert gone.excluded == {"days_registered": reason}
    assert gone.red_features == ("f0",)


def test_a_csi_feature_rule_needs_a_known_treatment_and_a_reason():
    with pytest.raises(ConfigurationError, match="treatment"):
        _with_rules({"x": {"treatment": "rank", "reason": "some reason given"}})
    with pytest.raises(ConfigurationError, match="reason"):
        _with_rules({"x": {"treatment": "exclude"}})
    with pytest.raises(ConfigurationError, match="reason"):
        _with_rules({"x": {"treatment": "exclude", "reason": "short"}})


def test_the_shipped_csi_rules_name_features_of_the_models_feature_set():
    from credit_engine.config import default_definitions_dir
    from credit_engine.features import load_definitions

    rules = thresholds().csi_features
    assert rules, "the thresholds file lists the features drifting by construction"
    resolved = load_definitions(default_definitions_dir()).resolve("credit_v1")
    names = {f.name for f in resolved.outputs}
    assert set(rules) <= names
    assert all(len(r.reason) > 40 for r in rules.values())
