"""The freshness of an engine home's lake, from its settings, in one call."""

from __future__ import annotations

import datetime as dt

from credit_engine.config import Settings
from credit_engine.data import Lake, load_contracts
from credit_engine.freshness._assess import FreshnessReport, assess_freshness
from credit_engine.freshness._policy import load_freshness_policy
from credit_engine.freshness._watermarks import lake_watermarks

__all__ = ["lake_freshness"]


def lake_freshness(
    settings: Settings, as_of: dt.date | None = None, *, at: dt.date | None = None
) -> FreshnessReport:
    """Judge the engine home's lake with its freshness policy.

    Parameters
    ----------
    settings : Settings
        Engine settings (lake, definitions).
    as_of : datetime.date, optional
        Knowledge date: what the lake knew by its end (default: the lake as it
        stands).
    at : datetime.date, optional
        The date judged (default: ``as_of``, else today in UTC).

    Returns
    -------
    FreshnessReport
        For the monitoring report's ``data`` section, pass it to
        :func:`~credit_engine.freshness.freshness_lights`.

    Raises
    ------
    ConfigurationError
        If the contracts or ``features/freshness.yaml`` are missing or invalid.
    """
    contracts = load_contracts(settings.sources_dir)
    policy = load_freshness_policy(settings.definitions_dir, contracts)
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    marks = lake_watermarks(lake, contracts, as_of)
    day = at or as_of or dt.datetime.now(dt.UTC).date()
    return assess_freshness(marks, policy, day)
