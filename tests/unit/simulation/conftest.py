"""Zones simulated with and without scenarios, shared by the scenario tests.

The modules that use these fixtures share the ``scenarios`` xdist group, so each
zone is built once per run.
"""

from __future__ import annotations

import pytest

from tests.unit.simulation.scenario_zones import (
    CUSTOMS_DOWN,
    RING,
    SHOCK,
    TAX_BACKLOG,
    Zone,
    simulate,
)


@pytest.fixture(scope="session")
def base_zone(tmp_path_factory, contracts) -> Zone:
    return simulate(tmp_path_factory.mktemp("base_zone"), contracts, ())


@pytest.fixture(scope="session")
def outage_zone(tmp_path_factory, contracts) -> Zone:
    return simulate(
        tmp_path_factory.mktemp("outage_zone"), contracts, [CUSTOMS_DOWN, TAX_BACKLOG]
    )


@pytest.fixture(scope="session")
def stress_zone(tmp_path_factory, contracts) -> Zone:
    return simulate(tmp_path_factory.mktemp("stress_zone"), contracts, [SHOCK, RING])
