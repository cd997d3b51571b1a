"""The zone overview: tiers over time, layers, migrations, breakdowns, freshness."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from credit_engine.console._context import ConsoleState, console_state, require_viewer
from credit_engine.console._render import render
from credit_engine.console._seams import freshness, latest_monitoring
from credit_engine.console._zone_prepare import OverviewParts
from credit_engine.exceptions import DataContractError

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Run = tuple[dt.date, int]


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


def _view(request: Request) -> tuple[list[tuple[dt.date, int]], int, int]:
    """Return the served runs and the indices of the ``from`` and ``to`` dates."""
    runs = console_state(request).zone.runs()
    if not runs:
        return runs, 0, 0
    frm = _pick(request.query_params.get("from"), runs, max(len(runs) - 2, 0))
    to = _pick(request.query_params.get("to"), runs, len(runs) - 1)
    return runs, frm, to


def _parts(state: ConsoleState, runs: list[Run], frm: int, to: int) -> OverviewParts:
    if state.preparer is None:  # pragma: no cover - set at mount
        raise RuntimeError("the console was built without its overview preparer")
    return state.preparer.parts(runs, runs[frm], runs[to])


@router.get("/overview/status")
def overview_status(request: Request) -> Response:
    """Whether the overview's figures (of ``from``/``to``) are ready (JSON).

    The "preparing" page asks this every few seconds and reloads when ready.
    """
    require_viewer(request, "overview")
    state = console_state(request)
    runs, frm, to = _view(request)
    body: dict[str, Any] = {"ready": True, "pending": [], "total": 0}
    if runs:
        parts = _parts(state, runs, frm, to)
        body = {
            "ready": not parts.pending,
            "pending": parts.pending,
            "total": parts.total,
        }
    if state.preparer is not None:
        body["preparer"] = state.preparer.status().as_dict()
    return JSONResponse(body)


@router.get("/overview")
def overview(request: Request) -> Response:
    """Show the zone at a glance (or say "preparing": never wait for the SQL)."""
    require_viewer(request, "overview")
    state = console_state(request)
    runs, frm, to = _view(request)
    context: dict[str, Any] = {"runs": runs, "breakdowns": {}}
    monitoring = latest_monitoring(state.settings)
    context["freshness"] = freshness(state.settings, monitoring)
    if not runs:
        return render(request, "overview.html", context)
    parts = _parts(state, runs, frm, to)
    context["pending"] = parts.pending
    context["preparing"] = {
        "total": parts.total,
        "done": parts.total - len(parts.pending),
        "error": state.preparer.status().error if state.preparer else None,
    }
    if not parts.core_ready or parts.summaries is None:
        context.update(frm=runs[frm][0], to=runs[to][0])
        return render(request, "overview_preparing.html", context)
    summaries = parts.summaries
    latest = summaries[to]
    context.update(
        summaries=summaries,
        latest=latest,
        frm=runs[frm][0],
        to=runs[to][0],
        departments=parts.departments,
    )
    matrix = parts.migration
    if matrix is not None:
        context["migration"] = {
            "rows": [str(i) for i in matrix.index],
            "columns": [str(c) for c in matrix.columns],
            "cells": matrix.to_numpy().tolist(),
            "stay": int(np.trace(matrix.loc[list("ABCD"), list("ABCD")].to_numpy())),
            "total": int(matrix.drop(index="new", errors="ignore").to_numpy().sum()),
        }
    context["breakdowns"] = breakdowns = {}
    for column, table in (parts.breakdowns or {}).items():
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
