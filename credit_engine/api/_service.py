"""What the API serves from: a loaded champion and a snapshot of the zone.

At start (and on an admin reload) the service loads the policy, the rule sets,
the ``champion`` of the model the policy names, and rates every enterprise at
the serving date: features known then, the model's grade, PD, score and reasons,
and the statutory facts in force. A request then only decides: it reads the
override in force now from the operational store and applies the precedence,
which takes well under a millisecond. A request for another date computes that
enterprise's features and facts from the lake instead (slower; same code).

A reload builds a complete new state and swaps one reference: requests in
flight keep the state they started with; if loading fails, the old state keeps
serving and :attr:`ScoringService.not_ready_reason` says why.

Unless a serving date is given, each load serves the lake's freshness date
(:func:`credit_engine.freshness.default_serving_date`), not the wall clock:
the latest date at which no required source is stale. Serving a later date
marks every decision with its stale sources, and the log says so at each load.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from credit_engine.config import Settings
from credit_engine.decisioning import (
    Decision,
    FactInForce,
    ModelRating,
    Override,
    decide,
    facts_by_uscc,
    model_ratings,
    overrides_by_uscc,
    policy_features,
)
from credit_engine.exceptions import (
    CreditEngineError,
    EnterpriseNotFoundError,
    ServiceUnavailableError,
)
from credit_engine.freshness import (
    FreshnessReport,
    StaleSource,
    Watermarks,
    default_serving_date,
)
from credit_engine.rating import RatingEngine
from credit_engine.store import OperationalStore
from credit_engine.vocabulary import Tier

__all__ = ["RatedZone", "ScoringService", "ServedDecision", "ServingState", "rate_zone"]

_LOG = logging.getLogger("credit_engine.api")


@dataclass(frozen=True)
class ServedDecision:
    """A decision with the inputs it was derived from (for the audit log)."""

    decision: Decision
    features: dict[str, float | None]
    rating: ModelRating
    facts: tuple[FactInForce, ...]
    override: Override | None


@dataclass(frozen=True)
class RatedZone:
    """Enterprises rated at one date: feature rows, model ratings, facts.

    ``freshness`` is the sources' freshness at ``as_of``; its stale sources
    mark every decision (the features then are those of its knowledge date).
    """

    as_of: dt.date
    usccs: dict[str, int]
    features: np.ndarray
    feature_names: list[str]
    ratings: list[ModelRating]
    facts: dict[str, list[FactInForce]]
    freshness: FreshnessReport | None = None

    @property
    def stale_sources(self) -> tuple[StaleSource, ...]:
        """Required sources stale at ``as_of`` (every decision is marked)."""
        return () if self.freshness is None else self.freshness.stale_sources


def rate_zone(
    engine: RatingEngine, as_of: dt.date, *, usccs: Sequence[str] | None = None
) -> RatedZone:
    """Rate every enterprise known at ``as_of`` (or only ``usccs``), no storing.

    The same steps as :meth:`RatingEngine.rate`: freshness at ``as_of``, the
    features of its knowledge date, the model, the statutory facts with
    absence counted to the watermarks.
    """
    freshness = engine.freshness(as_of)
    frame = engine.features(
        as_of, usccs=usccs, knowledge=freshness.knowledge_date
    ).reset_index(drop=True)
    rated = engine.loaded.model.rate(frame)
    rated.insert(0, "uscc", frame["uscc"].to_numpy())
    for name in policy_features(engine.policy):
        rated[name] = frame[name].to_numpy()
    names = list(engine.loaded.model.input_columns())
    facts = engine.facts(as_of, usccs=None if usccs is None else list(usccs))
    return RatedZone(
        as_of=as_of,
        usccs={str(u): i for i, u in enumerate(frame["uscc"])},
        features=frame[names].astype(float).to_numpy(),
        feature_names=names,
        ratings=[r for _, r in model_ratings(rated, engine.policy)],
        facts=facts_by_uscc(facts),
        freshness=freshness,
    )


@dataclass(frozen=True)
class ServingState:
    """One consistent set of everything a decision needs (never mutated).

    ``serving_reason`` says why the serving date was chosen; ``lake`` holds
    the lake's watermarks as it stood at the load (for the freshness gauges).
    """

    engine: RatingEngine
    zone: RatedZone
    loaded_at: dt.datetime
    load_seconds: float
    serving_reason: str = ""
    lake: Watermarks | None = None

    @property
    def as_of(self) -> dt.date:
        """Serving date."""
        return self.zone.as_of

    @property
    def usccs(self) -> dict[str, int]:
        """Enterprises served, with their row in the zone."""
        return self.zone.usccs

    @property
    def model_name(self) -> str:
        """Registered name of the champion served."""
        return self.engine.loaded.name

    @property
    def model_version(self) -> str:
        """Version of the champion served."""
        return str(self.engine.loaded.version)

    @property
    def freshness(self) -> FreshnessReport | None:
        """The sources' freshness at the serving date."""
        return self.zone.freshness

    def freshness_summary(self) -> dict[str, Any]:
        """JSON-ready freshness of what is served (``/readyz``, ``/v1/models``).

        Tables, departments, dates and ages only: nothing about enterprises or
        the model.
        """
        report = self.freshness
        stale = self.zone.stale_sources
        return {
            "status": "stale" if stale else "fresh",
            "serving_date": self.as_of.isoformat(),
            "serving_reason": self.serving_reason,
            "freshness_date": (
                None
                if report is None or report.freshness_date is None
                else report.freshness_date.isoformat()
            ),
            "stale_departments": sorted({s.department for s in stale}),
            "stale_sources": [
                {**s.to_dict(), "since": None if s.since is None else str(s.since)}
                for s in stale
            ],
            "reason": _stale_reason(self.as_of, stale),
        }


def _stale_reason(as_of: dt.date, stale: Sequence[StaleSource]) -> str | None:
    if not stale:
        return None
    parts = [
        f"{s.table} ({s.department}) stale since {s.since}"
        if s.since is not None
        else f"{s.table} ({s.department}) never delivered"
        for s in stale
    ]
    return (
        f"serving {as_of.isoformat()} beyond the allowed lag of "
        f"{len(stale)} source(s): " + "; ".join(parts) + ". Every decision is "
        "marked DATA-STALE; restart or reload without --as-of to serve the "
        "lake's freshness date."
    )


def build_state(
    settings: Settings, as_of: dt.date | None, *, store: OperationalStore
) -> ServingState:
    """Load the champion and rate every enterprise at the serving date (no storing).

    Parameters
    ----------
    settings : Settings
        Engine settings.
    as_of : datetime.date or None
        Serving date; ``None``: the lake's freshness date (or today if that
        is earlier), see :func:`credit_engine.freshness.default_serving_date`.
    store : OperationalStore
        Operational store.
    """
    start = time.perf_counter()
    engine = RatingEngine(settings, store=store)
    lake = engine.watermarks()
    if as_of is None:
        today = dt.datetime.now(dt.UTC).date()
        as_of, why = default_serving_date(lake, engine.freshness_policy, today)
    else:
        why = "the serving date asked for (--as-of)"
    zone = rate_zone(engine, as_of)
    return ServingState(
        engine=engine,
        zone=zone,
        loaded_at=dt.datetime.now(dt.UTC),
        load_seconds=time.perf_counter() - start,
        serving_reason=why,
        lake=lake,
    )


def log_freshness(state: ServingState) -> None:
    """Log the serving date and why, and one warning per stale source."""
    _LOG.info("serving %s: %s", state.as_of.isoformat(), state.serving_reason)
    report = state.freshness
    if report is not None and report.freshness_date is not None:
        if state.as_of > report.freshness_date:
            _LOG.warning(
                "serving %s, after the lake's freshness date %s: every decision "
                "is marked with its stale sources (DATA-STALE)",
                state.as_of.isoformat(),
                report.freshness_date.isoformat(),
            )
    for s in state.zone.stale_sources:
        _LOG.warning(
            "stale source %s (%s): last delivered %s, %s days before the serving "
            "date %s (%d allowed); no fact is inferred from its missing records "
            "past that, and the model grades the lake as of %s",
            s.table,
            s.department,
            "never" if s.watermark_date is None else s.watermark_date.isoformat(),
            "?" if s.age_days is None else s.age_days,
            state.as_of.isoformat(),
            s.allowed_lag_days,
            report.knowledge_date.isoformat() if report is not None else "?",
        )


class ScoringService:
    """Holds the serving state, swaps it safely, and decides requests.

    Parameters
    ----------
    settings : Settings
        Engine settings (home, MLflow, operational store, definitions).
    as_of : datetime.date, optional
        Serving date (default: the lake's freshness date at each load, or
        today if that is earlier).
    store : OperationalStore, optional
        Operational store (default: ``settings.database_url``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        as_of: dt.date | None = None,
        store: OperationalStore | None = None,
    ) -> None:
        self.settings = settings
        self.fixed_as_of = as_of
        self.store = store or OperationalStore.from_settings(settings)
        self._state: ServingState | None = None
        self._lock = threading.Lock()
        self.not_ready_reason: str | None = "starting: the champion is not loaded yet"
        self.last_reload_error: str | None = None

    @property
    def state(self) -> ServingState:
        """The state requests use now.

        Raises
        ------
        ServiceUnavailableError
            If no state could be loaded (no champion, no lake ...).
        """
        state = self._state
        if state is None:
            raise ServiceUnavailableError(
                f"No model is loaded: {self.not_ready_reason}"
            )
        return state

    @property
    def current(self) -> ServingState | None:
        """The state requests use now, or ``None`` before the first load."""
        return self._state

    @property
    def ready(self) -> bool:
        """Whether a state is loaded and the last load succeeded."""
        return self._state is not None and self.not_ready_reason is None

    def load(self) -> ServingState | None:
        """Build a new state and swap it in; keep the old one if this fails.

        Returns
        -------
        ServingState or None
            The new state, or None if loading failed (the reason is kept in
            :attr:`not_ready_reason` and :attr:`last_reload_error`).
        """
        with self._lock:  # one load at a time; requests are not blocked
            try:
                state = build_state(self.settings, self.fixed_as_of, store=self.store)
            except CreditEngineError as exc:
                reason = f"{exc.code}: {exc.message}"
            except Exception as exc:  # noqa: BLE001 - any failure keeps the old state
                reason = f"{type(exc).__name__}: {exc}"
            else:
                self._state = state
                self.not_ready_reason = None
                self.last_reload_error = None
                log_freshness(state)
                # The state is hundreds of thousands of long-lived objects; keep
                # them out of the cyclic collector's full passes, which would
                # otherwise stall requests for milliseconds (tail latency).
                gc.unfreeze()  # let a replaced state's cycles be collected
                gc.collect()
                gc.freeze()
                return state
            self.last_reload_error = reason
            if self._state is None:
                self.not_ready_reason = reason
            else:
                self.not_ready_reason = (
                    f"reload failed, still serving {self._state.model_name} "
                    f"v{self._state.model_version}: {reason}"
                )
            return None

    # ----------------------------------------------------------- decisions
    def _overrides(
        self, as_of: dt.date, usccs: Sequence[str], *, live: bool
    ) -> dict[str, Override]:
        # At the serving date the decision is today's, on data known at that
        # date (the lake's freshness date may lie before today): overrides
        # recorded up to now count. At another date, the point-in-time rule.
        known = dt.datetime.now(dt.UTC) if live else None
        if len(usccs) == 1:  # the hot path of POST /v1/scores: no DataFrame
            row = self.store.override_in_force(usccs[0], as_of, known_before=known)
            if row is None:
                return {}
            return {
                usccs[0]: Override(
                    int(row["override_id"]), Tier(str(row["tier"])),
                    str(row["reason"]), str(row["actor"]),
                )
            }  # fmt: skip
        return overrides_by_uscc(
            self.store.overrides_in_force(as_of, usccs=usccs, known_before=known)
        )

    def decide(
        self, usccs: Sequence[str], as_of: dt.date | None = None
    ) -> list[ServedDecision]:
        """Decide each enterprise at the serving date (or ``as_of``).

        Raises
        ------
        EnterpriseNotFoundError
            If an enterprise is unknown at that date (the message lists them).
        ServiceUnavailableError
            If no model is loaded.
        """
        state = self.state
        if as_of is None or as_of == state.as_of:
            return self._decide_in(state.engine, state.zone, usccs, live=True)
        zone = rate_zone(state.engine, as_of, usccs=usccs)  # from the lake
        return self._decide_in(state.engine, zone, usccs, live=False)

    def _decide_in(
        self,
        engine: RatingEngine,
        zone: RatedZone,
        usccs: Sequence[str],
        *,
        live: bool,
    ) -> list[ServedDecision]:
        unknown = [u for u in usccs if u not in zone.usccs]
        if unknown:
            raise EnterpriseNotFoundError(_unknown_message(unknown, zone.as_of))
        overrides = self._overrides(zone.as_of, usccs, live=live)
        context = engine.context(zone.as_of, zone.stale_sources)
        out = []
        for uscc in usccs:
            i = zone.usccs[uscc]
            features = {
                n: (None if np.isnan(v) else float(v))
                for n, v in zip(zone.feature_names, zone.features[i], strict=True)
            }
            facts = tuple(zone.facts.get(uscc, ()))
            override = overrides.get(uscc)
            rating = zone.ratings[i]
            decision = decide(uscc, rating, facts, override, context)
            out.append(ServedDecision(decision, features, rating, facts, override))
        return out

    def describe(self) -> dict[str, Any]:
        """JSON-ready description of what is being served."""
        state = self._state
        return {
            "ready": self.ready,
            "reason": self.not_ready_reason,
            "last_reload_error": self.last_reload_error,
            "model_name": state.model_name if state else None,
            "model_version": state.model_version if state else None,
            "run_id": state.engine.loaded.run_id if state else None,
            "as_of": state.as_of.isoformat() if state else None,
            "enterprises": len(state.usccs) if state else None,
            "loaded_at": state.loaded_at.isoformat() if state else None,
            "load_seconds": round(state.load_seconds, 2) if state else None,
            "freshness": state.freshness_summary() if state else None,
        }


def _unknown_message(unknown: Sequence[str], as_of: dt.date) -> str:
    shown = ", ".join(unknown[:5]) + (
        f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    )
    return (
        f"No enterprise {shown} is known to the zone at {as_of.isoformat()}: no "
        "department record about it had been ingested by then. Check the code, "
        "or ask for a later as_of."
    )
