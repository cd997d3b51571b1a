"""Train model specs end to end: snapshot → labels → fit → validate → register."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credit_engine.config import Settings
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import LakeSources, load_definitions
from credit_engine.registry import OOT_ROWS_ARTIFACT, RegisteredVersion, register_model
from credit_engine.training._dataset import build_modelling_table, read_snapshot
from credit_engine.training._fit import FittedModel, fit_and_validate
from credit_engine.training._spec import ModelSpec, load_model_spec
from credit_engine.validation import write_validation_report

__all__ = [
    "FEATURE_REFERENCES_KEY",
    "VALIDATION_JSON_ARTIFACT",
    "TrainedModel",
    "default_snapshot_path",
    "git_sha",
    "train_spec",
]

Step = Callable[[str], None]

FEATURE_REFERENCES_KEY = "feature_references"
"""Key of ``validation.json`` holding the frozen feature distributions."""

VALIDATION_JSON_ARTIFACT = "reports/validation.json"
"""Where a training run logs its validation JSON (read back by monitoring)."""


def default_snapshot_path(settings: Settings, feature_set: str) -> Path:
    """Where the demo writes the monthly snapshot of ``feature_set``."""
    return settings.home / "features" / f"{feature_set}_monthly.parquet"


def git_sha(repo: Path) -> str:
    """Return the commit of the definitions' repository, or ``unknown``.

    A working tree with uncommitted changes gets the suffix ``-dirty``, so a
    model trained from unreviewed specs or definitions says so in its lineage.
    """
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


@dataclass
class TrainedModel:
    """A model trained, validated, reported and registered.

    Attributes
    ----------
    fitted : FittedModel
        Model, validation report and out-of-time rows.
    registered : RegisteredVersion
        Where it is in the registry (aliased ``challenger``).
    report_dir : pathlib.Path
        Folder with ``validation.html``, ``validation.json`` and friends.
    """

    fitted: FittedModel
    registered: RegisteredVersion
    report_dir: Path

    def to_json_dict(self) -> dict[str, Any]:
        """Return the figures ``credit-engine train --report-json`` writes per model."""
        summary = self.fitted.report.summary()
        return {
            "spec": self.fitted.spec.name,
            "family": self.fitted.spec.family,
            "registered_name": self.registered.name,
            "version": self.registered.version,
            "run_id": self.registered.run_id,
            "auc": summary["auc"],
            "gini": summary["gini"],
            "ks": summary["ks"],
            "brier": summary["brier"],
            "psi": summary["psi"],
            "calibration": summary["calibration"],
            "red_grades": summary["red_grades"],
            "monotone_default_rate": summary["monotone_default_rate"],
            "rows": self.fitted.counts,
            "seconds": {k: round(v, 2) for k, v in self.fitted.timings.items()},
            "report": str(self.report_dir / "validation.html"),
        }


def _write_reports(fitted: FittedModel, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = write_validation_report(fitted.report, folder)
    # Monitoring reads the frozen development distribution of each feature from
    # the validation JSON of the model in charge (ModelReference).
    data = json.loads(written.json.read_text(encoding="utf-8"))
    data[FEATURE_REFERENCES_KEY] = [
        ref.to_json_dict() for ref in fitted.feature_references
    ]
    text = json.dumps(data, indent=2, allow_nan=False)
    written.json.write_text(text + "\n", encoding="utf-8")
    files = {"validation_html": written.html, "validation_json": written.json}
    oot = folder / Path(OOT_ROWS_ARTIFACT).name
    fitted.oot_rows.to_parquet(oot, index=False)
    files["oot_rows"] = oot
    scale = folder / "master_scale.csv"
    fitted.model.master_scale.table().to_csv(scale, index=False)
    files["master_scale"] = scale
    estimator = fitted.model.estimator
    if hasattr(estimator, "points_table"):
        points = folder / "points_table.csv"
        estimator.points_table().to_csv(points, index=False)
        files["points_table"] = points
    spec = folder / "spec.json"
    spec.write_text(fitted.spec.model_dump_json(indent=2), encoding="utf-8")
    files["spec"] = spec
    return files


def train_spec(
    spec: ModelSpec | str,
    settings: Settings,
    *,
    snapshot: Path | None = None,
    actor: str | None = None,
    step: Step | None = None,
) -> TrainedModel:
    """Train one model spec on a feature snapshot and register it as challenger.

    Parameters
    ----------
    spec : ModelSpec or str
        A spec or the name of one under ``models/``.
    settings : Settings
        Engine settings (lake, MLflow store, reports).
    snapshot : pathlib.Path, optional
        Feature snapshot (default: the demo's monthly snapshot of the spec's
        feature set under the engine home).
    actor : str, optional
        Who trains (default: the OS user).
    step : callable, optional
        Told the name of each step as it starts.

    Returns
    -------
    TrainedModel
        The fitted model, its report folder and registry version.
    """
    say = step or (lambda _name: None)
    if isinstance(spec, str):
        spec = load_model_spec(settings.definitions_dir / "models", spec)
    definitions = load_definitions(settings.definitions_dir)
    resolved = definitions.resolve(spec.feature_set)
    path = snapshot or default_snapshot_path(settings, spec.feature_set)
    say(f"read snapshot {path.name}")
    frame, lineage = read_snapshot(path, spec.feature_set)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    say("attach 12-month outcomes")
    unknown = sorted(set(spec.exclude_features) - set(resolved.columns))
    if unknown:
        raise ConfigurationError(
            f"Model spec {spec.name!r} excludes features not in "
            f"{spec.feature_set!r}: {unknown[:5]}."
        )
    features = [c for c in resolved.columns if c not in spec.exclude_features]
    table = build_modelling_table(
        frame,
        spec,
        features=features,
        contracts=definitions.contracts,
        sources=sources,
    )
    directions = {
        f.name: f.spec.risk.value for f in resolved.outputs if f.name in features
    }
    fitted = fit_and_validate(
        spec, table, directions=directions, lineage=lineage, step=say
    )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = settings.reports_dir / "models" / spec.name / stamp
    say("write validation report and register in MLflow")
    files = _write_reports(fitted, folder)
    summary = fitted.report.summary()
    metrics = {
        "oot_auc": summary["auc"],
        "oot_gini": summary["gini"],
        "oot_ks": summary["ks"],
        "oot_brier": summary["brier"],
        "oot_psi": summary["psi"],
        "oot_red_grades": float(len(summary["red_grades"])),
        "dev_auc": fitted.report.dev.discrimination.auc,
        "dev_rows": float(fitted.counts["dev_rows"]),
        "oot_rows": float(fitted.counts["oot_rows"]),
    }
    params = {
        "spec": spec.name,
        "family": spec.family,
        "feature_set": spec.feature_set,
        "gates": json.dumps(spec.gates.model_dump()),
        **{f"param.{k}": v for k, v in spec.params.items()},
    }
    tags = {
        "git_sha": git_sha(settings.definitions_dir),
        "feature_set": spec.feature_set,
        "feature_set_sha256": str(lineage.get("definitions_sha256")),
        "lake_state": str(lineage.get("lake_state")),
        "model_spec_sha256": spec.fingerprint(),
        "spec": spec.name,
        "family": spec.family,
    }
    example = fitted.oot_rows.head(5)
    registered = register_model(
        fitted.model,
        registered_name=spec.registered_name,
        settings=settings,
        input_example=example,
        params=params,
        metrics=metrics,
        tags=tags,
        artifacts=files,
        actor=actor or getpass.getuser(),
    )
    return TrainedModel(fitted=fitted, registered=registered, report_dir=folder)
