"""Rate every enterprise at a date: features, model, facts, decisions, store."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.decisioning import (
    Decision,
    DecisionContext,
    Policy,
    ReasonCatalogue,
    decide_frame,
    facts_by_uscc,
    load_policy,
    overrides_by_uscc,
)
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import (
    LakeSources,
    Sources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
)
from credit_engine.freshness import (
    FreshnessPolicy,
    FreshnessReport,
    StaleSource,
    Watermarks,
    assess_freshness,
    load_freshness_policy,
    source_watermarks,
)
from credit_engine.registry import LoadedModel, load_rating_model
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore, RatingRun
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["RatingEngine", "RatingResult", "summarise"]

Progress = Callable[[str], None]

_CACHED_DATES = 16
"""Watermarks kept per engine (data state and date); each is one small query."""


def summarise(as_of: dt.date, decisions: Sequence[Decision]) -> dict[str, Any]:
    """Count a run's decisions as ``credit-engine rate --report-json`` writes them.

    Returns
    -------
    dict
        ``{"as_of", "rated", "tiers": {"A": n, ...}, "green_channel": n,
        "decided_by": {LAYER: n}, "stale_sources": {TABLE: n}}`` with every
        tier (best first) and layer (strongest first) present, keyed by their
        codes; ``stale_sources`` counts the decisions marked with each stale
        table (empty when every required source was current).
    """
    tiers = Counter(d.tier for d in decisions)
    layers = Counter(d.decided_by for d in decisions)
    stale = Counter(s.table for d in decisions for s in d.stale_sources)
    return {
        "as_of": as_of.isoformat(),
        "rated": len(decisions),
        "tiers": {t.value: tiers.get(t, 0) for t in Tier},
        "green_channel": sum(d.green_channel for d in decisions),
        "decided_by": {by.value: layers.get(by, 0) for by in DecidedBy},
        "stale_sources": dict(sorted(stale.items())),
    }


@dataclass
class RatingResult:
    """Outcome of one rating run.

    Attributes
    ----------
    run_id : int or None
        Run id in the operational store (None when not stored).
    decisions : list of Decision
        One per enterprise, ordered by USCC.
    summary : dict
        :func:`summarise` of the decisions.
    timings : dict of str to float
        Seconds per step.
    freshness : FreshnessReport or None
        The sources' freshness at the rating date (its stale sources mark
        every decision).
    """

    run_id: int | None
    decisions: list[Decision]
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    freshness: FreshnessReport | None = None


class RatingEngine:
    """Everything a rating needs, loaded once: policy, rules, champion, store.

    Parameters
    ----------
    settings : Settings
        Engine settings (home, definitions, MLflow, operational store).
    policy_name : str, default="zone"
        Policy under ``models/policies``.
    policy_version : int, optional
        Policy version (default: the latest).
    model : LoadedModel, optional
        Rating model to use (default: the champion of the model the policy names).
    store : OperationalStore, optional
        Where decisions are recorded (default: ``settings.database_url``).
    sources : Sources, optional
        Where the records are read (default: the engine home's committed
        lake); e.g. a :class:`~credit_engine.features.FrameSources` of a
        simulated zone.

    Notes
    -----
    Freshness is checked at every rating date (``features/freshness.yaml``):
    when a required source is stale, every decision is marked with it
    (``Decision.stale_sources``, reason ``DATA-STALE``), the rule layers count
    no missing record of it past its watermark, and the model grades what the
    lake knew at the :func:`~credit_engine.freshness.knowledge_date` (the last
    day every stale source still delivered), so that stale data can only fail
    to assert, never worsen a decision.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        policy_name: str = "zone",
        policy_version: int | None = None,
        model: LoadedModel | None = None,
        store: OperationalStore | None = None,
        sources: Sources | None = None,
    ) -> None:
        self.settings = settings
        self._sources = sources
        self._watermarks: OrderedDict[tuple[str, dt.date | None], Watermarks] = (
            OrderedDict()
        )
        self._watermarks_lock = threading.Lock()
        self.definitions = load_definitions(settings.definitions_dir)
        self.freshness_policy: FreshnessPolicy = load_freshness_policy(
            settings.definitions_dir, self.definitions.contracts
        )
        self.policy: Policy = load_policy(
            settings.definitions_dir, policy_name, policy_version
        )
        self.rulebook = RuleBook.load(settings.definitions_dir)
        self.policy.check_facts(
            self.rulebook.fact_codes(), self.rulebook.joint_punishment_codes()
        )
        self.catalogue = ReasonCatalogue.load(settings.definitions_dir)
        self.loaded = model or load_rating_model(settings, self.policy.model)
        self.feature_set = str(
            self.loaded.model.metadata.get("feature_set", "credit_v1")
        )
        missing = self.catalogue.missing(self.loaded.model.features)
        if missing:
            raise ConfigurationError(
                f"Features {missing[:5]} of model {self.loaded.name} have no reason "
                "code; add them to features/reason_codes.yaml."
            )
        self.store = store or OperationalStore.from_settings(settings)

    def sources(self) -> Sources:
        """Return where the records are read (the engine home's committed lake)."""
        if self._sources is not None:
            return self._sources
        return LakeSources.from_settings(self.settings, self.definitions.contracts)

    def watermarks(self, as_of: dt.date | None = None) -> Watermarks:
        """Return what the sources knew of each table by the end of ``as_of``.

        Cached per data state (the lake's commit markers) and date: a rating
        run, the serving state and the API's requests for a past date share
        one computation.
        """
        sources = self.sources()
        key = (sources.lineage(), as_of)
        with self._watermarks_lock:
            found = self._watermarks.get(key)
            if found is not None:
                self._watermarks.move_to_end(key)
                return found
        found = source_watermarks(sources, as_of)
        with self._watermarks_lock:
            self._watermarks[key] = found
            while len(self._watermarks) > _CACHED_DATES:
                self._watermarks.popitem(last=False)
        return found

    def freshness(self, as_of: dt.date) -> FreshnessReport:
        """Return every table's freshness at ``as_of``, by what was known then."""
        return assess_freshness(self.watermarks(as_of), self.freshness_policy, as_of)

    def features(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        knowledge: dt.date | None = None,
    ) -> pd.DataFrame:
        """Feature rows of every enterprise known at ``as_of`` (or of ``usccs``).

        Parameters
        ----------
        as_of : datetime.date
            Rating date: the enterprises known then are rated.
        usccs : sequence of str, optional
            Only these enterprises.
        knowledge : datetime.date, optional
            Compute the features from what was known at this earlier date
            instead (the knowledge date of a rating on stale sources, see
            :meth:`freshness`); the rows' ``as_of`` column says so.
        """
        sources = self.sources()
        spine = enterprise_spine(sources, self.definitions, [as_of])
        if usccs is not None:
            spine = spine[spine["uscc"].isin(list(usccs))]
        if knowledge is not None and knowledge < as_of:
            spine = spine.assign(as_of=knowledge)
        return build_feature_frame(
            spine,
            self.feature_set,
            definitions=self.definitions,
            sources=sources,
            usccs=None if usccs is None else list(usccs),
        )

    def facts(
        self, as_of: dt.date, *, usccs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Statutory facts in force at ``as_of``, absence counted to the deliveries.

        A fact inferred from missing records counts a table's silence up to its
        last delivery known at ``as_of`` (:meth:`FreshnessReport.evidence`).
        """
        return statutory_facts(
            self.sources(),
            as_of,
            rulebook=self.rulebook,
            usccs=usccs,
            watermarks=self.freshness(as_of).evidence(),
        )

    def context(
        self, as_of: dt.date, stale: Sequence[StaleSource] = ()
    ) -> DecisionContext:
        """Return what is fixed for a run at ``as_of``: policy, versions, catalogue.

        ``stale`` are the stale sources every decision of the run is marked
        with (:attr:`FreshnessReport.stale_sources`).
        """
        return DecisionContext(
            as_of=as_of,
            policy=self.policy,
            catalogue=self.catalogue,
            model_name=self.loaded.name,
            model_version=str(self.loaded.version),
            rule_sets=self.rulebook.versions(as_of),
            stale_sources=tuple(stale),
        )

    def decide(
        self,
        features: pd.DataFrame,
        as_of: dt.date,
        *,
        facts: pd.DataFrame | None = None,
        timings: dict[str, float] | None = None,
        stale: Sequence[StaleSource] | None = None,
    ) -> list[Decision]:
        """Decide every row of a feature frame at ``as_of`` (no storing).

        Parameters
        ----------
        features : pandas.DataFrame
            ``uscc`` and the model's feature columns, one row per enterprise.
        as_of : datetime.date
            Rating date (facts and overrides are taken as known then).
        facts : pandas.DataFrame, optional
            Statutory facts (default: computed from the lake).
        timings : dict, optional
            Filled with the seconds of each step.
        stale : sequence of StaleSource, optional
            Stale sources to mark every decision with (default: those of
            :meth:`freshness` at ``as_of``).
        """
        clock = timings if timings is not None else {}
        start = time.perf_counter()
        rated = self.loaded.model.rate(features)
        rated.insert(0, "uscc", features["uscc"].to_numpy())
        policy_features = [
            r.when.feature for r in self.policy.rules if r.when.feature is not None
        ]
        for name in policy_features:
            rated[name] = features[name].to_numpy()
        clock["model"] = time.perf_counter() - start

        start = time.perf_counter()
        if stale is None:
            stale = self.freshness(as_of).stale_sources
        if facts is None:
            usccs = features["uscc"].tolist()
            facts = self.facts(as_of, usccs=None if len(usccs) > 1000 else usccs)
        grouped = facts_by_uscc(facts)
        overrides = overrides_by_uscc(self.store.overrides_in_force(as_of))
        clock["facts"] = time.perf_counter() - start

        start = time.perf_counter()
        decisions = decide_frame(rated, grouped, overrides, self.context(as_of, stale))
        clock["decide"] = time.perf_counter() - start
        return decisions

    def record(
        self,
        as_of: dt.date,
        decisions: Sequence[Decision],
        *,
        actor: str,
        started_at: dt.datetime,
    ) -> int:
        """Store a run and its decisions; return the run id."""
        run = RatingRun(
            as_of=as_of,
            started_at=started_at,
            finished_at=dt.datetime.now(dt.UTC),
            actor=actor,
            model_name=self.loaded.name,
            model_version=str(self.loaded.version),
            policy_name=self.policy.name,
            policy_version=self.policy.version,
            rule_sets=self.rulebook.versions(as_of),
            lake_state=self.sources().lineage(),
            summary=summarise(as_of, decisions),
        )
        return self.store.record_run(run, [d.to_record() for d in decisions])

    def rate(
        self,
        as_of: dt.date,
        *,
        actor: str = "cli",
        usccs: Sequence[str] | None = None,
        store: bool | None = None,
        progress: Progress | None = None,
    ) -> RatingResult:
        """Rate every enterprise known at ``as_of`` and record the run.

        Parameters
        ----------
        as_of : datetime.date
            Rating date; nothing known after its end is used.
        actor : str, default="cli"
            Who asked for the run (recorded).
        usccs : sequence of str, optional
            Rate only these enterprises (a partial run is never stored: a stored
            run is the zone's whole picture at its date, and the latest run of
            a date supersedes the earlier ones).
        store : bool, optional
            Record the run and decisions in the operational store (default:
            yes for a run of every enterprise, no for a partial one).
        progress : callable, optional
            Called with the name of each step as it starts.

        Returns
        -------
        RatingResult
        """
        if store and usccs is not None:
            raise ConfigurationError(
                "A partial rating run (usccs=...) cannot be stored: the latest run "
                "of a date is the zone's whole picture at that date. Rate every "
                "enterprise to record a run."
            )
        say = progress or (lambda _step: None)
        started_at = dt.datetime.now(dt.UTC)
        timings: dict[str, float] = {}
        say("freshness")
        start = time.perf_counter()
        freshness = self.freshness(as_of)
        stale = freshness.stale_sources
        timings["freshness"] = time.perf_counter() - start
        say("features")
        start = time.perf_counter()
        features = self.features(as_of, usccs=usccs, knowledge=freshness.knowledge_date)
        timings["features"] = time.perf_counter() - start
        say("model, statutory facts and decisions")
        decisions = self.decide(features, as_of, timings=timings, stale=stale)
        run_id = None
        if store is None:
            store = usccs is None
        if store:
            say("store")
            start = time.perf_counter()
            run_id = self.record(as_of, decisions, actor=actor, started_at=started_at)
            timings["store"] = time.perf_counter() - start
        return RatingResult(
            run_id, decisions, summarise(as_of, decisions), timings, freshness
        )
