"""Model specs load, are checked, and the shipped ones agree where they must."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from credit_engine.config import default_definitions_dir
from credit_engine.exceptions import ConfigurationError, DataContractError
from credit_engine.training import (
    load_model_spec,
    model_spec_names,
    out_of_time_mask,
    target_kind,
)

MODELS = default_definitions_dir() / "models"


def test_shipped_specs_load_and_share_label_scale_and_gates():
    assert model_spec_names(MODELS) == ["risk_gbm", "scorecard"]
    scorecard = load_model_spec(MODELS, "scorecard")
    gbm = load_model_spec(MODELS, "risk_gbm")
    assert (scorecard.family, gbm.family) == ("scorecard", "gbm")
    assert scorecard.label == gbm.label
    assert scorecard.master_scale == gbm.master_scale
    assert scorecard.gates == gbm.gates
    assert len(scorecard.master_scale.cumulative_shares) + 1 >= 7
    assert scorecard.fingerprint() != gbm.fingerprint()


def test_unknown_spec_lists_the_known_ones():
    with pytest.raises(ConfigurationError, match="Known specs: risk_gbm, scorecard"):
        load_model_spec(MODELS, "nope")


def test_invalid_spec_names_the_file_and_field(tmp_path: Path):
    folder = tmp_path / "broken"
    folder.mkdir()
    text = (MODELS / "scorecard" / "spec.yaml").read_text(encoding="utf-8")
    text = text.replace("name: scorecard", "name: broken").replace(
        "family: scorecard", "family: neural"
    )
    (folder / "spec.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"spec.yaml is not a valid.*family"):
        load_model_spec(tmp_path, "broken")


def test_spec_name_must_match_its_folder(tmp_path: Path):
    folder = tmp_path / "other"
    folder.mkdir()
    text = (MODELS / "scorecard" / "spec.yaml").read_text(encoding="utf-8")
    (folder / "spec.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must match its folder 'other'"):
        load_model_spec(tmp_path, "other")


def test_out_of_time_mask_needs_enough_dates():
    dates = pd.Series(pd.to_datetime(["2025-01-31", "2025-02-28", "2025-03-31"]))
    with pytest.raises(DataContractError, match="at least 5 rating dates"):
        out_of_time_mask(dates, 3)
    assert out_of_time_mask(dates, 1).tolist() == [False, False, True]


@pytest.mark.parametrize(
    ("values", "kind"),
    [([0, 1, 1, 0], "binary"), ([0, 1, 2, 3, 2], "ordinal")],
)
def test_target_kind(values, kind):
    assert target_kind(pd.Series(values)) == kind


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 1], "at least two classes"),
        ([0.5, 1.5], "non-integer numbers such as"),
    ],
)
def test_target_kind_rejects_bad_targets(values, message):
    with pytest.raises(DataContractError, match=message):
        target_kind(pd.Series(values))


def test_two_text_labels_are_a_binary_target():
    # evaluate on real tables: text targets are classes (issue 15), two of them
    # a binary target, more an ordinal one with a declared order.
    assert target_kind(pd.Series(["A", "B", "A"])) == "binary"


def test_label_conditions_are_checked_against_the_contract():
    from credit_engine.features import load_definitions
    from credit_engine.training import EventRule, LabelSpec, attach_labels

    definitions = load_definitions(default_definitions_dir())
    spec = LabelSpec(
        events=(EventRule(code="X", table="abnormal_list", when="no_such_col = 1"),)
    )
    with pytest.raises(ConfigurationError, match="label event 'X' when"):
        attach_labels(
            pd.DataFrame({"uscc": ["a"], "as_of": [pd.Timestamp("2025-01-31")]}),
            spec,
            contracts=definitions.contracts,
            sources=None,  # never reached: the rule fails its check first
        )
