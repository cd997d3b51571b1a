"""Fixtures of the monitoring tests: thresholds, a synthetic zone and its monitoring."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.monitoring import (
    ModelMonitoring,
    MonitoringThresholds,
    monitor_model,
)
from tests.unit.monitoring.synthetic import (
    Reference,
    Zone,
    make_reference,
    simulate_zone,
    thresholds,
)

DOUBLED_FROM = dt.date(2023, 6, 30)  # matured cohorts from here default twice as often
SHIFTED_FROM = dt.date(2024, 10, 31)  # immature cohorts: the population gets riskier


@pytest.fixture(scope="session")
def limits() -> MonitoringThresholds:
    return thresholds()


@pytest.fixture(scope="session")
def reference() -> Reference:
    return make_reference()


@pytest.fixture(scope="session")
def calibrated_zone(reference: Reference) -> Zone:
    return simulate_zone(reference)


def _monitor(
    zone: Zone, reference: Reference, limits: MonitoringThresholds
) -> ModelMonitoring:
    return monitor_model(
        zone.decisions,
        reference.reference,
        observation_end=zone.observation_end,
        thresholds=limits,
        seed=20260401,
        outcomes=zone.outcomes,
        features=zone.features,
    )


@pytest.fixture(scope="session")
def calibrated(
    calibrated_zone: Zone, reference: Reference, limits: MonitoringThresholds
) -> ModelMonitoring:
    return _monitor(calibrated_zone, reference, limits)


@pytest.fixture(scope="session")
def doubled_zone(reference: Reference) -> Zone:
    return simulate_zone(reference, dr_multiplier=2.0, multiplier_from=DOUBLED_FROM)


@pytest.fixture(scope="session")
def doubled(
    doubled_zone: Zone, reference: Reference, limits: MonitoringThresholds
) -> ModelMonitoring:
    return _monitor(doubled_zone, reference, limits)


@pytest.fixture(scope="session")
def shifted(reference: Reference, limits: MonitoringThresholds) -> ModelMonitoring:
    zone = simulate_zone(reference, shift=0.6, shift_from=SHIFTED_FROM)
    return _monitor(zone, reference, limits)
