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

__all__ = ["build_report"]


def _data_status(data: Mapping[str, Mapping[str, Any]]) -> Light:
    bad = {
        str(table): entry.get("status")
        for table, entry in data.items()
        if not isinstance(entry, Mapping) or entry.get("status") not in LIGHTS
    }
    if bad:
        raise DataContractError(
            f"Data freshness entries need a status in {list(LIGHTS)}; got {bad}. Pass "
            "{table: {'status': 'green' | 'amber' | 'red', ...}}."
        )
    return worst_light(entry["status"] for entry in data.values())


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
    overrides' light and the worst data-freshness status.

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
    lights.append(_data_status(tables) if tables else None)
    return MonitoringReport(
        as_of=as_of,
        models=dict(models),
        overrides=overrides,
        data=tables,
        status=worst_light(lights),
        thresholds_version=thresholds.version,
    )
