"""Texts about enterprises, in Chinese and English, from the engine's own data.

Stored decisions keep codes (measures, reasons, facts); their texts come from
where the engine defines them: measures and zone rules from the policy,
statutory facts from the rule sets, model reasons from the reason-code
catalogue (``features/reason_codes.yaml``). Nothing here is UI wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credit_engine.decisioning import Policy, ReasonCatalogue
from credit_engine.rules import RuleBook
from credit_engine.vocabulary import DecidedBy

__all__ = ["EnterpriseTexts"]


class EnterpriseTexts:
    """Look up the department and zh/en texts of measure, reason and fact codes.

    Parameters
    ----------
    policy : Policy
        The treatment policy (measures, zone rules, tier labels).
    rulebook : RuleBook
        The statutory rule sets (facts).
    catalogue : ReasonCatalogue
        The model's reason codes.
    """

    def __init__(
        self, policy: Policy, rulebook: RuleBook, catalogue: ReasonCatalogue
    ) -> None:
        self.policy = policy
        self.measures = {
            m.code: {"code": m.code, "zh": m.zh, "en": m.en, "basis": m.basis}
            for m in policy.measures
        }
        self.rules = {
            r.code: {
                "code": r.code,
                "department": "ZONE",
                "zh": r.zh,
                "en": r.en,
                "source": DecidedBy.POLICY.value,
            }
            for r in policy.rules
        }
        self.facts: dict[str, dict[str, Any]] = {}
        self.fact_by_rule_set: dict[tuple[str, str], dict[str, Any]] = {}
        for rule_set in rulebook.rule_sets:
            for code, spec in rule_set.facts.items():
                entry = {
                    "code": code,
                    "department": str(spec.department.value),
                    "zh": spec.zh,
                    "en": spec.en,
                    "favourable": spec.favourable,
                    "ceiling": None if spec.ceiling is None else str(spec.ceiling),
                    "joint_punishment": spec.joint_punishment,
                }
                self.facts[code] = entry
                self.fact_by_rule_set[(rule_set.id, code)] = entry
        self.model_reasons: dict[str, dict[str, Any]] = {}
        for found in [*catalogue.views.values(), *catalogue.features.values()]:
            self.model_reasons[found.code] = {
                "code": found.code,
                "department": found.department,
                "zh": found.zh,
                "en": found.en,
                "source": DecidedBy.MODEL.value,
            }

    def tier_label(self, tier: str) -> dict[str, str]:
        """Return the policy's zh/en name of a tier."""
        from credit_engine.vocabulary import Tier

        label = self.policy.tiers.get(Tier(tier))
        return {"zh": tier, "en": tier} if label is None else label.model_dump()

    def measure(self, code: str) -> dict[str, Any]:
        """Return a measure's texts and legal basis (the code alone if unknown)."""
        return self.measures.get(
            code, {"code": code, "zh": code, "en": code, "basis": ""}
        )

    def reason(self, code: str) -> dict[str, Any]:
        """Return a reason code's department, texts and layer."""
        if code in self.rules:
            return self.rules[code]
        if code in self.model_reasons:
            return self.model_reasons[code]
        if code in self.facts:
            fact = self.facts[code]
            return {**fact, "source": DecidedBy.STATUTORY.value}
        if code == "OVR":
            return {
                "code": code,
                "department": "ZONE",
                "zh": "监管人员调整",
                "en": "Supervisor override",
                "source": DecidedBy.OVERRIDE.value,
            }
        return {"code": code, "department": "", "zh": code, "en": code, "source": ""}

    def fact(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        """Return a stored fact (code, rule set, since, until) with its texts."""
        code = str(stored.get("code"))
        spec = self.fact_by_rule_set.get((str(stored.get("rule_set")), code)) or (
            self.facts.get(
                code, {"code": code, "department": "", "zh": code, "en": code}
            )
        )
        return {
            **spec,
            **{k: v for k, v in stored.items() if v is not None or k not in spec},
        }

    def department_of(self, code: str) -> str | None:
        """Return the department a reason or fact code comes from (or ``None``)."""
        found = self.reason(code).get("department")
        return str(found) if found else None
