"""What the enterprise profile shows: the decision, its reasons, facts and history.

The current decision is decided now by the service (the champion served and the
overrides in force, as ``GET /v1/enterprises/{uscc}/rating`` does), or, when no
model is loaded or the enterprise is not in the served zone, the latest stored
one. Every field passes :meth:`Policy.disclose` at the viewer's clearance first:
what a role may not see never reaches the template.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_engine.console._context import ConsoleState, Viewer
from credit_engine.exceptions import EnterpriseNotFoundError
from credit_engine.jsonable import to_jsonable

__all__ = ["enterprise_profile"]


def _live(state: ConsoleState, uscc: str) -> dict[str, Any] | None:
    scoring = state.services.scoring
    served = scoring._state  # noqa: SLF001 - no model: fall back to the store
    if served is None or uscc not in served.usccs:
        return None
    decision = scoring.decide([uscc])[0].decision
    return decision.to_dict()


def _enrich(state: ConsoleState, record: dict[str, Any]) -> dict[str, Any]:
    """Give stored codes (measures, reasons, facts) their department and texts."""
    texts = state.texts()
    out = dict(record)
    if "measures" in out:
        out["measures"] = [
            m if isinstance(m, dict) else texts.measure(str(m)) for m in out["measures"]
        ]
    if "reasons" in out:
        out["reasons"] = [
            r if isinstance(r, dict) else texts.reason(str(r)) for r in out["reasons"]
        ]
    if "facts" in out:
        out["facts"] = [
            f if "zh" in f and f.get("zh") else texts.fact(f) for f in out["facts"]
        ]
    if "tier" in out and "tier_label" not in out:
        out["tier_label"] = texts.tier_label(str(out["tier"]))
    return out


def _in_force(row: dict[str, Any], today: dt.date) -> bool:
    start = dt.date.fromisoformat(str(row["effective_from"]))
    end = row.get("effective_to")
    return (
        row.get("revoked_at") is None
        and start <= today
        and (end is None or today < dt.date.fromisoformat(str(end)))
    )


def enterprise_profile(
    state: ConsoleState, viewer: Viewer, uscc: str
) -> dict[str, Any]:
    """Everything the profile page of ``uscc`` shows to ``viewer``.

    Raises
    ------
    EnterpriseNotFoundError
        If nothing is known of the enterprise (no decision, override or record).
    """
    texts = state.texts()
    policy = texts.policy
    directory = state.directory.get()
    entry = directory.get(uscc) if directory is not None else None
    queries = state.zone.queries
    history = to_jsonable(queries.history(uscc), where="history")
    overrides = to_jsonable(queries.overrides(uscc), where="overrides")
    live = _live(state, uscc)
    if live is None and not history and not overrides and entry is None:
        raise EnterpriseNotFoundError(
            f"No enterprise {uscc} is known to the zone: no decision, override or "
            "department record about it. Check the code, or search by name."
        )
    current = live if live is not None else (dict(history[-1]) if history else None)
    shown = None
    if current is not None:
        shown = _enrich(state, policy.disclose(current, viewer.clearance))
    rows = [policy.disclose(r, viewer.clearance) for r in history]
    chart = [
        {k: r[k] for k in ("as_of", "tier", "pd", "decided_by", "grade") if k in r}
        for r in rows
    ]
    today = dt.datetime.now(dt.UTC).date()
    for o in overrides:
        o["in_force"] = _in_force(o, today)
    facts = (shown or {}).get("facts", [])
    timeline = [
        {
            "code": f.get("code"),
            "zh": f.get("zh"),
            "en": f.get("en"),
            "department": f.get("department"),
            "since": f.get("since"),
            "until": f.get("until"),
            "favourable": bool(f.get("favourable")),
        }
        for f in facts
    ]
    return {
        "uscc": uscc,
        "entry": entry,
        "decision": shown,
        "source": "live" if live is not None else ("stored" if current else None),
        "history": [_enrich(state, r) for r in rows],
        "overrides": overrides,
        "chart": {
            "history": chart,
            "facts": timeline,
            "as_of": (shown or {}).get("as_of"),
        },
        "tiers": [{"code": t, **texts.tier_label(t)} for t in "ABCD"],
    }
