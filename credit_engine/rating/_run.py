"""Rate every enterprise at a date: features, model, facts, decisions, store."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from credit_engine.audit import AuditLog, record_rating_run
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
from credit_engine.registry import LoadedModel, load_rating_model
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore, RatingRun
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["RatingEngine", "RatingResult", "summarise"]

Progress = Callable[[str], None]


def summarise(as_of: dt.date, decisions: Sequence[Decision]) -> dict[str, Any]:
    """Count a run's decisions as ``credit-engine rate --report-json`` writes them.

    Returns
    -------
    dict
        ``{"as_of", "rated", "tiers": {"A": n, ...}, "green_channel": n,
        "decided_by": {LAYER: n}}`` with every tier (best first) and layer
        (strongest first) present, keyed by their codes.
    """
    tiers = Counter(d.tier for d in decisions)
    layers = Counter(d.decided_by for d in decisions)
    return {
        "as_of": as_of.isoformat(),
        "rated": len(decisions),
        "tiers": {t.value: tiers.get(t, 0) for t in Tier},
        "green_channel": sum(d.green_channel for d in decisions),
        "decided_by": {by.value: layers.get(by, 0) for by in DecidedBy},
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
    """

    run_id: int | None
    decisions: list[Decision]
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)


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
    """

    def __init__(
        self,
        settings: Settings,
        *,
        policy_name: str = "zone",
        policy_version: int | None = None,
        model: LoadedModel | None = None,
        store: OperationalStore | None = None,
    ) -> None:
        self.settings = settings
        self.definitions = load_definitions(settings.definitions_dir)
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
        """Return the engine home's committed lake."""
        return LakeSources.from_settings(self.settings, self.definitions.contracts)

    def features(
        self, as_of: dt.date, *, usccs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Feature rows of every enterprise known at ``as_of`` (or of ``usccs``)."""
        sources = self.sources()
        spine = enterprise_spine(sources, self.definitions, [as_of])
        if usccs is not None:
            spine = spine[spine["uscc"].isin(list(usccs))]
        return build_feature_frame(
            spine,
            self.feature_set,
            definitions=self.definitions,
            sources=sources,
            usccs=None if usccs is None else list(usccs),
        )

    def context(self, as_of: dt.date) -> DecisionContext:
        """Return what is fixed for a run at ``as_of``: policy, versions, catalogue."""
        return DecisionContext(
            as_of=as_of,
            policy=self.policy,
            catalogue=self.catalogue,
            model_name=self.loaded.name,
            model_version=str(self.loaded.version),
            rule_sets=self.rulebook.versions(as_of),
        )

    def decide(
        self,
        features: pd.DataFrame,
        as_of: dt.date,
        *,
        facts: pd.DataFrame | None = None,
        timings: dict[str, float] | None = None,
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
        if facts is None:
            usccs = features["uscc"].tolist()
            facts = statutory_facts(
                self.sources(),
                as_of,
                rulebook=self.rulebook,
                usccs=None if len(usccs) > 1000 else usccs,
            )
        grouped = facts_by_uscc(facts)
        overrides = overrides_by_uscc(self.store.overrides_in_force(as_of))
        clock["facts"] = time.perf_counter() - start

        start = time.perf_counter()
        decisions = decide_frame(rated, grouped, overrides, self.context(as_of))
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
        """Store a run and its decisions, logged in the audit log; return the run id.

        The run, its decisions and a ``rating_run`` audit entry holding their
        digests commit in one transaction
        (:func:`credit_engine.audit.record_rating_run`).
        """
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
        # Logged with the digest of its decisions, in the same transaction
        # (issue 14): an edit of the stored decisions shows in `audit verify`.
        run_id, _ = record_rating_run(
            AuditLog(self.store), run, [d.to_record() for d in decisions]
        )
        return run_id

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
        say("features")
        start = time.perf_counter()
        features = self.features(as_of, usccs=usccs)
        timings["features"] = time.perf_counter() - start
        say("model, statutory facts and decisions")
        decisions = self.decide(features, as_of, timings=timings)
        run_id = None
        if store is None:
            store = usccs is None
        if store:
            say("store")
            start = time.perf_counter()
            run_id = self.record(as_of, decisions, actor=actor, started_at=started_at)
            timings["store"] = time.perf_counter() - start
        return RatingResult(run_id, decisions, summarise(as_of, decisions), timings)
