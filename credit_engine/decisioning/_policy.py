"""Treatment policy as data: ``models/policies/<name>_v<N>.yaml``.

A policy maps master-scale grades to treatment tiers, caps tiers with zone
rules, says who gets the green channel, which measures apply, the inspection
factor per tier and who may see each field. It is versioned apart from the
models: a new version needs no retraining.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from credit_engine.exceptions import ConfigurationError, PolicyNotFoundError
from credit_engine.vocabulary import Tier

__all__ = [
    "ALWAYS_DISCLOSED",
    "Condition",
    "Disclosure",
    "GreenChannelSpec",
    "InspectionSpec",
    "MeasureSpec",
    "Policy",
    "PolicyRule",
    "available_policies",
    "load_policy",
]

_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)_v(?P<version>[0-9]+)\.yaml$")

ALWAYS_DISCLOSED = frozenset({"stale_sources"})
"""Decision fields every reader sees, whatever the policy's disclosure: an
inspection system must know when its answer rests on stale data."""


class Disclosure(StrEnum):
    """Who may see a field (有序公开): anyone, the departments, the zone only."""

    PUBLIC = "public"
    SHARED = "shared"
    INTERNAL = "internal"

    def allows(self, level: Disclosure) -> bool:
        """Whether a reader cleared for ``self`` may see a field at ``level``."""
        order = [Disclosure.PUBLIC, Disclosure.SHARED, Disclosure.INTERNAL]
        return order.index(level) <= order.index(self)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """When a policy rule or measure applies; every given part must hold.

    Parameters
    ----------
    facts_any : list of str, optional
        A statutory fact with one of these codes is in force.
    feature, op, value : optional
        A feature of the rating row compared with ``value`` (a missing value
        never matches).
    tiers : list of Tier, optional
        The final tier is one of these (measures only).
    green_channel : bool, optional
        The decision's green-channel flag equals this (measures only).
    """

    facts_any: list[str] | None = None
    feature: str | None = None
    op: Literal["lt", "le", "gt", "ge", "eq"] | None = None
    value: float | None = None
    tiers: list[Tier] | None = None
    green_channel: bool | None = None

    @model_validator(mode="after")
    def _feature_complete(self) -> Condition:
        given = [self.feature is not None, self.op is not None, self.value is not None]
        if any(given) and not all(given):
            raise ValueError("a feature condition needs all of feature, op and value")
        if (
            not any(given)
            and self.facts_any is None
            and self.tiers is None
            and (self.green_channel is None)
        ):
            raise ValueError("a condition needs at least one of its parts")
        return self


class PolicyRule(_Strict):
    """A zone rule: caps the tier at ``ceiling`` when ``when`` holds."""

    code: str = Field(pattern=r"^POL-[0-9]{2}$")
    zh: str
    en: str
    when: Condition
    ceiling: Tier

    @field_validator("when")
    @classmethod
    def _no_outcome_parts(cls, when: Condition) -> Condition:
        if when.tiers is not None or when.green_channel is not None:
            raise ValueError("a policy rule cannot depend on the tier it decides")
        return when


class GreenChannelSpec(_Strict):
    """Green-channel eligibility (export-refund class 1 as the template)."""

    requires_any_of: list[list[str]] = Field(min_length=1)
    grades: list[str] = Field(min_length=1)
    tier: Tier = Tier.A


class InspectionSpec(_Strict):
    """Inspection-rate factor per tier, relative to the regular rate."""

    regular_rate: float = Field(gt=0.0, le=1.0)
    factor_by_tier: dict[Tier, float]

    @field_validator("factor_by_tier")
    @classmethod
    def _every_tier(cls, value: dict[Tier, float]) -> dict[Tier, float]:
        missing = [t.value for t in Tier if t not in value]
        if missing:
            raise ValueError(f"factor_by_tier lacks tiers {missing}")
        if any(v < 0 for v in value.values()):
            raise ValueError("inspection factors must be >= 0")
        return value


class MeasureSpec(_Strict):
    """A measure applied to enterprises, with its legal basis."""

    code: str = Field(pattern=r"^[A-Z]{2}-[0-9]{2}$")
    zh: str
    en: str
    basis: str
    when: Condition
    joint_punishment: bool = False
    joint_incentive: bool = False

    @model_validator(mode="after")
    def _incentives_for_trusted_only(self) -> MeasureSpec:
        if self.joint_incentive and self.when.tiers != [Tier.A]:
            raise ValueError(
                f"joint-incentive measure {self.code} must apply to tier A only "
                "(when: {tiers: [A], ...})"
            )
        if self.joint_incentive and self.joint_punishment:
            raise ValueError(f"measure {self.code} cannot be incentive and punishment")
        return self


class TierLabel(_Strict):
    """Display names of a tier."""

    zh: str
    en: str


class Policy(_Strict):
    """A versioned treatment policy (see ``models/policies/README.md``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    effective_from: dt.date
    description: str
    model: str
    grade_map: dict[str, Tier]
    tiers: dict[Tier, TierLabel]
    rules: list[PolicyRule] = Field(default_factory=list)
    green_channel: GreenChannelSpec
    inspection: InspectionSpec
    measures: list[MeasureSpec]
    model_reasons: int = Field(default=3, ge=0, le=10)
    disclosure: dict[str, Disclosure]

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        if self.grade_map.get("GD") is not Tier.D:
            raise ValueError("grade_map must map GD (in default) to tier D")
        missing = [t.value for t in Tier if t not in self.tiers]
        if missing:
            raise ValueError(f"tiers lacks labels for {missing}")
        unknown = [g for g in self.green_channel.grades if g not in self.grade_map]
        if unknown:
            raise ValueError(f"green_channel.grades {unknown} are not in grade_map")
        for kind, codes in (
            ("rules", [r.code for r in self.rules]),
            ("measures", [m.code for m in self.measures]),
        ):
            dupes = sorted({c for c in codes if codes.count(c) > 1})
            if dupes:
                raise ValueError(f"duplicate {kind} codes {dupes}")
        return self

    @property
    def label(self) -> str:
        """``<name>_v<version>``, as recorded in decisions."""
        return f"{self.name}_v{self.version}"

    def disclose(
        self, record: Mapping[str, Any], clearance: Disclosure
    ) -> dict[str, Any]:
        """Keep the fields of a decision a reader with ``clearance`` may see.

        Fields the policy's ``disclosure`` does not list are internal, except
        :data:`ALWAYS_DISCLOSED`: every reader of a decision sees whether it
        rests on stale data, whatever the policy says.
        """
        return {
            k: v
            for k, v in record.items()
            if k in ALWAYS_DISCLOSED
            or clearance.allows(self.disclosure.get(k, Disclosure.INTERNAL))
        }

    def fact_codes(self) -> set[str]:
        """Every statutory fact code the policy refers to."""
        codes = {c for group in self.green_channel.requires_any_of for c in group}
        for cond in [r.when for r in self.rules] + [m.when for m in self.measures]:
            codes |= set(cond.facts_any or [])
        return codes

    def check_facts(
        self, known: Iterable[str], joint_punishment: Iterable[str]
    ) -> None:
        """Refuse a policy that names unknown facts or punishes without a list.

        Parameters
        ----------
        known : iterable of str
            Fact codes the rule sets define.
        joint_punishment : iterable of str
            Fact codes the rule sets mark as a legally grounded serious-
            dishonesty list (国办发〔2020〕49号).

        Raises
        ------
        ConfigurationError
            If a code is unknown, or a joint-punishment measure applies to
            anything but a serious-dishonesty list fact.
        """
        known_set, grounded = set(known), set(joint_punishment)
        unknown = sorted(self.fact_codes() - known_set)
        if unknown:
            raise ConfigurationError(
                f"Policy {self.label} names statutory facts {unknown} that no rule "
                f"set defines; known facts: {sorted(known_set)}."
            )
        for m in self.measures:
            facts = set(m.when.facts_any or [])
            if m.joint_punishment and (not facts or not facts <= grounded):
                raise ConfigurationError(
                    f"Policy {self.label}: joint-punishment measure {m.code} must "
                    "apply only to legally grounded serious-dishonesty lists "
                    f"(国办发〔2020〕49号): {sorted(grounded)}; it names "
                    f"{sorted(facts) or 'no fact'}."
                )
            if not m.joint_punishment and facts & grounded and m.code.startswith("JP"):
                raise ConfigurationError(
                    f"Policy {self.label}: measure {m.code} looks like a joint "
                    "punishment; mark it joint_punishment: true."
                )


def _policy_dir(definitions_dir: Path) -> Path:
    return Path(definitions_dir) / "models" / "policies"


def available_policies(definitions_dir: Path) -> dict[str, list[int]]:
    """Policy names and their versions found under ``models/policies``."""
    out: dict[str, list[int]] = {}
    folder = _policy_dir(definitions_dir)
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        match = _FILE.match(path.name)
        if match:
            out.setdefault(match["name"], []).append(int(match["version"]))
    return {k: sorted(v) for k, v in out.items()}


def load_policy(
    definitions_dir: Path, name: str = "zone", version: int | None = None
) -> Policy:
    """Load ``models/policies/<name>_v<version>.yaml`` (the latest if no version).

    Raises
    ------
    PolicyNotFoundError
        If no such policy file exists (the message lists those that do).
    ConfigurationError
        If the file is not a valid policy.
    """
    versions = available_policies(definitions_dir).get(name, [])
    if not versions or (version is not None and version not in versions):
        found = available_policies(definitions_dir)
        raise PolicyNotFoundError(
            f"No policy {name!r}"
            + (f" version {version}" if version is not None else "")
            + f" under {_policy_dir(definitions_dir)}; available: "
            + (", ".join(f"{k} v{v}" for k, vs in found.items() for v in vs) or "none")
        )
    chosen = version if version is not None else versions[-1]
    path = _policy_dir(definitions_dir) / f"{name}_v{chosen}.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        policy = Policy.model_validate(raw)
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigurationError(f"Invalid policy file {path}: {exc}") from exc
    if (policy.name, policy.version) != (name, chosen):
        raise ConfigurationError(
            f"Policy file {path.name} declares name={policy.name!r} "
            f"version={policy.version}; the file name must match them."
        )
    return policy
