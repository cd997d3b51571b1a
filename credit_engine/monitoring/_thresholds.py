"""Monitoring thresholds as data: ``models/monitoring/thresholds.yaml``.

Every number the monitor compares a figure with lives in that file, each with a
one-line comment on its source; the code holds none. The file is parsed into
:class:`MonitoringThresholds` (strict pydantic models that refuse unknown keys
and out-of-order values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_engine.exceptions import ConfigurationError
from credit_engine.validation import Light, ValidationPolicy

__all__ = [
    "BacktestThresholds",
    "CsiFeatureRule",
    "ConcentrationThresholds",
    "DataThresholds",
    "EarlyOutcomeThresholds",
    "EstimationThresholds",
    "MigrationThresholds",
    "ModelPart",
    "MonitoringThresholds",
    "OverrideThresholds",
    "StabilityThresholds",
    "StatusRule",
    "TestThresholds",
    "load_thresholds",
    "parse_thresholds",
]

ModelPart = Literal[
    "score_psi",
    "grade_psi",
    "csi",
    "backtest",
    "auc",
    "hhi",
    "migration",
    "estimated",
    "early_outcomes",
]
"""A part of a model's monitoring that carries a traffic light."""


def _check_order(section: BaseModel, pairs: list[tuple[str, str]]) -> None:
    """Raise if a lower threshold is not below (or equal to) its upper one."""
    wrong = [
        f"{low}={getattr(section, low)} must not exceed {high}={getattr(section, high)}"
        for low, high in pairs
        if getattr(section, low) > getattr(section, high)
    ]
    if wrong:
        raise ValueError("; ".join(wrong) + ". Swap or correct the values")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class TestThresholds(_Section):
    """Significance levels of every one-sided test (p < alpha colours it)."""

    __test__ = False  # not a pytest test class, despite the name

    alpha_amber: float = Field(gt=0.0, lt=1.0)
    alpha_red: float = Field(gt=0.0, lt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> TestThresholds:
        _check_order(self, [("alpha_red", "alpha_amber")])
        return self


class StabilityThresholds(_Section):
    """PSI bands, red-feature counts, and the CSI's largest cohort.

    ``csi_max_rows``: the most enterprises whose features are computed for the
    CSI; a fixed hash sample of that many beyond.
    """

    psi_amber: float = Field(gt=0.0)
    psi_red: float = Field(gt=0.0)
    csi_red_features_amber: int = Field(ge=1)
    csi_red_features_red: int = Field(ge=1)
    csi_max_rows: int = Field(ge=100)

    @model_validator(mode="after")
    def _ordered(self) -> StabilityThresholds:
        _check_order(
            self,
            [
                ("psi_amber", "psi_red"),
                ("csi_red_features_amber", "csi_red_features_red"),
            ],
        )
        return self


class CsiFeatureRule(_Section):
    """How one feature enters the CSI, when not like the others, and why.

    ``informational``: its CSI is computed and shown with its band, but the
    feature is not counted among the red or amber features, so it cannot
    colour the model (for a feature whose distribution moves by construction,
    e.g. a days counter bounded by the lake's history). ``exclude``: its CSI is
    not computed at all; the report lists it with the reason.
    """

    treatment: Literal["informational", "exclude"]
    reason: str = Field(min_length=10)


class BacktestThresholds(_Section):
    """Which matured cohorts set the status and how grade colours add up."""

    status_cohorts: int = Field(ge=1)
    red_grades_amber: int = Field(ge=1)
    red_grades_red: int = Field(ge=1)
    amber_grades_amber: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> BacktestThresholds:
        _check_order(self, [("red_grades_amber", "red_grades_red")])
        return self


class ConcentrationThresholds(_Section):
    """Relative increase of the grade HHI over its initial value."""

    hhi_increase_amber: float = Field(gt=0.0)
    hhi_increase_red: float = Field(gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> ConcentrationThresholds:
        _check_order(self, [("hhi_increase_amber", "hhi_increase_red")])
        return self


class MigrationThresholds(_Section):
    """Rows a start grade needs before its migration cells are tested."""

    min_row_count: int = Field(ge=1)


class EstimationThresholds(_Section):
    """Interval level, Monte Carlo draws and default-rate ratio bands."""

    level: float = Field(gt=0.0, lt=1.0)
    n_draws: int = Field(ge=20, le=100_000)
    dr_ratio_amber: float = Field(gt=1.0)
    dr_ratio_red: float = Field(gt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> EstimationThresholds:
        _check_order(self, [("dr_ratio_amber", "dr_ratio_red")])
        return self


class EarlyOutcomeThresholds(_Section):
    """Early outcomes of immature cohorts, per zone and segment.

    See :mod:`credit_engine.monitoring._early_outcomes` for the tests; the
    alphas are the ``tests`` section's, divided by the number of tests of a
    family (Bonferroni).
    """

    windows_days: tuple[int, ...] = Field(min_length=1, strict=False)
    slack_days: int = Field(ge=0)
    segments: tuple[Literal["industry", "district"], ...] = Field(strict=False)
    industry_digits: Literal[0, 2, 3, 4]
    min_rows: int = Field(ge=1)
    min_expected: float = Field(gt=0.0)
    ratio_amber: float = Field(gt=1.0)
    ratio_red: float = Field(gt=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> EarlyOutcomeThresholds:
        _check_order(self, [("ratio_amber", "ratio_red")])
        wrong = [w for w in self.windows_days if w <= self.slack_days]
        if wrong:
            raise ValueError(
                f"windows_days {wrong} must be longer than slack_days={self.slack_days}"
            )
        if len(set(self.windows_days)) != len(self.windows_days):
            raise ValueError(f"windows_days {list(self.windows_days)} repeats a window")
        if len(set(self.segments)) != len(self.segments):
            raise ValueError(f"segments {list(self.segments)} repeats a dimension")
        return self


class OverrideThresholds(_Section):
    """Override-rate bands."""

    rate_amber: float = Field(gt=0.0, le=1.0)
    rate_red: float = Field(gt=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> OverrideThresholds:
        _check_order(self, [("rate_amber", "rate_red")])
        return self


class DataThresholds(_Section):
    """Age in days of a table's latest load that turns it amber or red."""

    age_days_amber: int = Field(ge=1)
    age_days_red: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> DataThresholds:
        _check_order(self, [("age_days_amber", "age_days_red")])
        return self


class StatusRule(_Section):
    """Which parts colour a model, and how far a challenger can colour the report."""

    # YAML gives a list; the field keeps an immutable tuple.
    model_parts: tuple[ModelPart, ...] = Field(min_length=1, strict=False)
    challenger_cap: Light

    @model_validator(mode="after")
    def _unique(self) -> StatusRule:
        repeated = sorted(
            {p for p in self.model_parts if self.model_parts.count(p) > 1}
        )
        if repeated:
            raise ValueError(f"model_parts lists {repeated} more than once")
        return self


class MonitoringThresholds(_Section):
    """Every threshold of the monitor, as read from ``thresholds.yaml``.

    Parameters
    ----------
    version : int
        Version of the thresholds file (recorded with each report).
    tests, stability, backtest, concentration, migration, estimation,
    early_outcomes, overrides, data, status
        The sections of the file; see ``models/monitoring/thresholds.yaml`` for
        each value and its source.
    csi_features : dict of str to CsiFeatureRule, optional
        Features measured apart in the CSI (informational or excluded), each
        with its reason; every other referenced feature counts.

    Examples
    --------
    >>> from pathlib import Path
    >>> import credit_engine
    >>> repo = Path(credit_engine.__file__).parents[1]
    >>> t = load_thresholds(repo / "models" / "monitoring" / "thresholds.yaml")
    >>> t.stability.psi_amber, t.overrides.rate_red
    (0.1, 0.1)
    >>> t.validation_policy().alpha_red
    0.01
    """

    version: int = Field(ge=1)
    tests: TestThresholds
    stability: StabilityThresholds
    backtest: BacktestThresholds
    concentration: ConcentrationThresholds
    migration: MigrationThresholds
    estimation: EstimationThresholds
    early_outcomes: EarlyOutcomeThresholds
    overrides: OverrideThresholds
    data: DataThresholds
    status: StatusRule
    csi_features: dict[str, CsiFeatureRule] = Field(default_factory=dict)

    def validation_policy(self) -> ValidationPolicy:
        """Return the validation pack's policy with these alphas and PSI bands.

        The monitor colours tests with :func:`credit_engine.validation.traffic_light`
        and PSIs with :func:`credit_engine.validation.psi_light`, which read a
        :class:`~credit_engine.validation.ValidationPolicy`.
        """
        return ValidationPolicy(
            alpha_amber=self.tests.alpha_amber,
            alpha_red=self.tests.alpha_red,
            psi_monitor=self.stability.psi_amber,
            psi_significant=self.stability.psi_red,
        )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        got = error.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        parts.append(f"field {field!r}: {error['msg']}{shown}")
    return "; ".join(parts)


def parse_thresholds(raw: Any, source: str = "thresholds") -> MonitoringThresholds:
    """Validate a parsed thresholds mapping (``source`` names it in errors).

    Raises
    ------
    ConfigurationError
        If a section or field is missing, unknown, of the wrong type or out of
        order; the message names ``source`` and each field.
    """
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"Invalid monitoring thresholds in {source}: expected a mapping of "
            f"sections, got {type(raw).__name__}. Start from "
            "models/monitoring/thresholds.yaml."
        )
    try:
        return MonitoringThresholds.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(
            f"Invalid monitoring thresholds in {source}: {_describe(exc)}. Fix the "
            "values in the file (its comments give the source of each)."
        ) from None


def load_thresholds(path: str | Path) -> MonitoringThresholds:
    """Load and validate a thresholds file (``models/monitoring/thresholds.yaml``).

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file.

    Returns
    -------
    MonitoringThresholds

    Raises
    ------
    ConfigurationError
        If the file is missing, is not YAML, or a field is missing, unknown, of
        the wrong type or out of order; the message names the file and fields.
    """
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"Cannot read the monitoring thresholds file {file}: {exc.strerror}. "
            "Pass the path of models/monitoring/thresholds.yaml."
        ) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(
            f"The monitoring thresholds file {file} is not valid YAML: {exc}"
        ) from None
    return parse_thresholds(raw, source=str(file))
