"""Fixtures shared by the integration tests that need a promoted champion."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from credit_engine.config import Settings
from credit_engine.features import (
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    write_snapshot,
)
from credit_engine.registry import promote
from credit_engine.training import default_snapshot_path, load_model_spec, train_spec

TRAIN_DATES = [dt.date(2025, m, 28 if m == 2 else 30 if m in (4, 6, 9) else 31)
               for m in range(2, 10)]  # fmt: skip
RISK_MODEL = "credit_engine.zone_risk_pd"


def _home_with_champion(
    source: Settings, home: Path, *, min_child_samples: int
) -> Settings:
    """Copy a lake into ``home``, train the risk model on it and promote it."""
    settings = Settings(home=home)
    shutil.copytree(source.lake_dir, settings.lake_dir)
    shutil.copytree(source.quarantine_dir, settings.quarantine_dir)
    definitions = load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    resolved = definitions.resolve("credit_v1")
    spine = enterprise_spine(sources, definitions, TRAIN_DATES)
    frame = build_feature_frame(
        spine, resolved, definitions=definitions, sources=sources
    )
    path = default_snapshot_path(settings, "credit_v1")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_snapshot(frame, path, resolved=resolved, sources=sources, as_of=TRAIN_DATES)
    spec = load_model_spec(settings.definitions_dir / "models", "risk_gbm")
    params = {**spec.params, "min_child_samples": min_child_samples}
    train_spec(spec.model_copy(update={"params": params}), settings, actor="tester")
    # Small zones make thin grades; the gates are tested elsewhere.
    promote(
        settings, RISK_MODEL, force=True, reason="integration tests", actor="tester"
    )
    return settings


@pytest.fixture(scope="session")
def champion_home(ingested_zone, tmp_path_factory) -> Settings:
    """An engine home with the small zone's lake and a promoted risk champion.

    Session-scoped: the modules that use it share the ``rating`` xdist group, so
    the model is trained once per worker.
    """
    source, _ = ingested_zone
    home = tmp_path_factory.mktemp("champion_home")
    return _home_with_champion(source, home, min_child_samples=40)


@pytest.fixture(scope="session")
def spark_champion_home(spark_ingested_zone, tmp_path_factory) -> Settings:
    """The Spark zone's lake with a promoted risk champion (``spark`` group only)."""
    source, _ = spark_ingested_zone
    home = tmp_path_factory.mktemp("spark_champion_home")
    return _home_with_champion(source, home, min_child_samples=10)
