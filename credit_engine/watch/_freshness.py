"""The seam where data freshness enters the monitoring report.

The report's ``data`` key holds the freshness of each source table
(``{table: {"status": "green" | "amber" | "red", ...}}``), which a separate
data-freshness component computes. Until it is wired in, :func:`monitor` is
given :func:`unknown_freshness`: ``data`` is ``{}`` and the report says the
freshness status is unknown (it does not move the overall status).

To wire a provider, pass ``freshness=provider`` to
:func:`credit_engine.watch.monitor` (and make it the default below)::

    def provider(settings: Settings, as_of: datetime.date) -> dict[str, dict]:
        return {"customs_declaration": {"status": "green", "age_days": 3}, ...}
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from credit_engine.config import Settings

__all__ = ["FRESHNESS_UNKNOWN", "FreshnessProvider", "unknown_freshness"]

FreshnessProvider = Callable[["Settings", dt.date], Mapping[str, Mapping[str, Any]]]
"""``provider(settings, as_of) -> {table: {"status": light, ...}}``."""

FRESHNESS_UNKNOWN = (
    "data freshness: unknown (no freshness provider is wired into monitoring yet; "
    "the data key is empty and does not move the status)"
)
"""The note a report carries while :func:`unknown_freshness` is the provider."""


def unknown_freshness(settings: Settings, as_of: dt.date) -> dict[str, dict[str, Any]]:
    """Return no freshness at all: the default until a provider is wired in.

    Examples
    --------
    >>> import datetime as dt
    >>> unknown_freshness(None, dt.date(2026, 6, 30))  # type: ignore[arg-type]
    {}
    """
    return {}
