"""Typed results of the pipeline's steps and of the demo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_engine.vocabulary import Engine

if TYPE_CHECKING:
    import pandas as pd

    from credit_engine.data import IngestReport
    from credit_engine.early_warning import WarningRun
    from credit_engine.exceptions import CreditEngineError
    from credit_engine.rating import RatingResult
    from credit_engine.registry import PromotionResult
    from credit_engine.simulation import SimulationSummary, ZoneAudit
    from credit_engine.training import TrainedModel
    from credit_engine.watch import MonitoringOutcome

__all__ = [
    "DemoResult",
    "DemoStep",
    "FeatureSnapshot",
    "MonitoringStep",
    "PromotionOutcome",
    "RatingOutcome",
    "StepPhase",
]


class DemoStep(IntEnum):
    """The eight steps of the demo, numbered in the order they run.

    Examples
    --------
    >>> f"{DemoStep.FEATURES.value}/{len(DemoStep)} {DemoStep.FEATURES.title}"
    '3/8 build point-in-time features (12 monthly rating dates)'
    """

    SIMULATE = 1
    INGEST = 2
    FEATURES = 3
    TRAIN = 4
    PROMOTE = 5
    RATE = 6
    MONITOR = 7
    WARN = 8

    @property
    def title(self) -> str:
        """What the step does, in a few words."""
        return _TITLES[self]

    def runs_on(self, engine: Engine) -> str:
        """Where the step runs when the demo is asked for ``engine``.

        On Spark, ingestion, features and the ratings (those of step 6 and
        the cohorts of step 7) are Spark jobs; the other steps have no Spark
        form and run on this machine, as with DuckDB.

        Examples
        --------
        >>> DemoStep.FEATURES.runs_on(Engine.SPARK)
        'Spark'
        >>> DemoStep.TRAIN.runs_on(Engine.SPARK)
        'this machine (model training has no Spark form)'
        >>> DemoStep.TRAIN.runs_on(Engine.DUCKDB)
        'DuckDB'
        """
        if engine is not Engine.SPARK:
            return "DuckDB"
        return _ON_SPARK[self]


_TITLES: dict[DemoStep, str] = {
    DemoStep.SIMULATE: "simulate the default zone",
    DemoStep.INGEST: "ingest the department records",
    DemoStep.FEATURES: "build point-in-time features (12 monthly rating dates)",
    DemoStep.TRAIN: "train and validate the graded and risk models",
    DemoStep.PROMOTE: "promote the challengers through the gates",
    DemoStep.RATE: "rate every enterprise: statutory facts, policy, tiers",
    DemoStep.MONITOR: "monitor the models: cohorts, back-tests, stability, shadow",
    DemoStep.WARN: "raise the early warnings on every enterprise (风险预警)",
}


_ON_SPARK: dict[DemoStep, str] = {
    DemoStep.SIMULATE: "this machine (the simulator has no Spark form)",
    DemoStep.INGEST: "Spark (the self-check against the simulator's truth: DuckDB)",
    DemoStep.FEATURES: "Spark",
    DemoStep.TRAIN: "this machine (model training has no Spark form)",
    DemoStep.PROMOTE: "this machine (the promotion gates have no Spark form)",
    DemoStep.RATE: "Spark",
    DemoStep.MONITOR: "Spark for the cohort ratings; the monitoring report on "
    "DuckDB (no Spark form)",
    DemoStep.WARN: "DuckDB (the early warnings have no Spark form)",
}


class StepPhase(IntEnum):
    """Whether a step's callback announces its start or its end."""

    STARTED = 0
    FINISHED = 1


@dataclass(frozen=True)
class FeatureSnapshot:
    """A point-in-time feature snapshot written to Parquet.

    Attributes
    ----------
    path : pathlib.Path
        The Parquet file.
    frame : pandas.DataFrame or None
        Its content: ``uscc``, ``as_of`` and one column per feature; ``None``
        when built on Spark (the table stays out of the driver: read the file).
    lineage : dict
        What the file's metadata records (feature set, definitions hash, lake
        state, rating dates, rows, how enterprises became known, records per
        source and the sources that gave nothing).
    summary : pandas.DataFrame, optional
        Per rating date: ``as_of``, ``enterprises``, ``features``,
        ``null_share``, ``mean_non_null``; computed from ``frame`` if not given.
    warnings : tuple of str
        What the user must know: an empty snapshot, a source that contributes
        nothing, features null for every enterprise.
    """

    path: Path
    frame: pd.DataFrame | None
    lineage: dict[str, Any]
    summary: pd.DataFrame | None = None
    warnings: tuple[str, ...] = ()

    def per_date(self) -> pd.DataFrame:
        """Return the per-date summary (see ``summary``)."""
        if self.summary is not None:
            return self.summary
        import pandas as pd

        frame = self.frame if self.frame is not None else pd.DataFrame()
        features = frame.drop(columns=["uscc", "as_of"], errors="ignore")
        rows = []
        for day, part in frame.groupby("as_of") if len(frame) else []:
            values = features.loc[part.index]
            rows.append(
                {
                    "as_of": day,
                    "enterprises": len(part),
                    "features": values.shape[1],
                    "null_share": float(values.isna().to_numpy().mean()),
                    "mean_non_null": float(values.notna().sum(axis=1).mean()),
                }
            )
        columns = ["as_of", "enterprises", "features", "null_share", "mean_non_null"]
        return pd.DataFrame(rows, columns=columns)

    @property
    def empty(self) -> bool:
        """Whether the snapshot has no row, or a source of its set gave nothing."""
        rows = (
            len(self.frame)
            if self.frame is not None
            else int(self.lineage.get("rows", 0))
        )
        return rows == 0 or bool(self.lineage.get("empty_sources"))


@dataclass(frozen=True)
class PromotionOutcome:
    """The outcome of promoting one challenger, refused or not.

    Attributes
    ----------
    name : str
        Registered model name.
    result : PromotionResult or None
        Every gate's outcome; ``None`` if the promotion failed before the gates.
    error : CreditEngineError or None
        Why the champion alias was not moved; ``None`` when it was.
    """

    name: str
    result: PromotionResult | None
    error: CreditEngineError | None = None

    @property
    def promoted(self) -> bool:
        """Whether the challenger became champion."""
        return self.error is None


@dataclass(frozen=True)
class RatingOutcome:
    """The demo's two rating runs and the tier migrations between them.

    Attributes
    ----------
    first_date, last_date : datetime.date
        The rating dates.
    first, last : RatingResult
        The runs at those dates.
    migrations : pandas.DataFrame
        Enterprises by tier at ``first_date`` (rows) and ``last_date`` (columns).
    """

    first_date: dt.date
    last_date: dt.date
    first: RatingResult
    last: RatingResult
    migrations: pd.DataFrame


@dataclass(frozen=True)
class MonitoringStep:
    """The demo's monitoring: the cohorts it rated and the report.

    Attributes
    ----------
    cohorts : list of RatingResult
        Rating runs made for monitoring (served runs with their shadow runs).
    outcome : MonitoringOutcome
        The monitoring report, its files and MLflow runs.
    """

    cohorts: list[RatingResult]
    outcome: MonitoringOutcome


@dataclass
class DemoResult:
    """What the demo did, filled step by step (a step not run leaves its default).

    Attributes
    ----------
    simulation : SimulationSummary or None
        Step 1: tables and dirty rows written.
    ingest : IngestReport or None
        Step 2: counts per table and reason.
    self_check : ZoneAudit or None
        Step 2: the ingestion checked against the simulator's dirty rows;
        ``None`` when the batch had been ingested before (nothing to check).
    features : FeatureSnapshot or None
        Step 3: the monthly snapshot and its lineage.
    trained : list of TrainedModel
        Step 4: one per model spec (empty with ``models=False``).
    promotions : list of PromotionOutcome
        Step 5: one per trained model.
    rating : RatingOutcome or None
        Step 6: run only when everything before succeeded.
    monitoring : MonitoringStep or None
        Step 7: run after step 6.
    warnings : WarningRun or None
        Step 8: the early warnings evaluated and stored at the monitoring date.
    engine : Engine
        The engine asked for (:meth:`DemoStep.runs_on` says where each step
        ran with it).
    """

    simulation: SimulationSummary | None = None
    ingest: IngestReport | None = None
    self_check: ZoneAudit | None = None
    features: FeatureSnapshot | None = None
    trained: list[TrainedModel] = field(default_factory=list)
    promotions: list[PromotionOutcome] = field(default_factory=list)
    rating: RatingOutcome | None = None
    monitoring: MonitoringStep | None = None
    warnings: WarningRun | None = None
    engine: Engine = Engine.DUCKDB

    @property
    def self_check_ok(self) -> bool:
        """Whether the ingestion passed its self-check (or had nothing to check)."""
        return self.self_check is None or self.self_check.ok

    @property
    def ok(self) -> bool:
        """Whether the self-check passed and every challenger was promoted."""
        return self.self_check_ok and all(p.promoted for p in self.promotions)

    def failures(self) -> list[str]:
        """Describe what failed, one line each (empty when :attr:`ok`)."""
        out = []
        if not self.self_check_ok:
            out.append(
                "self-check failed: the ingestion did not catch exactly the dirty "
                "rows the simulator injected"
            )
        out.extend(
            f"{p.name} not promoted: {p.error.message}"
            for p in self.promotions
            if p.error is not None
        )
        return out
