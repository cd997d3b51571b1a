"""Where the report gets what other parts of the engine own: warnings, freshness.

Both are optional callables with a documented minimal interface, so the report
works (and says "no early-warning data") before they exist, and the engine
wires them when they do.

Early warnings
--------------
A :data:`WarningSource` is called with the report's range and knowledge cutoff
and returns one row per warning that matters for it, with the columns of
:data:`WARNING_COLUMNS`:

``uscc`` (str)
    The enterprise.
``signal_code`` (str)
    The signal that raised it.
``raised_on`` (date)
    The rating date (``as_of``) at which it was first raised.
``closed_on`` (date or None)
    The day (UTC) its status became closed, if that was known before the
    cutoff; ``None`` while open.

:func:`store_warning_source` reads them from the operational store's
``warnings`` table (``credit_engine.store.warnings_table``, revision
``0003_warnings``): ``signal``, ``first_as_of`` and ``closed_at`` of a
``closed`` warning; only warnings stored before the cutoff (``created_at``)
count. A table with the minimal layout (columns ``uscc``, ``signal_code``,
``first_raised_as_of``, ``status`` and ``status_changed_at``, a status in
:data:`CLOSED_STATUSES` meaning closed at ``status_changed_at``) is read too.

Data freshness
--------------
A :data:`FreshnessSource` is called with the knowledge date and returns a
frame shown as it is (one row per table or department, e.g. the latest event
and ingestion times and the lag); ``None`` shows "no data-freshness figures".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from credit_engine.exceptions import ReportError

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData

__all__ = [
    "CLOSED_STATUSES",
    "FreshnessSource",
    "WARNING_COLUMNS",
    "WARNINGS_TABLE",
    "WarningSource",
    "store_warning_source",
    "warnings_frame",
]

WARNING_COLUMNS: tuple[str, ...] = ("uscc", "signal_code", "raised_on", "closed_on")
"""Columns a :data:`WarningSource` returns."""

WARNINGS_TABLE = "warnings"
"""Name of the early-warning table in the operational store's metadata."""

CLOSED_STATUSES: frozenset[str] = frozenset({"CLOSED", "RESOLVED", "DISMISSED"})
"""Statuses of a closed warning, compared without case (the others are open)."""

_STORE_COLUMNS = (
    "uscc",
    "signal_code",
    "first_raised_as_of",
    "status",
    "status_changed_at",
)

_ENGINE_LAYOUT = {
    "uscc": "uscc",
    "signal_code": "signal",
    "first_raised_as_of": "first_as_of",
    "status": "status",
    "status_changed_at": "closed_at",
}
"""The engine's ``warnings`` table (revision 0003_warnings), as the columns above."""

WarningSource = Callable[[dt.date, dt.date, dt.datetime], pd.DataFrame]
"""``(start, end, known_before) -> frame`` of :data:`WARNING_COLUMNS`."""

FreshnessSource = Callable[[dt.date], pd.DataFrame]
"""``(knowledge_date) -> frame`` of freshness figures, shown as it is."""


def store_warning_source(
    engine: Engine, metadata: MetaData | None = None
) -> WarningSource | None:
    """Return a :data:`WarningSource` over the store's ``warnings`` table, if declared.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The operational store's engine.
    metadata : sqlalchemy.MetaData, optional
        Where the table is declared; default :data:`credit_engine.store.metadata`.

    Returns
    -------
    WarningSource or None
        ``None`` when :data:`credit_engine.store.metadata` has no
        ``warnings`` table (the early-warning revision is not installed).

    Raises
    ------
    ReportError
        When called, if the table lacks one of the expected columns.
    """
    if metadata is None:
        from credit_engine.store import metadata as store_metadata

        metadata = store_metadata
    table = metadata.tables.get(WARNINGS_TABLE)
    if table is None:
        return None

    def read(start: dt.date, end: dt.date, known_before: dt.datetime) -> pd.DataFrame:
        from sqlalchemy import select

        c = table.c
        engine_layout = all(col in c for col in _ENGINE_LAYOUT.values())
        layout = _ENGINE_LAYOUT if engine_layout else {k: k for k in _STORE_COLUMNS}
        missing = [col for col in layout.values() if col not in c]
        if missing:
            raise ReportError(
                f"The store's {WARNINGS_TABLE!r} table lacks columns {missing}; "
                f"the zone report reads {list(_STORE_COLUMNS)} (or the engine's "
                f"{list(_ENGINE_LAYOUT.values())}). Adapt "
                "credit_engine.zone_statistics.store_warning_source to the table."
            )
        stmt = select(*(c[col].label(name) for name, col in layout.items())).where(
            c[layout["first_raised_as_of"]] <= end
        )
        if engine_layout and "created_at" in c:
            stmt = stmt.where(c.created_at < known_before)
        stmt = stmt.order_by(
            c[layout["first_raised_as_of"]], c[layout["uscc"]], c[layout["signal_code"]]
        )
        with engine.connect() as conn:
            rows = conn.execute(stmt).all()
        frame = pd.DataFrame(rows, columns=list(_STORE_COLUMNS))
        return warnings_frame(frame, known_before)

    return read


def warnings_frame(rows: pd.DataFrame, known_before: dt.datetime) -> pd.DataFrame:
    """Turn store rows (status and when it changed) into :data:`WARNING_COLUMNS`.

    A warning is closed on the UTC day of ``status_changed_at`` if its status
    is closed and the change was known before ``known_before``; otherwise
    (open, or closed after the cutoff) ``closed_on`` is ``None``.

    Examples
    --------
    >>> import datetime as dt
    >>> rows = pd.DataFrame({"uscc": ["X", "Y"], "signal_code": ["S1", "S2"],
    ...     "first_raised_as_of": [dt.date(2026, 1, 31)] * 2,
    ...     "status": ["CLOSED", "OPEN"],
    ...     "status_changed_at": pd.to_datetime(["2026-02-03T08:00Z", None], utc=True)})
    >>> warnings_frame(rows, dt.datetime(2026, 3, 1, tzinfo=dt.UTC)).closed_on.tolist()
    [datetime.date(2026, 2, 3), None]
    """
    changed = pd.to_datetime(rows["status_changed_at"], utc=True)
    status = rows["status"].astype(str).str.upper()
    closed = status.isin(CLOSED_STATUSES) & (changed < known_before)
    closed_on = [
        ts.date() if is_closed else None
        for ts, is_closed in zip(changed, closed, strict=True)
    ]
    return pd.DataFrame(
        {
            "uscc": rows["uscc"].astype(str),
            "signal_code": rows["signal_code"].astype(str),
            "raised_on": [pd.Timestamp(d).date() for d in rows["first_raised_as_of"]],
            "closed_on": pd.Series(closed_on, dtype=object),
        }
    )
