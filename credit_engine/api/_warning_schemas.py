"""Request and response bodies of the early-warning endpoints (``/v1/warnings``).

Case-file fields (the evidence, the notes, who acknowledged or closed a warning)
are optional in the schemas because data scientists do not see them: a field
left out of a response was withheld, not missing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from credit_engine.store import WarningStatus
from credit_engine.vocabulary import Tier

__all__ = [
    "AcknowledgeRequest",
    "CloseRequest",
    "SignalPublic",
    "WarningDetail",
    "WarningOccurrence",
    "WarningPublic",
    "WarningTransitionResponse",
    "WarningsPage",
]

NOTE_MAX = 4000
"""Longest note a supervisor may write."""

NOTE_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
"""A note: no NUL or other control character (tab and line breaks allowed)."""

CLOSE_NOTE_PATTERN = (
    r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*[^\x00-\x20\x7F]"
    r"[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F]*$"
)
"""A closing note: as :data:`NOTE_PATTERN`, with something besides spaces."""


class SignalPublic(BaseModel):
    """A signal of the signals file: what it means and how much it weighs."""

    code: str = Field(description="Stable signal code, e.g. EW-04")
    version: int = Field(description="Version of the signals file")
    kind: str = Field(description="feature_rule, grade_jump or statutory_fact")
    department: str = Field(description="CUSTOMS, TAX, SAFE, SAMR or CROSS")
    weight: float = Field(description="Share of an enterprise's priority")
    name: dict[str, str] = Field(description="zh and en name")
    explanation: dict[str, str] = Field(description="zh and en explanation")


class WarningOccurrence(BaseModel):
    """One evaluation date the warning's signal fired."""

    model_config = ConfigDict(extra="allow")

    as_of: dt.date
    priority: float
    evidence: dict[str, Any] | None = Field(
        default=None,
        description="The numbers that fired it (withheld for data scientists)",
    )


class WarningPublic(BaseModel):
    """An early warning, reduced to the fields the caller's role may see."""

    model_config = ConfigDict(extra="allow")

    warning_id: int
    uscc: str
    signal: str = Field(description="Signal code, e.g. EW-04")
    signals_version: int
    department: str | None = Field(default=None, description="Department of the signal")
    signal_name: dict[str, str] | None = Field(
        default=None, description="zh and en name of the signal"
    )
    status: WarningStatus = Field(description="new, acknowledged or closed")
    first_as_of: dt.date = Field(description="Evaluation date it was first raised")
    last_as_of: dt.date = Field(description="Latest evaluation date it fired")
    times_seen: int = Field(description="Evaluation dates it fired")
    priority: float = Field(
        description="Its enterprise's priority at the latest date (sum of the "
        "weights of the signals that fired for it)"
    )
    tier: Tier | None = Field(
        default=None, description="The enterprise's stored tier at the latest date"
    )
    grade: str | None = None
    pd: float | None = None
    evidence: dict[str, Any] | None = Field(
        default=None, description="The numbers that fired it at the latest date"
    )
    created_at: dt.datetime
    updated_at: dt.datetime
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None
    acknowledge_note: str | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    close_note: str | None = None


class WarningsPage(BaseModel):
    """A page of warnings, most urgent first."""

    data: list[WarningPublic]
    count: int = Field(description="Warnings matching the filters (all pages)")
    page: int
    page_size: int
    signals: list[SignalPublic] = Field(
        description="The signals of the latest signals file (codes to filter by)"
    )
    audit_seq: int = Field(description="Audit-log entry recording this read")


class WarningDetail(BaseModel):
    """One warning, its signal and every evaluation date it fired."""

    warning: WarningPublic
    signal: SignalPublic | None = None
    occurrences: list[WarningOccurrence]
    audit_seq: int


class AcknowledgeRequest(BaseModel):
    """Acknowledge a new warning: it is being looked at."""

    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(
        default=None,
        max_length=NOTE_MAX,
        pattern=NOTE_PATTERN,
        description="What is being done (optional; no control characters)",
    )


class CloseRequest(BaseModel):
    """Close a warning: what was found, why it is closed."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        min_length=1,
        max_length=NOTE_MAX,
        pattern=CLOSE_NOTE_PATTERN,
        description="Required: what was found or why the warning is dismissed "
        "(not blank; no control characters)",
    )


class WarningTransitionResponse(BaseModel):
    """The warning after the move and the audit entry that recorded it."""

    warning: WarningPublic
    audit_seq: int
