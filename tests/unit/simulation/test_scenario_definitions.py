"""Scenario definitions: shipped files, strict validation, clear errors, determinism."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from credit_engine.config import default_definitions_dir
from credit_engine.exceptions import ConfigurationError, SimulationError
from credit_engine.simulation import (
    SCENARIO_KINDS,
    FeedOutage,
    RefundRing,
    SectorShock,
    SimulationConfig,
    load_scenario,
    parse_scenario,
    scenario_names,
    simulate_zone,
)
from credit_engine.simulation._calendar import MonthGrid
from credit_engine.simulation._plan import ScenarioPlan
from credit_engine.simulation._population import draw_population

SHOCK = {
    "kind": "sector_shock",
    "description": "d",
    "sector": "apparel",
    "start": "2025-05-01",
    "hazard_multiplier": 2.0,
}


def _error(raw: object) -> str:
    with pytest.raises(ConfigurationError, match="Invalid scenario") as info:
        parse_scenario(raw, where="test.yaml")
    return str(info.value)


def test_every_shipped_scenario_loads_and_every_kind_is_shipped():
    names = scenario_names(default_definitions_dir())
    assert {"sector_shock", "feed_outage_customs", "refund_ring"} <= set(names)
    loaded = [load_scenario(name) for name in names]
    assert [s.name for s in loaded] == names
    assert {s.kind for s in loaded} == set(SCENARIO_KINDS)
    for scenario in loaded:
        assert len(scenario.description) > 80, scenario.name


def test_a_file_path_loads_and_its_stem_names_the_scenario(tmp_path):
    path = tmp_path / "my_shock.yaml"
    path.write_text(yaml.safe_dump(SHOCK))
    shock = load_scenario(str(path))
    assert isinstance(shock, SectorShock)
    assert (shock.name, shock.start) == ("my_shock", dt.date(2025, 5, 1))
    named = load_scenario(path, definitions_dir=tmp_path)
    assert named == shock


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([1, 2], "expected a YAML mapping with a 'kind', got list"),
        ({"description": "d"}, "'kind' must be one of ['sector_shock', 'feed_"),
        ({**SHOCK, "kind": "meteor"}, "got 'meteor'"),
        ({**SHOCK, "secter": "apparel"}, "secter: Extra inputs are not permitted"),
        ({**SHOCK, "sector": "cars"}, "unknown sector 'cars'; expected one of"),
        ({**SHOCK, "hazard_multiplier": 1.0}, "needs hazard_multiplier != 1"),
        ({**SHOCK, "hazard_multiplier": "2"}, "hazard_multiplier: Input should be"),
        ({**SHOCK, "start": "2025-02-30"}, "start: Input should be a valid date"),
        ({k: v for k, v in SHOCK.items() if k != "description"}, "description: Field"),
        (
            {"kind": "feed_outage", "description": "d", "start": "2025-01-01"},
            "give exactly one of 'department'",
        ),
        (
            {"kind": "feed_outage", "description": "d", "start": "2025-01-01",
             "department": "FX"},
            "department: Input should be 'CUSTOMS', 'TAX', 'SAFE' or 'SAMR'",
        ),
        (
            {"kind": "feed_outage", "description": "d", "start": "2025-03-01",
             "end": "2025-02-01", "tables": ["vat_invoice"]},
            "end (2025-02-01) must be after start (2025-03-01)",
        ),
        (
            {"kind": "refund_ring", "description": "d", "start": "2025-01-01",
             "size": 5, "new_shells": 6},
            "new_shells (6) cannot exceed size (5)",
        ),
        (
            {"kind": "refund_ring", "description": "d", "start": "2025-01-01",
             "detection_days": [200, 100]},
            "detection_days must be [low, high] days with 0 <= low <= high",
        ),
        (
            {"kind": "refund_ring", "description": "d", "start": "2025-01-01",
             "size": "60"},
            "size: Input should be a valid integer",
        ),
        (
            {"kind": "refund_ring", "description": "d", "start": "2025-01-01",
             "round_trip": [0.9, 0.5]},
            "round_trip must be [low, high]",
        ),
    ],
)  # fmt: skip
def test_invalid_scenarios_are_refused_with_what_is_wrong(raw, message):
    text = _error(raw)
    assert message in text
    assert "test.yaml" in text


def test_an_unknown_name_lists_the_shipped_scenarios():
    with pytest.raises(ConfigurationError, match="No scenario named 'tsunami'") as info:
        load_scenario("tsunami")
    assert "refund_ring" in str(info.value)
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_scenario("missing/file.yaml")


# ---------------------------------------------------------------- plan errors
GRID = MonthGrid.between(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture(scope="module")
def population():
    return draw_population(800, GRID, np.random.default_rng(0))


def _plan(scenarios, population, contracts):
    return ScenarioPlan(scenarios, population, GRID, 3, contracts)


def _outage(name: str, start: str, end: str | None, **target) -> FeedOutage:
    return FeedOutage(
        kind="feed_outage", name=name, description="d", start=start, end=end, **target
    )


@pytest.mark.parametrize(
    ("scenarios", "message"),
    [
        (
            [SectorShock(**{**SHOCK, "start": "2026-03-01"})],
            "starts on 2026-03-01, outside the simulated window 2025-01-01 - 2025-12",
        ),
        (
            [SectorShock(**SHOCK), SectorShock(**{**SHOCK, "sector": "beauty"})],
            "scenario names must be unique, got ['sector_shock']",
        ),
        (
            [_outage("a", "2025-05-01", None, tables=["vat_invoices"])],
            "names unknown tables ['vat_invoices']",
        ),
        (
            [_outage("a", "2025-05-01", "2025-07-01", department="TAX"),
             _outage("b", "2025-06-01", None, tables=["tax_filing"])],
            "feed outages 'a' and 'b' both stop table 'tax_filing'",
        ),
        (
            [RefundRing(kind="refund_ring", name="r1", description="d",
                        start="2025-06-01", size=4, new_shells=0),
             RefundRing(kind="refund_ring", name="r2", description="d",
                        start="2025-06-01", size=4, new_shells=0)],
            "one refund ring per simulation, got ['r1', 'r2']",
        ),
        (
            [RefundRing(kind="refund_ring", description="d", start="2025-06-01",
                        size=5_000)],
            "needs 4992 established and 8 new refund-capable exporters",
        ),
    ],
)  # fmt: skip
def test_scenarios_that_do_not_fit_the_zone_are_refused(
    scenarios, message, population, contracts
):
    with pytest.raises(SimulationError, match=re.escape(message)):
        _plan(scenarios, population, contracts)


def test_a_department_outage_covers_exactly_its_tables(population, contracts):
    plan = _plan([_outage("x", "2025-05-01", None, department="SAFE")], population,
                 contracts)  # fmt: skip
    stopped = {t for t in contracts if plan.outages_of(t)}
    assert stopped == {"fx_transaction", "safe_classification"}


def test_the_ring_draws_refund_capable_members_and_orders_their_days(
    population, contracts
):
    ring = RefundRing(kind="refund_ring", description="d", start="2025-06-01",
                      size=20, new_shells=3)  # fmt: skip
    plan = _plan([ring], population, contracts)
    drawn = plan.ring
    assert drawn is not None
    assert len(set(drawn.members)) == 20
    assert drawn.shell.sum() == 3
    assert population.general_taxpayer[drawn.members].all()
    assert not population.refund_fraud[drawn.members].any()
    days = drawn.days
    start = (dt.date(2025, 6, 1) - dt.date(1970, 1, 1)).days
    assert (days["scheme"] >= start).all()
    assert (days["scheme"] <= start + 30).all()
    assert (days["change"] - days["scheme"] <= 90).all()
    found = days["detect"] > 0
    assert (days["detect"][found] - days["surge"][found] >= 90).all()
    again = _plan([ring], population, contracts).ring
    assert again is not None
    assert (again.members == drawn.members).all()


# -------------------------------------------------------------- determinism
def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}  # fmt: skip


def test_same_seed_and_scenarios_give_byte_identical_files(tmp_path, contracts):
    config = SimulationConfig(
        enterprises=400, start="2025-01-01", end="2025-12-31", seed=5
    )
    scenarios = [
        SectorShock(**{**SHOCK, "start": "2025-04-01"}),
        _outage("feed", "2025-10-01", "2025-11-15", department="SAMR"),
        RefundRing(kind="refund_ring", description="d", start="2025-03-01",
                   size=8, new_shells=0),
    ]  # fmt: skip
    runs = [
        simulate_zone(config, contracts, tmp_path / x / "r", tmp_path / x / "t",
                      scenarios=scenarios)
        for x in ("a", "b")
    ]  # fmt: skip
    assert _digest(runs[0].out_dir) == _digest(runs[1].out_dir)
    assert _digest(runs[0].truth_dir) == _digest(runs[1].truth_dir)
    assert "scenarios.parquet" in _digest(runs[0].truth_dir)
    assert runs[0].scenarios["refund_ring"] == {"members": 8}
    assert runs[0].scenarios["sector_shock"]["enterprises"] > 0
    assert set(runs[0].scenarios["feed"]) == {"records_withheld", "records_delayed"}
