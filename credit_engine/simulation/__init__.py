"""Synthetic cross-border e-commerce zone: the engine's embedded default data.

No real department data is public, so the engine ships a simulator whose
enterprises are driven by documented latent drivers (compliance, financial
health, size, sector, trade-mode mix) consistently across customs, tax, forex
and market regulation. Named scenarios (a sector shock, a feed outage, a refund
ring) change the zone from a date. See ``docs/simulator.md`` for the generative
model and the scenarios.
"""

from __future__ import annotations

from credit_engine.simulation._accounting import KindCheck, ZoneAudit, audit_ingestion
from credit_engine.simulation._dirty import DIRTY_KINDS, EXPECTED_REASON
from credit_engine.simulation._plan import SCENARIO_TRUTH_SCHEMA
from credit_engine.simulation._scenarios import (
    SCENARIO_KINDS,
    FeedOutage,
    RefundRing,
    Scenario,
    SectorShock,
    load_scenario,
    parse_scenario,
    scenario_names,
)
from credit_engine.simulation._zone import (
    CHUNK_SIZE,
    SimulationConfig,
    SimulationSummary,
    simulate_zone,
)

__all__ = [
    "CHUNK_SIZE",
    "DIRTY_KINDS",
    "EXPECTED_REASON",
    "SCENARIO_KINDS",
    "SCENARIO_TRUTH_SCHEMA",
    "FeedOutage",
    "KindCheck",
    "RefundRing",
    "Scenario",
    "SectorShock",
    "SimulationConfig",
    "SimulationSummary",
    "ZoneAudit",
    "audit_ingestion",
    "load_scenario",
    "parse_scenario",
    "scenario_names",
    "simulate_zone",
]
