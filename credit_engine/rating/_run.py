"""Rate every enterprise at a date: features, model, facts, decisions, store.

With shadow models, the same features, statutory facts and overrides are also
decided by each shadow model and recorded as shadow runs (never served).
Every date is checked for data freshness first: decisions resting on a stale
source are marked with it, and stale data can only fail to assert.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from credit_engine.audit import AuditLog, record_rating_run
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
from credit_engine.freshness import (
    FreshnessPolicy,
    FreshnessReport,
    StaleSource,
    Watermarks,
    assess_freshness,
    load_freshness_policy,
    source_watermarks,
    source_watermarks_spark,
)
from credit_engine.rating._result import RatingResult, summarise
from credit_engine.registry import (
    CHALLENGER,
    CHAMPION,
    LoadedModel,
    alias_version,
    load_rating_model,
)
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore, RatingRun, RunRole

__all__ = ["RatingEngine", "RatingResult", "score_frame", "summarise"]

Progress = Callable[[str], None]

_FACTS_BY_USCC = 1000
"""Up to this many enterprises, statutory facts are read for them only."""

_CACHED_DATES = 16
"""Watermarks kept per engine (data state and date); each is one small query."""


def score_frame(
    model: LoadedModel, policy: Policy, features: pd.DataFrame
) -> pd.DataFrame:
    """Rate feature rows with a model: ``uscc``, its outputs, the policy's features.

    The frame :func:`~credit_engine.decisioning.decide_frame` decides; the
    same on the driver (DuckDB path) and on Spark's executors.
    """
    rated = model.model.rate(features)
    rated.insert(0, "uscc", features["uscc"].to_numpy())
    for name in [r.when.feature for r in policy.rules if r.when.feature is not None]:
        rated[name] = features[name].to_numpy()
    return rated


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
    when a required source is stale, every decision (served and shadow) is
    marked with it (``Decision.stale_sources``, reason ``DATA-STALE``), the
    rule layers count no missing record of it past its last delivery, and the
    models grade what the lake knew at the
    :func:`~credit_engine.freshness.knowledge_date` (the last day every stale
    source still delivered), so that stale data can only fail to assert,
    never worsen a decision.
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
        """Return where the records are read (the engine home's committed lake)."""
        if self._sources is not None:
            return self._sources
        return LakeSources.from_settings(self.settings, self.definitions.contracts)

    def watermarks(
        self, as_of: dt.date | None = None, *, spark: Any | None = None
    ) -> Watermarks:
        """Return what the sources knew of each table by the end of ``as_of``.

        Cached per data state (the lake's commit markers) and date: a rating
        run, the serving state and the API's requests for a past date share
        one computation.

        Parameters
        ----------
        as_of : datetime.date, optional
            Knowledge date (default: the sources as they stand).
        spark : pyspark.sql.SparkSession, optional
            Read the records on Spark's executors
            (:func:`~credit_engine.freshness.source_watermarks_spark`, same
            answer) instead of on DuckDB in this process.
        """
        sources = self.sources()
        key = (sources.lineage(), as_of)
        with self._watermarks_lock:
            found = self._watermarks.get(key)
            if found is not None:
                self._watermarks.move_to_end(key)
                return found
        if spark is None:
            found = source_watermarks(sources, as_of)
        else:
            found = source_watermarks_spark(spark, sources, as_of)  # type: ignore[arg-type]
        with self._watermarks_lock:
            self._watermarks[key] = found
            while len(self._watermarks) > _CACHED_DATES:
                self._watermarks.popitem(last=False)
        return found

    def freshness(self, as_of: dt.date, *, spark: Any | None = None) -> FreshnessReport:
        """Return every table's freshness at ``as_of``, by what was known then.

        With ``spark``, the watermarks are read on Spark (see :meth:`watermarks`).
        """
        marks = self.watermarks(as_of, spark=spark)
        return assess_freshness(marks, self.freshness_policy, as_of)

    def features(
        self,
        as_of: dt.date,
        *,
        usccs: Sequence[str] | None = None,
        feature_set: str | None = None,
        knowledge: dt.date | None = None,
    ) -> pd.DataFrame:
        """Feature rows of every enterprise known at ``as_of`` (or of ``usccs``).

        Parameters
        ----------
        as_of : datetime.date
            Rating date: the enterprises known then are rated.
        usccs : sequence of str, optional
            Only these enterprises.
        feature_set : str, optional
            Default: the served model's.
        knowledge : datetime.date, optional
            Compute the features from what was known at this earlier date
            instead (the knowledge date of a rating on stale sources, see
            :meth:`freshness`); the rows' ``as_of`` column says so.
        """
        sources = self.sources()
        spine = enterprise_spine(
            sources,
            self.definitions,
            [as_of],
            known_from=self.settings.known_enterprises,
        )
        if usccs is not None:
            spine = spine[spine["uscc"].isin(list(usccs))]
        if knowledge is not None and knowledge < as_of:
            spine = spine.assign(as_of=knowledge)
        return build_feature_frame(
            spine,
            feature_set or self.feature_set,
            definitions=self.definitions,
            sources=sources,
            usccs=None if usccs is None else list(usccs),
        )

    def context(
        self,
        as_of: dt.date,
        stale: Sequence[StaleSource] = (),
        *,
        model: LoadedModel | None = None,
    ) -> DecisionContext:
        """Return what is fixed for a run at ``as_of``: policy, versions, catalogue.

        ``stale`` are the stale sources every decision of the run is marked
        with (:attr:`FreshnessReport.stale_sources`); ``model`` the model that
        grades (default: the served champion).
        """
        used = model or self.loaded
        return DecisionContext(
            as_of=as_of,
            policy=self.policy,
            catalogue=self.catalogue,
            model_name=used.name,
            model_version=str(used.version),
            rule_sets=self.rulebook.versions(as_of),
            stale_sources=tuple(stale),
        )

    def facts(self, as_of: dt.date, usccs: Sequence[str] | None = None) -> pd.DataFrame:
        """Statutory facts in force at ``as_of``, absence counted to the deliveries.

        Of ``usccs`` only when they are few (up to 1,000), else of every
        enterprise. A fact inferred from missing records counts a table's
        silence up to its last delivery known at ``as_of``
        (:meth:`FreshnessReport.evidence`).
        """
        few = usccs is not None and len(usccs) <= _FACTS_BY_USCC
        return statutory_facts(
            self.sources(),
            as_of,
            rulebook=self.rulebook,
            usccs=list(usccs) if few and usccs is not None else None,
            watermarks=self.freshness(as_of).evidence(),
        )

    def decide(
        self,
        features: pd.DataFrame,
        as_of: dt.date,
        *,
        facts: pd.DataFrame | None = None,
        timings: dict[str, float] | None = None,
        model: LoadedModel | None = None,
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
        model : LoadedModel, optional
            The model that grades (default: the served champion); a shadow
            model goes through the same facts, overrides and policy.
        stale : sequence of StaleSource, optional
            Stale sources to mark every decision with (default: those of
            :meth:`freshness` at ``as_of``).
        """
        used = model or self.loaded
        clock = timings if timings is not None else {}
        start = time.perf_counter()
        rated = score_frame(used, self.policy, features)
        clock["model"] = time.perf_counter() - start

        start = time.perf_counter()
        if stale is None:
            stale = self.freshness(as_of).stale_sources
        inputs = self._inputs(as_of, features["uscc"].tolist(), facts)
        clock["facts"] = time.perf_counter() - start

        start = time.perf_counter()
        context = self.context(as_of, stale, model=used)
        decisions = decide_frame(rated, *inputs, context)
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
        """Store a run and its decisions, logged in the audit log; return the run id.

        The run, its decisions and a ``rating_run`` audit entry holding their
        digests commit in one transaction
        (:func:`credit_engine.audit.record_rating_run`). ``model`` (default:
        the served champion) and ``role`` (``shadow`` for a shadow model's
        decisions) are recorded on the run.
        """
        run = self.run_record(
            as_of, actor, started_at, model, role, summarise(as_of, decisions)
        )
        # Logged with the digest of its decisions, in the same transaction
        # (issue 14): an edit of the stored decisions shows in `audit verify`.
        run_id, _ = record_rating_run(
            AuditLog(self.store), run, [d.to_record() for d in decisions]
        )
        return run_id

    def run_record(  # noqa: PLR0913, PLR0917 -- the run's fields
        self,
        as_of: dt.date,
        actor: str,
        started_at: dt.datetime,
        model: LoadedModel | None,
        role: RunRole,
        summary: dict[str, Any],
    ) -> RatingRun:
        """Return the store's record of a run of ``model`` (default: champion).

        Finished now; only the champion serves (a ``ConfigurationError`` else).
        """
        used = model or self.loaded
        if role is RunRole.SERVED and used is not self.loaded:
            raise ConfigurationError(
                f"Only the policy's champion ({self.loaded.name} v"
                f"{self.loaded.version}) serves; record {used.name} v{used.version} "
                "as a shadow run (role=RunRole.SHADOW)."
            )
        return RatingRun(
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
            summary=summary,
            role=role,
        )

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
            Not used when a source is stale at ``as_of``: the features are
            then built at the knowledge date (see the class notes).
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
        say("freshness")
        start = time.perf_counter()
        freshness = self.freshness(as_of)
        stale = freshness.stale_sources
        knowledge = freshness.knowledge_date
        if knowledge < as_of:
            features = None  # rows of as_of would read the stale sources' silence
        timings["freshness"] = time.perf_counter() - start
        say("features")
        start = time.perf_counter()
        frames: dict[str, pd.DataFrame] = {}
        served = self._features_for(
            self.loaded, as_of, usccs=usccs, given=features, built=frames,
            knowledge=knowledge,
        )  # fmt: skip
        timings["features"] = time.perf_counter() - start
        say("model, statutory facts and decisions")
        start = time.perf_counter()
        facts = self.facts(as_of, served["uscc"].tolist())
        read_facts = time.perf_counter() - start
        decisions = self.decide(
            served, as_of, facts=facts, timings=timings, stale=stale
        )
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
            freshness=freshness,
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
                    freshness=freshness,
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
        knowledge: dt.date | None = None,
    ) -> pd.DataFrame:
        """Feature rows ``model`` can read: ``given`` if it has its columns.

        Built from what was known at ``knowledge`` when it is given (a rating
        on stale sources).
        """
        needed = {"uscc", *model.model.input_columns()}
        policy = {r.when.feature for r in self.policy.rules if r.when.feature}
        if given is not None and needed | policy <= set(given.columns):
            return given
        feature_set = str(model.model.metadata.get("feature_set", self.feature_set))
        if feature_set not in built:
            built[feature_set] = self.features(
                as_of, usccs=usccs, feature_set=feature_set, knowledge=knowledge
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
        freshness: FreshnessReport,
    ) -> RatingResult:
        started_at = dt.datetime.now(dt.UTC)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        frame = self._features_for(
            model, as_of, usccs=usccs, given=given, built=built,
            knowledge=freshness.knowledge_date,
        )  # fmt: skip
        timings["features"] = time.perf_counter() - start
        decisions = self.decide(
            frame, as_of, facts=facts, timings=timings, model=model,
            stale=freshness.stale_sources,
        )  # fmt: skip
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
            freshness=freshness,
        )
