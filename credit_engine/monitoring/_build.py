"""Gather the monitored parts into a :class:`MonitoringReport` with its status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring._lights import LIGHTS, cap_light, worst_light
from credit_engine.monitoring._overrides import OverrideMonitoring
from credit_engine.monitoring._report import ModelMonitoring, MonitoringReport
from credit_engine.monitoring._thresholds import MonitoringThresholds
from credit_engine.validation import Light

__all__ = ["build_report", "data_light"]


def data_light(data: Mapping[str, Mapping[str, Any]]) -> Light | None:
    """Return the worst light of the data-freshness entries (``None``: no light).

    An entry whose status is :data:`~credit_engine.freshness.NOT_DELIVERED`
    (``"n/a"``: an optional source the zone never delivered, "not delivered,
    not required") has no light and does not colour the status.

    Raises
    ------
    DataContractError
        If an entry has no status, or one that is neither a light nor ``"n/a"``.
    """
    from credit_engine.freshness import NOT_DELIVERED

    bad = {
        str(table): entry.get("status") if isinstance(entry, Mapping) else entry
        for table, entry in data.items()
        if not isinstance(entry, Mapping)
        or entry.get("status") not in (*LIGHTS, NOT_DELIVERED)
    }
    if bad:
        raise DataContractError(
            f"Data freshness entries need a status in {[*LIGHTS, NOT_DELIVERED]}; "
            f"got {bad}. Pass {{table: {{'status': 'green' | 'amber' | 'red' | "
            f"'{NOT_DELIVERED}', ...}}}}."
        )
    lights = [e["status"] for e in data.values() if e["status"] != NOT_DELIVERED]
    return worst_light(lights) if lights else None


def build_report(
    as_of: dt.date,
    models: Mapping[str, ModelMonitoring],
    *,
    thresholds: MonitoringThresholds,
    overrides: OverrideMonitoring | None = None,
    data: Mapping[str, Mapping[str, Any]] | None = None,
) -> MonitoringReport:
    """Gather the parts into a report and set its overall status.

    The rule (``status`` in the thresholds file): the worst of every champion's
    status, every challenger's status capped at ``status.challenger_cap``, the
    overrides' light and the worst data-freshness status (an optional source
    never delivered, status ``"n/a"``, has none: :func:`data_light`).

    Parameters
    ----------
    as_of : datetime.date
        Report date.
    models : mapping of str to ModelMonitoring
        Results of :func:`monitor_model`, by the name the report shows.
    thresholds : MonitoringThresholds
        Gives the status rule.
    overrides : OverrideMonitoring or None, default=None
        Result of :func:`monitor_overrides`.
    data : mapping of str to mapping, optional
        Freshness per table, ``{table: {"status": light, ...}}``.

    Returns
    -------
    MonitoringReport

    Raises
    ------
    DataContractError
        If a data entry has no valid status.
    """
    tables = {str(k): dict(v) for k, v in (data or {}).items()}
    lights: list[Light | None] = [
        m.status
        if m.role == "champion"
        else cap_light(m.status, thresholds.status.challenger_cap)
        for m in models.values()
    ]
    lights.append(overrides.light if overrides is not None else None)
    lights.append(data_light(tables))
    return MonitoringReport(
        as_of=as_of,
        models=dict(models),
        overrides=overrides,
        data=tables,
        status=worst_light(lights),
        thresholds_version=thresholds.version,
    )
