from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from credit_engine.exceptions import ConfigurationError
from credit_engine.monitoring import (
    MonitoringThresholds,
    load_thresholds,
    parse_thresholds,
)
from tests.unit.monitoring.synthetic import THRESHOLDS_PATH


def _raw() -> dict:
    return yaml.safe_load(THRESHOLDS_PATH.read_text(encoding="utf-8"))


def test_repository_file_loads_with_the_documented_values():
    t = load_thresholds(THRESHOLDS_PATH)
    assert isinstance(t, MonitoringThresholds)
    assert (t.tests.alpha_amber, t.tests.alpha_red) == (0.05, 0.01)
    assert (t.stability.psi_amber, t.stability.psi_red) == (0.10, 0.25)
    assert (t.overrides.rate_amber, t.overrides.rate_red) == (0.05, 0.10)
    assert t.status.challenger_cap == "amber"
    assert set(t.status.model_parts) == {
        "score_psi",
        "grade_psi",
        "csi",
        "backtest",
        "auc",
        "hhi",
        "migration",
        "estimated",
        "early_outcomes",
    }


def test_every_threshold_has_a_comment_on_its_source():
    lines = THRESHOLDS_PATH.read_text(encoding="utf-8").splitlines()
    values = [
        line
        for line in lines
        if line.startswith("  ") and ":" in line and not line.strip().startswith("#")
    ]
    assert values, "no threshold lines found"
    uncommented = [line for line in values if "#" not in line]
    assert uncommented == []


def test_validation_policy_carries_alphas_and_psi_bands():
    t = load_thresholds(THRESHOLDS_PATH)
    policy = t.validation_policy()
    assert (policy.alpha_amber, policy.alpha_red) == (0.05, 0.01)
    assert (policy.psi_monitor, policy.psi_significant) == (0.10, 0.25)


def test_unknown_key_is_refused_naming_file_and_field(tmp_path: Path):
    raw = _raw()
    raw["stability"]["psi_orange"] = 0.2
    path = tmp_path / "thresholds.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(
        ConfigurationError, match=r"thresholds\.yaml.*stability\.psi_orange"
    ):
        load_thresholds(path)


def test_wrong_type_is_refused_strictly():
    raw = _raw()
    raw["estimation"]["n_draws"] = "400"
    with pytest.raises(ConfigurationError, match=r"estimation\.n_draws.*'400'"):
        parse_thresholds(raw, source="x.yaml")


def test_out_of_order_thresholds_are_refused():
    raw = copy.deepcopy(_raw())
    raw["stability"]["psi_amber"], raw["stability"]["psi_red"] = 0.3, 0.2
    with pytest.raises(
        ConfigurationError, match=r"psi_amber=0\.3 must not exceed psi_red=0\.2"
    ):
        parse_thresholds(raw, source="x.yaml")


def test_missing_section_is_named():
    raw = _raw()
    del raw["overrides"]
    with pytest.raises(ConfigurationError, match=r"field 'overrides': Field required"):
        parse_thresholds(raw, source="x.yaml")


def test_unknown_model_part_and_repeats_are_refused():
    raw = _raw()
    raw["status"]["model_parts"] = ["score_psi", "vibes"]
    with pytest.raises(ConfigurationError, match=r"status\.model_parts\.1"):
        parse_thresholds(raw, source="x.yaml")
    raw["status"]["model_parts"] = ["score_psi", "score_psi"]
    with pytest.raises(ConfigurationError, match=r"more than once"):
        parse_thresholds(raw, source="x.yaml")


def test_missing_file_and_bad_yaml_say_which_file(tmp_path: Path):
    with pytest.raises(ConfigurationError, match=r"Cannot read .*nowhere\.yaml"):
        load_thresholds(tmp_path / "nowhere.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("tests: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.yaml is not valid YAML"):
        load_thresholds(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"expected a mapping"):
        load_thresholds(empty)
