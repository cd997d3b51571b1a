"""Scenarios for monitoring: zones rated monthly, healthy or shocked.

Used by ``benchmarks/bench_monitor_scenarios.py`` (figures in
``docs/benchmarks.md``) and by ``tests/integration/test_monitoring_scenarios.py``
(the CI test of the same path, at one report date).

The path both follow:

1. :func:`simulated_lake`: simulate a zone, with or without the simulator's
   named scenarios (``sector_shock`` here: ``scenarios/sector_shock.yaml``,
   ``credit_engine.simulation.load_scenario``), and ingest it;
2. :func:`build_home`: train a risk champion on the healthy zone's lake at
   :data:`TRAIN_DATES` (before any shock) and promote it;
3. :func:`sharing_champion`: homes with their own store for each zone (the
   healthy one and the shocked one, same seed), rated by that one champion
   (the model was developed before the shock, as in life);
4. ``credit_engine.pipeline.rate_dates`` at every month end, then
   ``credit_engine.watch.monitor_series`` at every month end; the lights come
   from ``models/monitoring/thresholds.yaml``; :func:`item_alarms` and
   :func:`months_after` read when each item turned.

:func:`apply_pd_shock` is a controlled stimulus kept beside the simulator's
scenario: it multiplies the stored PDs of a seeded share of enterprises by a
known factor (grades and tiers following), a dose the monitor must see, which
separates "the monitor cannot see a PD shift" from "the shock did not move the
PDs" (with the simulator's shock, how far the model's PDs move is part of what
is measured).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update

from credit_engine.config import Settings
from credit_engine.data import ingest_batch, load_contracts
from credit_engine.decisioning import load_policy
from credit_engine.features import (
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    write_snapshot,
)
from credit_engine.registry import load_rating_model, promote
from credit_engine.simulation import Scenario, SimulationConfig, simulate_zone
from credit_engine.store import OperationalStore, decisions, rating_runs
from credit_engine.training import default_snapshot_path, load_model_spec, train_spec
from credit_engine.vocabulary import Tier
from credit_engine.watch import SeriesPoint

RISK_MODEL = "credit_engine.zone_risk_pd"
TRAIN_DATES = [dt.date(2025, m, 28 if m == 2 else 30 if m in (4, 6, 9) else 31)
               for m in range(2, 10)]  # fmt: skip
"""Development (Feb-Jun 2025) and out-of-time (Jul-Sep 2025) rating dates."""


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month ends from the month of ``first`` to ``last``."""
    from credit_engine.rating import month_ends_between

    return month_ends_between(first, last)


def simulated_lake(
    root: Path, config: SimulationConfig, scenarios: Sequence[Scenario] = ()
) -> Settings:
    """Simulate a zone under ``root`` (with ``scenarios``) and ingest it.

    Returns the settings of ``root/home``, whose lake holds the zone; the
    records and the truth stay in ``root/records`` and ``root/truth``.
    """
    lake = Settings(home=root / "home")
    simulate_zone(
        config,
        load_contracts(lake.sources_dir),
        root / "records",
        root / "truth",
        scenarios=scenarios,
    )
    ingest_batch(root / "records", lake)
    return lake


def build_home(
    lake_home: Settings,
    home: Path,
    *,
    min_child_samples: int = 40,
    reason: str = "scenario",
    actor: str = "scenario",
) -> Settings:
    """An engine home with ``lake_home``'s lake and a promoted risk champion.

    The champion is trained on :data:`TRAIN_DATES` (smaller leaves than the
    spec's, for a small zone) and promoted past the gates (a small zone makes
    thin grades). The quarantine is copied too when there is one.
    """
    settings = Settings(home=home)
    shutil.copytree(lake_home.lake_dir, settings.lake_dir)
    if lake_home.quarantine_dir.is_dir():
        shutil.copytree(lake_home.quarantine_dir, settings.quarantine_dir)
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
    train_spec(spec.model_copy(update={"params": params}), settings, actor=actor)
    promote(settings, RISK_MODEL, force=True, reason=reason, actor=actor)
    return settings


def sharing_champion(
    champion: Settings, home: Path, *, lake: Settings | None = None
) -> Settings:
    """A home of its own (store, reports) rated by ``champion``'s models.

    It reads ``lake``'s lake (default the champion home's) and the champion
    home's MLflow, read-only as long as monitoring does not log: rating and
    monitoring write only into ``home``.
    """
    source = champion if lake is None else lake
    return Settings(
        home=home,
        lake_dir=source.lake_dir,
        quarantine_dir=source.quarantine_dir,
        mlflow_tracking_uri=champion.mlflow_tracking_uri,
    )


def item_alarms(
    points: Sequence[SeriesPoint], key: str, parts: Sequence[str]
) -> list[dt.date]:
    """Report dates at which any of ``parts`` of model ``key`` is amber or red."""
    return [
        p.as_of
        for p in points
        if any(p.lights.get(key, {}).get(part, "green") != "green" for part in parts)
    ]


def months_after(start: dt.date, day: dt.date) -> int:
    """Whole calendar months from the month of ``start`` to that of ``day``."""
    return (day.year - start.year) * 12 + day.month - start.month


def copy_home(settings: Settings, home: Path) -> Settings:
    """A copy of ``settings``' operational store under another home.

    The lake and MLflow are shared (read-only for monitoring without logging).
    """
    import sqlite3

    home.mkdir(parents=True, exist_ok=True)
    target = home / "credit_engine.db"
    source = OperationalStore.from_settings(settings)
    path = source.engine.url.database
    source.dispose()
    with sqlite3.connect(str(path)) as src, sqlite3.connect(str(target)) as dst:
        src.backup(dst)  # consistent even with a write-ahead log
    return settings.model_copy(update={"database_url": f"sqlite:///{target}"})


def sector(usccs: pd.Series, share: float, seed: int) -> np.ndarray:
    """A fixed ``share`` of enterprises, picked by a seeded hash of their USCC."""

    def draw(code: str) -> float:
        digest = hashlib.sha256(f"{seed}:{code}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    return np.array([draw(str(c)) < share for c in usccs])


def apply_pd_shock(
    settings: Settings,
    *,
    start: dt.date,
    share: float = 0.3,
    factor: float = 3.0,
    seed: int = 7,
) -> int:
    """Multiply the PDs of a sector by ``factor`` in every run from ``start``.

    Returns
    -------
    int
        Decisions changed.
    """
    store = OperationalStore.from_settings(settings)
    policy = load_policy(settings.definitions_dir, "zone", None)
    grade_map = {g: Tier(t).value for g, t in policy.grade_map.items()}
    c, r = decisions.c, rating_runs.c
    stmt = (
        select(
            c.decision_id,
            c.uscc,
            c.pd,
            c.tier,
            c.model_tier,
            c.decided_by,
            c.in_default,
            r.model_name,
            r.model_version,
        )  # fmt: skip
        .join(rating_runs, rating_runs.c.run_id == c.run_id)
        .where(c.as_of >= start)
    )
    with store.engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all())
    if frame.empty:
        return 0
    hit = sector(frame["uscc"], share, seed) & ~frame["in_default"].astype(bool)
    frame = frame.loc[hit].copy()
    frame["pd"] = np.minimum(frame["pd"].astype(float) * factor, 0.999)
    changed = []
    rank = {t: i for i, t in enumerate(Tier.values())}
    for (name, version), group in frame.groupby(["model_name", "model_version"]):
        scale = load_rating_model(
            settings, str(name), version=str(version)
        ).model.master_scale
        rows = group.assign(grade=scale.assign(group["pd"].to_numpy()))
        rows["new_model_tier"] = rows["grade"].map(grade_map)
        worse = rows["new_model_tier"].map(rank) > rows["tier"].map(rank)
        bound = rows["decided_by"].isin(["MODEL", "POLICY", "STATUTORY"])
        rows["new_tier"] = rows["tier"].where(~(worse & bound), rows["new_model_tier"])
        changed.append(rows)
    values = pd.concat(changed)
    update_stmt = (
        update(decisions)
        .where(decisions.c.decision_id == bindparam("id"))
        .values(
            pd=bindparam("new_pd"),
            grade=bindparam("new_grade"),
            model_tier=bindparam("mt"),
            tier=bindparam("new_t"),
        )
    )
    params = [
        {
            "id": int(i),
            "new_pd": float(p),
            "new_grade": str(g),
            "mt": str(m),
            "new_t": str(t),
        }  # fmt: skip
        for i, p, g, m, t in zip(
            values["decision_id"],
            values["pd"],
            values["grade"],
            values["new_model_tier"],
            values["new_tier"],
            strict=True,
        )  # fmt: skip
    ]
    with store.engine.begin() as conn:
        conn.execute(update_stmt, params)
    store.dispose()
    return len(params)
