"""The scoring and supervision API (FastAPI), versioned under ``/v1``.

:func:`create_app` builds the app; ``credit-engine serve`` runs it with uvicorn
(``uvicorn --factory credit_engine.api:create_app`` works too). Inspection
systems score enterprises; supervisors read tiers, histories and lists and record
overrides; data scientists read models and policy; admins reload the champion.
Every decision served is appended to the hash-chained audit log first.
"""

from __future__ import annotations

from credit_engine.api._app import create_app
from credit_engine.api._service import ScoringService, ServedDecision, ServingState
from credit_engine.api._serving import Services

__all__ = ["ScoringService", "ServedDecision", "Services", "ServingState", "create_app"]
