"""Named simulator scenarios, declared as data and validated strictly.

A scenario changes the synthetic zone from a date so that monitoring and early
warning can be proven against the simulator's truth:

* :class:`SectorShock` (``kind: sector_shock``): an economic shock that lowers
  the health and raises the adverse hazards of one sector;
* :class:`FeedOutage` (``kind: feed_outage``): one department's feed (or a list
  of tables) stops delivering; reality goes on, only delivery stops;
* :class:`RefundRing` (``kind: refund_ring``): a ring of enterprises running an
  export-refund scheme (骗取出口退税), with behavioural signals months before
  the statutory facts.

Scenarios live as YAML files in the top-level ``scenarios/`` folder (one per
file, with a ``kind``, a ``description`` and the parameters below) and are
loaded with :func:`load_scenario`. ``docs/simulator.md`` (section *Scenarios*)
documents what each does and what the truth records.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from credit_engine.exceptions import ConfigurationError
from credit_engine.simulation import _reference as ref
from credit_engine.vocabulary import Department

__all__ = [
    "SCENARIO_KINDS",
    "FeedOutage",
    "RefundRing",
    "Scenario",
    "SectorShock",
    "load_scenario",
    "parse_scenario",
    "scenario_names",
]

SCENARIO_KINDS = ("sector_shock", "feed_outage", "refund_ring")
"""The kinds of scenario the simulator knows."""

Date = Annotated[dt.date, Field(strict=False)]
"""A date; YAML dates and ISO strings (``"2025-07-01"``) are both accepted."""

DayRange = Annotated[list[int], Field(min_length=2, max_length=2)]
"""``[low, high]`` in days, both included; a delay drawn uniformly in it."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]


def _check_range(name: str, value: list[int]) -> list[int]:
    low, high = value
    if low < 0 or high < low:
        raise ValueError(
            f"{name} must be [low, high] days with 0 <= low <= high, got {value}"
        )
    return value


class _ScenarioBase(BaseModel):
    """Fields every scenario has."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str | None = Field(
        default=None,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="Name recorded in the truth; defaults to the file's stem.",
    )
    description: str = Field(min_length=1)
    start: Date


class SectorShock(_ScenarioBase):
    """An economic shock on one sector from ``start``.

    Parameters
    ----------
    sector : str
        One of the simulator's sectors (``electronics``, ``apparel``, ...).
    start : datetime.date
        The shock acts from the month holding this day.
    hazard_multiplier : float, default=1.0
        Odds multiplier of every adverse channel of the sector's enterprises
        (about the hazard multiplier, since the monthly hazards are small).
    health_drop : float, default=0.0
        Drop of latent health (in units of its cross-sectional spread, 1.0);
        activity, late filings, arrears and the distress-driven hazards follow.
    duration_months : int, optional
        Months the shock lasts; open-ended when absent.
    half_life_months : float, optional
        The shock's strength halves every this many months; constant when absent.
    """

    kind: Literal["sector_shock"]
    sector: str
    hazard_multiplier: float = Field(default=1.0, gt=0.0, le=100.0)
    health_drop: float = Field(default=0.0, ge=0.0, le=5.0)
    duration_months: int | None = Field(default=None, ge=1)
    half_life_months: float | None = Field(default=None, gt=0.0)

    @field_validator("sector")
    @classmethod
    def _known_sector(cls, value: str) -> str:
        if value not in ref.SECTORS:
            raise ValueError(
                f"unknown sector {value!r}; expected one of {list(ref.SECTORS)}"
            )
        return value

    @model_validator(mode="after")
    def _has_an_effect(self) -> SectorShock:
        if self.hazard_multiplier == 1.0 and self.health_drop == 0.0:
            raise ValueError(
                "a sector shock needs hazard_multiplier != 1 or health_drop > 0; "
                "both are at their neutral value"
            )
        return self


class FeedOutage(_ScenarioBase):
    """A feed that stops delivering from ``start`` (and resumes at ``end``).

    Parameters
    ----------
    department : Department, optional
        ``CUSTOMS``, ``TAX``, ``SAFE`` or ``SAMR``: every table of the department.
    tables : list of str, optional
        Explicit tables instead of a department (exactly one of the two).
    start : datetime.date
        First day (00:00 UTC) nothing is delivered.
    end : datetime.date, optional
        Day delivery resumes (00:00 UTC): the records held back arrive then, in
        their original order. Absent, or after the extract date: they never
        arrive in the extract.
    """

    kind: Literal["feed_outage"]
    department: Department | None = Field(default=None, strict=False)
    tables: list[str] | None = Field(default=None, min_length=1)
    end: Date | None = None

    @model_validator(mode="after")
    def _one_target_and_an_order(self) -> FeedOutage:
        if (self.department is None) == (self.tables is None):
            raise ValueError(
                "give exactly one of 'department' (CUSTOMS, TAX, SAFE or SAMR) "
                f"and 'tables'; got department={self.department}, "
                f"tables={self.tables}"
            )
        if self.end is not None and self.end <= self.start:
            raise ValueError(
                f"end ({self.end}) must be after start ({self.start}); omit end "
                "for a feed still down at the extract"
            )
        return self


class RefundRing(_ScenarioBase):
    """A ring of enterprises running an export-refund scheme from ``start``.

    Every delay is drawn per member, uniformly in its ``[low, high]`` days.

    Parameters
    ----------
    size : int, default=60
        Members, newly founded shells included.
    new_shells : int, default=8
        Members drawn among refund-capable exporters founded in the
        ``shell_age_days`` before the start; the others among established ones
        (weighted towards low compliance).
    shell_age_days : int, default=365
        How recently a shell was founded (at least 30 days before the start).
    join_days : [int, int], default=[0, 30]
        Member's scheme start after ``start``.
    change_days : [int, int], default=[0, 90]
        First change of legal representative or address after the scheme start.
    second_change_share : float, default=0.5
        Members who change the other field too, ``second_change_days`` later.
    second_change_days : [int, int], default=[5, 60]
    surge_days : [int, int], default=[30, 120]
        Start of the inflated declarations (低值高报) and refund claims after
        the scheme start.
    declared_value_multiplier : float, default=3.0
        Declared over true value of the members' exports during the scheme.
    export_volume_multiplier : float, default=1.5
        More export declarations (and FX receipts) during the scheme.
    input_invoice_multiplier : float, default=2.0
        More input VAT invoices during the scheme.
    bought_invoice_share : float, default=0.7
        Share of input invoices bought (买单配票) ...
    ring_supplier_share : float, default=0.5
        ... from other ring members; the rest from abnormal households.
    third_party_share : float, default=0.75
        Share of FX receipts paid by third parties and individuals.
    round_trip : [float, float], default=[0.5, 0.9]
        Share of each receipt sent back out within the month (资金回流).
    discrepancy_boost : float, default=0.35
        Extra probability that an inspected declaration shows a discrepancy.
    detection_days : [int, int], default=[90, 240]
        Tax inspection finds the fraud (major violation) after the surge start.
    detected_share : float, default=0.9
        Members found out at all.
    abscond_share, shell_abscond_share : float, default=0.3, 0.8
        Detected members (shells) who abscond 5-30 days after detection.
    customs_penalty_share : float, default=0.6
        Detected members also fined by customs (违反海关监管规定, 影响出口退税管理)
    customs_penalty_days : [int, int], default=[20, 90]
        ... this long after the tax detection.
    """

    kind: Literal["refund_ring"]
    size: int = Field(default=60, ge=2, le=100_000)
    new_shells: int = Field(default=8, ge=0)
    shell_age_days: int = Field(default=365, ge=31, le=3_650)
    join_days: DayRange = [0, 30]
    change_days: DayRange = [0, 90]
    second_change_share: Share = 0.5
    second_change_days: DayRange = [5, 60]
    surge_days: DayRange = [30, 120]
    declared_value_multiplier: float = Field(default=3.0, ge=1.0, le=100.0)
    export_volume_multiplier: float = Field(default=1.5, ge=1.0, le=20.0)
    input_invoice_multiplier: float = Field(default=2.0, ge=1.0, le=20.0)
    bought_invoice_share: Share = 0.7
    ring_supplier_share: Share = 0.5
    third_party_share: Share = 0.75
    round_trip: Annotated[list[float], Field(min_length=2, max_length=2)] = [0.5, 0.9]
    discrepancy_boost: Share = 0.35
    detection_days: DayRange = [90, 240]
    detected_share: Share = 0.9
    abscond_share: Share = 0.3
    shell_abscond_share: Share = 0.8
    customs_penalty_share: Share = 0.6
    customs_penalty_days: DayRange = [20, 90]

    @field_validator(
        "join_days",
        "change_days",
        "second_change_days",
        "surge_days",
        "detection_days",
        "customs_penalty_days",
    )
    @classmethod
    def _ordered_days(cls, value: list[int], info: Any) -> list[int]:
        return _check_range(info.field_name, value)

    @field_validator("round_trip")
    @classmethod
    def _ordered_shares(cls, value: list[float]) -> list[float]:
        low, high = value
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(
                f"round_trip must be [low, high] with 0 <= low <= high <= 1, "
                f"got {value}"
            )
        return value

    @model_validator(mode="after")
    def _shells_fit(self) -> RefundRing:
        if self.new_shells > self.size:
            raise ValueError(
                f"new_shells ({self.new_shells}) cannot exceed size ({self.size})"
            )
        return self


Scenario = Annotated[SectorShock | FeedOutage | RefundRing, Field(discriminator="kind")]
"""Any scenario, told apart by its ``kind``."""

_ADAPTER: TypeAdapter[SectorShock | FeedOutage | RefundRing] = TypeAdapter(Scenario)


def _format_errors(where: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:8]:
        loc = [str(p) for p in err["loc"]]
        # Drop the union tag pydantic prepends ("refund_ring.size" -> "size").
        if loc and loc[0] in SCENARIO_KINDS:
            loc = loc[1:]
        got = err.get("input")
        msg = err["msg"]
        if err["type"] == "value_error":  # our own messages say what they got
            msg, shown = msg.removeprefix("Value error, "), ""
        else:
            shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  - {'.'.join(loc) or '(top level)'}: {msg}{shown}")
    more = len(exc.errors()) - 8
    if more > 0:
        lines.append(f"  ... and {more} more")
    return (
        f"Invalid scenario {where}:\n"
        + "\n".join(lines)
        + "\nSee docs/simulator.md, section 'Scenarios', for every kind's fields."
    )


def parse_scenario(raw: Any, *, where: str = "definition") -> Scenario:
    """Validate a scenario given as a mapping (the content of a YAML file).

    Parameters
    ----------
    raw : Any
        The mapping; must hold ``kind`` (one of :data:`SCENARIO_KINDS`).
    where : str, default="definition"
        Named in error messages (usually the file).

    Returns
    -------
    SectorShock or FeedOutage or RefundRing

    Raises
    ------
    ConfigurationError
        If ``raw`` is not a mapping, has no known ``kind``, or a field is
        missing, unknown or out of range; the message lists each problem.
    """
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"Invalid scenario {where}: expected a YAML mapping with a 'kind', "
            f"got {type(raw).__name__}."
        )
    if raw.get("kind") not in SCENARIO_KINDS:
        raise ConfigurationError(
            f"Invalid scenario {where}: 'kind' must be one of "
            f"{list(SCENARIO_KINDS)}, got {raw.get('kind')!r}."
        )
    try:
        return _ADAPTER.validate_python(raw)
    except ValidationError as exc:
        raise ConfigurationError(_format_errors(where, exc)) from exc


def scenario_names(definitions_dir: Path) -> list[str]:
    """Names of the scenarios shipped in ``definitions_dir/scenarios``."""
    folder = Path(definitions_dir) / "scenarios"
    return sorted(p.stem for p in folder.glob("*.yaml"))


def _resolve(name_or_path: str | Path, definitions_dir: Path | None) -> Path:
    candidate = Path(name_or_path)
    looks_like_path = candidate.suffix in (".yaml", ".yml") or len(candidate.parts) > 1
    if looks_like_path or candidate.is_file():
        if not candidate.is_file():
            raise ConfigurationError(
                f"Scenario file {candidate} does not exist; give an existing "
                "YAML file or the name of a shipped scenario."
            )
        return candidate
    if definitions_dir is None:
        from credit_engine.config import default_definitions_dir

        definitions_dir = default_definitions_dir()
    path = Path(definitions_dir) / "scenarios" / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ConfigurationError(
            f"No scenario named {str(name_or_path)!r}: {path} does not exist. "
            f"Shipped scenarios: {scenario_names(Path(definitions_dir))}; or give "
            "the path of a YAML file."
        )
    return path


def load_scenario(
    name_or_path: str | Path, *, definitions_dir: Path | None = None
) -> Scenario:
    """Load a scenario by name (``scenarios/NAME.yaml``) or from a YAML file.

    Parameters
    ----------
    name_or_path : str or pathlib.Path
        A shipped scenario's name (e.g. ``"refund_ring"``), or a path ending in
        ``.yaml``/``.yml`` or holding a folder.
    definitions_dir : pathlib.Path, optional
        Folder holding ``scenarios/``; defaults to
        :func:`credit_engine.config.default_definitions_dir`.

    Returns
    -------
    SectorShock or FeedOutage or RefundRing
        The scenario, its ``name`` set to the file's stem unless it gives one.

    Raises
    ------
    ConfigurationError
        If the file is missing, unreadable or invalid (every problem listed).

    Examples
    --------
    >>> ring = load_scenario("refund_ring")
    >>> ring.kind, ring.name, ring.size
    ('refund_ring', 'refund_ring', 60)
    """
    path = _resolve(name_or_path, definitions_dir)
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read scenario file {path}: {exc}") from exc
    scenario = parse_scenario(raw, where=str(path))
    if scenario.name is None:
        scenario = scenario.model_copy(update={"name": path.stem})
    return scenario
