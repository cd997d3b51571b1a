"""One monitoring run: the rating system's models at a date, from store to report.

For each model spec's registered model, its champion and (when another version)
its challenger:

1. **cohorts**: the version's rating runs up to ``as_of`` in the operational
   store, one per date (the served run where the version served, else its
   shadow run), the latest ``cohorts`` dates;
2. **reference**: the frozen development distributions of the version
   (``validation.json`` of its training run: score bins, grade shares, AUC, HHI
   and, for versions trained since, ``feature_references``);
3. **outcomes** of matured cohorts, with the label the version was trained on
   (:func:`credit_engine.training.cohort_outcomes`); a cohort matures when
   ``as_of + horizon`` is on or before the observation end, the earlier of
   the report date and the lake's last ingestion day;
4. **features** at the latest cohort date, for CSI (one feature query, shared
   by the models of a feature set);
4b. **early outcomes** of the immature cohorts rated about each window of
   ``early_outcomes.windows_days`` before the observation end: the same label
   over the days elapsed so far, and the industry in force at the cohort date
   (:func:`credit_engine.features.registration_at`) for the segments;
5. :func:`credit_engine.monitoring.monitor_model`; a challenger is also compared
   with the champion tier by tier (shadow scoring).

Then the overrides of the served decisions, data freshness (each table of the
lake at the report date, :func:`credit_engine.watch.lake_freshness_data`, or
another provider), the report, its files and its MLflow
runs (one per champion, :func:`credit_engine.registry.log_monitoring`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from credit_engine.exceptions import ConfigurationError
from credit_engine.watch._findings import Finding, findings
from credit_engine.watch._freshness import (
    FRESHNESS_UNKNOWN,
    FreshnessProvider,
    lake_freshness_data,
)
from credit_engine.watch._shadow import SHADOW_COLUMNS
from credit_engine.watch._versions import (
    CHALLENGER_SUFFIX,
    ModelInCharge,
    models_in_charge,
    version_spec,
)

if TYPE_CHECKING:
    import pandas as pd

    from credit_engine.config import Settings
    from credit_engine.monitoring import (
        ModelMonitoring,
        MonitoringReport,
        MonitoringThresholds,
    )
    from credit_engine.registry import MonitoringRun
    from credit_engine.store import OperationalStore
    from credit_engine.training import ModelSpec

__all__ = [
    "DEFAULT_COHORTS",
    "EXIT_RED",
    "MonitoringOutcome",
    "csi_sample",
    "monitor",
    "report_folder",
    "thresholds_path",
]

DEFAULT_COHORTS = 24
"""Rating dates monitored per model version: two years of monthly cohorts."""

EXIT_RED = 1
"""Exit status of ``credit-engine monitor`` when the report is red (0: green or
amber; 2: the run failed)."""

_CHANGES_LISTED = 50
_COLUMNS = (
    "uscc",
    "as_of",
    "tier",
    "grade",
    "pd",
    "in_default",
    "model_tier",
    "decided_by",
    "override_id",
)


@dataclass
class MonitoringOutcome:
    """What a monitoring run produced.

    Attributes
    ----------
    report : MonitoringReport
        The report (its ``notes`` say what could not be covered).
    files : dict of str to pathlib.Path
        ``html`` and ``json`` written (and ``report_json`` when asked).
    logged : list of MonitoringRun
        The MLflow runs logged, one per champion monitored.
    timings : dict of str to float
        Seconds per step.
    """

    report: MonitoringReport
    files: dict[str, Path] = field(default_factory=dict)
    logged: list[MonitoringRun] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The report's overall status: green, amber or red."""
        return str(self.report.status)

    def findings(self, limit: int | None = None) -> list[Finding]:
        """Return the amber and red items, worst first (see :func:`findings`)."""
        return findings(self.report, limit)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the report JSON: its stable keys and ``notes``."""
        data = self.report.to_json_dict()
        data["notes"] = list(self.report.notes)
        return data


def thresholds_path(settings: Settings) -> Path:
    """Return the monitoring thresholds file of the definitions."""
    return settings.definitions_dir / "models" / "monitoring" / "thresholds.yaml"


def report_folder(settings: Settings, as_of: dt.date) -> Path:
    """Return ``HOME/reports/monitoring/<as_of>/``."""
    return settings.reports_dir / "monitoring" / as_of.isoformat()


@dataclass
class _Context:
    settings: Settings
    store: OperationalStore
    as_of: dt.date
    thresholds: MonitoringThresholds
    cohorts: int
    features: pd.DataFrame | None
    notes: list[str]
    timings: dict[str, float]
    frames: dict[tuple[str, dt.date], pd.DataFrame] = field(default_factory=dict)
    ends: dict[str, dt.date] = field(default_factory=dict)
    early: dict[tuple[str, dt.date, dt.date], pd.DataFrame] = field(
        default_factory=dict
    )
    industries: dict[dt.date, pd.DataFrame] = field(default_factory=dict)
    loaded: Any = None

    def clock(self, step: str, start: float) -> None:
        self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - start

    @property
    def definitions(self) -> Any:
        """The feature definitions and contracts, loaded once."""
        if self.loaded is None:
            from credit_engine.features import load_definitions

            self.loaded = load_definitions(self.settings.definitions_dir)
        return self.loaded


def _cohorts(ctx: _Context, name: str, version: str) -> pd.DataFrame:
    start = time.perf_counter()
    runs = ctx.store.model_run_ids(name, version, until=ctx.as_of)
    dates = list(runs)[-ctx.cohorts :]
    frame = ctx.store.model_cohorts(
        name, version, since=dates[0] if dates else None, until=ctx.as_of,
        columns=_COLUMNS,
    )  # fmt: skip
    ctx.clock("cohorts", start)
    return frame


def _observation_end(ctx: _Context, spec: ModelSpec) -> dt.date:
    from credit_engine.training import outcome_observation_end

    key = spec.label.model_dump_json()
    if key not in ctx.ends:
        start = time.perf_counter()
        lake_end = outcome_observation_end(
            spec, ctx.settings, definitions=ctx.definitions
        )
        ctx.clock("outcomes", start)
        if lake_end is None:
            ctx.notes.append(
                f"{spec.registered_name}: the lake holds no outcome record, so no "
                "cohort could be back-tested"
            )
        ctx.ends[key] = ctx.as_of if lake_end is None else min(ctx.as_of, lake_end)
    return ctx.ends[key]


def _outcomes(
    ctx: _Context, spec: ModelSpec, cohorts: pd.DataFrame, observation_end: dt.date
) -> pd.DataFrame | None:
    import pandas as pd

    from credit_engine.monitoring import is_matured
    from credit_engine.training import cohort_outcomes

    days = pd.to_datetime(cohorts["as_of"]).dt.date
    matured = days.map(
        lambda d: is_matured(
            d, horizon_days=spec.label.horizon_days, observation_end=observation_end
        )
    )
    if not matured.any():
        return None
    start = time.perf_counter()
    out = cohort_outcomes(
        cohorts.loc[matured.to_numpy(), ["uscc", "as_of"]],
        spec,
        ctx.settings,
        observed_until=observation_end,
        definitions=ctx.definitions,
    )
    ctx.clock("outcomes", start)
    return out[["uscc", "as_of", "y"]]


def _early_inputs(
    ctx: _Context, spec: ModelSpec, cohorts: pd.DataFrame, observation_end: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Labels so far and industries of the cohorts the early-outcome windows test."""
    import pandas as pd

    from credit_engine.features import LakeSources, registration_at
    from credit_engine.monitoring import early_outcome_cohorts
    from credit_engine.training import cohort_outcomes

    early = ctx.thresholds.early_outcomes
    days = pd.to_datetime(cohorts["as_of"]).dt.date
    picked = early_outcome_cohorts(
        sorted(set(days)),
        observation_end=observation_end,
        horizon_days=spec.label.horizon_days,
        windows_days=early.windows_days,
        slack_days=early.slack_days,
    )
    start = time.perf_counter()
    labels: list[pd.DataFrame] = []
    industries: list[pd.DataFrame] = []
    performing = ~cohorts["in_default"].to_numpy(dtype=bool)
    for cohort in sorted(set(picked.values())):
        rows = cohorts.loc[(days == cohort).to_numpy() & performing, ["uscc", "as_of"]]
        # A champion and its challenger share the label and the cohort date: the
        # labels so far and the industries are read once for both.
        key = (spec.label.model_dump_json(), cohort, observation_end)
        known = ctx.early.get(key)
        if known is None or not rows["uscc"].isin(known["uscc"]).all():
            so_far = spec.label.model_copy(
                update={"horizon_days": (observation_end - cohort).days}
            )
            labelled = cohort_outcomes(
                rows,
                spec.model_copy(update={"label": so_far}),
                ctx.settings,
                observed_until=observation_end,
                definitions=ctx.definitions,
            )
            known = labelled[["uscc", "as_of", "y"]]
            ctx.early[key] = known
        labels.append(known.loc[known["uscc"].isin(rows["uscc"])])
        if "industry" in early.segments:
            if cohort not in ctx.industries:
                sources = LakeSources.from_settings(
                    ctx.settings, ctx.definitions.contracts
                )
                found = registration_at(
                    sources, ctx.definitions.contracts, cohort, ["industry_code"]
                )
                ctx.industries[cohort] = found.rename(
                    columns={"industry_code": "industry"}
                ).assign(as_of=cohort)
            industries.append(ctx.industries[cohort])
    ctx.clock("early_outcomes", start)
    empty = pd.DataFrame({"uscc": [], "as_of": [], "y": []})
    frame = pd.concat(labels, ignore_index=True) if labels else empty
    segments = pd.concat(industries, ignore_index=True) if industries else None
    return frame, segments


def csi_sample(codes: pd.Series, limit: int) -> pd.Series:
    """Return at most ``limit`` of ``codes``: the same ones whatever their order.

    The codes whose 64-bit hash (pandas' fixed-key SipHash) is smallest: a
    sample as good as random for the CSI, identical from one run, one version
    and one machine to the next.

    Examples
    --------
    >>> import pandas as pd
    >>> codes = pd.Series([f"C{i}" for i in range(10)])
    >>> picked = csi_sample(codes, 3)
    >>> len(picked), set(picked) == set(csi_sample(codes[::-1], 3))
    (3, True)
    """
    import pandas as pd

    unique = pd.Series(pd.unique(codes.astype(str)))
    if unique.size <= limit:
        return unique
    hashes = pd.util.hash_pandas_object(unique, index=False).to_numpy()
    order = hashes.argsort(kind="stable")[:limit]
    return unique.iloc[order].sort_values().reset_index(drop=True)


def _csi_features(
    ctx: _Context, spec: ModelSpec, cohorts: pd.DataFrame
) -> pd.DataFrame | None:
    """Feature rows of the latest cohort's performing enterprises (for CSI).

    The feature query reads at most ``stability.csi_max_rows`` of the
    cohort's enterprises (:func:`csi_sample`, shared by the versions of a
    feature set); the report's notes say when the CSI is on a sample.
    """
    import pandas as pd

    days = pd.to_datetime(cohorts["as_of"]).dt.date
    latest = days.max()
    rows = cohorts.loc[(days == latest).to_numpy() & ~cohorts["in_default"].to_numpy()]
    key = (spec.feature_set, latest)
    if key not in ctx.frames:
        given = ctx.features
        at = None if given is None else pd.to_datetime(given["as_of"]).dt.date
        if given is not None and at is not None and (at == latest).any():
            ctx.frames[key] = given.loc[(at == latest).to_numpy()]
        else:
            from credit_engine.features import LakeSources, build_feature_frame

            start = time.perf_counter()
            definitions = ctx.definitions
            sources = LakeSources.from_settings(ctx.settings, definitions.contracts)
            spine = cohorts.loc[(days == latest).to_numpy(), ["uscc"]]
            limit = ctx.thresholds.stability.csi_max_rows
            if spine.shape[0] > limit:
                spine = spine.loc[spine["uscc"].isin(csi_sample(spine["uscc"], limit))]
                note = (
                    f"CSI at {latest} on a fixed sample of {limit:,} of the rated "
                    "enterprises, the performing ones among them "
                    "(stability.csi_max_rows)"
                )
                if note not in ctx.notes:  # one note for several feature sets
                    ctx.notes.append(note)
            ctx.frames[key] = build_feature_frame(
                spine.assign(as_of=latest), spec.feature_set,
                definitions=definitions, sources=sources,
            )  # fmt: skip
            ctx.clock("features", start)
    frame = ctx.frames[key]
    return frame.loc[frame["uscc"].isin(rows["uscc"])].assign(as_of=latest)


def _monitor_version(
    ctx: _Context,
    model: ModelInCharge,
    version: str,
    role: str,
) -> tuple[ModelMonitoring, pd.DataFrame] | None:
    from credit_engine.monitoring import ModelReference, monitor_model
    from credit_engine.registry import read_version_json
    from credit_engine.training import VALIDATION_JSON_ARTIFACT

    cohorts = _cohorts(ctx, model.name, version)
    if cohorts.empty:
        how = (
            "`credit-engine rate --as-of D --shadow`"
            if role == "challenger"
            else "`credit-engine rate --as-of D` (or --shadow for a model the policy "
            "does not serve)"
        )
        ctx.notes.append(
            f"{model.name} v{version} ({role}) has no rating run up to {ctx.as_of}, "
            f"so it was not monitored; rate it with {how}"
        )
        return None
    start = time.perf_counter()
    spec = version_spec(ctx.settings, model, version)
    validation = read_version_json(
        ctx.settings, model.name, version, VALIDATION_JSON_ARTIFACT
    )
    ctx.clock("reference", start)
    if validation is None:
        ctx.notes.append(
            f"{model.name} v{version} ({role}) logged no {VALIDATION_JSON_ARTIFACT}: "
            "no development reference to monitor it against; retrain it"
        )
        return None
    reference = ModelReference.from_validation_json(
        validation, horizon_days=spec.label.horizon_days, version=version
    )
    observation_end = _observation_end(ctx, spec)
    outcomes = _outcomes(ctx, spec, cohorts, observation_end)
    features = _csi_features(ctx, spec, cohorts) if reference.features else None
    early_labels, segments = _early_inputs(ctx, spec, cohorts, observation_end)
    start = time.perf_counter()
    result = monitor_model(
        cohorts,
        reference,
        observation_end=observation_end,
        thresholds=ctx.thresholds,
        seed=spec.seed,
        outcomes=outcomes,
        features=features,
        role="challenger" if role == "challenger" else "champion",
        early_labels=early_labels,
        segments=segments,
    )
    ctx.clock("monitor", start)
    return result, cohorts


def _shadow(
    ctx: _Context,
    model: ModelInCharge,
    champion: pd.DataFrame | None,
    challenger: pd.DataFrame,
) -> Any:
    from credit_engine.exceptions import DataContractError
    from credit_engine.monitoring import tier_agreement

    if champion is None:
        return None
    try:
        return tier_agreement(
            champion[list(SHADOW_COLUMNS)],
            challenger[list(SHADOW_COLUMNS)],
            limit=_CHANGES_LISTED,
            champion_version=model.champion,
            challenger_version=model.challenger,
        )
    except DataContractError:
        ctx.notes.append(
            f"{model.name} challenger v{model.challenger} has no shadow run at a date "
            f"its champion v{model.champion} was rated: no tier agreement"
        )
        return None


def _overrides(ctx: _Context, served_spec: ModelSpec | None) -> Any:
    from credit_engine.monitoring import monitor_overrides

    dates = [d for d in ctx.store.rating_dates() if d <= ctx.as_of][-ctx.cohorts :]
    if not dates or served_spec is None:
        ctx.notes.append(f"overrides: no served rating run up to {ctx.as_of}")
        return None
    start = time.perf_counter()
    served = ctx.store.served_cohorts(since=dates[0], until=ctx.as_of, columns=_COLUMNS)
    ctx.clock("cohorts", start)
    observation_end = _observation_end(ctx, served_spec)
    outcomes = _outcomes(ctx, served_spec, served, observation_end)
    start = time.perf_counter()
    result = monitor_overrides(
        served,
        thresholds=ctx.thresholds,
        observation_end=observation_end,
        horizon_days=served_spec.label.horizon_days,
        outcomes=outcomes,
    )
    ctx.clock("monitor", start)
    return result


def _write(
    outcome: MonitoringOutcome,
    folder: Path,
    thresholds: MonitoringThresholds,
    report_json: Path | None,
) -> None:
    from credit_engine.monitoring import render_html

    start = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(outcome.to_json_dict(), indent=2, allow_nan=False) + "\n"
    paths = {"json": folder / "monitoring.json", "html": folder / "monitoring.html"}
    paths["json"].write_text(text, encoding="utf-8")
    paths["html"].write_text(render_html(outcome.report, thresholds), encoding="utf-8")
    if report_json is not None:
        report_json.parent.mkdir(parents=True, exist_ok=True)
        report_json.write_text(text, encoding="utf-8")
        paths["report_json"] = report_json
    outcome.files = paths
    outcome.timings["report"] = time.perf_counter() - start


def monitor(  # noqa: PLR0913 - every option of `credit-engine monitor`
    settings: Settings,
    as_of: dt.date,
    *,
    cohorts: int = DEFAULT_COHORTS,
    out: Path | None = None,
    report_json: Path | None = None,
    log: bool = True,
    freshness: FreshnessProvider | None = None,
    features: pd.DataFrame | None = None,
) -> MonitoringOutcome:
    """Monitor every registered champion and challenger at ``as_of``; write the report.

    Parameters
    ----------
    settings : Settings
        Engine settings (store, lake, MLflow, definitions, reports).
    as_of : datetime.date
        Report date: cohorts rated on or before it; outcomes observed until it
        (or the lake's last ingestion day, if earlier).
    cohorts : int, default=24
        Latest rating dates monitored per model version.
    out : pathlib.Path, optional
        Folder of ``monitoring.html`` and ``monitoring.json`` (default
        ``HOME/reports/monitoring/<as_of>/``).
    report_json : pathlib.Path, optional
        Also write the JSON here.
    log : bool, default=True
        Log the report to MLflow against each champion monitored.
    freshness : callable, optional
        Data-freshness provider ``(settings, as_of) -> {table: {"status": ...}}``;
        default :func:`lake_freshness_data` (every table of the lake judged at
        ``as_of`` against ``features/freshness.yaml``);
        :func:`unknown_freshness` leaves ``data`` empty.
    features : pandas.DataFrame, optional
        Feature rows already built at the latest cohort date (``uscc``,
        ``as_of``, features), used for CSI instead of a new feature query.

    Returns
    -------
    MonitoringOutcome
        The report, the files written, the MLflow runs and timings.

    Raises
    ------
    ConfigurationError
        If ``cohorts`` is not positive or the thresholds file is invalid.
    CreditEngineError
        If the store, the lake or the registry cannot be read.
    """
    from credit_engine.monitoring import build_report, load_thresholds
    from credit_engine.store import OperationalStore

    if cohorts < 1:
        raise ConfigurationError(f"cohorts must be >= 1, got {cohorts}.")
    begin = time.perf_counter()
    thresholds = load_thresholds(thresholds_path(settings))
    ctx = _Context(
        settings=settings,
        store=OperationalStore.from_settings(settings),
        as_of=as_of,
        thresholds=thresholds,
        cohorts=cohorts,
        features=features,
        notes=[],
        timings={},
    )
    models: dict[str, ModelMonitoring] = {}
    served_spec: ModelSpec | None = None
    runs = ctx.store.runs(role="served")
    served_names = set(runs.loc[runs["as_of"] <= as_of, "model_name"])
    start = time.perf_counter()
    in_charge = models_in_charge(settings)
    ctx.clock("versions", start)
    for model in in_charge:
        if model.name in served_names:
            served_spec = model.spec
        if model.champion is None:
            ctx.notes.append(f"{model.name} has no champion yet: nothing to monitor")
            continue
        if model.name not in served_names:
            ctx.notes.append(
                f"{model.name} is not the policy's model: its champion's cohorts are "
                "its shadow runs (`credit-engine rate --shadow`)"
            )
        champion = _monitor_version(ctx, model, model.champion, "champion")
        if champion is not None:
            models[model.name] = champion[0]
        if model.challenger is None:
            continue
        challenger = _monitor_version(ctx, model, model.challenger, "challenger")
        if challenger is not None:
            agreement = _shadow(
                ctx, model, None if champion is None else champion[1], challenger[1]
            )
            models[model.name + CHALLENGER_SUFFIX] = dataclasses.replace(
                challenger[0], shadow=agreement
            )
    overrides = _overrides(ctx, served_spec)
    start = time.perf_counter()
    data = dict((freshness or lake_freshness_data)(settings, as_of))
    ctx.clock("freshness", start)
    if not data:
        ctx.notes.append(FRESHNESS_UNKNOWN)
    report = build_report(
        as_of, models, thresholds=thresholds, overrides=overrides, data=data
    )
    report = dataclasses.replace(report, notes=tuple(ctx.notes))
    outcome = MonitoringOutcome(report=report, timings=ctx.timings)
    _write(outcome, out or report_folder(settings, as_of), thresholds, report_json)
    if log:
        outcome.logged = _log(settings, outcome)
    outcome.timings["total"] = time.perf_counter() - begin
    return outcome


def _log(settings: Settings, outcome: MonitoringOutcome) -> list[MonitoringRun]:
    from credit_engine.registry import log_monitoring

    start = time.perf_counter()
    data = outcome.to_json_dict()
    entries: Mapping[str, Any] = data["models"]
    logged = []
    for key, m in outcome.report.models.items():
        if m.role != "champion" or m.version is None:
            continue
        logged.append(
            log_monitoring(
                settings,
                key,
                m.version,
                as_of=outcome.report.as_of,
                role="champion",
                status=m.status,
                report=data,
                model_entry=entries[key],
                html=outcome.files.get("html"),
            )
        )
    outcome.timings["mlflow"] = time.perf_counter() - start
    return logged
