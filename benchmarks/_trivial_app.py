"""The trivial baseline: a FastAPI endpoint that parses the same body and answers."""

from __future__ import annotations

from fastapi import FastAPI

from credit_engine.api._schemas import ScoreRequest

app = FastAPI()


@app.post("/v1/scores")
def score(body: ScoreRequest) -> dict[str, object]:
    """Answer a constant decision: the cost of the framework and server alone."""
    return {"decision": {"uscc": body.uscc, "tier": "B"}, "audit_seq": 0}
