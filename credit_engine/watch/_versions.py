"""Which model versions are monitored: each model spec's champion and challenger."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from credit_engine.exceptions import ConfigurationError

if TYPE_CHECKING:
    from credit_engine.config import Settings
    from credit_engine.training import ModelSpec

__all__ = [
    "CHALLENGER_SUFFIX",
    "ModelInCharge",
    "models_in_charge",
    "version_spec",
]

CHALLENGER_SUFFIX = "@challenger"
"""A challenger's key in the report: ``<registered name>@challenger`` (as in
MLflow's ``models:/<name>@<alias>`` URIs); a champion's key is its name."""

_SPEC_ARTIFACT = "reports/spec.json"


@dataclass(frozen=True)
class ModelInCharge:
    """A registered model of a spec, with the versions its aliases point to.

    Attributes
    ----------
    spec : ModelSpec
        The spec under ``models/`` (as reviewed now).
    name : str
        Registered model name.
    champion : str or None
        Version aliased ``champion`` (``None``: none yet).
    challenger : str or None
        Version aliased ``challenger`` when it differs from the champion.
    """

    spec: ModelSpec
    name: str
    champion: str | None
    challenger: str | None


def models_in_charge(settings: Settings) -> list[ModelInCharge]:
    """Return every model spec's registered model with its champion and challenger.

    Parameters
    ----------
    settings : Settings
        Engine settings (definitions, MLflow store).

    Returns
    -------
    list of ModelInCharge
        In spec-name order.
    """
    from credit_engine.registry import CHALLENGER, CHAMPION, alias_version
    from credit_engine.training import load_model_spec, model_spec_names

    folder = settings.definitions_dir / "models"
    out = []
    for spec_name in model_spec_names(folder):
        spec = load_model_spec(folder, spec_name)
        champion = alias_version(settings, spec.registered_name, CHAMPION)
        challenger = alias_version(settings, spec.registered_name, CHALLENGER)
        out.append(
            ModelInCharge(
                spec=spec,
                name=spec.registered_name,
                champion=champion,
                challenger=None if challenger == champion else challenger,
            )
        )
    return out


def version_spec(settings: Settings, model: ModelInCharge, version: str) -> ModelSpec:
    """Return the spec a version was trained from (its logged ``spec.json``).

    The label that defines a version's outcomes is the one it was trained on;
    versions whose run logged no spec fall back to the spec as reviewed now.

    Raises
    ------
    ConfigurationError
        If the logged spec does not parse.
    """
    from pydantic import ValidationError

    from credit_engine.registry import read_version_json
    from credit_engine.training import ModelSpec

    logged = read_version_json(settings, model.name, version, _SPEC_ARTIFACT)
    if logged is None:
        return model.spec
    try:
        return ModelSpec.model_validate(logged)
    except ValidationError as exc:
        raise ConfigurationError(
            f"The spec logged with {model.name} v{version} ({_SPEC_ARTIFACT}) is not "
            f"a valid model spec: {exc.error_count()} error(s), first: "
            f"{exc.errors()[0]['msg']}. Retrain the version from models/."
        ) from exc
