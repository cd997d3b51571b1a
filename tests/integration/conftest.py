"""Fixtures shared by the integration tests that need a promoted champion."""

from __future__ import annotations

import pytest

from credit_engine.config import Settings
from tests.engine_parity import home_with_champion


@pytest.fixture(scope="session")
def champion_home(ingested_zone, tmp_path_factory) -> Settings:
    """An engine home with the small zone's lake and a promoted risk champion.

    Session-scoped: the modules that use it share the ``rating`` xdist group, so
    the model is trained once per worker.
    """
    source, _ = ingested_zone
    home = tmp_path_factory.mktemp("champion_home")
    return home_with_champion(source, home, min_child_samples=40)


@pytest.fixture(scope="session")
def spark_champion_home(spark_ingested_zone, tmp_path_factory) -> Settings:
    """The Spark zone's lake with a promoted risk champion (``spark`` group only)."""
    source, _ = spark_ingested_zone
    home = tmp_path_factory.mktemp("spark_champion_home")
    return home_with_champion(source, home, min_child_samples=10)
