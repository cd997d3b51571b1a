"""The zone at a glance: per-run aggregates counted in SQL and cached per run.

A stored run never changes (a new run of the same date gets a new ``run_id``
and supersedes it), so what is counted for a ``run_id`` is kept in memory for
the life of the process: the overview of a 100,000-enterprise zone costs its
SQL once per run, then a dictionary lookup. The counting happens in the
background (:class:`~credit_engine.console.OverviewPreparer`); pages
:meth:`ZoneReader.peek`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from credit_engine.console._directory import Directory
from credit_engine.console._texts import EnterpriseTexts
from credit_engine.store import OperationalStore, ZoneQueries
from credit_engine.vocabulary import DecidedBy, Department, Tier

__all__ = ["RunSummary", "ZoneReader"]

T = TypeVar("T")
TIERS = Tier.values()
LAYERS = DecidedBy.values()


@dataclass(frozen=True)
class RunSummary:
    """Counts of one stored run (the latest of its date)."""

    as_of: dt.date
    run_id: int
    total: int
    tiers: dict[str, int]
    layers: dict[str, int]
    green_channel: int
    joint_punishment: int
    tier_by_layer: dict[str, dict[str, int]] = field(default_factory=dict)


class ZoneReader:
    """Aggregates of the stored runs for the overview, cached per ``run_id``.

    Parameters
    ----------
    store : OperationalStore
        The operational store.
    """

    def __init__(self, store: OperationalStore) -> None:
        self.store = store
        self.queries = ZoneQueries(store)
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}
        self._lock = threading.Lock()

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """Compute ``key`` once; concurrent callers wait for the first one."""
        with self._lock:
            if key in self._cache:
                found: T = self._cache[key]
                return found
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:
            with self._lock:
                if key in self._cache:
                    done: T = self._cache[key]
                    return done
            value = compute()
            with self._lock:
                if len(self._cache) > 512:
                    self._cache.clear()
                self._cache[key] = value
                self._computing.pop(key, None)
            return value

    def peek(self, key: tuple[Any, ...]) -> Any:
        """Return what was computed for ``key``, or ``None`` (never computes)."""
        with self._lock:
            return self._cache.get(key)

    def runs(self) -> list[tuple[dt.date, int]]:
        """``(as_of, run_id)`` of the latest run of every rated date, oldest first."""
        return self.queries.served_runs()

    def summary(self, as_of: dt.date, run_id: int) -> RunSummary:
        """Tier, layer, green-channel and joint-punishment counts of one run."""
        return self._cached(("summary", run_id), lambda: self._summary(as_of, run_id))

    def _summary(self, as_of: dt.date, run_id: int) -> RunSummary:
        tiers = dict.fromkeys(TIERS, 0)
        layers = dict.fromkeys(LAYERS, 0)
        by_layer = {layer: dict.fromkeys(TIERS, 0) for layer in LAYERS}
        green = punished = total = 0
        for tier, layer, gc, jp, n in self.queries.run_counts(run_id):
            tiers[tier] = tiers.get(tier, 0) + n
            layers[layer] = layers.get(layer, 0) + n
            by_layer.setdefault(layer, dict.fromkeys(TIERS, 0))[tier] += n
            green += n if gc else 0
            punished += n if jp else 0
            total += n
        return RunSummary(
            as_of, run_id, total, tiers, layers, green, punished, by_layer
        )

    def migration(
        self, from_run: tuple[dt.date, int], to_run: tuple[dt.date, int]
    ) -> pd.DataFrame:
        """Return the tier migration matrix between two runs (rows: from)."""
        return self._cached(
            ("migration", from_run[1], to_run[1]),
            lambda: self.store.migration_matrix(from_run[0], to_run[0]),
        )

    def departments(self, run_id: int, texts: EnterpriseTexts) -> list[dict[str, Any]]:
        """Per department: facts in force (adverse, favourable) and main reasons."""
        return self._cached(
            ("departments", run_id), lambda: self._departments(run_id, texts)
        )

    def _departments(self, run_id: int, texts: EnterpriseTexts) -> list[dict[str, Any]]:
        names = (*Department.values(), "CROSS", "ZONE")
        facts = {d: {"adverse": 0, "favourable": 0} for d in names}
        main = {d: dict.fromkeys(TIERS, 0) for d in names}
        for code, _tier, n in self.queries.fact_counts(run_id):
            fact = texts.facts.get(code)
            if fact is not None and fact["department"] in facts:
                side = "favourable" if fact["favourable"] else "adverse"
                facts[fact["department"]][side] += n
        for code, tier, n in self.queries.main_reason_counts(run_id):
            dept = texts.department_of(code)
            if dept in main and tier in main[dept]:
                main[dept][tier] += n
        return [
            {
                "department": d,
                **facts[d],
                "main_reason": _total(main[d].values()),
                "main_by_tier": main[d],
            }
            for d in names
            if d in Department.values() or _total(main[d].values())
        ]

    def breakdown(self, run_id: int, directory: Directory, column: str) -> pd.DataFrame:
        """Count one run's tiers by a directory attribute (district, trade mode)."""
        return self._cached(
            ("breakdown", run_id, directory.key, column),
            lambda: self._breakdown(run_id, directory, column),
        )

    def tiers(self, run_id: int) -> pd.DataFrame:
        """Return ``uscc`` and ``tier`` of every decision of a run (cached)."""
        return self._cached(
            ("tiers", run_id),
            lambda: pd.DataFrame(
                self.queries.run_tiers(run_id), columns=["uscc", "tier"]
            ),
        )

    def page(
        self,
        run_id: int,
        *,
        usccs: list[str] | None,
        limit: int,
        offset: int,
        **filters: Any,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return a page of a run's decisions and the count (cached per filter)."""
        rows, count = self.queries.decision_page(
            run_id,
            usccs=usccs,
            limit=limit,
            offset=offset,
            count=usccs is not None,
            **filters,
        )
        if usccs is None:
            key = ("count", run_id, tuple(sorted(filters.items())))
            count = self._cached(
                key, lambda: self.queries.decision_page(run_id, limit=0, **filters)[1]
            )
        return rows, count

    def _breakdown(
        self, run_id: int, directory: Directory, column: str
    ) -> pd.DataFrame:
        tiers = self.tiers(run_id).copy()
        values = directory.frame[column].reindex(tiers["uscc"]).fillna("unknown")
        tiers[column] = values.to_numpy()
        table = pd.crosstab(tiers[column], tiers["tier"]).reindex(
            columns=list(TIERS), fill_value=0
        )
        table["total"] = table.sum(axis=1)
        return table.sort_values("total", ascending=False)


def _total(values: Iterable[int]) -> int:
    total = 0
    for value in values:
        total += value
    return total
