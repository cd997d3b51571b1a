"""Latent truth: each enterprise's probability of an adverse event in 12 months.

At every month end ``as_of`` the truth is

    p = 1 - (1 - scheduled) * prod_k prod_channels (1 - lambda_channel(as_of + k))

where ``lambda`` are the channel hazards of :mod:`_hazards` evaluated on the
expected path of financial health (the AR(1) mean reversion), for the months
k = 1..12 after ``as_of`` while the enterprise stays eligible, and ``scheduled``
is 1 when an adverse consequence whose cause already happened (a listing after a
decision, a D published next April, a SAFE C after a B that will persist) takes
effect in ``(as_of, as_of + 365 days]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from credit_engine.simulation import _hazards as hz
from credit_engine.simulation._spells import NONE
from credit_engine.simulation._state import ChunkState
from credit_engine.simulation._triggers import Triggers
from credit_engine.simulation._types import BoolArray

HORIZON_MONTHS = 12
HORIZON_DAYS = 365


class Truth:
    """Computes the latent truth month by month.

    Parameters
    ----------
    chunk : ChunkState
        The chunk's shared state.
    triggers : Triggers
        Source of each channel's eligibility and trading odds.
    """

    def __init__(self, chunk: ChunkState, triggers: Triggers) -> None:
        self.d = chunk
        self.triggers = triggers

    def truth_month(self, t: int, active: BoolArray, exists: BoolArray) -> None:
        """Hazard part of the truth at the end of month ``t``."""
        d, pop = self.d, self.d.pop
        elig: dict[str, Any] = dict(self.triggers.eligibility(t, active))
        for name, odds in self.triggers.trading_odds().items():
            elig[name] = elig[name] * odds
        path = hz.expected_health(d.health, pop.health_mean, HORIZON_MONTHS)
        shifts = None
        effects = d.effects
        if effects is not None and effects.health_offset is not None:
            # Latent health reverts to its mean; a shock's profile is known once
            # it has started (a shock is not anticipated).
            latent = d.health - effects.health_offset[:, t]
            offset, shifts = effects.known_ahead(t, HORIZON_MONTHS)
            path = hz.expected_health(latent, pop.health_mean, HORIZON_MONTHS) + offset
        survive = np.ones(d.n)
        base = d.drivers(t)
        for k in range(HORIZON_MONTHS):
            drivers = hz.Drivers(
                noncompliance=base.noncompliance,
                distress=-path[:, k],
                under=base.under,
                fraud=base.fraud,
                young=base.young,
                penalty=base.penalty,
                shift=None if shifts is None else shifts[:, k],
            )
            for channel in hz.MONTHLY_CHANNELS:
                p = hz.probability(channel, drivers)
                survive *= 1.0 - p * elig[channel.name]
            if (d.grid.month[t] + k) % 12 == 6:  # the k-th month ahead is July
                listed = self.d.trackers.abnormal_report.value != NONE
                p = hz.probability(hz.ANNUAL_REPORT_MISSING, drivers)
                survive *= 1.0 - p * (exists & ~d.lost & ~listed)
        d.months.truth[:, t] = np.where(exists, 1.0 - survive, np.nan)

    def finalise_truth(self) -> None:
        """Set the truth to 1 where a determined consequence falls in the window."""
        d = self.d
        cols = d.logs.adverse.columns()
        idx, eff, trig = cols["idx"], cols["effective"], cols["trigger"]
        month_end = d.grid.month_end
        for i, e, g in zip(idx, eff, trig, strict=True):
            if g >= e:
                continue
            hit = (month_end >= g) & (month_end < e) & (e <= month_end + HORIZON_DAYS)
            d.months.truth[i, hit] = 1.0
