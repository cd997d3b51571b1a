"""The early-warning repository: record an evaluation, list, read, move a warning.

A warning is one enterprise and one signal while a supervisor works on it
(:data:`~credit_engine.store.warnings_table`); every evaluation date its
signal fired is an occurrence (:data:`~credit_engine.store.warning_occurrences`).
:meth:`WarningRepository.record_warnings` folds one evaluation date into them:

* an **open** warning (``new`` or ``acknowledged``) of the same enterprise and
  signal absorbs the date (its ``last_as_of``, ``times_seen``, evidence and
  priority move on; it keeps its status): re-evaluating never duplicates it;
* a **closed** warning whose span ``[first_as_of, last_as_of]`` holds the date
  absorbs it too (the date was evaluated before; it stays closed);
* otherwise a **new** warning opens; so a closed warning's signal firing again
  on a later date opens a new one.

Re-evaluating a date replaces that date's occurrences. Status moves
(:meth:`~WarningRepository.acknowledge`, :meth:`~WarningRepository.close`) are
checked here; :mod:`credit_engine.audit` writes them together with their audit
entry.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from credit_engine.exceptions import (
    EarlyWarningError,
    EarlyWarningNotFoundError,
    WarningTransitionError,
)
from credit_engine.store._engine import translate_errors
from credit_engine.store._frames import to_frame
from credit_engine.store._queries import IN_CHUNK, as_date, rating_dates
from credit_engine.store._schema import (
    WarningStatus,
    decisions,
    rating_runs,
    warning_occurrences,
    warnings_table,
)
from credit_engine.vocabulary import Tier

__all__ = [
    "FIRING_COLUMNS",
    "OPEN_STATUSES",
    "WARNING_DTYPES",
    "RecordedWarnings",
    "WarningRepository",
]

_UTC = "datetime64[us, UTC]"

WARNING_DTYPES: dict[str, str] = {
    "warning_id": "int64",
    "uscc": "str",
    "signal": "str",
    "signals_version": "int64",
    "first_as_of": "object",
    "last_as_of": "object",
    "times_seen": "int64",
    "priority": "float64",
    "tier": "str",
    "grade": "str",
    "pd": "float64",
    "evidence": "object",
    "status": "str",
    "created_at": _UTC,
    "updated_at": _UTC,
    "acknowledged_at": _UTC,
    "acknowledged_by": "str",
    "acknowledge_note": "str",
    "closed_at": _UTC,
    "closed_by": "str",
    "close_note": "str",
}
"""Columns of :meth:`WarningRepository.list_warnings` and their dtypes."""
assert tuple(WARNING_DTYPES) == tuple(warnings_table.c.keys())

FIRING_COLUMNS = ("uscc", "signal", "priority", "evidence")
"""Columns every firing row passed to :meth:`WarningRepository.record_warnings`
needs; ``tier``, ``grade`` and ``pd`` are optional."""

OPEN_STATUSES = (WarningStatus.NEW.value, WarningStatus.ACKNOWLEDGED.value)
"""Statuses of a warning still being worked on."""

_MAX_PAGE = 10_000
_NOTE_MAX = 4_000


@dataclass(frozen=True)
class RecordedWarnings:
    """What :meth:`WarningRepository.record_warnings` did with one evaluation date.

    Attributes
    ----------
    as_of : datetime.date
        The evaluation date.
    opened : int
        Warnings opened (their enterprise and signal had no open warning).
    continued : int
        Open warnings the date was added to (status unchanged).
    already_closed : int
        Firings absorbed by a closed warning that already spanned the date.
    warning_ids : list of int
        The warning of each firing row, in the order given.
    """

    as_of: dt.date
    opened: int
    continued: int
    already_closed: int
    warning_ids: list[int] = field(repr=False)


def _finite(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _firing_rows(
    firing: pd.DataFrame | Sequence[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    frame = firing if isinstance(firing, pd.DataFrame) else pd.DataFrame(list(firing))
    missing = [c for c in FIRING_COLUMNS if c not in frame.columns]
    if missing and len(frame):
        raise EarlyWarningError(
            f"Cannot record warnings: the firing rows lack column(s) {missing}; "
            f"each row needs {list(FIRING_COLUMNS)} (optionally tier, grade, pd)."
        )
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for i, rec in enumerate(frame.to_dict("records")):
        uscc, signal = _text(rec.get("uscc")), _text(rec.get("signal"))
        priority = _finite(rec.get("priority"))
        tier = _text(rec.get("tier"))
        if not uscc or not signal:
            problems.append(f"row {i}: uscc and signal must be non-empty")
            continue
        if (uscc, signal) in seen:
            problems.append(f"row {i}: {uscc} fires {signal} twice")
        seen.add((uscc, signal))
        if priority is None:
            problems.append(f"row {i}: priority must be a finite number")
        evidence = rec.get("evidence")
        if not isinstance(evidence, Mapping):
            problems.append(f"row {i}: evidence must be a dict")
            evidence = {}
        if tier is not None and tier not in Tier.values():
            problems.append(f"row {i}: tier must be one of {list(Tier.values())}")
        rows.append(
            {
                "uscc": uscc,
                "signal": signal,
                "priority": priority,
                "evidence": dict(evidence),
                "tier": tier,
                "grade": _text(rec.get("grade")),
                "pd": _finite(rec.get("pd")),
            }
        )
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise EarlyWarningError(f"Cannot record warnings: {shown}{more}.")
    return rows


def _note(value: str | None, *, required: bool, what: str) -> str | None:
    if value is None or not value.strip():
        if required:
            raise EarlyWarningError(
                f"{what} needs a note saying what was found or done (got "
                f"{value!r}); give a non-empty note."
            )
        return None
    note = value.strip()
    if len(note) > _NOTE_MAX:
        raise EarlyWarningError(
            f"{what}: the note has {len(note)} characters; at most {_NOTE_MAX}."
        )
    return note


def _actor(actor: str, what: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise EarlyWarningError(f"{what} needs the actor who does it, got {actor!r}.")
    return actor.strip()[:128]


class WarningRepository:
    """Early warnings, on one connection of a unit of work.

    Nothing is committed here: the unit of work commits (see
    :class:`~credit_engine.store.UnitOfWork`).

    Parameters
    ----------
    connection : sqlalchemy.Connection
        The unit of work's connection.

    Examples
    --------
    >>> import datetime as dt
    >>> from credit_engine.store import OperationalStore
    >>> with OperationalStore("sqlite://") as store:
    ...     store.create_schema()
    ...     with store.unit_of_work("record warnings") as uow:
    ...         done = uow.warnings.record_warnings(
    ...             dt.date(2025, 10, 31),
    ...             [{"uscc": "91350200MA2Y0K3Q0N", "signal": "EW-04",
    ...               "priority": 3.0, "evidence": {"claimed_90d": 1.2e6}}],
    ...             signals_version=1,
    ...         )
    ...         row = uow.warnings.get_warning(done.warning_ids[0])
    >>> done.opened, row["status"], row["first_as_of"]
    (1, 'new', datetime.date(2025, 10, 31))
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    # ------------------------------------------------------------ evaluations
    def record_warnings(
        self,
        as_of: dt.date,
        firing: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        signals_version: int,
        recorded_at: dt.datetime | None = None,
    ) -> RecordedWarnings:
        """Fold the signals that fired at ``as_of`` into the warnings.

        Parameters
        ----------
        as_of : datetime.date
            Evaluation date.
        firing : pandas.DataFrame or sequence of mappings
            One row per enterprise and signal that fired: ``uscc``, ``signal``,
            ``priority`` (finite), ``evidence`` (a JSON-ready dict) and
            optionally ``tier``, ``grade`` and ``pd`` (the enterprise's stored
            rating).
        signals_version : int
            Version of the signals file that fired them (kept on new warnings).
        recorded_at : datetime.datetime, optional
            When (timezone-aware); default now.

        Returns
        -------
        RecordedWarnings
            Counts and the warning of each firing row.

        Raises
        ------
        EarlyWarningError
            If a row is malformed (every problem listed; nothing written).
        """
        as_of = as_date(as_of, "as_of")
        rows = _firing_rows(firing)
        now = recorded_at or dt.datetime.now(dt.UTC)
        conn = self.connection
        w = warnings_table.c
        with translate_errors(conn.engine, f"record the warnings of {as_of}"):
            candidates = conn.execute(
                select(w.warning_id, w.uscc, w.signal, w.status, w.first_as_of,
                       w.last_as_of, w.times_seen)
                .where(
                    or_(
                        w.status.in_(OPEN_STATUSES),
                        and_(w.first_as_of <= as_of, w.last_as_of >= as_of),
                    )
                )
                .order_by(w.warning_id)
            ).all()  # fmt: skip
            open_by: dict[tuple[str, str], Any] = {}
            closed_by: dict[tuple[str, str], Any] = {}
            for c in candidates:
                target = open_by if c.status in OPEN_STATUSES else closed_by
                target[(c.uscc, c.signal)] = c  # latest id wins
            already = set(
                conn.scalars(
                    select(warning_occurrences.c.warning_id).where(
                        warning_occurrences.c.as_of == as_of
                    )
                ).all()
            )
            updates: list[dict[str, Any]] = []
            new_rows: list[dict[str, Any]] = []
            ids: list[int | None] = []
            continued = closed = 0
            for r in rows:
                key = (r["uscc"], r["signal"])
                hit = open_by.get(key) or closed_by.get(key)
                if hit is None:
                    ids.append(None)
                    new_rows.append(
                        {**r, "signals_version": int(signals_version),
                         "first_as_of": as_of, "last_as_of": as_of, "times_seen": 1,
                         "status": WarningStatus.NEW.value, "created_at": now,
                         "updated_at": now}
                    )  # fmt: skip
                    continue
                ids.append(int(hit.warning_id))
                if hit.status not in OPEN_STATUSES:
                    closed += 1
                    continue
                continued += 1
                latest = as_of >= hit.last_as_of
                updates.append(
                    {
                        "b_id": int(hit.warning_id),
                        "b_first": min(hit.first_as_of, as_of),
                        "b_last": max(hit.last_as_of, as_of),
                        "b_times": hit.times_seen + (hit.warning_id not in already),
                        "b_priority": r["priority"] if latest else None,
                        "b_evidence": r["evidence"] if latest else None,
                        "b_tier": r["tier"],
                        "b_grade": r["grade"],
                        "b_pd": r["pd"],
                        "b_latest": latest,
                        "b_now": now,
                    }
                )
            self._apply_updates(updates)
            if new_rows:
                inserted = (
                    conn.execute(
                        insert(warnings_table).returning(
                            w.warning_id, sort_by_parameter_order=True
                        ),
                        new_rows,
                    )
                    .scalars()
                    .all()
                )
                it = iter(int(i) for i in inserted)
                ids = [next(it) if i is None else i for i in ids]
            final = [int(i) for i in ids if i is not None]
            self._replace_occurrences(as_of, final, rows, now)
        return RecordedWarnings(as_of, len(new_rows), continued, closed, final)

    def _apply_updates(self, updates: list[dict[str, Any]]) -> None:
        if not updates:
            return
        w = warnings_table.c
        latest = [u for u in updates if u["b_latest"]]
        older = [u for u in updates if not u["b_latest"]]
        base = update(warnings_table).where(w.warning_id == bindparam("b_id"))
        if latest:
            self.connection.execute(
                base.values(
                    first_as_of=bindparam("b_first"), last_as_of=bindparam("b_last"),
                    times_seen=bindparam("b_times"), priority=bindparam("b_priority"),
                    evidence=bindparam("b_evidence"), tier=bindparam("b_tier"),
                    grade=bindparam("b_grade"), pd=bindparam("b_pd"),
                    updated_at=bindparam("b_now"),
                ),
                latest,
            )  # fmt: skip
        if older:  # an earlier date evaluated late: widen the span only
            self.connection.execute(
                base.values(
                    first_as_of=bindparam("b_first"), times_seen=bindparam("b_times"),
                    updated_at=bindparam("b_now"),
                ),
                [{k: u[k] for k in ("b_id", "b_first", "b_times", "b_now")}
                 for u in older],
            )  # fmt: skip

    def _replace_occurrences(
        self,
        as_of: dt.date,
        ids: list[int],
        rows: list[dict[str, Any]],
        now: dt.datetime,
    ) -> None:
        o = warning_occurrences.c
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            self.connection.execute(
                delete(warning_occurrences).where(
                    o.as_of == as_of, o.warning_id.in_(chunk)
                )
            )
        if ids:
            self.connection.execute(
                insert(warning_occurrences),
                [
                    {"warning_id": i, "as_of": as_of, "priority": r["priority"],
                     "evidence": r["evidence"], "recorded_at": now}
                    for i, r in zip(ids, rows, strict=True)
                ],
            )  # fmt: skip

    # ------------------------------------------------------------------ reads
    def _filtered(
        self,
        stmt: Any,
        *,
        status: str | None,
        signal: str | Sequence[str] | None,
        tier: str | None,
        as_of: dt.date | None,
        uscc: str | None,
    ) -> Any:
        w = warnings_table.c
        problems = []
        if status is not None and status not in WarningStatus.values():
            problems.append(
                f"status must be one of {list(WarningStatus.values())}, got {status!r}"
            )
        if tier is not None and tier not in Tier.values():
            problems.append(f"tier must be one of {list(Tier.values())}, got {tier!r}")
        if problems:
            raise EarlyWarningError("Invalid warnings query: " + "; ".join(problems))
        if status is not None:
            stmt = stmt.where(w.status == status)
        if isinstance(signal, str):
            stmt = stmt.where(w.signal == signal)
        elif signal is not None:
            stmt = stmt.where(w.signal.in_(list(signal)))
        if tier is not None:
            stmt = stmt.where(w.tier == tier)
        if uscc is not None:
            stmt = stmt.where(w.uscc == uscc)
        if as_of is not None:
            o = warning_occurrences.c
            stmt = stmt.where(
                select(o.warning_id)
                .where(o.warning_id == w.warning_id, o.as_of == as_date(as_of, "as_of"))
                .exists()
            )
        return stmt

    def list_warnings(  # noqa: PLR0913 - one keyword per filter of the API
        self,
        *,
        status: str | None = None,
        signal: str | Sequence[str] | None = None,
        tier: str | None = None,
        as_of: dt.date | None = None,
        uscc: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return a page of warnings, the most urgent first.

        Parameters
        ----------
        status : {"new", "acknowledged", "closed"}, optional
            Only warnings in this status.
        signal : str or sequence of str, optional
            Only these signal codes (e.g. ``"EW-04"``).
        tier : {"A", "B", "C", "D"}, optional
            Only enterprises whose stored tier (at the warning's latest
            evaluation) is this one.
        as_of : datetime.date, optional
            Only warnings whose signal fired on this evaluation date.
        uscc : str, optional
            Only this enterprise's warnings.
        limit : int or None, default=100
            Page size (at most 10,000; ``None``: every row).
        offset : int, default=0
            Rows to skip.

        Returns
        -------
        pandas.DataFrame
            Columns of :data:`WARNING_DTYPES`, ordered by ``priority``
            (descending), then ``pd`` (descending, unknown last), then
            ``last_as_of`` (newest first) and ``warning_id``.

        Raises
        ------
        EarlyWarningError
            For an unknown status or tier, or bad paging.
        """
        if (limit is not None and not 1 <= limit <= _MAX_PAGE) or offset < 0:
            raise EarlyWarningError(
                f"Invalid warnings page: limit must be 1..{_MAX_PAGE} (or None) and "
                f"offset >= 0, got limit={limit!r}, offset={offset!r}."
            )
        w = warnings_table.c
        stmt = self._filtered(
            select(warnings_table), status=status, signal=signal, tier=tier,
            as_of=as_of, uscc=uscc,
        ).order_by(
            w.priority.desc(), w.pd.desc().nulls_last(), w.last_as_of.desc(),
            w.warning_id,
        )  # fmt: skip
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with translate_errors(self.connection.engine, "read warnings"):
            rows = self.connection.execute(stmt).all()
        return to_frame(rows, WARNING_DTYPES)

    def count_warnings(
        self,
        *,
        status: str | None = None,
        signal: str | Sequence[str] | None = None,
        tier: str | None = None,
        as_of: dt.date | None = None,
        uscc: str | None = None,
    ) -> int:
        """Count the warnings :meth:`list_warnings` would page through."""
        stmt = self._filtered(
            select(func.count()).select_from(warnings_table), status=status,
            signal=signal, tier=tier, as_of=as_of, uscc=uscc,
        )  # fmt: skip
        with translate_errors(self.connection.engine, "count warnings"):
            return int(self.connection.scalar(stmt) or 0)

    def status_counts(self) -> pd.DataFrame:
        """Return how many warnings each signal has in each status.

        Returns
        -------
        pandas.DataFrame
            Columns ``signal``, ``status``, ``count``, ordered by signal and
            lifecycle.
        """
        w = warnings_table.c
        stmt = select(w.signal, w.status, func.count()).group_by(w.signal, w.status)
        with translate_errors(self.connection.engine, "count warnings"):
            rows = self.connection.execute(stmt).all()
        order = {s: i for i, s in enumerate(WarningStatus.values())}
        rows = sorted(rows, key=lambda r: (r[0], order.get(r[1], 9)))
        return to_frame(rows, {"signal": "str", "status": "str", "count": "int64"})

    def get_warning(
        self, warning_id: int, *, for_update: bool = False
    ) -> dict[str, Any]:
        """Return one warning as a dict of its columns.

        Parameters
        ----------
        warning_id : int
            The warning.
        for_update : bool, default=False
            Lock the row until the transaction ends (PostgreSQL; SQLite's
            write transaction already serialises writers).

        Raises
        ------
        EarlyWarningNotFoundError
            If no warning has that id.
        """
        stmt = select(warnings_table).where(warnings_table.c.warning_id == warning_id)
        if for_update and self.connection.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        with translate_errors(self.connection.engine, f"read warning {warning_id}"):
            row = self.connection.execute(stmt).mappings().first()
        if row is None:
            raise EarlyWarningNotFoundError(
                f"No warning with id {warning_id!r}; list them with "
                "GET /v1/warnings or `credit-engine warnings --as-of DATE`."
            )
        return dict(row)

    def occurrences(self, warning_id: int) -> list[dict[str, Any]]:
        """Return every evaluation date a warning's signal fired, oldest first.

        Each item has ``as_of``, ``priority``, ``evidence`` and ``recorded_at``.
        """
        o = warning_occurrences.c
        stmt = (
            select(o.as_of, o.priority, o.evidence, o.recorded_at)
            .where(o.warning_id == warning_id)
            .order_by(o.as_of)
        )
        with translate_errors(self.connection.engine, f"read warning {warning_id}"):
            return [dict(r) for r in self.connection.execute(stmt).mappings().all()]

    # ------------------------------------------------------------ transitions
    def acknowledge(
        self,
        warning_id: int,
        actor: str,
        note: str | None = None,
        *,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Move a ``new`` warning to ``acknowledged``; return the updated row.

        Raises
        ------
        EarlyWarningNotFoundError
            If no warning has that id.
        WarningTransitionError
            If the warning is not ``new`` (already acknowledged, or closed).
        EarlyWarningError
            Without an actor, or with a note over 4,000 characters.
        """
        who = _actor(actor, f"Acknowledging warning {warning_id}")
        text = _note(note, required=False, what=f"Acknowledging warning {warning_id}")
        current = self.get_warning(warning_id, for_update=True)
        if current["status"] != WarningStatus.NEW.value:
            raise WarningTransitionError(_refusal(current, "acknowledge"))
        now = at or dt.datetime.now(dt.UTC)
        self._set(
            warning_id,
            WarningStatus.NEW,
            status=WarningStatus.ACKNOWLEDGED.value,
            acknowledged_at=now,
            acknowledged_by=who,
            acknowledge_note=text,
            updated_at=now,
        )
        return self.get_warning(warning_id)

    def close(
        self,
        warning_id: int,
        actor: str,
        note: str,
        *,
        at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Close a ``new`` or ``acknowledged`` warning with a note; return the row.

        Raises
        ------
        EarlyWarningNotFoundError
            If no warning has that id.
        WarningTransitionError
            If the warning is already closed.
        EarlyWarningError
            Without an actor or a non-empty note.
        """
        who = _actor(actor, f"Closing warning {warning_id}")
        text = _note(note, required=True, what=f"Closing warning {warning_id}")
        current = self.get_warning(warning_id, for_update=True)
        if current["status"] not in OPEN_STATUSES:
            raise WarningTransitionError(_refusal(current, "close"))
        now = at or dt.datetime.now(dt.UTC)
        self._set(
            warning_id,
            WarningStatus(current["status"]),
            status=WarningStatus.CLOSED.value,
            closed_at=now,
            closed_by=who,
            close_note=text,
            updated_at=now,
        )
        return self.get_warning(warning_id)

    def _set(self, warning_id: int, expected: WarningStatus, **values: Any) -> None:
        w = warnings_table.c
        with translate_errors(self.connection.engine, f"update warning {warning_id}"):
            done = self.connection.execute(
                update(warnings_table)
                .where(w.warning_id == warning_id, w.status == expected.value)
                .values(**values)
            ).rowcount
        if done != 1:  # pragma: no cover - another writer won between read and write
            raise WarningTransitionError(
                _refusal(self.get_warning(warning_id), str(values["status"]))
            )

    # ------------------------------------------------------- ratings to rank by
    def ratings_near(
        self, as_of: dt.date, *, max_age_days: int
    ) -> tuple[dt.date | None, pd.DataFrame]:
        """Return the latest stored rating run on or before ``as_of``, if recent.

        Parameters
        ----------
        as_of : datetime.date
            Evaluation date.
        max_age_days : int
            The run's date must be at most this many days before ``as_of``.

        Returns
        -------
        (datetime.date or None, pandas.DataFrame)
            The run's date and its decisions' ``uscc``, ``tier``, ``grade`` and
            ``pd`` (empty, with ``None``, without such a run).
        """
        as_of = as_date(as_of, "as_of")
        empty = to_frame([], _RATING_DTYPES)
        with translate_errors(self.connection.engine, "read stored ratings"):
            dates = [d for d in rating_dates(self.connection) if d <= as_of]
            if not dates or (as_of - dates[-1]).days > max_age_days:
                return None, empty
            return dates[-1], self._ratings_of(dates[-1])

    def ratings_closest_to(
        self, target: dt.date, *, before: dt.date, tolerance_days: int
    ) -> tuple[dt.date | None, pd.DataFrame]:
        """Return the stored run closest to ``target`` (strictly before ``before``).

        Parameters
        ----------
        target : datetime.date
            The date wanted (e.g. 90 days before the current run).
        before : datetime.date
            Runs on or after this date are not considered.
        tolerance_days : int
            The run must lie within this many days of ``target``.

        Returns
        -------
        (datetime.date or None, pandas.DataFrame)
            As :meth:`ratings_near`; ties between two runs equally far go to
            the earlier one.
        """
        target = as_date(target, "target")
        with translate_errors(self.connection.engine, "read stored ratings"):
            dates = [d for d in rating_dates(self.connection) if d < before]
            near = [d for d in dates if abs((d - target).days) <= tolerance_days]
            if not near:
                return None, to_frame([], _RATING_DTYPES)
            best = min(near, key=lambda d: (abs((d - target).days), d))
            return best, self._ratings_of(best)

    def _ratings_of(self, day: dt.date) -> pd.DataFrame:
        run_id = self.connection.scalar(
            select(func.max(rating_runs.c.run_id)).where(rating_runs.c.as_of == day)
        )
        d = decisions.c
        rows = self.connection.execute(
            select(d.uscc, d.tier, d.grade, d.pd).where(d.run_id == run_id)
        ).all()
        return to_frame(rows, _RATING_DTYPES)


_RATING_DTYPES = {"uscc": "str", "tier": "str", "grade": "str", "pd": "float64"}


def _refusal(current: Mapping[str, Any], action: str) -> str:
    status = current["status"]
    wid = current["warning_id"]
    if status == WarningStatus.CLOSED.value:
        when = current["closed_at"]
        return (
            f"Cannot {action} warning {wid}: it was closed by {current['closed_by']} "
            f"at {when.isoformat() if when else '?'} ({current['close_note']!r}); a "
            "closed warning never moves again. If the signal fires on a later "
            "evaluation date a new warning opens."
        )
    if status == WarningStatus.ACKNOWLEDGED.value:
        when = current["acknowledged_at"]
        return (
            f"Cannot {action} warning {wid}: it was already acknowledged by "
            f"{current['acknowledged_by']} at {when.isoformat() if when else '?'}; "
            "close it with a note when done."
        )
    return f"Cannot {action} warning {wid} in status {status!r}."  # pragma: no cover
