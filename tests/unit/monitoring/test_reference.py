from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import numpy as np
import pytest

from credit_engine.exceptions import ConfigurationError
from credit_engine.jsonable import to_jsonable
from credit_engine.monitoring import FeatureReference, ModelReference
from tests.unit.monitoring.synthetic import GRADES, Reference


def test_from_validation_json_maps_every_field(reference: Reference):
    v = reference.validation
    ref = reference.reference
    assert ref.model_name == v["model_name"]
    assert ref.grades == GRADES
    assert ref.grade_pd == tuple(g["pd"] for g in v["oot"]["calibration"]["grades"])
    assert ref.grade_shares_dev == tuple(
        v["dev"]["concentration"]["shares"][g] for g in GRADES
    )
    assert ref.score_edges[0] == -np.inf
    assert ref.score_edges[-1] == np.inf
    assert len(ref.score_shares_dev) == len(ref.score_edges)  # bins + missing
    assert ref.auc_initial == v["summary"]["auc"]
    assert ref.hhi_initial == v["oot"]["concentration"]["hhi"]
    assert ref.default_rate_initial == v["oot"]["discrimination"]["event_rate"]
    assert ref.horizon_days == 365
    assert ref.default_grade == "GD"
    assert ref.pd_of()["G1"] == ref.grade_pd[0]


def test_stored_feature_references_are_read_back(reference: Reference):
    v = json.loads(json.dumps(to_jsonable(reference.validation)))
    v["feature_references"] = [f.to_json_dict() for f in reference.reference.features]
    ref = ModelReference.from_validation_json(v, horizon_days=365)
    assert ref.features == reference.reference.features
    assert all(isinstance(f, FeatureReference) for f in ref.features)


def test_master_scale_overrides_the_grade_pds(reference: Reference):
    scale = {g: 0.01 * (i + 1) for i, g in enumerate(GRADES)} | {"GD": 1.0}
    ref = ModelReference.from_validation_json(
        reference.validation, horizon_days=365, master_scale=scale
    )
    assert ref.grades == GRADES
    assert ref.grade_pd[-1] == 0.07

    @dataclass(frozen=True)
    class Scale:  # the shape of modeling.MasterScale
        grades: tuple[str, ...]
        grade_pd: tuple[float, ...]

    ref = ModelReference.from_validation_json(
        reference.validation,
        horizon_days=365,
        master_scale=Scale(GRADES, tuple(0.02 * (i + 1) for i in range(7))),
    )
    assert ref.grade_pd[0] == 0.02


def test_missing_keys_and_inconsistent_values_are_refused(reference: Reference):
    v = copy.deepcopy(reference.validation)
    del v["stability"]
    with pytest.raises(ConfigurationError, match="lacks 'stability'"):
        ModelReference.from_validation_json(v, horizon_days=365)
    v = copy.deepcopy(reference.validation)
    v["stability"]["score_shares_dev"] = v["stability"]["score_shares_dev"][:-1]
    with pytest.raises(
        ConfigurationError, match=r"score_shares_dev needs \d+ bins \+ 1"
    ):
        ModelReference.from_validation_json(v, horizon_days=365)
    with pytest.raises(ConfigurationError, match="horizon_days=0 must be positive"):
        ModelReference.from_validation_json(reference.validation, horizon_days=0)
