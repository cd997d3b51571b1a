"""The zone overview's figures, prepared in the background, never on a request.

Counting a 100,000-enterprise zone (tiers per run, facts per department,
migrations, breakdowns by directory attributes) takes seconds per run; a page
must not wait for it. :class:`OverviewPreparer` owns one daemon thread that:

* at the service's start (``credit-engine serve``'s lifespan, once the champion
  is loaded), computes what
  the overview's default view needs first (every served run's counts, the
  latest run's departments and breakdowns, the migration between the last two
  dates), then every date's departments and breakdowns and the migrations of
  each date against the one before and against the latest;
* then looks for new rating runs every ``poll_seconds`` (a rating job writes
  them from another process) and computes theirs, so that the overview of a
  new run is ready before anyone asks;
* computes on demand what a page asked for and did not find (another pair of
  dates, another "to" date), woken at once by :meth:`OverviewPreparer.request`.

Pages read with :meth:`OverviewPreparer.parts`, which only looks into the
:class:`~credit_engine.console.ZoneReader`'s cache: what is missing is asked
for and reported as pending, and the page says "preparing" instead of waiting.
A stored run never changes (overrides are served over it, not written into
it), so what was counted for a ``run_id`` stays right.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from credit_engine.console._directory import DirectoryCache
from credit_engine.console._texts import EnterpriseTexts
from credit_engine.console._zone import RunSummary, ZoneReader

__all__ = ["BREAKDOWNS", "OverviewParts", "OverviewPreparer", "PrepareStatus"]

_LOG = logging.getLogger("credit_engine.console")
BREAKDOWNS = ("district", "trade_mode")
"""Directory attributes the overview breaks the latest run down by."""

RETRY_SECONDS = 15.0
"""Pause before computing again after a failure (pages show the error meanwhile)."""
Run = tuple[dt.date, int]
Item = tuple[Any, ...]


@dataclass
class OverviewParts:
    """What the overview of ``(from, to)`` found ready; ``pending`` names the rest.

    ``summaries`` and ``departments`` are the page's core: without them it
    says "preparing". ``migration`` and ``breakdowns`` may be pending on
    their own (their sections say "preparing"). A part that is not needed
    (no migration when both dates are the same, no breakdowns without an
    enterprise directory) is ``None`` and not pending.
    """

    summaries: list[RunSummary] | None = None
    departments: list[dict[str, Any]] | None = None
    migration: pd.DataFrame | None = None
    breakdowns: dict[str, pd.DataFrame] | None = None
    pending: list[str] = field(default_factory=list)
    total: int = 0

    @property
    def core_ready(self) -> bool:
        """Whether the tiers, layers and departments can be shown."""
        return self.summaries is not None and self.departments is not None


@dataclass(frozen=True)
class PrepareStatus:
    """The preparer's state, for pages and operators (JSON-ready)."""

    state: str
    """``idle`` (not started), ``preparing``, ``ready`` or ``failed``."""
    started_at: str | None
    ready_seconds: float | None
    """Seconds from the start to the first complete default view."""
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        """Return the status as a plain dictionary."""
        return {
            "state": self.state,
            "started_at": self.started_at,
            "ready_seconds": self.ready_seconds,
            "error": self.error,
        }


class OverviewPreparer:
    """Prepare the overview's aggregates in one background thread.

    Parameters
    ----------
    zone : ZoneReader
        The cache of per-run aggregates the pages read.
    directory : DirectoryCache
        The enterprise directory (names, districts, trade modes).
    texts : callable
        Returns the enterprise texts served (departments of facts and reasons).
    poll_seconds : float, default=30.0
        How often to look for new rating runs once the default view is ready.
        ``0`` turns the start-up preparation and the polling off: the thread
        then starts at the first page that misses a figure and computes what
        pages ask for only.
    """

    def __init__(
        self,
        zone: ZoneReader,
        directory: DirectoryCache,
        texts: Callable[[], EnterpriseTexts],
        *,
        poll_seconds: float = 30.0,
    ) -> None:
        self.zone = zone
        self.directory = directory
        self.texts = texts
        self.poll_seconds = float(poll_seconds)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._wanted: dict[Item, None] = {}
        self._started: float | None = None
        self._started_at: str | None = None
        self._ready_seconds: float | None = None
        self._error: str | None = None
        self._pausing = False

    # -- life cycle -------------------------------------------------------------
    def start(self) -> None:
        """Start preparing the default view (at the service's start); idempotent.

        With ``poll_seconds=0`` nothing is prepared ahead: the thread starts at
        the first request that misses a figure.
        """
        if self.poll_seconds > 0:
            self._ensure_thread()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to end and wait up to ``timeout`` seconds for it.

        A query in progress is not interrupted; the thread is a daemon, so it
        never keeps the process alive.
        """
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None or self._stop.is_set():
                return
            self._started = time.perf_counter()
            self._started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            self._thread = threading.Thread(
                target=self._loop, daemon=True, name="console-overview"
            )
            self._thread.start()

    def status(self) -> PrepareStatus:
        """Return where the preparation stands."""
        with self._lock:
            if self._thread is None:
                state = "idle"
            elif self._error is not None:
                state = "failed"
            elif self._ready_seconds is None or self._wanted:
                state = "preparing"
            else:
                state = "ready"
            return PrepareStatus(
                state, self._started_at, self._ready_seconds, self._error
            )

    # -- what pages read --------------------------------------------------------
    def request(self, items: list[Item]) -> None:
        """Ask for ``items`` to be computed; wake (or start) the thread."""
        with self._lock:
            for item in items:
                self._wanted.setdefault(item, None)
            pausing = self._pausing
        self._ensure_thread()
        if not pausing:  # after a failure the thread retries after a pause
            self._wake.set()

    def parts(self, runs: list[Run], frm: Run, to: Run) -> OverviewParts:
        """Return what the overview of ``frm`` → ``to`` finds ready; ask for the rest.

        Never computes: a missing figure is requested from the thread and
        listed in ``pending``.
        """
        items = self.items(runs, frm, to)
        found = {item: self.zone.peek(self._key(item)) for item in items}
        missing = [item for item, value in found.items() if value is None]
        if missing:
            self.request(missing)
        summaries = [found[("summary", *run)] for run in runs]
        parts = OverviewParts(
            summaries=None if any(s is None for s in summaries) else summaries,
            departments=found[("departments", to[1])],
            pending=[str(item[0]) for item in missing],
            total=len(items),
        )
        if frm != to:
            parts.migration = found[("migration", frm, to)]
        directory = self.directory.peek()
        if directory is not None:
            tables: dict[str, pd.DataFrame] = {
                c: t
                for c in BREAKDOWNS
                if (t := found.get(("breakdown", to[1], c))) is not None
            }
            if len(tables) == len(BREAKDOWNS):
                parts.breakdowns = tables
        return parts

    def items(self, runs: list[Run], frm: Run, to: Run) -> list[Item]:
        """Return the figures the overview of ``frm`` → ``to`` shows, as work items."""
        items: list[Item] = [("summary", *run) for run in runs]
        items.append(("departments", to[1]))
        if frm != to:
            items.append(("migration", frm, to))
        if self.directory.peek() is not None or self.directory.error is None:
            items += [("breakdown", to[1], column) for column in BREAKDOWNS]
        return items

    def _key(self, item: Item) -> tuple[Any, ...]:
        """Return the :class:`ZoneReader` cache key of a work item."""
        kind = item[0]
        if kind == "summary":
            return ("summary", item[2])
        if kind == "departments":
            return ("departments", item[1])
        if kind == "migration":
            return ("migration", item[1][1], item[2][1])
        directory = self.directory.peek()
        key = directory.key if directory is not None else None
        return ("breakdown", item[1], key, item[2])

    # -- the thread -------------------------------------------------------------
    def _default_items(self) -> list[Item]:
        """Return the default view first, then every date as "to" and usual pairs.

        The pairs prepared ahead are each date against the one before and
        against the latest: linear in the number of dates (a pair not among
        them is counted when first asked, in seconds).
        """
        runs = self.zone.runs()
        if not runs:
            return []
        latest = runs[-1]
        frm = runs[-2] if len(runs) > 1 else latest
        items = self.items(runs, frm, latest)
        for i, run in enumerate(runs[:-1]):
            items += self.items(runs, run, latest)
            if i:
                items += self.items(runs, runs[i - 1], run)
        return list(dict.fromkeys(items))

    def _compute(self, item: Item) -> None:
        kind = item[0]
        if kind == "summary":
            self.zone.summary(item[1], item[2])
        elif kind == "departments":
            self.zone.departments(item[1], self.texts())
        elif kind == "migration":
            self.zone.migration(item[1], item[2])
        elif kind == "breakdown":
            directory = self.directory.get()
            if directory is not None:
                self.zone.breakdown(item[1], directory, item[2])

    def _loop(self) -> None:
        ahead = self.poll_seconds > 0
        while not self._stop.is_set():
            self._wake.clear()
            try:
                computed = self._pass(ahead)
            except Exception as exc:  # noqa: BLE001 - reported on the page, retried
                _LOG.exception("console: preparing the zone overview failed")
                with self._lock:
                    self._error = f"{type(exc).__name__}: {exc}"
                    self._wanted.clear()
                    self._wake.clear()
                    self._pausing = True
                # Pages asking meanwhile do not wake the thread (see request).
                self._wake.wait(RETRY_SECONDS)
                with self._lock:
                    self._pausing = False
                continue
            if computed or ahead:
                with self._lock:
                    self._error = None
            if computed or ahead:
                self._mark_ready()
            self._wake.wait(self.poll_seconds if ahead else None)

    def _pass(self, ahead: bool) -> bool:
        """Compute the default view (ahead) and what pages asked for; say if any."""
        computed = False
        if ahead:
            self.directory.get()  # the directory first: pages need it too
            for item in self._default_items():
                if self._stop.is_set():
                    return computed
                self._compute(item)
            computed = True
        while not self._stop.is_set():
            with self._lock:
                if not self._wanted:
                    break
                item = next(iter(self._wanted))
            self._compute(item)
            computed = True
            with self._lock:
                self._wanted.pop(item, None)
        return computed

    def _mark_ready(self) -> None:
        with self._lock:
            if self._ready_seconds is None and self._started is not None:
                self._ready_seconds = round(time.perf_counter() - self._started, 2)
                _LOG.info("console: zone overview ready in %.1f s", self._ready_seconds)
