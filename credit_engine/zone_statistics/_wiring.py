"""The report of an engine home: its lake, store, policies and reference data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from credit_engine.exceptions import ConfigurationError, PolicyNotFoundError
from credit_engine.zone_statistics._build import build_zone_report, jp_prefix_names
from credit_engine.zone_statistics._hooks import FreshnessSource, store_warning_source
from credit_engine.zone_statistics._reference import load_reference
from credit_engine.zone_statistics._report import ZoneReport
from credit_engine.zone_statistics._supervision import PunishmentNamer

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = [
    "lake_freshness_source",
    "policy_punishment_namer",
    "zone_report_from_settings",
]


def lake_freshness_source(settings: Settings) -> FreshnessSource:
    """Return the freshness hook of an engine home: its lake judged by its policy.

    At the report's knowledge cutoff, one row per contract table: department,
    status (fresh, late or stale), last delivery, age, allowed lag, the day it
    is (or will be) stale, and whether rating requires it
    (:func:`credit_engine.freshness.lake_freshness`, the same assessment as
    ``credit-engine freshness`` and the monitoring report's ``data``).

    Parameters
    ----------
    settings : credit_engine.config.Settings
        The engine home.

    Returns
    -------
    FreshnessSource
    """

    def freshness(knowledge_date: dt.date) -> pd.DataFrame:
        from credit_engine.freshness import lake_freshness

        report = lake_freshness(settings, knowledge_date)
        rows = [
            {
                "table": t.table,
                "department": str(t.department),
                "status": str(t.status),
                "last_delivery": None if t.delivered is None else t.delivered.date(),
                "age_days": t.age_days,
                "allowed_lag_days": t.allowed_lag_days,
                "stale_since": t.stale_since,
                "required": t.required,
            }
            for t in sorted(report.tables.values(), key=lambda t: t.table)
        ]
        return pd.DataFrame(rows)

    return freshness


def policy_punishment_namer(definitions_dir: Path) -> PunishmentNamer:
    """Name joint-punishment measures from the policy version that decided.

    Each ``(policy_name, policy_version)`` recorded on a decision is loaded
    once from ``models/policies``; a measure counts if that version marks it
    ``joint_punishment: true``, and is named ``"<zh> / <en>"``. A policy file
    that cannot be loaded falls back to :func:`jp_prefix_names`.

    Parameters
    ----------
    definitions_dir : pathlib.Path
        The definitions folder (``Settings.definitions_dir``).

    Returns
    -------
    PunishmentNamer
    """
    from credit_engine.decisioning import load_policy

    cache: dict[tuple[str, int], dict[str, str] | None] = {}

    def name(policy_name: str, policy_version: int, code: str) -> str | None:
        key = (policy_name, policy_version)
        if key not in cache:
            try:
                policy = load_policy(definitions_dir, policy_name, policy_version)
            except (PolicyNotFoundError, ConfigurationError):
                cache[key] = None
            else:
                cache[key] = {
                    m.code: f"{m.zh} / {m.en}"
                    for m in policy.measures
                    if m.joint_punishment
                }
        measures = cache[key]
        if measures is None:
            return jp_prefix_names(policy_name, policy_version, code)
        return measures.get(code)

    return name


def zone_report_from_settings(
    settings: Settings,
    *,
    start: dt.date,
    end: dt.date,
    period: str = "month",
    knowledge_date: dt.date | None = None,
    freshness: FreshnessSource | None = None,
    progress: Callable[[str], None] | None = None,
) -> ZoneReport:
    """Compute the zone statistics of an engine home.

    Reads the committed lake, the operational store (migrated to the current
    schema on opening, as every command does), the district and trade-mode
    reference under ``features/reference`` and the policies that decided; the
    early warnings come from the store's ``warnings`` table when it has one,
    the data freshness from the lake and its policy
    (:func:`lake_freshness_source`) unless ``freshness`` is given.

    Parameters
    ----------
    settings : credit_engine.config.Settings
        The engine home.
    start, end, period, knowledge_date, freshness, progress
        As in :func:`build_zone_report`.

    Returns
    -------
    ZoneReport
    """
    from credit_engine.data import load_contracts
    from credit_engine.features import LakeSources
    from credit_engine.store import OperationalStore

    contracts = load_contracts(settings.sources_dir)
    sources = LakeSources.from_settings(settings, contracts)
    reference = load_reference(settings.definitions_dir)
    with OperationalStore.from_settings(settings) as store:
        return build_zone_report(
            sources,
            start=start,
            end=end,
            period=period,
            knowledge_date=knowledge_date,
            reference=reference,
            decisions=store,
            punishment_names=policy_punishment_namer(settings.definitions_dir),
            warnings=store_warning_source(store.engine),
            freshness=freshness or lake_freshness_source(settings),
            progress=progress,
        )
