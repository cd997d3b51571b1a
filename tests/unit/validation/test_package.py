from __future__ import annotations

import subprocess
import sys

import credit_engine.validation as validation


def test_import_is_cheap_and_side_effect_free():
    code = (
        "import sys, credit_engine.validation; "
        "heavy = [m for m in ('scipy', 'sklearn', 'matplotlib', 'jinja2', 'pandas', "
        "'mlflow') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""


def test_public_api_is_explicit():
    expected = {
        "ValidationPolicy",
        "ScoredSample",
        "GradeScale",
        "ValidationReport",
        "freeze_bins",
        "psi",
        "psi_categorical",
        "ks_statistic",
        "information_value",
        "hhi",
        "normalised_hhi",
        "binomial_test",
        "jeffreys_test",
        "hosmer_lemeshow",
        "traffic_light",
        "validate_model",
    }
    assert expected <= set(validation.__all__)
    for name in validation.__all__:
        obj = getattr(validation, name)
        module = getattr(obj, "__module__", "credit_engine.validation")
        if module != "typing":  # Literal aliases
            assert module.startswith("credit_engine.validation"), name
