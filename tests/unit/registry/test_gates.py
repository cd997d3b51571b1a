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
