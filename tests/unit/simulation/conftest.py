from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.simulation import SimulationConfig, SimulationSummary, simulate_zone

SMALL_ZONE = SimulationConfig(enterprises=600, seed=7)


@pytest.fixture(scope="session")
def contracts():
    return load_contracts(Settings().sources_dir)


@pytest.fixture(scope="session")
def zone(tmp_path_factory, contracts) -> SimulationSummary:
    root = tmp_path_factory.mktemp("zone")
    return simulate_zone(SMALL_ZONE, contracts, root / "records", root / "truth")


@pytest.fixture(scope="session")
def tables(zone) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in Path(zone.out_dir).glob("*.parquet")}


@pytest.fixture(scope="session")
def truth(zone) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in Path(zone.truth_dir).glob("*.parquet")}


@pytest.fixture(scope="session")
def clean(tables, truth) -> dict[str, pd.DataFrame]:
    """Each table without the rows the simulator made dirty."""
    dirty = truth["dirty_rows"]
    out = {}
    for name, frame in tables.items():
        bad = dirty.loc[dirty["table"] == name, "row_number"].to_numpy()
        out[name] = frame.drop(index=bad).reset_index(drop=True)
    return out
