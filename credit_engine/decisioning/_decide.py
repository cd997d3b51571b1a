"""From a model rating, the statutory facts and an override to a decision.

Precedence is fixed here, not configurable (DOMAIN.md §8.3):
statutory facts > supervisor override > policy rules > model grade.
Each layer in turn may set the tier; the decision records the highest layer
whose bound equals the final tier (``decided_by``, a
:class:`~credit_engine.vocabulary.DecidedBy`), so that a tier can always be
defended by the strongest ground it rests on.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from credit_engine.decisioning._policy import Condition, Disclosure, Policy
from credit_engine.decisioning._reasons import Reason, ReasonCatalogue, stale_reason
from credit_engine.exceptions import ConfigurationError
from credit_engine.freshness import StaleSource
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = [
    "Decision",
    "DecisionContext",
    "FactInForce",
    "Measure",
    "ModelRating",
    "Override",
    "decide",
]


@dataclass(frozen=True)
class FactInForce:
    """A statutory fact in force at the rating date (from ``credit_engine.rules``).

    Attributes
    ----------
    code, department, rule_set : str
        Fact code, department and the rule set (``CUSTOMS_282``) that yields it.
    since : datetime.date
        Since when the fact holds.
    until : datetime.date or None
        When it ends by law, if known (expiry of a list entry).
    detail : str or None
        Record details (reason code, list cause, Art. 22 item).
    ceiling : Tier or None
        Best tier the fact allows (a tier code such as ``"D"`` is accepted and
        turned into a :class:`~credit_engine.vocabulary.Tier`).
    joint_punishment, blocks_green_channel, favourable : bool
        Effects defined by the rule set.
    inspection_factor_cap, inspection_min_rate : float or None
        Statutory bounds on inspection (certified; dishonest).
    zh, en : str
        Text of the fact.
    """

    code: str
    department: str
    rule_set: str
    since: dt.date
    until: dt.date | None = None
    detail: str | None = None
    ceiling: Tier | None = None
    joint_punishment: bool = False
    blocks_green_channel: bool = False
    favourable: bool = False
    inspection_factor_cap: float | None = None
    inspection_min_rate: float | None = None
    zh: str = ""
    en: str = ""

    def __post_init__(self) -> None:
        if self.ceiling is not None and not isinstance(self.ceiling, Tier):
            object.__setattr__(self, "ceiling", _tier(self.ceiling, "ceiling", self))

    @property
    def adverse(self) -> bool:
        """Whether the fact counts against the enterprise."""
        return (
            self.ceiling is not None
            or self.blocks_green_channel
            or (self.joint_punishment)
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (dates as ISO strings)."""
        return {
            "code": self.code,
            "department": self.department,
            "rule_set": self.rule_set,
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "detail": self.detail,
            "ceiling": None if self.ceiling is None else self.ceiling.value,
            "joint_punishment": self.joint_punishment,
            "blocks_green_channel": self.blocks_green_channel,
            "favourable": self.favourable,
            "inspection_factor_cap": self.inspection_factor_cap,
            "inspection_min_rate": self.inspection_min_rate,
            "zh": self.zh,
            "en": self.en,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FactInForce:
        """Rebuild a fact from :meth:`to_dict` (for audit replay)."""
        fields = dict(data)
        fields["since"] = dt.date.fromisoformat(str(fields["since"]))
        until = fields.get("until")
        fields["until"] = dt.date.fromisoformat(str(until)) if until else None
        return cls(**fields)


@dataclass(frozen=True)
class Override:
    """A supervisor's override in force (from the operational store).

    ``tier`` accepts a tier code (``"A"``) and holds a
    :class:`~credit_engine.vocabulary.Tier`.
    """

    override_id: int
    tier: Tier
    reason: str
    actor: str

    def __post_init__(self) -> None:
        if not isinstance(self.tier, Tier):
            object.__setattr__(self, "tier", _tier(self.tier, "tier", self))


def _tier(value: object, name: str, owner: object) -> Tier:
    """Return ``value`` as a Tier, or say which field of what is not a tier."""
    try:
        return Tier(str(value))
    except ValueError:
        raise ValueError(
            f"{type(owner).__name__}.{name} must be a tier, one of "
            f"{list(Tier.values())}; got {value!r}."
        ) from None


@dataclass(frozen=True)
class ModelRating:
    """What the champion model said about one enterprise.

    Attributes
    ----------
    grade : str
        Master-scale grade (``G1``..``G7``, ``GD``).
    pd, score : float
        Calibrated PD and score.
    in_default : bool
        A default state flag was set.
    reasons : sequence of str or None
        Ranked features that raised the risk most.
    features : mapping of str to float or None
        Feature values that policy rules read.
    """

    grade: str
    pd: float
    score: float
    in_default: bool
    reasons: Sequence[str | None] = ()
    features: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """A measure applied to an enterprise."""

    code: str
    zh: str
    en: str
    basis: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form."""
        return {"code": self.code, "zh": self.zh, "en": self.en, "basis": self.basis}


@dataclass(frozen=True)
class DecisionContext:
    """What is fixed for a whole rating run.

    Attributes
    ----------
    as_of : datetime.date
        Rating date.
    policy : Policy
        Treatment policy.
    catalogue : ReasonCatalogue
        Reason codes of model factors.
    model_name, model_version : str
        Champion that graded the enterprises.
    rule_sets : mapping of str to str
        Rule set in force per regime (``{"CUSTOMS": "CUSTOMS_282", ...}``).
    stale_sources : tuple of StaleSource, default=()
        Required source tables beyond their allowed lag at ``as_of``
        (:attr:`credit_engine.freshness.FreshnessReport.stale_sources`): every
        decision of the run is marked with them and gets the reason
        ``DATA-STALE``. The caller rates the model on what the lake knew at
        their :func:`~credit_engine.freshness.knowledge_date` and the rule
        layers count no missing record of theirs past their watermark, so
        stale data can only fail to assert, never worsen a decision.
    """

    as_of: dt.date
    policy: Policy
    catalogue: ReasonCatalogue
    model_name: str
    model_version: str
    rule_sets: Mapping[str, str]
    stale_sources: tuple[StaleSource, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The treatment decision for one enterprise at one rating date.

    ``stale_sources`` lists the required source tables that were beyond their
    allowed lag at the rating date (empty when every source was current): the
    decision rests on stale data there, and says so to every reader.
    """

    uscc: str
    as_of: dt.date
    tier: Tier
    tier_label: dict[str, str]
    grade: str
    pd: float
    score: float
    in_default: bool
    model_tier: Tier
    statutory_ceiling: Tier | None
    decided_by: DecidedBy
    override_id: int | None
    green_channel: bool
    joint_punishment: bool
    joint_incentive: bool
    inspection_rate_factor: float
    inspection_rate: float
    measures: tuple[Measure, ...]
    reasons: tuple[Reason, ...]
    facts: tuple[FactInForce, ...]
    model_name: str
    model_version: str
    policy_name: str
    policy_version: int
    rule_sets: Mapping[str, str]
    stale_sources: tuple[StaleSource, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready."""
        return {
            "uscc": self.uscc,
            "as_of": self.as_of.isoformat(),
            "tier": self.tier.value,
            "tier_label": dict(self.tier_label),
            "grade": self.grade,
            "pd": self.pd,
            "score": self.score,
            "in_default": self.in_default,
            "model_tier": self.model_tier.value,
            "statutory_ceiling": _code(self.statutory_ceiling),
            "decided_by": self.decided_by.value,
            "override_id": self.override_id,
            "green_channel": self.green_channel,
            "joint_punishment": self.joint_punishment,
            "joint_incentive": self.joint_incentive,
            "inspection_rate_factor": self.inspection_rate_factor,
            "inspection_rate": self.inspection_rate,
            "measures": [m.to_dict() for m in self.measures],
            "reasons": [r.to_dict() for r in self.reasons],
            "facts": [f.to_dict() for f in self.facts],
            "model_name": self.model_name,
            "model_version": self.model_version,
            "policy_name": self.policy_name,
            "policy_version": self.policy_version,
            "rule_sets": dict(self.rule_sets),
            "stale_sources": [s.to_dict() for s in self.stale_sources],
        }

    def disclosed(self, clearance: Disclosure, policy: Policy) -> dict[str, Any]:
        """Keep the fields a reader with ``clearance`` may see (有序公开)."""
        return policy.disclose(self.to_dict(), clearance)

    def to_record(self) -> dict[str, Any]:
        """Row of the operational store's ``decisions`` table."""
        return {
            "uscc": self.uscc,
            "as_of": self.as_of,
            "tier": self.tier.value,
            "grade": self.grade,
            "pd": self.pd,
            "score": self.score,
            "in_default": self.in_default,
            "green_channel": self.green_channel,
            "decided_by": self.decided_by.value,
            "statutory_ceiling": _code(self.statutory_ceiling),
            "model_tier": self.model_tier.value,
            "inspection_rate_factor": self.inspection_rate_factor,
            "joint_punishment": self.joint_punishment,
            "joint_incentive": self.joint_incentive,
            "measures": [m.code for m in self.measures],
            "reasons": [r.code for r in self.reasons],
            "facts": [
                {
                    "code": f.code,
                    "rule_set": f.rule_set,
                    "since": f.since.isoformat(),
                    "until": f.until.isoformat() if f.until else None,
                    "detail": f.detail,
                }
                for f in self.facts
            ],
            "override_id": self.override_id,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "policy_name": self.policy_name,
            "policy_version": self.policy_version,
            "rule_sets": dict(self.rule_sets),
            "stale_sources": [s.to_dict() for s in self.stale_sources],
        }


def _code(tier: Tier | None) -> str | None:
    return None if tier is None else tier.value


_OPS = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "eq": lambda a, b: a == b,
}


def _matches(
    cond: Condition,
    codes: set[str],
    features: Mapping[str, float | None],
    *,
    tier: Tier | None = None,
    green_channel: bool | None = None,
) -> bool:
    if cond.facts_any is not None and not any(c in codes for c in cond.facts_any):
        return False
    if cond.feature is not None:
        value = features.get(cond.feature)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        assert cond.op is not None  # the model validator guarantees both
        assert cond.value is not None
        if not _OPS[cond.op](float(value), cond.value):
            return False
    if cond.tiers is not None and tier not in cond.tiers:
        return False
    return cond.green_channel is None or green_channel == cond.green_channel


def _inspection(
    policy: Policy, tier: Tier, facts: Sequence[FactInForce]
) -> tuple[float, float]:
    spec = policy.inspection
    factor = spec.factor_by_tier[tier]
    caps = [
        f.inspection_factor_cap for f in facts if f.inspection_factor_cap is not None
    ]
    if caps:
        factor = min(factor, *caps)
    rate = factor * spec.regular_rate
    floors = [f.inspection_min_rate for f in facts if f.inspection_min_rate is not None]
    if floors:
        rate = max(rate, *floors)
    rate = min(rate, 1.0)
    return rate / spec.regular_rate, rate


def _statutory_reasons(facts: Sequence[FactInForce]) -> list[Reason]:
    adverse = sorted(
        (f for f in facts if f.adverse),
        key=lambda f: (-(f.ceiling.rank if f.ceiling is not None else -1), f.code),
    )
    return [
        Reason(
            f.code,
            f.department,
            f.zh,
            f.en,
            DecidedBy.STATUTORY.value,
            f"since {f.since.isoformat()}" + (f"; {f.detail}" if f.detail else ""),
        )
        for f in adverse
    ]


def decide(
    uscc: str,
    rating: ModelRating,
    facts: Sequence[FactInForce],
    override: Override | None,
    context: DecisionContext,
) -> Decision:
    """Decide the treatment of one enterprise.

    Parameters
    ----------
    uscc : str
        Enterprise.
    rating : ModelRating
        The champion's grade, PD, score and reasons.
    facts : sequence of FactInForce
        Statutory facts in force at ``context.as_of``.
    override : Override or None
        Supervisor override in force, if any.
    context : DecisionContext
        Policy, catalogue, versions and date of the run.

    Returns
    -------
    Decision

    Raises
    ------
    ConfigurationError
        If the policy has no tier for the model's grade.
    """
    policy = context.policy
    try:
        model_tier = policy.grade_map[rating.grade]
    except KeyError as exc:
        raise ConfigurationError(
            f"Policy {policy.label} maps no tier to grade {rating.grade!r}; "
            f"its grade_map covers {sorted(policy.grade_map)}."
        ) from exc
    codes = {f.code for f in facts}

    tier = model_tier
    layer = DecidedBy.MODEL
    fired = [r for r in policy.rules if _matches(r.when, codes, rating.features)]
    policy_cap = Tier.worst(r.ceiling for r in fired)
    if policy_cap is not None and policy_cap >= tier:
        tier, layer = policy_cap, DecidedBy.POLICY
    if override is not None:
        tier, layer = override.tier, DecidedBy.OVERRIDE
    ceiling = Tier.worst(f.ceiling for f in facts)
    if ceiling is not None and ceiling >= tier:
        tier, layer = ceiling, DecidedBy.STATUTORY

    gc = policy.green_channel
    green = (
        tier == gc.tier
        and rating.grade in gc.grades
        and all(any(c in codes for c in group) for group in gc.requires_any_of)
        and not any(f.blocks_green_channel for f in facts)
    )
    factor, rate = _inspection(policy, tier, facts)
    measures = tuple(
        Measure(m.code, m.zh, m.en, m.basis)
        for m in policy.measures
        if _matches(m.when, codes, rating.features, tier=tier, green_channel=green)
    )
    incentive_codes = {m.code for m in policy.measures if m.joint_incentive}

    reasons = _statutory_reasons(facts)
    if context.stale_sources:  # first: the whole decision rests on it
        reasons.insert(0, stale_reason(context.stale_sources, context.as_of))
    if override is not None:
        reasons.append(
            Reason(
                "OVR",
                "ZONE",
                override.reason,
                override.reason,
                DecidedBy.OVERRIDE.value,
                f"override {override.override_id} by {override.actor}",
            )
        )
    reasons += [
        Reason(
            r.code,
            "ZONE",
            r.zh,
            r.en,
            DecidedBy.POLICY.value,
            f"caps the tier at {r.ceiling.value}",
        )
        for r in fired
    ]
    reasons += context.catalogue.model_reasons(rating.reasons, policy.model_reasons)

    return Decision(
        uscc=uscc,
        as_of=context.as_of,
        tier=tier,
        tier_label=policy.tiers[tier].model_dump(),
        grade=rating.grade,
        pd=float(rating.pd),
        score=float(rating.score),
        in_default=bool(rating.in_default),
        model_tier=model_tier,
        statutory_ceiling=ceiling,
        decided_by=layer,
        override_id=override.override_id if override is not None else None,
        green_channel=green,
        joint_punishment=any(f.joint_punishment for f in facts),
        joint_incentive=any(m.code in incentive_codes for m in measures),
        inspection_rate_factor=round(factor, 6),
        inspection_rate=round(rate, 6),
        measures=measures,
        reasons=tuple(reasons),
        facts=tuple(facts),
        model_name=context.model_name,
        model_version=context.model_version,
        policy_name=policy.name,
        policy_version=policy.version,
        rule_sets=dict(context.rule_sets),
        stale_sources=tuple(context.stale_sources),
    )
