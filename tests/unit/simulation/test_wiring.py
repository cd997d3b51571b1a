"""Wiring of the month loop: typed state, handler tables checked when built."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from credit_engine.simulation import _consequences, _triggers
from credit_engine.simulation import _hazards as hz
from credit_engine.simulation import _reference as ref
from credit_engine.simulation._calendar import MonthGrid
from credit_engine.simulation._dynamics import ChunkDynamics
from credit_engine.simulation._events import EVENT_SCHEMAS, EventLogs
from credit_engine.simulation._population import draw_population
from credit_engine.simulation._spells import DUE_KINDS, Schedule, StateTables
from credit_engine.simulation._state import MonthArrays


@pytest.fixture
def dynamics() -> ChunkDynamics:
    grid = MonthGrid.between(dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    pop = draw_population(40, grid, np.random.default_rng(0))
    shocks = np.zeros((len(ref.SECTORS), grid.n_months))
    return ChunkDynamics(pop, grid, shocks, np.random.default_rng(1))


def test_processes_share_one_chunk_state(dynamics):
    chunk = dynamics.chunk
    assert dynamics.annual.d is chunk
    assert dynamics.triggers.d is chunk
    assert dynamics.truth.d is chunk
    assert dynamics.consequences.d is chunk
    assert dynamics.truth.triggers is dynamics.triggers
    assert dynamics.consequences.annual is dynamics.annual
    assert dynamics.triggers.st is dynamics.statutory
    assert dynamics.consequences.st is dynamics.statutory


def test_every_scheduled_kind_and_channel_has_a_handler(dynamics):
    assert set(dynamics.consequences._handlers) == set(DUE_KINDS)
    channels = {c.name for c in hz.MONTHLY_CHANNELS}
    assert set(dynamics.triggers._handlers) == channels


def test_a_scheduled_kind_without_handler_fails_at_construction(dynamics, monkeypatch):
    monkeypatch.setattr(_consequences, "DUE_KINDS", (*DUE_KINDS, "audit_visit"))
    with pytest.raises(RuntimeError, match=r"without a handler: \['audit_visit'\]"):
        _consequences.Consequences(dynamics.chunk, dynamics.statutory, dynamics.annual)


def test_a_channel_without_handler_fails_at_construction(dynamics, monkeypatch):
    extra = hz.Channel("customs_fraud", -9.0, 1.0, 1.0)
    monkeypatch.setattr(hz, "MONTHLY_CHANNELS", (*hz.MONTHLY_CHANNELS, extra))
    with pytest.raises(RuntimeError, match=r"trigger handler: \['customs_fraud'\]"):
        _triggers.Triggers(dynamics.chunk, dynamics.statutory)


def test_event_logs_have_one_field_per_schema():
    logs = EventLogs.empty()
    names = [f.name for f in dataclasses.fields(logs)]
    assert sorted(names) == sorted(EVENT_SCHEMAS)
    for name in names:
        assert getattr(logs, name).schema == EVENT_SCHEMAS[name]


def test_run_hands_on_month_arrays_spells_and_logs(dynamics):
    months = dynamics.chunk.months
    result = dynamics.run()
    for f in dataclasses.fields(MonthArrays):
        assert getattr(result, f.name) is getattr(months, f.name)
    assert isinstance(result.spells, StateTables)
    assert result.logs is dynamics.chunk.logs
    assert result.major_day is dynamics.statutory.major_day
    assert result.exists.shape == (40, 12)


def test_schedule_returns_due_kinds_in_alphabetical_order():
    schedule = Schedule()
    one = np.array([0])
    schedule.add("tax_status", one, np.array([5]), status=np.array([1]))
    schedule.add("recover", one, np.array([3]))
    schedule.add("abnormal_escalate", one, np.array([9]), gen=np.array([0]))
    due = schedule.pop_until(6)
    assert list(due) == ["recover", "tax_status"]
    assert list(schedule.pop_until(9)) == ["abnormal_escalate"]
