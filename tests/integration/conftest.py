"""Fixtures shared by the integration tests that need a promoted champion."""

from __future__ import annotations

import pytest

from credit_engine.config import Settings
from tests.monitoring_scenarios import RISK_MODEL, TRAIN_DATES, build_home

__all__ = ["RISK_MODEL", "TRAIN_DATES"]


@pytest.fixture(scope="session")
def champion_home(ingested_zone, tmp_path_factory) -> Settings:
    """An engine home with the small zone's lake and a promoted risk champion.

    Built by :func:`tests.monitoring_scenarios.build_home`: the feature snapshot
    at :data:`TRAIN_DATES`, the risk spec with ``min_child_samples`` 40, and a
    forced promotion (600 enterprises make thin grades; the gates are tested
    elsewhere). Session-scoped: the modules that use it share the ``rating``
    xdist group, so the model is trained once per worker.
    """
    source, _ = ingested_zone
    return build_home(
        source,
        tmp_path_factory.mktemp("champion_home"),
        reason="integration tests",
        actor="tester",
    )
