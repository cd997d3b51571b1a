"""Where data freshness enters the monitoring report.

The report's ``data`` key holds the freshness of each source table
(``{table: {"status": "green" | "amber" | "red", ...}}``). By default
:func:`credit_engine.watch.monitor` takes it from the engine home's lake with
:func:`lake_freshness_data`: each table judged at the report date against its
own cadence and allowed lag (``features/freshness.yaml``), by what the lake knew
then (:mod:`credit_engine.freshness`). A stale required table is red and turns
the report red; a late one is amber.

Another provider can be passed as ``freshness=provider`` to
:func:`credit_engine.watch.monitor`::

    def provider(settings: Settings, as_of: datetime.date) -> dict[str, dict]:
        return {"customs_declaration": {"status": "green", "age_days": 3}, ...}

:func:`unknown_freshness` gives no freshness at all (``data`` empty, the report
notes that the freshness status is unknown and it does not move the status).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = [
    "FRESHNESS_UNKNOWN",
    "FreshnessProvider",
    "lake_freshness_data",
    "unknown_freshness",
]

FreshnessProvider = Callable[["Settings", dt.date], Mapping[str, Mapping[str, Any]]]
"""``provider(settings, as_of) -> {table: {"status": light, ...}}``."""

FRESHNESS_UNKNOWN = (
    "data freshness: unknown (no freshness provider was given; the data key is "
    "empty and does not move the status)"
)
"""The note a report carries when :func:`unknown_freshness` is the provider."""


def lake_freshness_data(
    settings: Settings, as_of: dt.date
) -> dict[str, dict[str, Any]]:
    """Return the freshness of every table of the home's lake at ``as_of``.

    What the lake knew by the end of ``as_of``, judged at ``as_of`` with the
    freshness policy (:func:`credit_engine.freshness.lake_freshness`), as
    :func:`credit_engine.freshness.freshness_lights` gives it: per table
    ``status`` (green fresh, amber late, red stale), ``freshness``,
    ``department``, ``age_days``, ``allowed_lag_days``, ``cadence``,
    ``watermark``, ``delivered``, ``expected_next_delivery``, ``stale_since``
    and ``required``. An optional table is at most amber (it marks no
    decision, so it does not turn the report red).

    Parameters
    ----------
    settings : Settings
        Engine settings (lake, definitions).
    as_of : datetime.date
        Report date.

    Returns
    -------
    dict
        ``{table: {...}}``, JSON-ready.

    Raises
    ------
    ConfigurationError
        If the contracts or ``features/freshness.yaml`` are missing or invalid.
    """
    from credit_engine.freshness import freshness_lights, lake_freshness

    return freshness_lights(lake_freshness(settings, as_of))


def unknown_freshness(settings: Settings, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Return no freshness at all (the report says it is unknown).

    Examples
    --------
    >>> import datetime as dt
    >>> unknown_freshness(None, dt.date(2026, 6, 30))  # type: ignore[arg-type]
    {}
    """
    return {}
