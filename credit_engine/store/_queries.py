"""Queries behind :class:`OperationalStore`: latest runs, decisions, migrations.

"Latest run" is the rule everywhere: of several **served** runs for one rating
date, the one with the highest ``run_id`` supersedes the others, whole. Shadow
runs (``role = 'shadow'``: a challenger's decisions on the same inputs) are
never a date's latest run: only :func:`model_run_ids` and the shadow queries
read them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    CursorResult,
    Row,
    Subquery,
    case,
    exists,
    func,
    select,
)

from credit_engine.exceptions import NoRatingsError, StoreError
from credit_engine.store._decisions import DECISION_COLUMNS
from credit_engine.store._schema import RunRole, decisions, overrides, rating_runs
from credit_engine.vocabulary import Tier

__all__ = [
    "IN_CHUNK",
    "as_date",
    "check_override_refs",
    "check_role",
    "check_query",
    "count_overrides",
    "decision_columns",
    "latest_run_id",
    "latest_runs",
    "migration_cells",
    "model_run_ids",
    "served",
    "new_id",
    "rating_dates",
    "select_decisions",
    "uscc_chunks",
]

IN_CHUNK = 1_000
"""Values per ``IN (...)`` list; well under SQLite's bound-parameter limit."""

_SHOWN_DATES = 12
_SHOWN_IDS = 5


def new_id(result: CursorResult[Any]) -> int:
    """Return the integer primary key of the row an ``INSERT`` just wrote.

    Parameters
    ----------
    result : sqlalchemy.CursorResult
        The result of a single-row insert.

    Returns
    -------
    int
    """
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table has an integer key
        raise StoreError("the database returned no primary key; this is a bug")
    return int(key[0])


def decision_columns() -> tuple[Any, ...]:
    """Return the ``decisions`` columns in :data:`DECISION_COLUMNS` order.

    Returns
    -------
    tuple of sqlalchemy.Column
    """
    return tuple(decisions.c[name] for name in DECISION_COLUMNS)


def check_role(value: object) -> RunRole:
    """Return ``value`` as a :class:`RunRole`.

    Raises
    ------
    StoreError
        If it is neither ``served`` nor ``shadow``.

    Examples
    --------
    >>> check_role("shadow")
    <RunRole.SHADOW: 'shadow'>
    """
    try:
        return RunRole(str(value))
    except ValueError:
        raise StoreError(
            f"A run role is one of {[r.value for r in RunRole]}, got {value!r}."
        ) from None


def served() -> Any:
    """Return the condition "the run is served" (shadow runs are never served).

    Every query that reads "the latest run of a date" filters on it.

    Returns
    -------
    sqlalchemy.ColumnElement
    """
    return rating_runs.c.role == RunRole.SERVED.value


def latest_runs() -> Subquery:
    """Return the subquery ``(as_of, run_id)`` of the latest served run of every date.

    Returns
    -------
    sqlalchemy.Subquery
    """
    return (
        select(rating_runs.c.as_of, func.max(rating_runs.c.run_id).label("run_id"))
        .where(served())
        .group_by(rating_runs.c.as_of)
        .subquery("latest_runs")
    )


def as_date(value: object, name: str) -> dt.date:
    """Return ``value`` as a date; naive midnight datetimes (pandas too) pass.

    Parameters
    ----------
    value : object
        Candidate date.
    name : str
        Parameter name for the message.

    Returns
    -------
    datetime.date

    Raises
    ------
    StoreError
        For anything else, e.g. a datetime with a time of day.

    Examples
    --------
    >>> as_date(dt.datetime(2025, 9, 30), "as_of")
    datetime.date(2025, 9, 30)
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time():
            return value.date()
    elif isinstance(value, dt.date):
        return value
    raise StoreError(
        f"{name} must be a datetime.date (or a naive midnight datetime), got "
        f"{value!r}; pass e.g. datetime.date(2025, 9, 30)."
    )


def uscc_chunks(usccs: Sequence[str] | None) -> list[list[str]] | None:
    """Split a USCC filter into sorted, distinct chunks for ``IN`` lists.

    Parameters
    ----------
    usccs : sequence of str or None
        The filter (``None``: no filter).

    Returns
    -------
    list of list of str or None
        Ascending, so that concatenated chunk results stay ordered by USCC.

    Raises
    ------
    StoreError
        If a single string is passed instead of a sequence.
    """
    if usccs is None:
        return None
    if isinstance(usccs, str):
        raise StoreError(
            f"usccs must be a sequence of codes, got the single string {usccs!r}; "
            "wrap it in a list."
        )
    unique = sorted(set(usccs))
    return [unique[i : i + IN_CHUNK] for i in range(0, len(unique), IN_CHUNK)]


def check_query(tier: str | None, limit: int | None, offset: int) -> None:
    """Check the filter and paging arguments of a decisions query.

    Parameters
    ----------
    tier : str or None
        Tier filter.
    limit : int or None
        Page size.
    offset : int
        Rows to skip.

    Raises
    ------
    StoreError
        Listing every invalid argument.
    """
    problems = []
    if tier is not None and tier not in Tier.values():
        problems.append(
            f"tier must be one of {list(Tier.values())} or None, got {tier!r}"
        )
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
    ):
        problems.append(f"limit must be None or an int >= 0, got {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        problems.append(f"offset must be an int >= 0, got {offset!r}")
    if problems:
        raise StoreError("Invalid decisions query: " + "; ".join(problems) + ".")


def rating_dates(conn: Connection) -> list[dt.date]:
    """Return the distinct rating dates with a served run, oldest first.

    Parameters
    ----------
    conn : sqlalchemy.Connection

    Returns
    -------
    list of datetime.date
    """
    stmt = (
        select(rating_runs.c.as_of)
        .where(served())
        .distinct()
        .order_by(rating_runs.c.as_of)
    )
    return list(conn.scalars(stmt).all())


def latest_run_id(conn: Connection, as_of: dt.date) -> int:
    """Return the ``run_id`` of the latest served run of ``as_of``.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    as_of : datetime.date

    Returns
    -------
    int

    Raises
    ------
    NoRatingsError
        If the date has no run; the message lists (the latest) dates that do.
    """
    run_id = conn.scalar(
        select(func.max(rating_runs.c.run_id)).where(
            rating_runs.c.as_of == as_of, served()
        )
    )
    if run_id is not None:
        return int(run_id)
    dates = rating_dates(conn)
    if not dates:
        listing = "the store has no rating runs yet; run the rating job first"
    else:
        shown = dates[-_SHOWN_DATES:]
        more = (
            f" (latest {len(shown)} of {len(dates)})" if len(dates) > len(shown) else ""
        )
        listing = (
            f"dates with ratings{more}: {', '.join(d.isoformat() for d in shown)}; "
            f"pick one of them or record a run for {as_of.isoformat()} first"
        )
    raise NoRatingsError(
        f"No rating run was recorded for {as_of.isoformat()}: {listing}.",
        as_of=as_of,
        available=dates,
    )


def model_run_ids(
    conn: Connection,
    model_name: str,
    model_version: str,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    role: RunRole | None = None,
) -> dict[dt.date, tuple[int, RunRole]]:
    """Return, per rating date, the latest run of one model version.

    A served run of the version wins over its shadow runs at the same date (the
    same decisions, served); of several runs of one role the highest
    ``run_id`` wins.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    model_name, model_version : str
        The model version.
    since, until : datetime.date, optional
        Only rating dates in ``[since, until]``.
    role : RunRole, optional
        Only runs of this role.

    Returns
    -------
    dict of datetime.date to (int, RunRole)
        ``{as_of: (run_id, role)}``, oldest date first.
    """
    r = rating_runs.c
    stmt = (
        select(r.as_of, r.role, func.max(r.run_id))
        .where(r.model_name == model_name, r.model_version == str(model_version))
        .group_by(r.as_of, r.role)
    )
    if since is not None:
        stmt = stmt.where(r.as_of >= since)
    if until is not None:
        stmt = stmt.where(r.as_of <= until)
    if role is not None:
        stmt = stmt.where(r.role == check_role(role).value)
    chosen: dict[dt.date, tuple[int, RunRole]] = {}
    for as_of, run_role, run_id in conn.execute(stmt):
        kind = RunRole(run_role)
        held = chosen.get(as_of)
        if held is None or (kind is RunRole.SERVED and held[1] is RunRole.SHADOW):
            chosen[as_of] = (int(run_id), kind)
    return dict(sorted(chosen.items()))


def select_decisions(
    conn: Connection,
    run_id: int,
    *,
    chunks: list[list[str]] | None,
    tier: str | None,
    green_channel: bool | None,
    limit: int | None,
    offset: int,
) -> list[Row[Any]]:
    """Fetch one run's decisions, filtered, ordered by USCC and paged.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    run_id : int
    chunks : list of list of str or None
        Output of :func:`uscc_chunks`.
    tier, green_channel, limit, offset
        As in :meth:`OperationalStore.decisions_at`.

    Returns
    -------
    list of sqlalchemy.Row
        Values in :data:`DECISION_COLUMNS` order.
    """
    c = decisions.c
    base = select(*decision_columns()).where(c.run_id == run_id)
    if tier is not None:
        base = base.where(c.tier == tier)
    if green_channel is not None:
        base = base.where(c.green_channel.is_(bool(green_channel)))
    if chunks == []:
        return []
    if chunks is None or len(chunks) == 1:
        if chunks is not None:
            base = base.where(c.uscc.in_(chunks[0]))
        return list(conn.execute(base.order_by(c.uscc).offset(offset).limit(limit)))
    # Many codes: one query per chunk (chunks ascend, so the rows stay ordered),
    # then page in Python.
    rows = [
        row
        for chunk in chunks
        for row in conn.execute(base.where(c.uscc.in_(chunk)).order_by(c.uscc))
    ]
    return rows[offset : None if limit is None else offset + limit]


def migration_cells(
    conn: Connection, from_run: int, to_run: int
) -> list[tuple[str, str, int]]:
    """Count enterprises per (tier in ``from_run``, tier in ``to_run``) in SQL.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    from_run, to_run : int
        Run ids.

    Returns
    -------
    list of (str, str, int)
        ``(from_tier, to_tier, count)``; ``to_tier`` is ``"gone"`` for
        enterprises missing from ``to_run`` and ``from_tier`` is ``"new"`` for
        those missing from ``from_run``.
    """
    c = decisions.c
    before = select(c.uscc, c.tier).where(c.run_id == from_run).subquery("f")
    after = select(c.uscc, c.tier).where(c.run_id == to_run).subquery("t")
    # Group by the raw columns (NULL for "gone") rather than a COALESCE with a
    # bound literal, which PostgreSQL cannot match between SELECT and GROUP BY.
    moved = (
        select(before.c.tier, after.c.tier, func.count())
        .select_from(before.outerjoin(after, before.c.uscc == after.c.uscc))
        .group_by(before.c.tier, after.c.tier)
    )
    new = (
        select(after.c.tier, func.count())
        .where(~exists().where(before.c.uscc == after.c.uscc))
        .group_by(after.c.tier)
    )
    cells = [
        (str(f), "gone" if t is None else str(t), int(n))
        for f, t, n in conn.execute(moved)
    ]
    cells += [("new", str(t), int(n)) for t, n in conn.execute(new)]
    return cells


def count_overrides(conn: Connection, run_id: int) -> tuple[int, int]:
    """Return (decisions, decisions decided by an override) of one run.

    Parameters
    ----------
    conn : sqlalchemy.Connection
    run_id : int

    Returns
    -------
    (int, int)
    """
    c = decisions.c
    by_override = func.sum(case((c.decided_by == "OVERRIDE", 1), else_=0))
    total, overridden = conn.execute(
        select(func.count(), func.coalesce(by_override, 0)).where(c.run_id == run_id)
    ).one()
    return int(total), int(overridden)


def check_override_refs(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Check that decisions cite existing overrides of the same enterprise.

    Parameters
    ----------
    conn : sqlalchemy.Connection
        Inside the run's transaction.
    rows : sequence of mappings
        Decision rows with ``override_id`` and ``uscc``.

    Raises
    ------
    StoreError
        Naming unknown override ids and overrides cited for another enterprise.
    """
    wanted = {
        (r["override_id"], r["uscc"]) for r in rows if r["override_id"] is not None
    }
    if not wanted:
        return
    ids = sorted({oid for oid, _ in wanted})
    o = overrides.c
    known: dict[int, str] = {}
    for start in range(0, len(ids), IN_CHUNK):
        stmt = select(o.override_id, o.uscc).where(
            o.override_id.in_(ids[start : start + IN_CHUNK])
        )
        known.update((int(oid), code) for oid, code in conn.execute(stmt))
    unknown = [oid for oid in ids if oid not in known]
    mismatched = sorted(
        (oid, code) for oid, code in wanted if oid in known and known[oid] != code
    )
    problems = []
    if unknown:
        problems.append(
            f"override_id {unknown[:_SHOWN_IDS]} ({len(unknown)} in all) do not "
            "exist; record overrides with add_override() before the run that "
            "applies them"
        )
    if mismatched:
        shown = ", ".join(
            f"override {oid} is for {known[oid]}, not {code}"
            for oid, code in mismatched[:_SHOWN_IDS]
        )
        problems.append(f"decisions cite another enterprise's override: {shown}")
    if problems:
        raise StoreError(
            "Cannot record the decisions: " + "; ".join(problems) + ". Nothing was "
            "written."
        )
