"""Scenarios for monitoring: a healthy zone rated monthly, and a hand-made shock.

Shared by ``tests/integration/test_monitoring_scenarios.py`` and
``benchmarks/bench_monitor_scenarios.py``.

Until the simulator's ``sector_shock`` scenario (branch i12-scenarios) is
merged, the shock is made by hand on the stored decisions: from ``start``, a
"sector" (a fixed share of enterprises, picked by a seeded hash of the USCC)
has its PDs multiplied by ``factor`` in every run (served and shadow), its
grades re-assigned on the version's own master scale, and its model tier (and
any final tier the model decided or bound) follows the policy's grade map.
That is the part of a sector shock the monitor can see before any outcome has
matured: the PDs and grades move. With the simulator's scenario, the same
harness rates a zone simulated with the shock instead (see
:func:`build_home`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, select, update

from credit_engine.config import Settings
from credit_engine.decisioning import load_policy
from credit_engine.features import (
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    write_snapshot,
)
from credit_engine.registry import load_rating_model, promote
from credit_engine.store import OperationalStore, decisions, rating_runs
from credit_engine.training import default_snapshot_path, load_model_spec, train_spec
from credit_engine.vocabulary import Tier

RISK_MODEL = "credit_engine.zone_risk_pd"
TRAIN_DATES = [dt.date(2025, m, 28 if m == 2 else 30 if m in (4, 6, 9) else 31)
               for m in range(2, 10)]  # fmt: skip
"""Development (Feb-Jun 2025) and out-of-time (Jul-Sep 2025) rating dates."""


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Month ends from the month of ``first`` to ``last``."""
    from credit_engine.rating import month_ends_between

    return month_ends_between(first, last)


def build_home(
    lake_home: Settings, home: Path, *, min_child_samples: int = 40
) -> Settings:
    """An engine home with ``lake_home``'s lake and a promoted risk champion.

    The champion is trained on :data:`TRAIN_DATES` (smaller leaves than the
    spec's, for a small zone) and promoted past the gates (a small zone makes
    thin grades).
    """
    settings = Settings(home=home)
    shutil.copytree(lake_home.lake_dir, settings.lake_dir)
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
    train_spec(spec.model_copy(update={"params": params}), settings, actor="scenario")
    promote(settings, RISK_MODEL, force=True, reason="scenario", actor="scenario")
    return settings


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
