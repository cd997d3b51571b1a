"""Promotion gates come from the logged spec only; no silent fallback thresholds."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from credit_engine.exceptions import CreditEngineError
from credit_engine.registry._promote import _gates_of


def _run(params):
    return SimpleNamespace(
        data=SimpleNamespace(params=params), info=SimpleNamespace(run_id="r1")
    )


def test_gates_are_read_from_the_run():
    gates = {"min_auc": 0.7, "max_psi": 0.25, "max_auc_drop": 0.01}
    assert _gates_of(_run({"gates": json.dumps(gates)})) == gates


def test_a_run_without_gates_cannot_be_promoted():
    with pytest.raises(CreditEngineError, match="logged no 'gates' parameter"):
        _gates_of(_run({}))


# ------------------------------------------------------ min_shadow_days gate
def test_the_shadow_gate_is_off_at_zero_days():
    from credit_engine.registry._promote import shadow_gate

    gate = shadow_gate(0, None, "2")
    assert gate.gate == "min_shadow_days"
    assert gate.passed
    assert gate.detail == "off (min_shadow_days: 0)"


def test_the_shadow_gate_needs_the_span_of_the_shadow_runs():
    import datetime as dt

    from credit_engine.registry import ShadowPeriod
    from credit_engine.registry._promote import shadow_gate

    quarter = ShadowPeriod(4, dt.date(2026, 1, 31), dt.date(2026, 4, 30))
    assert quarter.days == 89
    assert shadow_gate(89, quarter, "3").passed
    refused = shadow_gate(90, quarter, "3")
    assert not refused.passed
    assert refused.detail == (
        "v3 has 4 shadow run(s), 2026-01-31 to 2026-04-30: 89 days vs 90 required"
    )
    none = shadow_gate(30, ShadowPeriod(0, None, None), "3")
    assert not none.passed
    assert "has no shadow run; 30 days required" in none.detail
    unread = shadow_gate(30, None, "3")
    assert not unread.passed
    assert "shadow runs were not read" in unread.detail


def test_the_spec_gate_defaults_to_off_and_refuses_negative_days():
    from pydantic import ValidationError

    from credit_engine.training import GateSpec

    assert GateSpec().min_shadow_days == 0
    assert GateSpec(min_shadow_days=90).model_dump()["min_shadow_days"] == 90
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        GateSpec(min_shadow_days=-1)


def test_monitoring_metrics_keep_numbers_only():
    from credit_engine.registry._monitoring import _logged_model_id, _metrics

    entry = {
        "score_psi": {"value": 0.12},
        "grade_psi": {"value": None},
        "auc_initial": 0.8,
        "auc_current": float("nan"),
        "auc_change_p": True,
        "hhi": {"current": 0.16},
        "status": "amber",
    }
    assert _metrics(entry) == {
        "score_psi": 0.12,
        "auc_initial": 0.8,
        "hhi": 0.16,
        "status_code": 1.0,
    }
    assert _logged_model_id(SimpleNamespace(model_id="m-1", source="x")) == "m-1"
    assert (
        _logged_model_id(SimpleNamespace(model_id=None, source="models:/m-abc"))
        == "m-abc"
    )
    run_source = SimpleNamespace(model_id=None, source="runs:/r/model")
    assert _logged_model_id(run_source) is None
