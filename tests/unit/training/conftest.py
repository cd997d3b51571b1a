"""The zoo of plain tables (``benchmarks/_zoo.py``) for the ``evaluate`` tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

_ZOO = Path(__file__).resolve().parents[3] / "benchmarks" / "_zoo.py"


def _load_zoo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("credit_engine_zoo", _ZOO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def zoo() -> ModuleType:
    """The zoo module: ``zoo.make_table(name, **kwargs)``, ``zoo.TABLES``."""
    return _load_zoo()
