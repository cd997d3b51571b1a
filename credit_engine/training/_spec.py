"""Model specifications (``models/<name>/spec.yaml``): reviewed data, not code."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from credit_engine.exceptions import ConfigurationError
from credit_engine.modeling import PdoScaling
from credit_engine.validation import ValidationPolicy

__all__ = [
    "EventRule",
    "GateSpec",
    "LabelSpec",
    "ModelSpec",
    "TuningSpec",
    "load_model_spec",
    "model_spec_names",
]

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class EventRule(BaseModel):
    """One kind of adverse credit event, read from a lake table.

    Parameters
    ----------
    code : str
        Stable event code (e.g. ``CUSTOMS_DISHONEST``).
    table : str
        Source table (a record contract).
    when : str
        SQL condition on the table's columns that marks the adverse record.
    starts_only : bool, default=True
        For state tables: count only the start of a spell in the adverse state
        (not a re-sent or continued one).
    """

    model_config = _FROZEN

    code: str
    table: str
    when: str = "true"
    starts_only: bool = True


class LabelSpec(BaseModel):
    """The target: any listed adverse event within ``horizon_days`` after as_of."""

    model_config = _FROZEN

    name: str = "adverse_12m"
    horizon_days: int = Field(default=365, gt=0)
    events: tuple[EventRule, ...]


class SplitSpec(BaseModel):
    """Out-of-time split: the last ``oot_dates`` rating dates are held out."""

    model_config = _FROZEN

    oot_dates: int = Field(default=3, ge=1)


class MasterScaleSpec(BaseModel):
    """How the master scale is fitted (see ``credit_engine.modeling.MasterScale``).

    Grade bands are quantiles of out-of-fold development PDs (``oof_folds``
    folds by enterprise); each grade's PD is the Jeffreys posterior quantile
    ``conservatism`` of its out-of-fold default rate, floored at ``pd_floor``.
    With ``in_sample_dates`` > 0 the grade PD is also at least the Jeffreys
    quantile of the default rate of the final model's own PDs on the latest
    ``in_sample_dates`` development dates: enterprises the model has seen
    (rated again at later dates, as out of time and in production) and
    enterprises it has not (out of fold) are both covered.
    """

    model_config = _FROZEN

    cumulative_shares: tuple[float, ...] = (0.15, 0.35, 0.55, 0.72, 0.85, 0.94)
    oof_folds: int = Field(default=3, ge=2)
    in_sample_dates: int = Field(default=0, ge=0)
    conservatism: float = Field(default=0.5, gt=0, lt=1)
    pd_floor: float = Field(default=0.0003, ge=0, lt=1)


class TuningSpec(BaseModel):
    """A small grid ``evaluate`` searches for the LightGBM family on plain tables.

    The spec's own parameters are always a candidate; the grid adds at most
    ``budget - 1`` more (a seeded sample of a larger grid), scored by pooled
    out-of-fold AUC on the calibration folds of each training set, so the
    search never sees the rows it is evaluated on. ``train`` fits the spec's
    reviewed parameters, never the grid.

    Parameters
    ----------
    grid : dict
        Booster parameter -> values to try (``n_estimators``, ``learning_rate``,
        ``num_leaves``, ``min_child_samples``, ``subsample``,
        ``colsample_bytree``, ``reg_lambda``).
    budget : int
        Largest number of candidates, the spec's own included.
    """

    model_config = _FROZEN

    grid: dict[str, tuple[Any, ...]] = Field(default_factory=dict)
    budget: int = Field(default=4, ge=1, le=16)


class GateSpec(BaseModel):
    """Promotion gates: a challenger becomes champion only if all pass.

    Parameters
    ----------
    max_auc_drop : float
        The challenger's out-of-time AUC may be at most this much below the
        champion's AUC on the same rows.
    max_psi : float
        Largest PSI of the score between development and out-of-time.
    allow_red_grades : bool
        Whether a red calibration grade may be promoted.
    min_auc : float
        Absolute floor on the out-of-time AUC.
    min_shadow_days : int, default=0
        The challenger must have shadow runs (``credit-engine rate --shadow``)
        whose rating dates span at least this many days before it may be
        promoted; 0 turns the gate off.
    """

    model_config = _FROZEN

    max_auc_drop: float = 0.01
    max_psi: float = 0.25
    allow_red_grades: bool = False
    min_auc: float = 0.6
    min_shadow_days: int = Field(default=0, ge=0)


class ModelSpec(BaseModel):
    """Everything that defines how one model is trained, validated and promoted."""

    model_config = _FROZEN

    name: str
    registered_name: str
    family: Literal["scorecard", "gbm"]
    description: str
    feature_set: str
    label: LabelSpec
    exclude_features: tuple[str, ...] = ()
    population_exclude: tuple[str, ...] = ()
    default_state: tuple[str, ...] = ()
    split: SplitSpec = SplitSpec()
    params: dict[str, Any] = Field(default_factory=dict)
    tuning: TuningSpec | None = None
    scaling: PdoScaling = PdoScaling()
    master_scale: MasterScaleSpec = MasterScaleSpec()
    validation: ValidationPolicy = ValidationPolicy()
    gates: GateSpec = GateSpec()
    reasons: int = Field(default=3, ge=1, le=10)
    seed: int = 20260401

    @field_validator("registered_name")
    @classmethod
    def _dotted(cls, value: str) -> str:
        if not value.startswith("credit_engine."):
            raise ValueError("registered_name must start with 'credit_engine.'")
        return value

    def fingerprint(self) -> str:
        """SHA-256 of the spec's canonical JSON."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


def model_spec_names(models_dir: Path) -> list[str]:
    """Names of the specs under ``models_dir`` (folders with a ``spec.yaml``)."""
    return sorted(p.parent.name for p in models_dir.glob("*/spec.yaml"))


def load_model_spec(models_dir: Path, name: str) -> ModelSpec:
    """Load and check ``models_dir/<name>/spec.yaml``.

    Raises
    ------
    ConfigurationError
        If the spec is missing (listing the known ones) or invalid (naming the
        file and each field in error).
    """
    path = models_dir / name / "spec.yaml"
    if not path.is_file():
        known = ", ".join(model_spec_names(models_dir)) or "none"
        raise ConfigurationError(
            f"No model spec {name!r}: {path} does not exist. Known specs: {known}."
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        spec = ModelSpec.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(
            f"{path} is not a valid model spec: {problems}"
        ) from exc
    if spec.name != name:
        raise ConfigurationError(
            f"{path} declares name {spec.name!r}; it must match its folder {name!r}."
        )
    return spec
