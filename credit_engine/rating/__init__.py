"""Rating runs: every enterprise at a date, from lake to stored decisions.

:class:`RatingEngine` loads the policy, the rule sets, the champion model and
the operational store once; :meth:`RatingEngine.rate` builds the features known
at the rating date, rates them, derives the statutory facts, applies overrides
and the policy (:mod:`credit_engine.decisioning`) and records the run.
"""

from __future__ import annotations

from credit_engine.rating._replay import (
    ReplayResult,
    decision_payload,
    replay_decision,
)
from credit_engine.rating._run import RatingEngine, RatingResult, summarise

__all__ = [
    "RatingEngine",
    "RatingResult",
    "ReplayResult",
    "decision_payload",
    "replay_decision",
    "summarise",
]
