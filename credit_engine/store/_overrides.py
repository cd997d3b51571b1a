"""Manual tier overrides: input checks and the point-in-time query.

An override is in force at ``as_of`` when, as known at the end of that day (UTC),
it had been created, its validity interval ``[effective_from, effective_to)``
covers the date, and it had not been revoked. Of several in force for one
enterprise, the most recently created wins.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select

from credit_engine.exceptions import OverrideError
from credit_engine.store._schema import overrides
from credit_engine.uscc import validate_uscc
from credit_engine.vocabulary import Tier

__all__ = [
    "IN_FORCE_COLUMNS",
    "end_of_day",
    "in_force_query",
    "override_row",
    "require_text",
]

IN_FORCE_COLUMNS: tuple[str, ...] = (
    "override_id",
    "uscc",
    "tier",
    "reason",
    "actor",
    "effective_from",
    "effective_to",
    "created_at",
)
"""Columns of :meth:`OperationalStore.overrides_in_force`."""


def end_of_day(as_of: dt.date) -> dt.datetime:
    """Return the first instant after ``as_of`` ends, in UTC.

    Parameters
    ----------
    as_of : datetime.date
        A rating date.

    Returns
    -------
    datetime.datetime
        Midnight UTC of the following day.

    Examples
    --------
    >>> end_of_day(dt.date(2025, 12, 31)).isoformat()
    '2026-01-01T00:00:00+00:00'
    """
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)


def require_text(value: object, name: str, problems: list[str]) -> None:
    """Append a problem unless ``value`` is a string with visible characters.

    Parameters
    ----------
    value : object
        Candidate text.
    name : str
        Parameter name for the message.
    problems : list of str
        Collected problems, appended to in place.
    """
    if not isinstance(value, str) or not value.strip():
        problems.append(f"{name} must be a non-empty string, got {value!r}")


def _is_date(value: object) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def override_row(
    *,
    uscc: str,
    tier: str,
    reason: str,
    actor: str,
    effective_from: dt.date,
    effective_to: dt.date | None,
    created_at: dt.datetime | None,
) -> dict[str, Any]:
    """Validate a new override and return its ``overrides`` row.

    Parameters
    ----------
    uscc, tier, reason, actor, effective_from, effective_to, created_at
        As in :meth:`OperationalStore.add_override`.

    Returns
    -------
    dict
        Column name to value, ``created_at`` defaulting to now (UTC).

    Raises
    ------
    InvalidUsccError
        If ``uscc`` is not a valid code.
    OverrideError
        Listing every other problem.
    """
    validate_uscc(uscc)
    problems: list[str] = []
    if tier not in Tier.values():
        problems.append(f"tier must be one of {list(Tier.values())}, got {tier!r}")
    require_text(reason, "reason", problems)
    require_text(actor, "actor", problems)
    if not _is_date(effective_from):
        problems.append(
            f"effective_from must be a datetime.date, got {effective_from!r}"
        )
    if effective_to is not None and not _is_date(effective_to):
        problems.append(
            f"effective_to must be a datetime.date or None, got {effective_to!r}"
        )
    elif (
        effective_to is not None
        and _is_date(effective_from)
        and effective_to <= effective_from
    ):
        problems.append(
            "effective_to (exclusive end) must be after effective_from, got "
            f"effective_from={effective_from}, effective_to={effective_to}"
        )
    if created_at is None:
        created_at = dt.datetime.now(dt.UTC)
    elif not isinstance(created_at, dt.datetime) or created_at.utcoffset() is None:
        problems.append(f"created_at must be timezone-aware, got {created_at!r}")
    if problems:
        raise OverrideError(
            f"Cannot add the override for {uscc}: " + "; ".join(problems) + "."
        )
    return {
        "uscc": uscc,
        "tier": tier,
        "reason": reason.strip(),
        "actor": actor.strip(),
        "effective_from": effective_from,
        "effective_to": effective_to,
        "created_at": created_at,
    }


def in_force_query(
    as_of: dt.date,
    usccs: Sequence[str] | None,
    known_before: dt.datetime | None = None,
) -> Select[Any]:
    """Build the query of the overrides in force at ``as_of``, one per enterprise.

    Parameters
    ----------
    as_of : datetime.date
        Rating date.
    usccs : sequence of str or None
        Restrict to these enterprises (``None``: all).
    known_before : datetime.datetime, optional
        Knowledge cutoff of the overrides (created before it, not revoked
        before it); default the end of ``as_of`` (UTC), the point-in-time rule.

    Returns
    -------
    sqlalchemy.Select
        Selects :data:`IN_FORCE_COLUMNS`, ordered by ``uscc``.
    """
    cutoff = end_of_day(as_of) if known_before is None else known_before
    o = overrides.c
    recency = (
        func.row_number()
        .over(partition_by=o.uscc, order_by=(o.created_at.desc(), o.override_id.desc()))
        .label("recency")
    )
    candidates = select(*(o[name] for name in IN_FORCE_COLUMNS), recency).where(
        o.created_at < cutoff,
        o.effective_from <= as_of,
        or_(o.effective_to.is_(None), o.effective_to > as_of),
        or_(o.revoked_at.is_(None), o.revoked_at >= cutoff),
    )
    if usccs is not None:
        candidates = candidates.where(o.uscc.in_(usccs))
    ranked = candidates.subquery("ranked")
    return (
        select(*(ranked.c[name] for name in IN_FORCE_COLUMNS))
        .where(ranked.c.recency == 1)
        .order_by(ranked.c.uscc)
    )


@functools.cache
def one_in_force_query() -> Select[Any]:
    """Build (once) the query of the override in force for one enterprise.

    The same rules as :func:`in_force_query`, with bound parameters ``uscc``,
    ``as_of`` and ``cutoff`` (:func:`end_of_day` of ``as_of``), so that the
    statement is built and compiled once: the scoring API runs it per request.
    """
    o = overrides.c
    as_of = bindparam("as_of", type_=overrides.c.effective_from.type)
    cutoff = bindparam("cutoff", type_=overrides.c.created_at.type)
    return (
        select(*(o[name] for name in IN_FORCE_COLUMNS))
        .where(
            o.uscc == bindparam("uscc"),
            o.created_at < cutoff,
            o.effective_from <= as_of,
            or_(o.effective_to.is_(None), o.effective_to > as_of),
            or_(o.revoked_at.is_(None), o.revoked_at >= cutoff),
        )
        .order_by(o.created_at.desc(), o.override_id.desc())
        .limit(1)
    )
