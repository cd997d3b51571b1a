from __future__ import annotations

import subprocess
import sys

import credit_engine.monitoring as monitoring


def test_import_is_cheap_and_side_effect_free():
    code = (
        "import sys, credit_engine.monitoring; "
        "heavy = [m for m in ('scipy', 'sklearn', 'matplotlib', 'jinja2', 'pandas', "
        "'yaml', 'mlflow', 'sqlalchemy') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""


def test_public_api_is_explicit_and_lives_in_the_package():
    expected = {
        "ModelReference",
        "FeatureReference",
        "build_feature_references",
        "MonitoringThresholds",
        "load_thresholds",
        "monitor_model",
        "monitor_overrides",
        "build_report",
        "MonitoringReport",
        "ModelMonitoring",
        "render_html",
        "write_report",
        "delong_auc",
        "expected_auc",
        "estimate_performance",
        "migration_stability_test",
        "hhi_change_test",
    }
    assert expected <= set(monitoring.__all__)
    assert len(set(monitoring.__all__)) == len(monitoring.__all__)
    for name in monitoring.__all__:
        obj = getattr(monitoring, name)
        module = getattr(obj, "__module__", "credit_engine.monitoring")
        if module not in ("typing", "builtins"):
            assert module.startswith("credit_engine.monitoring"), name
