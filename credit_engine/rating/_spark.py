"""Batch rating on Apache Spark: features, facts, scoring and decisions as Spark jobs.

The same definitions as the DuckDB path: the feature SQL and the statutory-fact
SQL compile once and are transpiled to Spark SQL
(:func:`~credit_engine.features.build_feature_frame_spark`,
:func:`~credit_engine.rules.statutory_facts_spark`). Each enterprise's facts
are joined to its feature row on the executors; there, through ``mapInPandas``,
the registered model (loaded from MLflow once per Python worker) rates each
batch of rows and the policy decides them (:func:`score_frame`,
:func:`~credit_engine.decisioning.decide_frame`), exactly as the driver does
on the DuckDB path. The driver streams the decisions back one partition at a
time (``toLocalIterator``), in USCC order, straight into the operational
store's one transaction (:func:`credit_engine.audit.record_rating_run_streamed`),
``STORE_BATCH`` decisions per insert: the run and its decisions are stored
as :meth:`RatingEngine.record` stores them on the DuckDB path, atomically, but
the driver holds one partition and one batch at a time, never the whole run
(unless the caller keeps the decisions in the result).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from itertools import islice
from typing import Any

import pandas as pd
import pyarrow as pa

from credit_engine.audit import AuditLog, record_rating_run_streamed
from credit_engine.config import Settings
from credit_engine.decisioning import (
    Decision,
    DecisionContext,
    Override,
    Policy,
    decide_frame,
    facts_by_uscc,
    overrides_by_uscc,
)
from credit_engine.features import build_feature_frame_spark, enterprise_spine_spark
from credit_engine.rating._result import RatingResult, RunTally
from credit_engine.rating._run import RatingEngine, score_frame
from credit_engine.registry import LoadedModel, load_rating_model
from credit_engine.rules import FACT_COLUMNS, facts_frame, statutory_facts_spark
from credit_engine.store import RatingRun, RunRole

__all__ = ["rate_spark"]

STORE_BATCH = 10_000
"""Decisions inserted into the store at a time as they arrive from Spark."""

Progress = Callable[[str], None]

_FACTS = "_facts_json"
"""Column holding an enterprise's facts in force, as JSON, beside its features."""

_DATES = ("since", "until")

_MODELS: dict[tuple[str, str, str], LoadedModel] = {}
_MODELS_LOCK = threading.Lock()


def _worker_model(settings: Settings, name: str, version: str) -> LoadedModel:
    """Return a registered model version, loaded once per Python worker."""
    key = (str(settings.mlflow_tracking_uri), name, version)
    with _MODELS_LOCK:
        found = _MODELS.get(key)
        if found is None:
            found = load_rating_model(settings, name, version=version)
            _MODELS[key] = found
        return found


def _fact_schema() -> pa.Schema:
    types = {
        "since": pa.date32(),
        "until": pa.date32(),
        "joint_punishment": pa.bool_(),
        "blocks_green_channel": pa.bool_(),
        "favourable": pa.bool_(),
        "inspection_factor_cap": pa.float64(),
        "inspection_min_rate": pa.float64(),
    }
    return pa.schema([(c, types.get(c, pa.string())) for c in FACT_COLUMNS])


def _facts_of(usccs: Sequence[str], payloads: Sequence[Any]) -> pd.DataFrame:
    """Rebuild the facts frame of :func:`statutory_facts` from per-row JSON lists.

    Sorted by ``uscc, code`` as the DuckDB query sorts them, so every
    enterprise's facts come in the same order on both engines.
    """
    rows: list[dict[str, Any]] = []
    for uscc, payload in zip(usccs, payloads, strict=True):
        if payload is None or (isinstance(payload, float) and pd.isna(payload)):
            continue
        for fact in json.loads(payload):
            for column in _DATES:
                value = fact.get(column)
                fact[column] = None if value is None else dt.date.fromisoformat(value)
            rows.append({**fact, "uscc": uscc})
    rows.sort(key=lambda r: (r["uscc"], r["code"]))
    return facts_frame(pa.Table.from_pylist(rows, schema=_fact_schema()))


def _decide_batches(
    batches: Iterator[pd.DataFrame],
    *,
    settings: Settings,
    name: str,
    version: str,
    policy: Policy,
    context: DecisionContext,
    overrides: Mapping[str, Override],
) -> Iterator[pd.DataFrame]:
    """Rate and decide each batch of ``features + facts`` rows (runs on executors)."""
    loaded = _worker_model(settings, name, version)
    for batch in batches:
        usccs = [str(u) for u in batch["uscc"]]
        facts = _facts_of(usccs, list(batch[_FACTS]))
        features = batch.drop(columns=[_FACTS]).reset_index(drop=True)
        rated = score_frame(loaded, policy, features)
        decisions = decide_frame(rated, facts_by_uscc(facts), overrides, context)
        yield pd.DataFrame(
            {
                "uscc": usccs,
                "decision": [pickle.dumps(d) for d in decisions],
            }
        )


@contextmanager
def _decision_stream(
    engine: RatingEngine,
    model: LoadedModel,
    features: Any,
    facts: Any,
    *,
    context: DecisionContext,
    overrides: Mapping[str, Override],
) -> Iterator[Iterator[Decision]]:
    """Score and decide on the executors; yield the decisions by USCC, streamed.

    The driver receives one partition at a time (``toLocalIterator``), in
    USCC order as the DuckDB path stores them. The decided rows are kept on
    the executors' disks first (``persist``): a global sort samples its input
    before sorting it, which would otherwise run the whole job (features,
    joins, scoring) twice. They are dropped when the block ends.
    """
    from pyspark import StorageLevel

    joined = features.join(facts, on="uscc", how="left")
    job = partial(
        _decide_batches,
        settings=engine.settings,
        name=model.name,
        version=str(model.version),
        policy=engine.policy,
        context=context,
        overrides=dict(overrides),
    )
    out = joined.mapInPandas(job, "uscc STRING, decision BINARY").persist(
        StorageLevel.DISK_ONLY
    )
    try:
        rows = out.orderBy("uscc").toLocalIterator(prefetchPartitions=False)
        yield (
            pickle.loads(row["decision"])  # noqa: S301 -- our own executors' output
            for row in rows
        )
    finally:
        out.unpersist()


def _record_streamed(  # noqa: PLR0913 -- RatingEngine.record's options
    engine: RatingEngine,
    as_of: dt.date,
    batches: Iterable[Sequence[Decision]],
    *,
    actor: str,
    started_at: dt.datetime,
    model: LoadedModel,
    role: RunRole,
    tally: RunTally,
) -> int:
    """Store a run whose decisions come in batches; return the run id.

    As :meth:`RatingEngine.record`, in one transaction with its audit entry
    (:func:`credit_engine.audit.record_rating_run_streamed`), but each batch
    is inserted as it comes and then dropped: the run's decisions are never
    held together on the driver, the summary is counted on the way (in
    ``tally``). A failure in any batch leaves no run, no decisions and no
    audit entry.
    """
    run = engine.run_record(as_of, actor, started_at, model, role, tally.summary())

    def chunks() -> Iterator[list[dict[str, Any]]]:
        for batch in batches:
            tally.add(batch)
            yield [d.to_record() for d in batch]

    def complete() -> RatingRun:
        return dataclasses.replace(
            run, finished_at=dt.datetime.now(dt.UTC), summary=tally.summary()
        )

    run_id, _ = record_rating_run_streamed(
        AuditLog(engine.store), run, chunks(), complete=complete
    )
    return run_id


def _nested_facts(facts: Any) -> Any:
    """Each enterprise's facts in force as one JSON list (one row per enterprise)."""
    from pyspark.sql import functions as F  # noqa: N812 -- Spark's convention

    fields = [F.col(c) for c in FACT_COLUMNS if c != "uscc"]
    return facts.groupBy("uscc").agg(
        F.to_json(F.collect_list(F.struct(*fields))).alias(_FACTS)
    )


def rate_spark(  # noqa: PLR0913 -- the options of RatingEngine.rate
    engine: RatingEngine,
    spark: Any,
    as_of: dt.date,
    *,
    actor: str = "cli",
    store: bool = True,
    progress: Progress | None = None,
    shadow: Sequence[LoadedModel] = (),
    keep_decisions: bool = True,
) -> RatingResult:
    """Rate every enterprise known at ``as_of`` on Spark and record the run.

    The Spark twin of :meth:`RatingEngine.rate` (same freshness check, same
    features, statutory facts, overrides, policy and model, same run and
    decisions in the store): the features and facts are Spark SQL jobs, the
    model scores and the policy decides on the executors (``mapInPandas``).

    Parameters
    ----------
    engine : RatingEngine
        Policy, rules, champion and store, loaded once.
    spark : pyspark.sql.SparkSession
        The session (:func:`credit_engine.engines.spark_session`).
    as_of : datetime.date
        Rating date; nothing known after its end is used.
    actor : str, default="cli"
        Who asked for the run (recorded).
    store : bool, default=True
        Record the run and its decisions in the operational store.
    progress : callable, optional
        Called with the name of each step as it starts.
    shadow : sequence of LoadedModel, default=()
        Models that also decide the same rows (recorded as shadow runs).
    keep_decisions : bool, default=True
        Keep the decisions in the result (the summary is always kept).

    Returns
    -------
    RatingResult
        As :meth:`RatingEngine.rate` returns it (``features`` is not kept:
        the rows stay on the executors).
    """
    say = progress or (lambda _step: None)
    started_at = dt.datetime.now(dt.UTC)
    timings: dict[str, float] = {}
    say("freshness")
    start = time.perf_counter()
    freshness = engine.freshness(as_of, spark=spark)
    timings["freshness"] = time.perf_counter() - start
    sources = engine.sources()
    spine = enterprise_spine_spark(
        spark,
        sources,  # type: ignore[arg-type]
        engine.definitions,
        [as_of],
        known_from=engine.settings.known_enterprises,
    ).frame
    knowledge = freshness.knowledge_date
    if knowledge < as_of:
        # Rows of as_of would read the stale sources' silence (see RatingEngine).
        spine = spine.selectExpr("uscc", f"DATE '{knowledge.isoformat()}' AS as_of")
    facts = _nested_facts(
        statutory_facts_spark(
            spark,
            sources,  # type: ignore[arg-type]
            as_of,
            rulebook=engine.rulebook,
            watermarks=freshness.evidence(),
        )
    )
    overrides = overrides_by_uscc(engine.store.overrides_in_force(as_of))
    built: dict[str, Any] = {}

    def run(model: LoadedModel, role: RunRole) -> RatingResult:
        run_started = started_at if role is RunRole.SERVED else dt.datetime.now(dt.UTC)
        clock = dict(timings) if role is RunRole.SERVED else {}
        feature_set = str(model.model.metadata.get("feature_set", engine.feature_set))
        if feature_set not in built:
            built[feature_set] = build_feature_frame_spark(
                spark,
                spine,
                feature_set,
                definitions=engine.definitions,
                sources=sources,  # type: ignore[arg-type]
            )
        say(
            "features, statutory facts, model and decisions on Spark"
            if role is RunRole.SERVED
            else f"shadow: {model.name} v{model.version}"
        )
        context = engine.context(as_of, freshness.stale_sources, model=model)
        tally = RunTally(as_of)
        kept: list[Decision] = []
        waited = [0.0]  # seconds spent waiting for Spark's next decisions

        def batches(stream: Iterator[Decision]) -> Iterator[list[Decision]]:
            while True:
                start = time.perf_counter()
                batch = list(islice(stream, STORE_BATCH))
                waited[0] += time.perf_counter() - start
                if not batch:
                    return
                if keep_decisions:
                    kept.extend(batch)
                yield batch

        run_id = None
        start = time.perf_counter()
        with _decision_stream(
            engine,
            model,
            built[feature_set],
            facts,
            context=context,
            overrides=overrides,
        ) as stream:
            if store:
                say("store (streamed as Spark's partitions arrive)")
                run_id = _record_streamed(
                    engine,
                    as_of,
                    batches(stream),
                    actor=actor,
                    started_at=run_started,
                    model=model,
                    role=role,
                    tally=tally,
                )
            else:
                for batch in batches(stream):
                    tally.add(batch)
        clock["spark"] = waited[0]
        if store:
            clock["store"] = time.perf_counter() - start - waited[0]
        return RatingResult(
            run_id,
            kept,
            tally.summary(),
            clock,
            model_name=model.name,
            model_version=str(model.version),
            role=role,
            freshness=freshness,
        )

    result = run(engine.loaded, RunRole.SERVED)
    for model in shadow:
        result.shadow.append(run(model, RunRole.SHADOW))
    return result
