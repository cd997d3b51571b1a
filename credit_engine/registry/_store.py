"""Log, register and load rating models in MLflow (tracking + registry)."""

from __future__ import annotations

import getpass
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.exceptions import ModelNotFoundError
from credit_engine.modeling import RatingModel, reason_columns
from credit_engine.registry._aliases import AliasChange, record_alias_change
from credit_engine.registry._pyfunc import ARTIFACT_KEY, CreditRiskModel

__all__ = [
    "CHALLENGER",
    "CHAMPION",
    "EXPERIMENT",
    "LoadedModel",
    "RegisteredVersion",
    "alias_version",
    "download_run_artifact",
    "experiment_id",
    "load_rating_model",
    "mlflow_client",
    "register_model",
    "set_alias",
    "version_run",
]

CHAMPION = "champion"
CHALLENGER = "challenger"
EXPERIMENT = "credit_engine"
_REQUIREMENTS = ("lightgbm", "optbinning", "scikit-learn", "pandas", "numpy", "joblib")


@dataclass(frozen=True)
class RegisteredVersion:
    """A model version in the registry."""

    name: str
    version: str
    run_id: str
    model_uri: str


@dataclass(frozen=True)
class LoadedModel:
    """A rating model loaded from the registry, with where it came from."""

    model: RatingModel
    name: str
    version: str
    run_id: str


def mlflow_client(settings: Settings) -> Any:
    """Point MLflow at the engine home's tracking/registry store; return a client."""
    import mlflow
    from mlflow import MlflowClient

    (settings.home / "mlflow").mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    return MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)


def experiment_id(client: Any, settings: Settings, name: str = EXPERIMENT) -> str:
    """Return the id of experiment ``name``, created under the engine home if new."""
    found = client.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = (settings.home / "mlflow" / "artifacts").resolve()
    location.mkdir(parents=True, exist_ok=True)
    return str(client.create_experiment(name, artifact_location=location.as_uri()))


def _signature(model: RatingModel) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    inputs = Schema([ColSpec("double", c) for c in model.input_columns()])
    outputs = Schema(
        [
            ColSpec("double", "proba_default"),
            ColSpec("double", "score"),
            ColSpec("string", "grade"),
            ColSpec("boolean", "in_default"),
            *[
                ColSpec("string", c, required=False)
                for c in reason_columns(model.n_reasons)
            ],
        ]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def _requirements() -> list[str]:
    pins = []
    for name in _REQUIREMENTS:
        try:
            pins.append(f"{name}=={importlib_metadata.version(name)}")
        except importlib_metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def register_model(
    model: RatingModel,
    *,
    registered_name: str,
    settings: Settings,
    input_example: pd.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    artifacts: Mapping[str, Path],
    actor: str | None = None,
) -> RegisteredVersion:
    """Log a trained model as one run, register it and alias it ``challenger``.

    Parameters
    ----------
    model : RatingModel
        The fitted model (pickled into the pyfunc's artifacts).
    registered_name : str
        Registry name, e.g. ``credit_engine.zone_scorecard_pd``.
    settings : Settings
        Engine settings (MLflow store under the engine home).
    input_example : pandas.DataFrame
        A few input rows (the model's input columns).
    params, metrics, tags : mapping
        Logged on the run; ``tags`` (lineage) also on the model version.
    artifacts : mapping of str to Path
        Files logged on the run under ``reports/`` (validation HTML and JSON,
        out-of-time rows, points table...).
    actor : str, optional
        Who trained it (default: the OS user); recorded in the alias history.

    Returns
    -------
    RegisteredVersion
        Name, version, run id and ``models:/`` URI.
    """
    import joblib
    import mlflow

    client = mlflow_client(settings)
    experiment = experiment_id(client, settings)
    with mlflow.start_run(experiment_id=experiment, run_name=model.name) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics(dict(metrics))
        mlflow.set_tags(dict(tags))
        for path in artifacts.values():
            mlflow.log_artifact(str(path), artifact_path="reports")
        with tempfile.TemporaryDirectory() as tmp:
            bundle = Path(tmp) / "rating_model.joblib"
            joblib.dump(model, bundle)
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=CreditRiskModel(),
                artifacts={ARTIFACT_KEY: str(bundle)},
                signature=_signature(model),
                input_example=input_example[model.input_columns()],
                pip_requirements=_requirements(),
                registered_model_name=registered_name,
            )
    version = str(info.registered_model_version)
    for key, value in tags.items():
        client.set_model_version_tag(registered_name, version, key, value)
    set_alias(
        settings,
        registered_name,
        CHALLENGER,
        version,
        actor=actor,
        reason=f"trained by run {run.info.run_id}",
    )
    return RegisteredVersion(
        name=registered_name,
        version=version,
        run_id=run.info.run_id,
        model_uri=f"models:/{registered_name}/{version}",
    )


def alias_version(settings: Settings, name: str, alias: str) -> str | None:
    """Return the version an alias points to, or None."""
    client = mlflow_client(settings)
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except Exception:  # noqa: BLE001 - MLflow raises its own error for a missing alias
        return None


def set_alias(
    settings: Settings,
    name: str,
    alias: str,
    version: str,
    *,
    actor: str | None,
    reason: str,
    gates: list[dict[str, Any]] | None = None,
) -> AliasChange:
    """Point ``alias`` at ``version`` and log the move in the audit log.

    The move is an entry of kind ``model_promotion`` (who, when, why, gates).
    If it cannot be logged, the alias is moved back and the error raised: no
    promotion without its entry.
    """
    client = mlflow_client(settings)
    previous = alias_version(settings, name, alias)
    change = AliasChange(
        model=name,
        alias=alias,
        to_version=str(version),
        from_version=previous,
        actor=actor or getpass.getuser(),
        reason=reason,
        gates=list(gates or []),
    )
    client.set_registered_model_alias(name, alias, version)
    try:
        return record_alias_change(settings, change)
    except BaseException:
        if previous is None:
            client.delete_registered_model_alias(name, alias)
        else:
            client.set_registered_model_alias(name, alias, previous)
        raise


def version_run(settings: Settings, name: str, version: str) -> Any:
    """Return the MLflow run that produced a model version.

    Raises
    ------
    ModelNotFoundError
        If the model or version does not exist.
    """
    client = mlflow_client(settings)
    try:
        mv = client.get_model_version(name, str(version))
    except Exception as exc:  # noqa: BLE001 - MLflow's not-found error
        raise ModelNotFoundError(
            f"No version {version} of registered model {name!r}. Train one with "
            "`credit-engine train`."
        ) from exc
    return client.get_run(mv.run_id)


def download_run_artifact(
    settings: Settings, run_id: str, path: str, dst: Path
) -> Path:
    """Download one artifact of a run into ``dst``; return its local path."""
    client = mlflow_client(settings)
    dst.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(run_id, path, str(dst)))


def load_rating_model(
    settings: Settings,
    name: str,
    *,
    alias: str | None = CHAMPION,
    version: str | None = None,
) -> LoadedModel:
    """Load a registered rating model by alias (default ``champion``) or version.

    Raises
    ------
    ModelNotFoundError
        If no such alias or version exists (naming what does).
    """
    import mlflow

    mlflow_client(settings)
    if version is None:
        if alias is None:
            raise ValueError("Give an alias or a version to load.")
        found = alias_version(settings, name, alias)
        if found is None:
            raise ModelNotFoundError(
                f"Registered model {name!r} has no {alias!r} alias. Train a model "
                f"(`credit-engine train`) and promote it (`credit-engine promote`)."
            )
        version = found
    run = version_run(settings, name, version)
    pyfunc = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    model = pyfunc.unwrap_python_model().unwrap()
    return LoadedModel(
        model=model, name=name, version=str(version), run_id=run.info.run_id
    )


def registered_versions(settings: Settings) -> list[dict[str, Any]]:
    """Every registered version with its aliases and out-of-time figures.

    Returns
    -------
    list of dict
        ``name``, ``version``, ``aliases``, ``run_id`` and the run's
        ``oot_auc``, ``oot_ks``, ``oot_psi``, ``oot_red_grades`` (NaN if not
        logged), ``monitoring_status`` and ``monitoring_as_of`` of the latest
        monitoring run logged against it (``None`` if never monitored), by
        name then version.
    """
    client = mlflow_client(settings)
    out: list[dict[str, Any]] = []
    for registered in client.search_registered_models():
        # search_model_versions leaves aliases empty; the model has them all.
        aliases: dict[str, list[str]] = {}
        for alias, version in client.get_registered_model(
            registered.name
        ).aliases.items():
            aliases.setdefault(str(version), []).append(alias)
        versions = client.search_model_versions(f"name='{registered.name}'")
        for mv in sorted(versions, key=lambda v: int(v.version)):
            metrics = client.get_run(mv.run_id).data.metrics
            out.append(
                {
                    "name": registered.name,
                    "version": str(mv.version),
                    "aliases": sorted(aliases.get(str(mv.version), [])),
                    "run_id": mv.run_id,
                    **{
                        key: float(metrics.get(key, float("nan")))
                        for key in ("oot_auc", "oot_ks", "oot_psi", "oot_red_grades")
                    },
                    **{
                        key: (mv.tags or {}).get(key)
                        for key in ("monitoring_status", "monitoring_as_of")
                    },
                }
            )
    return sorted(out, key=lambda r: (r["name"], int(r["version"])))
