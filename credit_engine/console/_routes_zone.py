"""The zone overview: tiers over time, layers, migrations, breakdowns, freshness."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response

from credit_engine.console._context import console_state, require_viewer
from credit_engine.console._render import render
from credit_engine.console._seams import freshness, latest_monitoring
from credit_engine.exceptions import DataContractError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _pick(value: str | None, runs: list[tuple[dt.date, int]], default: int) -> int:
    """Index of the rated date named by ``value`` (``default`` when absent)."""
    if not value:
        return default
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise DataContractError(
            f"{value!r} is not a date; use YYYY-MM-DD, one of the rated dates."
        ) from None
    for i, (as_of, _) in enumerate(runs):
        if as_of == day:
            return i
    dates = ", ".join(d.isoformat() for d, _ in runs[-12:])
    raise DataContractError(
        f"No rating run is stored for {day.isoformat()}; rated dates: {dates}."
    )


@router.get("/overview")
def overview(request: Request) -> Response:
    """Show the zone at a glance."""
    require_viewer(request, "overview")
    state = console_state(request)
    runs = state.zone.runs()
    context: dict[str, Any] = {"runs": runs, "breakdowns": {}}
    monitoring = latest_monitoring(state.settings)
    context["freshness"] = freshness(state.settings, monitoring)
    if not runs:
        return render(request, "overview.html", context)
    frm = _pick(request.query_params.get("from"), runs, max(len(runs) - 2, 0))
    to = _pick(request.query_params.get("to"), runs, len(runs) - 1)
    summaries = [state.zone.summary(d, r) for d, r in runs]
    latest = summaries[to]
    texts = state.texts()
    context.update(
        summaries=summaries,
        latest=latest,
        frm=runs[frm][0],
        to=runs[to][0],
        departments=state.zone.departments(latest.run_id, texts),
    )
    if frm != to:
        matrix = state.zone.migration(runs[frm], runs[to])
        context["migration"] = {
            "rows": [str(i) for i in matrix.index],
            "columns": [str(c) for c in matrix.columns],
            "cells": matrix.to_numpy().tolist(),
            "stay": int(np.trace(matrix.loc[list("ABCD"), list("ABCD")].to_numpy())),
            "total": int(matrix.drop(index="new", errors="ignore").to_numpy().sum()),
        }
    directory = state.directory.get()
    context["breakdowns"] = breakdowns = {}
    if directory is not None:
        for column in ("district", "trade_mode"):
            table = state.zone.breakdown(latest.run_id, directory, column)
            breakdowns[column] = [
                {"value": str(k), **{c: int(v) for c, v in row.items()}}
                for k, row in table.head(20).iterrows()
            ]
    context["directory_error"] = state.directory.error
    context["charts"] = {
        "dates": [s.as_of.isoformat() for s in summaries],
        "tiers": {t: [s.tiers[t] for s in summaries] for t in "ABCD"},
        "green": [s.green_channel for s in summaries],
        "punished": [s.joint_punishment for s in summaries],
        "layers": {k: [s.layers.get(k, 0) for s in summaries] for k in latest.layers},
        "migration": context.get("migration"),
    }
    return render(request, "overview.html", context)
