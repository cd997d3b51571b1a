"""Request and response bodies of the API (pydantic; they make the OpenAPI document).

Decision fields are all optional in the schemas because each caller sees only
the fields its role is cleared for (the policy's disclosure levels): a field
left out of a response was withheld, not missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from credit_engine.uscc import USCC_LENGTH
from credit_engine.vocabulary import DecidedBy, Department, Tier

__all__ = [
    "USCC_PATTERN",
    "SafeText",
    "Uscc",
    "BatchScoreRequest",
    "BatchScoreResponse",
    "DecisionPublic",
    "FactPublic",
    "HistoryResponse",
    "MeasurePublic",
    "ModelsResponse",
    "OverrideRequest",
    "OverrideResponse",
    "Problem",
    "FreshnessPublic",
    "RatingsPage",
    "ReadyResponse",
    "ReasonPublic",
    "ReloadResponse",
    "ScoreRequest",
    "ScoreResponse",
    "StaleSourcePublic",
]

MAX_BATCH = 1000
"""Most USCCs one batch call may ask for."""

USCC_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"
"""A USCC's form: 18 characters of the GB 32100 set (digits and upper-case
letters but I, O, S, V, Z). The 18th is a check character the schema cannot
express: a code of this form with a wrong one is refused with 422
``invalid_uscc`` naming the expected character."""

Uscc = Annotated[
    str,
    StringConstraints(
        min_length=USCC_LENGTH, max_length=USCC_LENGTH, pattern=USCC_PATTERN
    ),
    Field(
        description="Unified Social Credit Code (GB 32100-2015): 18 characters, "
        "the last a check character",
        examples=["91350200MA2Y0K3Q0N"],
    ),
]
"""A USCC in a request body: its form is checked by the schema."""

SAFE_TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
"""Text without NUL and other control characters (tab and line breaks allowed)."""

SafeText = Annotated[str, StringConstraints(pattern=SAFE_TEXT_PATTERN)]
"""Free text from a client: control characters (NUL ...) are refused with 422."""


class _Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class MeasurePublic(_Out):
    """A measure applied, with its legal basis."""

    code: str
    zh: str
    en: str
    basis: str | None = None


class ReasonPublic(_Out):
    """An adverse factor: a stable code per department, in Chinese and English."""

    code: str
    department: str | None = None
    zh: str | None = None
    en: str | None = None
    source: DecidedBy | None = Field(
        default=None, description="Layer the reason comes from"
    )
    detail: str | None = None


class FactPublic(_Out):
    """A statutory fact in force at the rating date."""

    code: str
    department: Department | None = None
    rule_set: str
    since: dt.date
    until: dt.date | None = None
    detail: str | None = None
    ceiling: Tier | None = Field(
        default=None, description="Best tier the fact allows (none: no bound)"
    )


# --- data freshness ---------------------------------------------------------
class StaleSourcePublic(_Out):
    """A required source table beyond its allowed lag at the rating date."""

    table: str
    department: Department
    watermark: dt.datetime | None = Field(
        default=None, description="Its latest delivery known (null: never delivered)"
    )
    age_days: int | None = Field(
        default=None, description="Days from that delivery to the rating date"
    )
    allowed_lag_days: int
    since: dt.date | None = Field(
        default=None, description="First day it is stale (readiness only)"
    )


class FreshnessPublic(_Out):
    """How current the data served is: the serving date against the lake's."""

    status: Literal["fresh", "stale"] = Field(
        description="stale: decisions served rest on stale sources and say so"
    )
    serving_date: dt.date
    serving_reason: str = Field(description="Why this date is served")
    freshness_date: dt.date | None = Field(
        default=None, description="Latest date at which no required source is stale"
    )
    stale_departments: list[Department]
    stale_sources: list[StaleSourcePublic]
    reason: str | None = Field(
        default=None, description="Which sources are stale and since when"
    )


class ReadyResponse(_Out):
    """Readiness: a model is loaded. ``degraded``: ready, on stale data.

    A degraded service still answers 200 (it must stay in the load balancer);
    ``freshness.reason`` says which departments and tables are stale since
    when.
    """

    status: Literal["ready", "degraded"]
    reason: str | None = Field(
        default=None, description="The last load's problem, if any"
    )
    freshness: FreshnessPublic | None = None


# --- end data freshness -----------------------------------------------------
class DecisionPublic(_Out):
    """A decision, reduced to the fields the caller's role may see."""

    uscc: str | None = None
    as_of: dt.date | None = None
    tier: Tier | None = Field(default=None, description="Treatment tier A (best) .. D")
    tier_label: dict[str, str] | None = None
    grade: str | None = Field(default=None, description="Master-scale grade G1..G7, GD")
    pd: float | None = Field(default=None, description="Calibrated 12-month PD")
    score: float | None = None
    in_default: bool | None = None
    model_tier: Tier | None = Field(
        default=None, description="Tier the model's grade maps to"
    )
    statutory_ceiling: Tier | None = Field(
        default=None, description="Best tier the statutory facts allow"
    )
    decided_by: DecidedBy | None = Field(
        default=None, description="Layer that fixed the tier, strongest first"
    )
    override_id: int | None = None
    green_channel: bool | None = None
    joint_punishment: bool | None = None
    joint_incentive: bool | None = None
    inspection_rate_factor: float | None = Field(
        default=None, description="Inspection rate as a multiple of the regular rate"
    )
    inspection_rate: float | None = None
    measures: list[MeasurePublic | str] | None = None
    reasons: list[ReasonPublic | str] | None = None
    facts: list[FactPublic | dict[str, Any]] | None = None
    model_name: str | None = None
    model_version: str | None = None
    policy_name: str | None = None
    policy_version: int | None = None
    rule_sets: dict[str, str] | None = None
    stale_sources: list[StaleSourcePublic] | None = Field(
        default=None,
        description="Required sources beyond their allowed lag at the rating "
        "date (empty: the data was current); shown to every role",
    )


class ScoreRequest(BaseModel):
    """Score one enterprise."""

    model_config = ConfigDict(extra="forbid")

    uscc: Uscc
    as_of: dt.date | None = Field(
        default=None,
        description="Rating date; default: the serving date (fast path). Another "
        "date computes features and facts from the lake (slower) and must lie "
        "in the covered range (GET /v1/models: covered_from, covered_to; 422 "
        "naming it otherwise).",
    )


class BatchScoreRequest(BaseModel):
    """Score up to 1,000 enterprises in one call."""

    model_config = ConfigDict(extra="forbid")

    usccs: list[Uscc] = Field(min_length=1, max_length=MAX_BATCH)
    as_of: dt.date | None = Field(
        default=None,
        description="Rating date, as in POST /v1/scores (another date than the "
        "serving date: slower, run in a bounded pool)",
    )


class ScoreResponse(BaseModel):
    """One decision and the audit-log entry that recorded it."""

    decision: DecisionPublic
    audit_seq: int = Field(description="Sequence number of the audit-log entry")


class BatchScoreResponse(BaseModel):
    """Decisions in the order asked, each recorded in the audit log."""

    data: list[DecisionPublic]
    count: int
    audit_seqs: list[int]


class RatingsPage(BaseModel):
    """A page of the latest stored rating run, filtered."""

    as_of: dt.date
    run_id: int | None = None
    data: list[DecisionPublic]
    count: int = Field(description="Decisions matching the filters (all pages)")
    page: int
    page_size: int
    override_rate: float = Field(
        description="Share of the run's decisions decided by a supervisor override"
    )


class HistoryResponse(BaseModel):
    """Stored decisions of one enterprise, one per rating date, and its overrides."""

    uscc: str
    data: list[DecisionPublic]
    overrides: list[dict[str, Any]]


class OverrideRequest(BaseModel):
    """A supervisor's override of an enterprise's tier."""

    model_config = ConfigDict(extra="forbid")

    tier: Tier
    reason: SafeText = Field(
        min_length=3,
        max_length=2000,
        description="Why (shown to auditors); no control characters",
    )
    effective_from: dt.date | None = Field(
        default=None,
        description=(
            "First day in force (default: the serving date, i.e. the lake's "
            "freshness date unless the service was started at another date)"
        ),
    )
    effective_to: dt.date | None = Field(
        default=None, description="First day no longer in force (exclusive)"
    )


class OverrideResponse(BaseModel):
    """The override recorded and the decision it gives now."""

    override_id: int
    uscc: str
    tier: Tier
    reason: str
    actor: str
    effective_from: dt.date
    effective_to: dt.date | None = None
    decision: DecisionPublic
    audit_seq: int


class ModelsResponse(BaseModel):
    """The model being served and the registry's versions."""

    serving: dict[str, Any]
    registered: list[dict[str, Any]]


class ReloadResponse(BaseModel):
    """Outcome of an admin reload."""

    reloaded: bool
    serving: dict[str, Any]
    error: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error response."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None
