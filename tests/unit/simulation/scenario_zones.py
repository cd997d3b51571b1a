"""The scenarios of the scenario tests and a reader of the zones they make.

One small configuration (1,500 enterprises, two years) is simulated three times
by the fixtures of ``conftest.py``: as it is, with two feed outages (customs
withheld, tax delivered late), and with a sector shock and a refund ring
together.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from credit_engine.simulation import (
    FeedOutage,
    RefundRing,
    SectorShock,
    SimulationConfig,
    SimulationSummary,
    simulate_zone,
)

SCENARIO_ZONE = SimulationConfig(
    enterprises=1_500, start=dt.date(2024, 1, 1), end=dt.date(2025, 12, 31), seed=11
)
SHOCK = SectorShock(
    kind="sector_shock",
    name="apparel_shock",
    description="Apparel exporters lose demand from 2025.",
    sector="apparel",
    start=dt.date(2025, 1, 1),
    hazard_multiplier=2.5,
    health_drop=1.0,
)
RING = RefundRing(
    kind="refund_ring",
    name="ring",
    description="A refund ring 15 months before the extract.",
    start=dt.date(2024, 10, 1),
    size=40,
    new_shells=6,
)
CUSTOMS_DOWN = FeedOutage(
    kind="feed_outage",
    name="customs_down",
    description="The customs feed stops two months before the extract.",
    department="CUSTOMS",
    start=dt.date(2025, 11, 1),
)
TAX_BACKLOG = FeedOutage(
    kind="feed_outage",
    name="tax_backlog",
    description="The tax feed stops for two months, then delivers its backlog.",
    department="TAX",
    start=dt.date(2025, 9, 1),
    end=dt.date(2025, 11, 1),
)


@dataclass
class Zone:
    """A simulated zone and lazy readers of its files."""

    summary: SimulationSummary

    def records(self, table: str) -> pd.DataFrame:
        return pd.read_parquet(Path(self.summary.out_dir) / f"{table}.parquet")

    def truth(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(Path(self.summary.truth_dir) / f"{name}.parquet")

    def clean(self, table: str) -> pd.DataFrame:
        """Rows of ``table`` that are not dirty."""
        dirty = self.truth("dirty_rows").query("table == @table")
        return self.records(table).drop(index=dirty["row_number"])


def simulate(root: Path, contracts, scenarios) -> Zone:
    return Zone(
        simulate_zone(
            SCENARIO_ZONE,
            contracts,
            root / "records",
            root / "truth",
            scenarios=scenarios,
        )
    )
