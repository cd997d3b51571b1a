"""The overrides in memory, so that deciding a request reads no database.

Every decision needs the override in force for its enterprise at its date. A
database read per request would be blocking I/O on the event loop (or a thread
hop per request); the overrides table is small, so the service keeps all of it
in memory and answers :meth:`OverrideIndex.in_force` with the store's own
point-in-time rules (:meth:`OperationalStore.override_in_force
<credit_engine.store.OperationalStore.override_in_force>`; a test checks they
agree):

* created before the end of ``as_of`` (UTC),
* ``effective_from <= as_of < effective_to`` (open end when null),
* not revoked before the end of ``as_of``,
* of several, the latest created (then the highest id).

Freshness: an override recorded through this API is applied at once
(:meth:`OverrideIndex.add`); one recorded by another process (``credit-engine
override``, another server) within ``refresh_seconds``: a background task
compares a fingerprint of the table (count, revoked count, highest id) every
``refresh_seconds`` and reloads the table when it changed. If the table cannot
be read for ``max_stale_seconds``, decisions are refused with 503 rather than
made on overrides that may be out of date.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from credit_engine.decisioning import Override
from credit_engine.exceptions import StoreUnavailableError
from credit_engine.store import OperationalStore, overrides
from credit_engine.vocabulary import Tier

__all__ = ["OverrideIndex"]

_LOG = logging.getLogger("credit_engine.api")
_COLUMNS = ("override_id", "uscc", "tier", "reason", "actor", "effective_from",
            "effective_to", "created_at", "revoked_at")  # fmt: skip


@dataclass(frozen=True)
class _Row:
    override_id: int
    uscc: str
    tier: Tier
    reason: str
    actor: str
    effective_from: dt.date
    effective_to: dt.date | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None

    def override(self) -> Override:
        return Override(self.override_id, self.tier, self.reason, self.actor)


def _row(values: Mapping[Any, Any]) -> _Row:
    return _Row(
        override_id=int(values["override_id"]),
        uscc=str(values["uscc"]),
        tier=Tier(str(values["tier"])),
        reason=str(values["reason"]),
        actor=str(values["actor"]),
        effective_from=values["effective_from"],
        effective_to=values["effective_to"],
        created_at=values["created_at"],
        revoked_at=values["revoked_at"],
    )


def _cutoff(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(), dt.UTC)


class OverrideIndex:
    """Every override of the store, indexed by enterprise.

    Parameters
    ----------
    store : OperationalStore
        Where the overrides live.
    refresh_seconds : float, default=1.0
        How often :meth:`refresh` is expected to run (by the app's task).
    max_stale_seconds : float, default=10.0
        Refuse decisions (503) when the table could not be read for this long.
    """

    def __init__(
        self,
        store: OperationalStore,
        *,
        refresh_seconds: float = 1.0,
        max_stale_seconds: float = 10.0,
    ) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self.max_stale_seconds = max_stale_seconds
        self._by_uscc: dict[str, list[_Row]] = {}
        self._fingerprint: tuple[int, int, int] | None = None
        self._fresh_at: float | None = None
        self._error: str | None = None
        self._lock = threading.Lock()  # one refresh at a time

    # ------------------------------------------------------------ reading
    def _read_fingerprint(self) -> tuple[int, int, int]:
        o = overrides.c
        with self.store.engine.connect() as conn:
            row = conn.execute(
                select(func.count(), func.count(o.revoked_at), func.max(o.override_id))
            ).one()
        return int(row[0]), int(row[1]), int(row[2] or 0)

    def _read_all(self) -> dict[str, list[_Row]]:
        o = overrides.c
        stmt = select(*(o[c] for c in _COLUMNS)).order_by(
            o.uscc, o.created_at.desc(), o.override_id.desc()
        )
        by_uscc: dict[str, list[_Row]] = {}
        with self.store.engine.connect() as conn:
            for values in conn.execute(stmt).mappings():
                row = _row(values)
                by_uscc.setdefault(row.uscc, []).append(row)
        return by_uscc

    def refresh(self) -> bool:
        """Reload the table if it changed (blocking: run it in a worker thread).

        Returns
        -------
        bool
            Whether it was reloaded.
        """
        with self._lock:
            try:
                fingerprint = self._read_fingerprint()
                changed = fingerprint != self._fingerprint
                if changed:
                    self._by_uscc = self._read_all()  # one reference swap
                    self._fingerprint = fingerprint
            except Exception as exc:  # noqa: BLE001 - kept; staleness is enforced
                if self._error is None:
                    _LOG.error("cannot read the overrides: %s", exc, exc_info=exc)
                self._error = type(exc).__name__
                return False
            self._fresh_at = time.monotonic()
            self._error = None
            return changed

    def add(self, values: Mapping[str, Any]) -> None:
        """Apply an override this process just recorded (a row of the table)."""
        row = _row(values)
        with self._lock:
            by_uscc = dict(self._by_uscc)
            rows = [
                r for r in by_uscc.get(row.uscc, []) if r.override_id != row.override_id
            ]
            rows.append(row)
            rows.sort(key=lambda r: (r.created_at, r.override_id), reverse=True)
            by_uscc[row.uscc] = rows
            self._by_uscc = by_uscc

    # ------------------------------------------------------------ answers
    @property
    def stale_for(self) -> float | None:
        """Seconds since the table was last read (None: never)."""
        fresh = self._fresh_at
        return None if fresh is None else time.monotonic() - fresh

    def check_fresh(self) -> None:
        """Raise if the overrides may be out of date.

        Raises
        ------
        StoreUnavailableError
            If the table was never read, or not for ``max_stale_seconds``.
        """
        stale = self.stale_for
        if stale is None or stale > self.max_stale_seconds:
            raise StoreUnavailableError(
                "The supervisors' overrides could not be read from the operational "
                "store lately, so no decision is made on possibly outdated ones. "
                "Retry shortly.",
                retry_after=max(1.0, self.refresh_seconds),
                reason="overrides unreadable",
            )

    def in_force(
        self, uscc: str, as_of: dt.date, *, known_before: dt.datetime | None = None
    ) -> Override | None:
        """Return the override in force for ``uscc`` at ``as_of`` (no I/O).

        ``known_before``: the knowledge cutoff (created before it, not revoked
        before it); default the end of ``as_of`` (UTC), the point-in-time rule.
        """
        rows = self._by_uscc.get(uscc)
        if not rows:
            return None
        cutoff = _cutoff(as_of) if known_before is None else known_before
        for row in rows:  # latest created first
            if row.created_at >= cutoff or row.effective_from > as_of:
                continue
            if row.effective_to is not None and row.effective_to <= as_of:
                continue
            if row.revoked_at is not None and row.revoked_at < cutoff:
                continue
            return row.override()
        return None

    def in_force_many(
        self,
        usccs: list[str],
        as_of: dt.date,
        *,
        known_before: dt.datetime | None = None,
    ) -> dict[str, Override]:
        """:meth:`in_force` for several enterprises (those with one)."""
        out = {}
        for uscc in usccs:
            found = self.in_force(uscc, as_of, known_before=known_before)
            if found is not None:
                out[uscc] = found
        return out
