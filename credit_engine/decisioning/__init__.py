"""Treatment decisions: model grade, policy, override and statutory facts to a tier.

:func:`decide` applies the fixed precedence statutory facts > supervisor
override > policy rules > model grade, then the green channel, measures
(joint incentives and punishments), the inspection-rate factor and reasons
with stable codes. The policy (``models/policies/<name>_v<N>.yaml``) is data,
versioned apart from the models; see :func:`load_policy`.

Tiers and deciding layers are :class:`credit_engine.vocabulary.Tier` and
:class:`credit_engine.vocabulary.DecidedBy`: ``Decision.tier`` is a ``Tier``
(ordered by rank, ``Tier.A < Tier.D``), ``Decision.decided_by`` a ``DecidedBy``.
"""

from __future__ import annotations

from credit_engine.decisioning._batch import (
    decide_frame,
    facts_by_uscc,
    model_ratings,
    overrides_by_uscc,
    policy_features,
)
from credit_engine.decisioning._decide import (
    Decision,
    DecisionContext,
    FactInForce,
    Measure,
    ModelRating,
    Override,
    decide,
)
from credit_engine.decisioning._policy import (
    ALWAYS_DISCLOSED,
    Condition,
    Disclosure,
    GreenChannelSpec,
    InspectionSpec,
    MeasureSpec,
    Policy,
    PolicyRule,
    available_policies,
    load_policy,
)
from credit_engine.decisioning._reasons import (
    STALE_REASON_CODE,
    Reason,
    ReasonCatalogue,
    ReasonCatalogueEntry,
    stale_reason,
)

__all__ = [
    "ALWAYS_DISCLOSED",
    "STALE_REASON_CODE",
    "Condition",
    "Decision",
    "DecisionContext",
    "Disclosure",
    "FactInForce",
    "GreenChannelSpec",
    "InspectionSpec",
    "Measure",
    "MeasureSpec",
    "ModelRating",
    "Override",
    "Policy",
    "PolicyRule",
    "Reason",
    "ReasonCatalogue",
    "ReasonCatalogueEntry",
    "available_policies",
    "decide",
    "decide_frame",
    "facts_by_uscc",
    "load_policy",
    "model_ratings",
    "overrides_by_uscc",
    "policy_features",
    "stale_reason",
]
