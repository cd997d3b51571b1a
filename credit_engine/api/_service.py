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

Dates: a state knows the dates it can rate (:attr:`ServingState.covered`):
from the first day an enterprise was known to the lake and every regime had a
rule set in force, to today. Another date is refused (422 naming the range)
before anything is computed. Overrides come from an in-memory index of the
overrides table (:class:`~credit_engine.api._override_index.OverrideIndex`):
deciding reads no database.

Unless a serving date is given, each load serves the lake's freshness date
(:func:`credit_engine.freshness.default_serving_date`), not the wall clock:
the latest date at which no required source is stale. Serving a later date
marks every decision with its stale sources, and the log says so at each load.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from credit_engine.api._override_index import OverrideIndex
from credit_engine.api._serving_cache import ServingCache
from credit_engine.api._zone import RatedZone, rate_zone
from credit_engine.config import Settings
from credit_engine.data import RecordKind
from credit_engine.decisioning import (
    Decision,
    FactInForce,
    ModelRating,
    Override,
    decide,
)
from credit_engine.exceptions import (
    ConfigurationError,
    CreditEngineError,
    DateOutOfRangeError,
    EnterpriseNotFoundError,
    ServiceUnavailableError,
)
from credit_engine.freshness import (
    FreshnessReport,
    StaleSource,
    Watermarks,
    default_serving_date,
)
from credit_engine.point_in_time import FIRST_KNOWN, first_known
from credit_engine.rating import EncodedDecision, RatingEngine, encoded_payload
from credit_engine.rules import Regime, RuleBook
from credit_engine.store import OperationalStore

__all__ = [
    "RatedZone",
    "ScoringService",
    "ServedDecision",
    "ServingState",
    "covered_dates",
    "decide_in_zone",
    "rate_zone",
]

_LOG = logging.getLogger("credit_engine.api")


@dataclass(frozen=True)
class ServedDecision:
    """A decision with the inputs it was derived from (for the audit log).

    ``payload``: at the serving date, the audit payload as pre-encoded
    fragments (:func:`credit_engine.rating.encoded_payload`), equal to
    :func:`~credit_engine.rating.decision_payload` of the other fields; the
    feature row is then in it and ``features`` is None. ``encoded``: the
    serving cache's entry the decision came from (the key of its public JSON,
    :meth:`ServingCache.public_json`).
    """

    decision: Decision
    features: dict[str, float | None] | None
    rating: ModelRating
    facts: tuple[FactInForce, ...]
    override: Override | None
    payload: dict[str, Any] | None = None
    encoded: EncodedDecision | None = None


def _rules_span(rulebook: RuleBook, day: dt.date) -> tuple[dt.date, dt.date | None]:
    """Return the longest span around ``day`` with a rule set of every regime."""
    start, end = dt.date.min, None
    for regime in Regime:
        spans = sorted(
            (r.effective_from, r.effective_to)
            for r in rulebook.rule_sets
            if r.regime is regime
        )
        merged: list[tuple[dt.date, dt.date | None]] = []
        for lo, hi in spans:  # by start: join the spans that touch
            if merged:
                first, top = merged[-1]
                if top is None:
                    break  # open-ended: covers everything after
                if lo <= top:
                    merged[-1] = (first, None if hi is None else max(hi, top))
                    continue
            merged.append((lo, hi))
        around = [s for s in merged if s[0] <= day and (s[1] is None or day < s[1])]
        if not around:
            raise ConfigurationError(
                f"No {regime.value} rule set is in force on the serving date {day}; "
                "add a version covering it under rules/."
            )
        lo, hi = around[0]
        start = max(start, lo)
        if hi is not None:
            end = hi if end is None else min(end, hi)
    return start, end


def _known_since(engine: RatingEngine) -> dt.date | None:
    """Return the first day any enterprise was known to the lake (None: empty)."""
    import duckdb

    states = sorted(
        n for n, c in engine.definitions.contracts.items() if c.kind is RecordKind.STATE
    )
    con = duckdb.connect()
    try:
        engine.sources().register(con, states)
        union = " UNION ALL ".join(f"SELECT uscc, ingested_at FROM {n}" for n in states)
        row = con.execute(
            f"SELECT epoch(min({FIRST_KNOWN})) FROM "
            f"({first_known(f'({union}) AS u')}) AS f"
        ).fetchone()
    finally:
        con.close()
    if row is None or row[0] is None:
        return None
    return dt.datetime.fromtimestamp(float(row[0]), dt.UTC).date()


def covered_dates(engine: RatingEngine, day: dt.date) -> tuple[dt.date, dt.date]:
    """Return the dates a state serving ``day`` can rate: ``(first, last)``.

    First: the later of the first day an enterprise was known to the lake and
    the first day of the span (around ``day``) in which every regime has a rule
    set in force. Last: ``day`` (nothing after the serving date is known), or
    the day before the rule sets' span ends.

    Raises
    ------
    ConfigurationError
        If no rule set of some regime is in force on ``day``, or the lake knows
        no enterprise at all.
    """
    rules_from, rules_to = _rules_span(engine.rulebook, day)
    known = _known_since(engine)
    if known is None:
        raise ConfigurationError(
            "The lake knows no enterprise: ingest department files first."
        )
    last = day if rules_to is None else min(day, rules_to - dt.timedelta(days=1))
    return max(rules_from, known), last


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
    covered: tuple[dt.date, dt.date] = (dt.date.min, dt.date.max)
    """Dates this state can rate, inclusive (see :func:`covered_dates`)."""
    cache: ServingCache | None = None
    """Encoded inputs and decisions at the serving date (see ServingCache)."""

    def check_date(self, as_of: dt.date) -> None:
        """Refuse a rating date outside :attr:`covered` (422 naming the range).

        Raises
        ------
        DateOutOfRangeError
            If ``as_of`` is before the data or the rule sets begin, or after
            the serving date.
        """
        first, last = self.covered
        if first <= as_of <= last:
            return
        why = (
            "nothing after the serving date is known"
            if as_of > last
            else "no enterprise was known to the lake, or not every department's "
            "rule set was in force, before it"
        )
        raise DateOutOfRangeError(
            f"as_of {as_of.isoformat()} is outside the dates this service can rate: "
            f"{first.isoformat()} to {last.isoformat()} ({why}). Ask for a date "
            "in that range."
        )

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
    covered = covered_dates(engine, as_of)
    zone = rate_zone(engine, as_of)
    cache = ServingCache(
        usccs=zone.usccs,
        features=zone.features,
        feature_names=zone.feature_names,
        ratings=zone.ratings,
        facts=zone.facts,
        context=engine.context(zone.as_of, zone.stale_sources),
    )
    return ServingState(
        cache=cache,
        engine=engine,
        zone=zone,
        loaded_at=dt.datetime.now(dt.UTC),
        load_seconds=time.perf_counter() - start,
        covered=covered,
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
        self.overrides = OverrideIndex(self.store)
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
                f"No model is loaded: {self.public_reason()}", retry_after=5
            )
        return state

    @property
    def loaded(self) -> bool:
        """Whether a state is being served (perhaps after a failed reload)."""
        return self._state is not None

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
        self.overrides.check_fresh()
        known = dt.datetime.now(dt.UTC) if live else None
        return self.overrides.in_force_many(list(usccs), as_of, known_before=known)

    def decide(
        self, usccs: Sequence[str], as_of: dt.date | None = None
    ) -> list[ServedDecision]:
        """Decide each enterprise at the serving date (or ``as_of``).

        On the serving date this is memory only (well under a millisecond per
        enterprise); another date reads the lake (tenths of a second): run it
        in a worker thread, never on an event loop.

        Raises
        ------
        DateOutOfRangeError
            If ``as_of`` is outside :attr:`ServingState.covered`.
        EnterpriseNotFoundError
            If an enterprise is unknown at that date (the message lists them).
        ServiceUnavailableError
            If no model is loaded.
        StoreUnavailableError
            If the overrides could not be read lately.
        """
        state = self.state
        if as_of is None or as_of == state.as_of:
            return self._decide_in(
                state.engine, state.zone, usccs, live=True, cache=state.cache
            )
        state.check_date(as_of)
        zone = rate_zone(state.engine, as_of, usccs=usccs)  # from the lake
        return self._decide_in(state.engine, zone, usccs, live=False)

    def is_fast(self, as_of: dt.date | None) -> bool:
        """Whether deciding at ``as_of`` is memory only (the serving date)."""
        state = self._state
        return as_of is None or (state is not None and as_of == state.as_of)

    def _decide_in(
        self,
        engine: RatingEngine,
        zone: RatedZone,
        usccs: Sequence[str],
        *,
        live: bool,
        cache: ServingCache | None = None,
    ) -> list[ServedDecision]:
        """Decide ``usccs`` in ``zone`` (``live``: the serving date, see _overrides).

        With the serving state's ``cache``, the decision is made once per
        override in force and comes with its audit payload pre-encoded.
        """
        unknown = [u for u in usccs if u not in zone.usccs]
        if unknown:
            raise EnterpriseNotFoundError(_unknown_message(unknown, zone.as_of))
        overrides = self._overrides(zone.as_of, usccs, live=live)
        if cache is not None:
            return [self._cached(zone, cache, u, overrides.get(u)) for u in usccs]
        return decide_in_zone(engine, zone, usccs, overrides)

    def overrides_at(self, as_of: dt.date, usccs: Sequence[str]) -> dict[str, Override]:
        """Return the overrides in force at ``as_of`` (not the serving date).

        Read from the in-memory index, with the point-in-time rule: those
        recorded by the end of ``as_of``.

        Raises
        ------
        StoreUnavailableError
            If the overrides could not be read lately.
        """
        return self._overrides(as_of, usccs, live=False)

    @staticmethod
    def _cached(
        zone: RatedZone, cache: ServingCache, uscc: str, override: Override | None
    ) -> ServedDecision:
        i = zone.usccs[uscc]
        rating = zone.ratings[i]
        decided = cache.decided(uscc, rating, override)
        return ServedDecision(
            decided.decision,
            None,  # the feature row is in the payload's fragments
            rating,
            cache.facts[uscc],
            override,
            payload=encoded_payload(cache.inputs(uscc), decided),
            encoded=decided,
        )

    def describe(self, *, identity: bool = True) -> dict[str, Any]:
        """JSON-ready description of what is being served.

        Parameters
        ----------
        identity : bool, default=True
            Include the model's name, version and run, and the reasons of
            failed loads (which name them). ``False`` for callers not cleared
            to see which model decides (inspection systems, no key).
        """
        state = self._state
        out = {
            "ready": self.ready,
            "reason": self.not_ready_reason,
            "last_reload_error": self.last_reload_error,
            "model_name": state.model_name if state else None,
            "model_version": state.model_version if state else None,
            "run_id": state.engine.loaded.run_id if state else None,
            "as_of": state.as_of.isoformat() if state else None,
            "covered_from": state.covered[0].isoformat() if state else None,
            "covered_to": state.covered[1].isoformat() if state else None,
            "enterprises": len(state.usccs) if state else None,
            "loaded_at": state.loaded_at.isoformat() if state else None,
            "load_seconds": round(state.load_seconds, 2) if state else None,
            "freshness": state.freshness_summary() if state else None,
        }
        if not identity:
            for name in ("model_name", "model_version", "run_id"):
                del out[name]
            out["reason"] = self.public_reason()
            out["last_reload_error"] = (
                None if self.last_reload_error is None else "the last reload failed"
            )
        return out

    def public_reason(self) -> str | None:
        """Why the service is not ready, without naming the model (or None)."""
        if self._state is None:
            if self.not_ready_reason is None:
                return None
            if self.not_ready_reason.startswith("starting"):
                return "starting: the champion is not loaded yet"
            return (
                "no model loaded: the champion could not be loaded (an administrator "
                "sees why in GET /v1/models and in the logs)"
            )
        if self.not_ready_reason is not None:
            return "reload failed; the previous champion keeps serving"
        return None


def decide_in_zone(
    engine: RatingEngine,
    zone: RatedZone,
    usccs: Sequence[str],
    overrides: Mapping[str, Override],
) -> list[ServedDecision]:
    """Decide ``usccs`` in a zone rated at another date (no serving cache).

    Parameters
    ----------
    engine : RatingEngine
        The policy, rule sets and champion deciding.
    zone : RatedZone
        The enterprises rated at the date (:func:`rate_zone`).
    usccs : sequence of str
        Whom to decide, in the order answered.
    overrides : mapping of str to Override
        Overrides in force at the date, by enterprise.

    Raises
    ------
    EnterpriseNotFoundError
        If an enterprise is unknown at that date (the message lists them).
    """
    unknown = [u for u in usccs if u not in zone.usccs]
    if unknown:
        raise EnterpriseNotFoundError(_unknown_message(unknown, zone.as_of))
    context = engine.context(zone.as_of, zone.stale_sources)
    out = []
    for uscc in usccs:
        i = zone.usccs[uscc]
        facts = tuple(zone.facts.get(uscc, ()))
        override = overrides.get(uscc)
        rating = zone.ratings[i]
        decision = decide(uscc, rating, facts, override, context)
        features = _feature_row(zone, i)
        out.append(ServedDecision(decision, features, rating, facts, override))
    return out


def _feature_row(zone: RatedZone, i: int) -> dict[str, float | None]:
    """Row ``i`` of the zone's features, NaN as None."""
    return {
        n: (None if math.isnan(v) else v)
        for n, v in zip(zone.feature_names, zone.features[i].tolist(), strict=True)
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
