"""A sector shock moves the sector at once and raises its adverse events after.

The stress zone shocks apparel from 2025-01-01 (odds x2.5, health -1.0) and
also runs a refund ring, whose members are left out of the rates here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.simulation._effects import ChunkEffects, ShockPart
from tests.unit.simulation.scenario_zones import SCENARIO_ZONE, SHOCK

pytestmark = pytest.mark.xdist_group("scenarios")

START = pd.Timestamp(SHOCK.start)
YEAR = pd.DateOffset(months=12)


def _rates(zone, exclude: set[str]) -> dict[tuple[str, bool], float]:
    """Share of active enterprises with an adverse event in the 12 months after
    each snapshot, for the shocked sector (True) and the others (False)."""
    sector = zone.truth("enterprises").set_index("uscc")["sector"]
    monthly = zone.truth("monthly")
    monthly["as_of"] = pd.to_datetime(monthly["as_of"])
    events = zone.truth("adverse_events")
    events["day"] = pd.to_datetime(events["effective_date"])
    out = {}
    for period, first in (
        ("before", pd.Timestamp(SCENARIO_ZONE.start)),
        ("after", START),
    ):
        as_of = first + pd.offsets.MonthEnd(0)
        snap = monthly[(monthly["as_of"] == as_of) & monthly["active"]]
        snap = snap[~snap["uscc"].isin(exclude)]
        hit = events[(events["day"] >= first) & (events["day"] < first + YEAR)]
        y = snap["uscc"].isin(hit["uscc"])
        shocked = snap["uscc"].map(sector).eq(SHOCK.sector)
        for flag in (True, False):
            out[(period, flag)] = float(y[shocked == flag].mean())
    return out


def test_the_shock_raises_the_sectors_adverse_rate_after_its_start(
    stress_zone, base_zone
):
    ring = set(stress_zone.truth("scenarios").query("kind == 'refund_ring'")["uscc"])
    rate = _rates(stress_zone, ring)
    assert rate[("after", True)] > 1.6 * rate[("before", True)], rate
    assert rate[("after", True)] > 1.6 * rate[("after", False)], rate
    unshocked = _rates(base_zone, ring)
    assert rate[("after", True)] > 1.6 * unshocked[("after", True)], (rate, unshocked)


def test_the_shock_moves_health_at_once_and_the_truth_does_not_anticipate_it(
    stress_zone,
):
    ring = set(stress_zone.truth("scenarios").query("kind == 'refund_ring'")["uscc"])
    sector = stress_zone.truth("enterprises").set_index("uscc")["sector"]
    monthly = stress_zone.truth("monthly")
    monthly = monthly[monthly["active"] & ~monthly["uscc"].isin(ring)]
    monthly["as_of"] = pd.to_datetime(monthly["as_of"])
    shocked = monthly["uscc"].map(sector).eq(SHOCK.sector).rename("shocked")
    means = monthly.groupby(["as_of", shocked])[["health", "p_adverse_12m"]].mean()
    before = means.loc[START - pd.Timedelta(days=1)]
    after = means.loc[START + pd.offsets.MonthEnd(0)]
    health_move = after["health"] - before["health"]
    assert -1.25 < health_move[True] - health_move[False] < -0.75, health_move
    truth_ratio_before = (
        before.loc[True, "p_adverse_12m"] / before.loc[False, "p_adverse_12m"]
    )
    truth_ratio_after = (
        after.loc[True, "p_adverse_12m"] / after.loc[False, "p_adverse_12m"]
    )
    assert truth_ratio_before < 1.3, "the truth anticipated a shock not yet started"
    assert truth_ratio_after > 1.6


def test_a_shock_is_known_ahead_only_once_it_has_started():
    hit = np.array([True, False, True])
    profile = np.r_[np.zeros(5), np.ones(19)]  # starts in month 5 of 12 (+12 ahead)
    effects = ChunkEffects(
        shocks=[ShockPart(first_month=5, hit=hit, health=-profile, log_odds=profile)]
    )
    assert effects.health_offset is not None
    assert effects.health_offset.shape == (3, 24)
    health, log_odds = effects.known_ahead(4, 12)
    assert not health.any()
    assert not log_odds.any()
    health, log_odds = effects.known_ahead(5, 12)
    assert (health[hit] == -1.0).all()
    assert not health[~hit].any()
    assert (log_odds[hit] == 1.0).all()


def test_the_truth_lists_every_enterprise_of_the_sector_with_the_start(stress_zone):
    listed = stress_zone.truth("scenarios").query("kind == 'sector_shock'")
    enterprises = stress_zone.truth("enterprises")
    sector = enterprises[enterprises["sector"] == SHOCK.sector]
    founded = pd.to_datetime(sector["established_date"]) <= pd.Timestamp(
        SCENARIO_ZONE.end
    )
    assert set(listed["uscc"]) == set(sector.loc[founded, "uscc"])
    assert set(listed["role"]) == {"SECTOR_ENTERPRISE"}
    assert (listed["start_date"] == SHOCK.start).all()
    assert listed["end_date"].isna().all()
