"""Shadow runs of a model version: their period (promotion gate) and comparison."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from credit_engine.store import RunRole

if TYPE_CHECKING:
    from credit_engine.monitoring import TierAgreement
    from credit_engine.registry import ShadowPeriod
    from credit_engine.store import OperationalStore

__all__ = ["SHADOW_COLUMNS", "compare_shadow", "shadow_period"]

SHADOW_COLUMNS = ("uscc", "as_of", "tier", "grade", "pd")
"""Decision columns a shadow comparison reads."""


def shadow_period(store: OperationalStore, name: str, version: str) -> ShadowPeriod:
    """Return the shadow runs of a version: how many dates, first and last.

    Parameters
    ----------
    store : OperationalStore
        The operational store.
    name, version : str
        Registered model and version.

    Returns
    -------
    credit_engine.registry.ShadowPeriod
        What the ``min_shadow_days`` promotion gate judges.
    """
    from credit_engine.registry import ShadowPeriod

    dates = list(store.model_run_ids(name, str(version), role=RunRole.SHADOW))
    return ShadowPeriod(
        runs=len(dates),
        first=dates[0] if dates else None,
        last=dates[-1] if dates else None,
    )


def compare_shadow(
    store: OperationalStore,
    name: str,
    champion: str,
    challenger: str,
    *,
    until: dt.date | None = None,
    limit: int = 20,
) -> TierAgreement | None:
    """Compare a challenger's latest shadow run with the champion's run that date.

    Reads only the two runs of the latest date both rated (so it stays cheap
    for ``credit-engine models``); the monitoring report compares every date.

    Parameters
    ----------
    store : OperationalStore
        The operational store.
    name : str
        Registered model.
    champion, challenger : str
        Versions.
    until : datetime.date, optional
        Latest rating date considered.
    limit : int, default=20
        Most tier changes listed.

    Returns
    -------
    TierAgreement or None
        ``None`` when the challenger has no shadow run at a date the champion
        was rated.
    """
    from credit_engine.monitoring import tier_agreement

    shadow = store.model_run_ids(
        name, str(challenger), until=until, role=RunRole.SHADOW
    )
    champ = store.model_run_ids(name, str(champion), until=until)
    common = sorted(set(shadow) & set(champ))
    if not common:
        return None
    day = common[-1]
    return tier_agreement(
        store.run_decisions(champ[day][0], columns=SHADOW_COLUMNS),
        store.run_decisions(shadow[day][0], columns=SHADOW_COLUMNS),
        limit=limit,
        champion_version=str(champion),
        challenger_version=str(challenger),
    )
