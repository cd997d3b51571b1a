"""Monitoring in MLflow: one run per monitored model version and report date.

A monitoring report (HTML + JSON) is logged as a run of the experiment
:data:`MONITORING_EXPERIMENT`, tagged with the model, version, role, report date
and status; its headline figures are logged as metrics linked to the version's
logged model (MLflow 3 ``model_id``), so they show on the model's page; the
version gets tags pointing at its latest monitoring run. Aliases and their
history are not touched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credit_engine.config import Settings
from credit_engine.exceptions import CreditEngineError, ModelNotFoundError
from credit_engine.registry._store import (
    download_run_artifact,
    experiment_id,
    mlflow_client,
    version_run,
)

__all__ = [
    "MONITORING_EXPERIMENT",
    "MonitoringRun",
    "log_monitoring",
    "monitoring_runs",
    "read_version_json",
]

MONITORING_EXPERIMENT = "credit_engine.monitoring"
"""The MLflow experiment of monitoring runs (training runs are in ``credit_engine``)."""

_STATUS_CODE = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True)
class MonitoringRun:
    """A logged monitoring run of one model version.

    Attributes
    ----------
    run_id : str
        MLflow run id.
    name, version : str
        Registered model and version monitored.
    role : str
        ``champion`` or ``challenger`` at the report date.
    as_of : str
        Report date (ISO).
    status : str
        ``green``, ``amber`` or ``red``.
    """

    run_id: str
    name: str
    version: str
    role: str
    as_of: str
    status: str


@contextlib.contextmanager
def _quiet_downloads() -> Iterator[None]:
    """Turn MLflow's artifact progress bars off for a download (stderr noise)."""
    key = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    before = os.environ.get(key)
    os.environ[key] = "false"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def _logged_model_id(version: Any) -> str | None:
    """Return the logged model (MLflow 3) behind a registered version, if any."""
    found = getattr(version, "model_id", None)
    if found:
        return str(found)
    source = str(getattr(version, "source", "") or "")
    if source.startswith("models:/m-"):
        return source.removeprefix("models:/").split("/", 1)[0]
    return None


def read_version_json(
    settings: Settings, name: str, version: str, artifact: str
) -> dict[str, Any] | None:
    """Return a JSON artifact of the run that produced a model version.

    Parameters
    ----------
    settings : Settings
        Engine settings (MLflow store).
    name, version : str
        Registered model and version.
    artifact : str
        Artifact path in the run, e.g. ``reports/validation.json``.

    Returns
    -------
    dict or None
        The parsed JSON; ``None`` if the run did not log that artifact.

    Raises
    ------
    ModelNotFoundError
        If the version does not exist.
    """
    run = version_run(settings, name, str(version))
    with tempfile.TemporaryDirectory() as tmp, _quiet_downloads():
        try:
            path = download_run_artifact(settings, run.info.run_id, artifact, Path(tmp))
        except Exception:  # noqa: BLE001 - MLflow's error for a missing artifact
            return None
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _metrics(model: Mapping[str, Any]) -> dict[str, float]:
    """Headline figures of one ``models.<name>`` entry of the report JSON."""

    def number(value: Any) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return None if math.isnan(float(value)) else float(value)

    found = {
        "score_psi": number((model.get("score_psi") or {}).get("value")),
        "grade_psi": number((model.get("grade_psi") or {}).get("value")),
        "auc_initial": number(model.get("auc_initial")),
        "auc_current": number(model.get("auc_current")),
        "auc_change_p": number(model.get("auc_change_p")),
        "hhi": number((model.get("hhi") or {}).get("current")),
        "status_code": float(_STATUS_CODE.get(str(model.get("status")), -1)),
    }
    return {key: value for key, value in found.items() if value is not None}


def log_monitoring(
    settings: Settings,
    name: str,
    version: str,
    *,
    as_of: dt.date,
    role: str,
    status: str,
    report: Mapping[str, Any],
    model_entry: Mapping[str, Any] | None = None,
    html: Path | None = None,
) -> MonitoringRun:
    """Log a monitoring report against a model version.

    Parameters
    ----------
    settings : Settings
        Engine settings (MLflow store).
    name, version : str
        The registered model and version monitored (the champion, usually).
    as_of : datetime.date
        Report date.
    role : {"champion", "challenger"}
        The version's role at ``as_of``.
    status : {"green", "amber", "red"}
        The status to tag the run with (the report's overall status for the
        champion).
    report : mapping
        The report JSON (logged as ``monitoring/monitoring.json``).
    model_entry : mapping, optional
        The version's ``models.<name>`` entry of the report; its headline
        figures (score and grade PSI, AUC now and at validation, the AUC test's
        p-value, HHI, a status code 0/1/2) are logged as metrics, linked to the
        version's logged model.
    html : pathlib.Path, optional
        The HTML report (logged under ``monitoring/``).

    Returns
    -------
    MonitoringRun
        The run logged.

    Raises
    ------
    ModelNotFoundError
        If the version does not exist.
    CreditEngineError
        If ``status`` or ``role`` is not one of the known values.
    """
    import mlflow

    if status not in _STATUS_CODE or role not in ("champion", "challenger"):
        raise CreditEngineError(
            f"log_monitoring needs a status in {list(_STATUS_CODE)} and a role "
            f"'champion' or 'challenger'; got status={status!r}, role={role!r}."
        )
    client = mlflow_client(settings)
    try:
        mv = client.get_model_version(name, str(version))
    except Exception as exc:  # noqa: BLE001 - MLflow's not-found error
        raise ModelNotFoundError(
            f"No version {version} of registered model {name!r} to log monitoring "
            "against; list them with `credit-engine models`."
        ) from exc
    experiment = experiment_id(client, settings, MONITORING_EXPERIMENT)
    tags = {
        "credit_engine.kind": "monitoring",
        "model_name": name,
        "model_version": str(version),
        "role": role,
        "as_of": as_of.isoformat(),
        "status": status,
        "mlflow.note.content": (
            f"Monitoring of {name} v{version} ({role}) as of {as_of}: {status}."
        ),
    }
    run_name = f"monitor {name.removeprefix('credit_engine.')} v{version} {as_of}"
    with mlflow.start_run(
        experiment_id=experiment, run_name=run_name, tags=tags
    ) as run:
        mlflow.log_dict(dict(report), "monitoring/monitoring.json")
        if html is not None:
            mlflow.log_artifact(str(html), artifact_path="monitoring")
        figures = _metrics(model_entry or {})
        if figures:
            mlflow.log_metrics(figures, model_id=_logged_model_id(mv))
    for key, value in (
        ("monitoring_status", status),
        ("monitoring_as_of", as_of.isoformat()),
        ("monitoring_run_id", run.info.run_id),
    ):
        client.set_model_version_tag(name, str(version), key, value)
    return MonitoringRun(
        run_id=run.info.run_id,
        name=name,
        version=str(version),
        role=role,
        as_of=as_of.isoformat(),
        status=status,
    )


def monitoring_runs(
    settings: Settings, name: str | None = None, version: str | None = None
) -> list[MonitoringRun]:
    """Return the logged monitoring runs, oldest first (of one model/version).

    Parameters
    ----------
    settings : Settings
        Engine settings (MLflow store).
    name, version : str, optional
        Only runs of this registered model (and version).

    Returns
    -------
    list of MonitoringRun
    """
    client = mlflow_client(settings)
    found = client.get_experiment_by_name(MONITORING_EXPERIMENT)
    if found is None:
        return []
    clauses = ["tags.`credit_engine.kind` = 'monitoring'"]
    if name is not None:
        clauses.append(f"tags.model_name = '{name}'")
    if version is not None:
        clauses.append(f"tags.model_version = '{version}'")
    runs = client.search_runs(
        [found.experiment_id],
        filter_string=" and ".join(clauses),
        order_by=["attributes.start_time ASC"],
    )
    return [
        MonitoringRun(
            run_id=r.info.run_id,
            name=r.data.tags.get("model_name", ""),
            version=r.data.tags.get("model_version", ""),
            role=r.data.tags.get("role", ""),
            as_of=r.data.tags.get("as_of", ""),
            status=r.data.tags.get("status", ""),
        )
        for r in runs
    ]
