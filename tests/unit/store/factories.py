"""Factories of valid rating runs, decisions and USCCs for the store tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from credit_engine.store import RatingRun
from credit_engine.uscc import USCC_ALPHABET, check_character

T0 = dt.datetime(2025, 10, 1, 2, 0, tzinfo=dt.UTC)


def uscc(n: int) -> str:
    """The n-th test USCC: valid, distinct, and ordered like ``n``."""
    digits = []
    for _ in range(9):
        n, r = divmod(n, len(USCC_ALPHABET))
        digits.append(USCC_ALPHABET[r])
    body = "91350200" + "".join(reversed(digits))
    return body + check_character(body)


def make_run(as_of: dt.date, **overrides: Any) -> RatingRun:
    fields: dict[str, Any] = {
        "as_of": as_of,
        "started_at": T0,
        "finished_at": T0 + dt.timedelta(minutes=5),
        "actor": "rating-job",
        "model_name": "credit_engine.sme_pd",
        "model_version": "3",
        "policy_name": "treatment",
        "policy_version": 2,
        "rule_sets": {"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2024"},
        "lake_state": "commit-0042",
        "summary": {"tiers": {"A": 1}},
    }
    fields.update(overrides)
    return RatingRun(**fields)


def decision(code: str, tier: str = "B", **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "uscc": code,
        "tier": tier,
        "grade": "G3",
        "pd": 0.02,
        "score": 610.5,
        "in_default": False,
        "green_channel": tier == "A",
        "decided_by": "MODEL",
        "statutory_ceiling": None,
        "model_tier": tier,
        "inspection_rate_factor": 1.0,
        "joint_punishment": False,
        "joint_incentive": tier == "A",
        "measures": ["M_STD"],
        "reasons": ["R_GRADE"],
        "facts": [{"code": "R_GRADE", "grade": "G3", "pd": 0.02}],
    }
    row.update(overrides)
    return row


def decisions_frame(tiers: dict[str, str]) -> pd.DataFrame:
    """A decisions frame from {uscc: tier}."""
    return pd.DataFrame([decision(code, tier) for code, tier in tiers.items()])
