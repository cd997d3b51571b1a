"""Rate every enterprise at a date: features, model, facts, decisions, store.

With shadow models, the same features, statutory facts and overrides are also
decided by each shadow model and recorded as shadow runs (never served).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.decisioning import (
    Decision,
    DecisionContext,
    FactInForce,
    Override,
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
from credit_engine.registry import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    alias_version,
    load_rating_model,
)
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore, RatingRun, RunRole
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["RatingEngine", "RatingResult", "summarise"]

Progress = Callable[[str], None]

_FACTS_BY_USCC = 1000
"""Up to this many enterprises, statutory facts are read for them only."""


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
        One per enterprise, ordered by USCC (empty when the caller asked not
        to keep them, e.g. rating many dates).
    summary : dict
        :func:`summarise` of the decisions.
    timings : dict of str to float
        Seconds per step.
    model_name, model_version : str
        The model version that graded.
    role : RunRole
        ``served`` (the zone's decisions) or ``shadow``.
    shadow : list of RatingResult
        The shadow runs made with this served run (same date and inputs).
    features : pandas.DataFrame or None
        The feature rows rated, when the caller asked to keep them (e.g. for
        the CSI of a monitoring report at this date).
    """

    run_id: int | None
    decisions: list[Decision]
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""
    role: RunRole = RunRole.SERVED
    shadow: list[RatingResult] = field(default_factory=list)
    features: pd.DataFrame | None = field(default=None, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the summary with the model, role, run id and shadow runs."""
        out: dict[str, Any] = dict(self.summary)
        out["run_id"] = self.run_id
        out["model"] = {"name": self.model_name, "version": self.model_version}
        out["role"] = self.role.value
        if self.shadow:
            out["shadow"] = [s.to_json_dict() for s in self.shadow]
        return out


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
        self._check_reasons(self.loaded)
        self.store = store or OperationalStore.from_settings(settings)

    def _check_reasons(self, loaded: LoadedModel) -> None:
        missing = self.catalogue.missing(loaded.model.features)
        if missing:
            raise ConfigurationError(
                f"Features {missing[:5]} of model {loaded.name} have no reason "
                "code; add them to features/reason_codes.yaml."
            )

    def shadow_models(self, names: Sequence[str]) -> list[LoadedModel]:
        """Load the versions to rate in shadow beside the served champion.

        For each registered model of ``names``: its champion and its
        challenger, except the version that serves (the policy's champion)
        and versions already listed. A model the policy does not name is
        never served, so its champion is rated in shadow too: its cohorts for
        monitoring are those shadow runs.

        Parameters
        ----------
        names : sequence of str
            Registered model names (e.g. from the model specs).

        Returns
        -------
        list of LoadedModel
            In the order of ``names``, champion before challenger; models
            without either alias are skipped.
        """
        seen = {(self.loaded.name, str(self.loaded.version))}
        out = []
        for name in names:
            for alias in (CHAMPION, CHALLENGER):
                version = alias_version(self.settings, name, alias)
                if version is None or (name, version) in seen:
                    continue
                seen.add((name, version))
                loaded = load_rating_model(self.settings, name, version=version)
                self._check_reasons(loaded)
                out.append(loaded)
        return out

    def sources(self) -> Sources:
        """Return the engine home's committed lake."""
        return LakeSources.from_settings(self.settings, self.definitions.contracts)

    def features(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        feature_set: str | None = None,
    ) -> pd.DataFrame:
        """Feature rows of every enterprise known at ``as_of`` (or of ``usccs``).

        ``feature_set`` defaults to the served model's.
        """
        sources = self.sources()
        spine = enterprise_spine(sources, self.definitions, [as_of])
        if usccs is not None:
            spine = spine[spine["uscc"].isin(list(usccs))]
        return build_feature_frame(
            spine,
            feature_set or self.feature_set,
            definitions=self.definitions,
            sources=sources,
            usccs=None if usccs is None else list(usccs),
        )

    def context(
        self, as_of: dt.date, model: LoadedModel | None = None
    ) -> DecisionContext:
        """Return what is fixed for a run at ``as_of``: policy, versions, catalogue."""
        used = model or self.loaded
        return DecisionContext(
            as_of=as_of,
            policy=self.policy,
            catalogue=self.catalogue,
            model_name=used.name,
            model_version=str(used.version),
            rule_sets=self.rulebook.versions(as_of),
        )

    def facts(self, as_of: dt.date, usccs: Sequence[str]) -> pd.DataFrame:
        """Statutory facts in force at ``as_of`` (of ``usccs`` when few)."""
        return statutory_facts(
            self.sources(),
            as_of,
            rulebook=self.rulebook,
            usccs=None if len(usccs) > _FACTS_BY_USCC else list(usccs),
        )

    def decide(
        self,
        features: pd.DataFrame,
        as_of: dt.date,
        *,
        facts: pd.DataFrame | None = None,
        timings: dict[str, float] | None = None,
        model: LoadedModel | None = None,
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
        model : LoadedModel, optional
            The model that grades (default: the served champion); a shadow
            model goes through the same facts, overrides and policy.
        """
        used = model or self.loaded
        clock = timings if timings is not None else {}
        start = time.perf_counter()
        rated = used.model.rate(features)
        rated.insert(0, "uscc", features["uscc"].to_numpy())
        policy_features = [
            r.when.feature for r in self.policy.rules if r.when.feature is not None
        ]
        for name in policy_features:
            rated[name] = features[name].to_numpy()
        clock["model"] = time.perf_counter() - start

        start = time.perf_counter()
        inputs = self._inputs(as_of, features["uscc"].tolist(), facts)
        clock["facts"] = time.perf_counter() - start

        start = time.perf_counter()
        decisions = decide_frame(rated, *inputs, self.context(as_of, used))
        clock["decide"] = time.perf_counter() - start
        return decisions

    def _inputs(
        self, as_of: dt.date, usccs: Sequence[str], facts: pd.DataFrame | None
    ) -> tuple[dict[str, list[FactInForce]], dict[str, Override]]:
        """Return the statutory facts and overrides in force by enterprise."""
        if facts is None:
            facts = self.facts(as_of, usccs)
        grouped = facts_by_uscc(facts)
        return grouped, overrides_by_uscc(self.store.overrides_in_force(as_of))

    def record(
        self,
        as_of: dt.date,
        decisions: Sequence[Decision],
        *,
        actor: str,
        started_at: dt.datetime,
        model: LoadedModel | None = None,
        role: RunRole = RunRole.SERVED,
    ) -> int:
        """Store a run and its decisions; return the run id.

        ``model`` (default: the served champion) and ``role`` (``shadow`` for a
        shadow model's decisions) are recorded on the run.
        """
        used = model or self.loaded
        if role is RunRole.SERVED and used is not self.loaded:
            raise ConfigurationError(
                f"Only the policy's champion ({self.loaded.name} v"
                f"{self.loaded.version}) serves; record {used.name} v{used.version} "
                "as a shadow run (role=RunRole.SHADOW)."
            )
        run = RatingRun(
            as_of=as_of,
            started_at=started_at,
            finished_at=dt.datetime.now(dt.UTC),
            actor=actor,
            model_name=used.name,
            model_version=str(used.version),
            policy_name=self.policy.name,
            policy_version=self.policy.version,
            rule_sets=self.rulebook.versions(as_of),
            lake_state=self.sources().lineage(),
            summary=summarise(as_of, decisions),
            role=role,
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
        shadow: Sequence[LoadedModel] = (),
        features: pd.DataFrame | None = None,
        keep_decisions: bool = True,
        keep_features: bool = False,
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
        shadow : sequence of LoadedModel, default=()
            Models (see :meth:`shadow_models`) that also decide the same rows,
            with the same statutory facts and overrides, each recorded as a
            shadow run (never served); their results are in ``shadow``.
        features : pandas.DataFrame, optional
            Feature rows of ``as_of`` already built (``uscc`` and the feature
            columns, e.g. a slice of a multi-date snapshot), used for every
            model whose input columns it holds; default: built from the lake.
        keep_decisions : bool, default=True
            Keep the decisions in the result (``False`` saves memory when
            rating many dates; the summary is kept).
        keep_features : bool, default=False
            Keep the served model's feature rows in the result (``features``).

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
        frames: dict[str, pd.DataFrame] = {}
        served = self._features_for(
            self.loaded, as_of, usccs=usccs, given=features, built=frames
        )
        timings["features"] = time.perf_counter() - start
        say("model, statutory facts and decisions")
        start = time.perf_counter()
        facts = self.facts(as_of, served["uscc"].tolist())
        read_facts = time.perf_counter() - start
        decisions = self.decide(served, as_of, facts=facts, timings=timings)
        timings["facts"] += read_facts
        if store is None:
            store = usccs is None
        run_id = None
        if store:
            say("store")
            start = time.perf_counter()
            run_id = self.record(as_of, decisions, actor=actor, started_at=started_at)
            timings["store"] = time.perf_counter() - start
        result = RatingResult(
            run_id,
            decisions if keep_decisions else [],
            summarise(as_of, decisions),
            timings,
            model_name=self.loaded.name,
            model_version=str(self.loaded.version),
            features=served if keep_features else None,
        )
        for model in shadow:
            say(f"shadow: {model.name} v{model.version}")
            result.shadow.append(
                self._shadow_run(
                    model,
                    as_of,
                    usccs=usccs,
                    given=features,
                    built=frames,
                    facts=facts,
                    actor=actor,
                    store=store,
                    keep_decisions=keep_decisions,
                )
            )
        return result

    def _features_for(
        self,
        model: LoadedModel,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None,
        given: pd.DataFrame | None,
        built: dict[str, pd.DataFrame],
    ) -> pd.DataFrame:
        """Feature rows ``model`` can read: ``given`` if it has its columns."""
        needed = {"uscc", *model.model.input_columns()}
        policy = {r.when.feature for r in self.policy.rules if r.when.feature}
        if given is not None and needed | policy <= set(given.columns):
            return given
        feature_set = str(model.model.metadata.get("feature_set", self.feature_set))
        if feature_set not in built:
            built[feature_set] = self.features(
                as_of, usccs=usccs, feature_set=feature_set
            )
        return built[feature_set]

    def _shadow_run(
        self,
        model: LoadedModel,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None,
        given: pd.DataFrame | None,
        built: dict[str, pd.DataFrame],
        facts: pd.DataFrame,
        actor: str,
        store: bool,
        keep_decisions: bool,
    ) -> RatingResult:
        started_at = dt.datetime.now(dt.UTC)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        frame = self._features_for(model, as_of, usccs=usccs, given=given, built=built)
        timings["features"] = time.perf_counter() - start
        decisions = self.decide(frame, as_of, facts=facts, timings=timings, model=model)
        run_id = None
        if store:
            start = time.perf_counter()
            run_id = self.record(
                as_of,
                decisions,
                actor=actor,
                started_at=started_at,
                model=model,
                role=RunRole.SHADOW,
            )
            timings["store"] = time.perf_counter() - start
        return RatingResult(
            run_id,
            decisions if keep_decisions else [],
            summarise(as_of, decisions),
            timings,
            model_name=model.name,
            model_version=str(model.version),
            role=RunRole.SHADOW,
        )
