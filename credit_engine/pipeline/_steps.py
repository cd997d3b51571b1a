"""The steps of the main job, each a library call that prints nothing.

The CLI's commands (``simulate``, ``ingest``, ``features``, ``train``, ``rate``)
and :func:`~credit_engine.pipeline.run_demo` all call these, so each step is
written once. Heavy packages are imported inside the functions: importing this
module stays cheap for ``credit-engine --help``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from credit_engine.exceptions import SimulationError
from credit_engine.pipeline._progress import PipelineProgress, SilentProgress
from credit_engine.pipeline._results import FeatureSnapshot, PromotionOutcome
from credit_engine.vocabulary import Engine

if TYPE_CHECKING:
    import pandas as pd

    from credit_engine.config import Settings
    from credit_engine.data import IngestReport, SourceMapping
    from credit_engine.features import LakeSources, ResolvedSet
    from credit_engine.rating import RatingResult
    from credit_engine.simulation import (
        SimulationConfig,
        SimulationSummary,
        ZoneAudit,
    )
    from credit_engine.training import TrainedModel
    from credit_engine.watch import MonitoringOutcome

__all__ = [
    "build_feature_snapshot",
    "check_ingestion",
    "ingest_records",
    "month_ends",
    "monitor_models",
    "promote_challenger",
    "rate_dates",
    "rate_enterprises",
    "registered_model_names",
    "simulate_records",
    "simulation_config",
    "train_models",
]


def simulation_config(
    *,
    enterprises: int,
    start: dt.date,
    end: dt.date,
    seed: int,
    dirty_rate: float,
) -> SimulationConfig:
    """Return the checked parameters of a simulation.

    Raises
    ------
    SimulationError
        Naming every parameter in error, e.g. ``window: ... end must be after
        start``.
    """
    from pydantic import ValidationError

    from credit_engine.simulation import SimulationConfig

    try:
        return SimulationConfig(
            enterprises=enterprises, start=start, end=end, seed=seed,
            dirty_rate=dirty_rate,
        )  # fmt: skip
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'window'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SimulationError(f"Invalid simulation parameters: {msgs}") from exc


def simulate_records(
    settings: Settings,
    config: SimulationConfig,
    *,
    out: Path | None = None,
    truth: Path | None = None,
    progress: PipelineProgress | None = None,
    scenarios: Sequence[str] = (),
) -> SimulationSummary:
    """Simulate a zone: every contract's table as Parquet, and its latent truth.

    Parameters
    ----------
    settings : Settings
        Engine settings (contracts, home).
    config : SimulationConfig
        See :func:`simulation_config`.
    out : pathlib.Path, optional
        Folder for the tables (default ``HOME/zone/records``).
    truth : pathlib.Path, optional
        Folder for the truth (default: ``out``'s sibling ``<name>_truth``).
    progress : PipelineProgress, optional
        Told how many enterprises are done.
    scenarios : sequence of str, default=()
        Scenarios to apply: names in ``scenarios/`` (e.g. ``refund_ring``) or
        paths of scenario YAML files (docs/simulator.md, "Scenarios").
    """
    from credit_engine.data import load_contracts
    from credit_engine.simulation import load_scenario, simulate_zone

    out_dir = out or settings.home / "zone" / "records"
    truth_dir = truth or out_dir.with_name(out_dir.name + "_truth")
    contracts = load_contracts(settings.sources_dir)
    loaded = [
        load_scenario(s, definitions_dir=settings.definitions_dir) for s in scenarios
    ]
    with (progress or SilentProgress()).simulation(config.enterprises) as update:
        return simulate_zone(
            config, contracts, out_dir, truth_dir, progress=update, scenarios=loaded
        )


def ingest_records(
    settings: Settings,
    directory: Path,
    *,
    report_json: Path | None = None,
    mapping: Path | SourceMapping | None = None,
    progress: PipelineProgress | None = None,
    engine: Engine | str | None = None,
) -> IngestReport:
    """Validate a batch, load the good rows and quarantine the rest.

    See :func:`credit_engine.data.ingest_batch`; ``report_json`` is its
    ``report_path``, ``mapping`` a source mapping for a foreign layout.
    ``engine`` is ``duckdb`` or ``spark`` (default: ``settings.engine``): on
    Spark, :func:`credit_engine.data.ingest_batch_spark` runs it as Spark jobs.
    """
    from credit_engine.data import (
        ingest_batch,
        ingest_batch_spark,
        load_contracts,
        load_mapping,
    )
    from credit_engine.engines import resolve_engine, spark_session

    if resolve_engine(engine, settings.engine) is Engine.SPARK:
        if isinstance(mapping, Path):  # an invalid mapping is named before a JVM starts
            mapping = load_mapping(
                mapping,
                load_contracts(settings.sources_dir),
                definitions_dir=settings.definitions_dir,
            )
        spark = spark_session(settings)
        with (progress or SilentProgress()).ingestion() as callback:
            return ingest_batch_spark(
                directory,
                settings,
                spark,
                mapping=mapping,
                progress=callback,
                report_path=report_json,
            )
    with (progress or SilentProgress()).ingestion() as callback:
        return ingest_batch(
            directory,
            settings,
            mapping=mapping,
            progress=callback,
            report_path=report_json,
        )


def check_ingestion(
    settings: Settings, truth_dir: Path, report: IngestReport
) -> ZoneAudit:
    """Check an ingestion of simulated records against the dirty rows injected."""
    from credit_engine.data import Lake
    from credit_engine.simulation import audit_ingestion

    return audit_ingestion(
        truth_dir, Lake(settings.lake_dir, settings.quarantine_dir), report
    )


def build_feature_snapshot(
    settings: Settings,
    as_of: Sequence[dt.date],
    feature_set: str,
    out: Path,
    *,
    known_enterprises: str | None = None,
    progress: PipelineProgress | None = None,
    engine: Engine | str | None = None,
) -> FeatureSnapshot:
    """Build the point-in-time features of every enterprise at each date; write them.

    Parameters
    ----------
    settings : Settings
        Engine settings (definitions, lake, ``known_enterprises``).
    as_of : sequence of datetime.date
        Rating dates.
    feature_set : str
        Feature set under ``features/sets`` (e.g. ``credit_v1``).
    out : pathlib.Path
        Parquet file to write (lineage in its metadata).
    known_enterprises : {"auto", "registration", "any_record"}, optional
        How enterprises become known (default: ``settings.known_enterprises``).
    progress : PipelineProgress, optional
        Told when the spine and when the features are built.
    engine : Engine or str, optional
        ``duckdb`` or ``spark`` (default: ``settings.engine``). On Spark the
        snapshot's ``frame`` is ``None``: the table is written by Spark and
        never held by the driver.

    Returns
    -------
    FeatureSnapshot
        The snapshot, its lineage (with ``known_enterprises``, records per
        source known at the last date and ``empty_sources``) and warnings: the
        snapshot is empty, a source of the set gives nothing, features are
        null for every enterprise.

    Raises
    ------
    EngineUnavailableError
        If Spark is asked for and cannot run (pyspark or Java missing).
    """
    from credit_engine.engines import resolve_engine
    from credit_engine.features import (
        LakeSources,
        build_feature_frame,
        enterprise_spine,
        load_definitions,
        source_record_counts,
        write_snapshot,
    )

    definitions = load_definitions(settings.definitions_dir)
    resolved = definitions.resolve(feature_set)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    rule = known_enterprises or settings.known_enterprises
    if resolve_engine(engine, settings.engine) is Engine.SPARK:
        return _feature_snapshot_on_spark(
            settings, as_of, resolved, sources, out, rule=rule, progress=progress
        )
    with (progress or SilentProgress()).features(feature_set, 3) as advance:
        spine = enterprise_spine(sources, definitions, as_of, known_from=rule)
        advance()
        frame = build_feature_frame(
            spine, resolved, definitions=definitions, sources=sources
        )
        advance()
        counts = source_record_counts(sources, definitions, resolved, max(as_of))
        advance()
    empty_sources = sorted(t for t, n in counts.items() if n == 0)
    lineage = write_snapshot(
        frame,
        out,
        resolved=resolved,
        sources=sources,
        as_of=as_of,
        extra={
            "known_enterprises": spine.attrs.get("known_from", rule),
            "source_records": counts,
            "empty_sources": empty_sources,
        },
    )
    all_null, constant = _column_profile(frame)
    warnings = _snapshot_warnings(
        rows=len(frame),
        all_null=all_null,
        constant=constant,
        asked=rule,
        used=spine.attrs.get("known_from", rule),
        counts=counts,
        resolved=resolved,
        as_of=as_of,
    )
    return FeatureSnapshot(path=out, frame=frame, lineage=lineage, warnings=warnings)


def _column_profile(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Return the features null for every row, and those of one value only."""
    values = frame.drop(columns=["uscc", "as_of"])
    all_null = [c for c in values.columns if values[c].isna().all()]
    constant = [
        c for c in values.columns if c not in all_null and values[c].nunique() <= 1
    ]
    return all_null, constant


def _snapshot_warnings(  # noqa: PLR0913 -- what the warnings are about
    *,
    rows: int,
    all_null: Sequence[str],
    constant: Sequence[str],
    asked: str,
    used: str,
    counts: dict[str, int],
    resolved: ResolvedSet,
    as_of: Sequence[dt.date],
) -> tuple[str, ...]:
    last = max(as_of).isoformat()
    out = []
    if rows == 0:
        hint = (
            "ingest a registration table (samr_registration, tax_registration ...) "
            "or build with --known-enterprises any_record"
            if used == "registration"
            else "ingest records known by those dates, or check --as-of"
        )
        out.append(
            f"the snapshot is EMPTY: no enterprise is known at "
            f"{', '.join(d.isoformat() for d in sorted(set(as_of)))} "
            f"(enterprises known from: {used}); {hint}."
        )
    elif asked == "auto" and used == "any_record":
        out.append(
            "no registration records: enterprises are known from any record "
            "(known_enterprises auto)."
        )
    views: dict[str, list[str]] = {}
    for ref in resolved.needed:
        if ref.view.source:
            views.setdefault(str(ref.view.source), []).append(ref.view.name)
    empty = sorted(t for t, n in counts.items() if n == 0)
    if empty:
        listed = "; ".join(
            f"{t} ({', '.join(sorted(set(views.get(t, []))))})" for t in empty
        )
        out.append(
            f"{len(empty)} of the {len(counts)} sources of the set contribute no "
            f"record known at {last}, so the features of their views are unknown "
            f"(or zero) for every enterprise: {listed}. Ingest them, or use a "
            "feature set without them."
        )
    features = len(resolved.columns)
    if rows and (all_null or constant):
        out.append(
            f"{len(all_null)} of {features} features are null for every "
            f"enterprise and {len(constant)} take one value only; a model can "
            f"use {features - len(all_null) - len(constant)}."
        )
    return tuple(out)


def _feature_snapshot_on_spark(  # noqa: PLR0913 -- the snapshot's inputs
    settings: Settings,
    as_of: Sequence[dt.date],
    resolved: ResolvedSet,
    sources: LakeSources,
    out: Path,
    *,
    rule: str,
    progress: PipelineProgress | None,
) -> FeatureSnapshot:
    """Build and write the snapshot on Spark: same SQL, lineage and warnings."""
    from credit_engine.engines import spark_session
    from credit_engine.features import (
        build_feature_frame_spark,
        enterprise_spine_spark,
        load_definitions,
        source_record_counts_spark,
        write_snapshot_spark,
    )

    definitions = load_definitions(settings.definitions_dir)
    with (progress or SilentProgress()).features(resolved.name, 3) as advance:
        spark = spark_session(settings)
        spine = enterprise_spine_spark(
            spark, sources, definitions, as_of, known_from=rule
        )
        advance()
        counts = source_record_counts_spark(
            spark, sources, definitions, resolved, max(as_of)
        )
        advance()
        frame = build_feature_frame_spark(
            spark, spine, resolved, definitions=definitions, sources=sources
        )
        written = write_snapshot_spark(
            frame,
            out,
            resolved=resolved,
            sources=sources,
            as_of=as_of,
            extra={
                "known_enterprises": spine.known_from,
                "source_records": counts,
                "empty_sources": sorted(t for t, n in counts.items() if n == 0),
            },
        )
        advance()
    warnings = _snapshot_warnings(
        rows=int(written.lineage["rows"]),
        all_null=written.all_null,
        constant=written.constant,
        asked=rule,
        used=spine.known_from,
        counts=counts,
        resolved=resolved,
        as_of=as_of,
    )
    return FeatureSnapshot(
        path=out,
        frame=None,
        lineage=written.lineage,
        summary=written.summary,
        warnings=warnings,
    )


def train_models(
    settings: Settings,
    names: Sequence[str],
    snapshot: Path | None = None,
    *,
    progress: PipelineProgress | None = None,
) -> list[TrainedModel]:
    """Train each named model spec and register it as challenger, in order."""
    from credit_engine.training import train_spec

    shown = progress or SilentProgress()
    results = []
    for name in names:
        with shown.training(name) as step:
            results.append(train_spec(name, settings, snapshot=snapshot, step=step))
    return results


def promote_challenger(
    settings: Settings, name: str, *, reason: str
) -> PromotionOutcome:
    """Promote the challenger of registered model ``name`` if its gates pass.

    The challenger's shadow runs are read from the store for the
    ``min_shadow_days`` gate. A refusal (or any engine error) is returned in
    the outcome, not raised.
    """
    from credit_engine.exceptions import CreditEngineError, PromotionRefusedError
    from credit_engine.registry import (
        CHALLENGER,
        PromotionResult,
        alias_version,
        promote,
    )
    from credit_engine.store import OperationalStore
    from credit_engine.watch import shadow_period

    try:
        challenger = alias_version(settings, name, CHALLENGER)
        shadow = (
            None
            if challenger is None
            else shadow_period(
                OperationalStore.from_settings(settings), name, challenger
            )
        )
        result = promote(settings, name, reason=reason, shadow=shadow)
    except PromotionRefusedError as exc:
        gates = exc.result if isinstance(exc.result, PromotionResult) else None
        return PromotionOutcome(name=name, result=gates, error=exc)
    except CreditEngineError as exc:
        return PromotionOutcome(name=name, result=None, error=exc)
    return PromotionOutcome(name=name, result=result)


def registered_model_names(settings: Settings) -> list[str]:
    """Return the registered names of the model specs under ``models/``, in order."""
    from credit_engine.training import load_model_spec, model_spec_names

    folder = settings.definitions_dir / "models"
    return [
        load_model_spec(folder, name).registered_name
        for name in model_spec_names(folder)
    ]


def rate_enterprises(
    settings: Settings,
    as_of: dt.date,
    *,
    policy: str = "zone",
    policy_version: int | None = None,
    actor: str = "cli",
    shadow: bool = False,
    progress: PipelineProgress | None = None,
    engine: Engine | str | None = None,
    keep_decisions: bool = True,
) -> RatingResult:
    """Rate every enterprise known at ``as_of`` and record the run.

    Loads a :class:`~credit_engine.rating.RatingEngine` (policy, rules,
    champion) and rates; see :meth:`~credit_engine.rating.RatingEngine.rate`.
    With ``shadow``, the champion and challenger of every model spec (other
    than the serving version) also rate the same inputs, recorded as shadow
    runs (:meth:`~credit_engine.rating.RatingEngine.shadow_models`).
    ``engine`` (default: ``settings.engine``) ``spark`` runs the features,
    facts, scoring and decisions on Spark
    (:func:`~credit_engine.rating.rate_spark`); the run is stored the same way.
    ``keep_decisions=False`` keeps only the run's summary in the result (the
    decisions are in the store; on Spark they then never gather in the driver).
    """
    from credit_engine.engines import resolve_engine
    from credit_engine.rating import RatingEngine

    on_spark = resolve_engine(engine, settings.engine) is Engine.SPARK
    with (progress or SilentProgress()).rating() as step:
        rating = RatingEngine(
            settings, policy_name=policy, policy_version=policy_version
        )
        models = (
            rating.shadow_models(registered_model_names(settings)) if shadow else []
        )
        if on_spark:
            from credit_engine.engines import spark_session
            from credit_engine.rating import rate_spark

            return rate_spark(
                rating, spark_session(settings), as_of, actor=actor, progress=step,
                shadow=models, keep_decisions=keep_decisions,
            )  # fmt: skip
        return rating.rate(
            as_of, actor=actor, progress=step, shadow=models,
            keep_decisions=keep_decisions,
        )  # fmt: skip


def rate_dates(
    settings: Settings,
    dates: Sequence[dt.date],
    *,
    policy: str = "zone",
    policy_version: int | None = None,
    actor: str = "cli",
    shadow: bool = False,
    features: pd.DataFrame | None = None,
    keep_decisions: bool = False,
    progress: PipelineProgress | None = None,
    engine: Engine | str | None = None,
) -> list[RatingResult]:
    """Rate every enterprise at several dates and record the runs (oldest first).

    One engine for all dates, and one feature query per batch of dates (see
    :func:`credit_engine.rating.rate_dates`); ``features`` (e.g. the training
    snapshot) spares the query for the dates it covers. ``shadow`` as in
    :func:`rate_enterprises`. Decisions are kept in the results only with
    ``keep_decisions`` (otherwise their summaries). On Spark (``engine``,
    default ``settings.engine``) each date is one Spark rating
    (:func:`~credit_engine.rating.rate_spark`) and ``features`` is not used.
    """
    from credit_engine.engines import resolve_engine
    from credit_engine.rating import RatingEngine
    from credit_engine.rating import rate_dates as rating_dates

    on_spark = resolve_engine(engine, settings.engine) is Engine.SPARK
    with (progress or SilentProgress()).rating() as step:
        rating = RatingEngine(
            settings, policy_name=policy, policy_version=policy_version
        )
        models = (
            rating.shadow_models(registered_model_names(settings)) if shadow else []
        )
        if on_spark:
            from credit_engine.engines import spark_session
            from credit_engine.rating import rate_spark

            spark = spark_session(settings)
            return [
                rate_spark(
                    rating, spark, day, actor=actor, progress=step, shadow=models,
                    keep_decisions=keep_decisions,
                )
                for day in sorted(set(dates))
            ]  # fmt: skip
        return rating_dates(
            rating, dates, actor=actor, shadow=models, features=features, progress=step,
            keep_decisions=keep_decisions,
        )  # fmt: skip


def monitor_models(
    settings: Settings,
    as_of: dt.date,
    *,
    report_json: Path | None = None,
    features: pd.DataFrame | None = None,
) -> MonitoringOutcome:
    """Monitor every model's champion and challenger at ``as_of``; write and log it.

    See :func:`credit_engine.watch.monitor` (default options: the latest 24
    cohorts, the report under ``HOME/reports/monitoring/<as_of>/``, logged to
    MLflow against each champion).
    """
    from credit_engine.watch import monitor

    return monitor(settings, as_of, report_json=report_json, features=features)


def month_ends(first: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive month ends starting with the month of ``first``.

    Examples
    --------
    >>> [d.isoformat() for d in month_ends(dt.date(2024, 11, 5), 3)]
    ['2024-11-30', '2024-12-31', '2025-01-31']
    """
    out = []
    year, month = first.year, first.month
    for _ in range(count):
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        year, month = nxt.year, nxt.month
    return out
