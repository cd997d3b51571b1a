"""What a rating run returns: its decisions, their counts, timings, freshness."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from credit_engine.decisioning import Decision
from credit_engine.freshness import FreshnessReport
from credit_engine.store import RunRole
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["RatingResult", "RunTally", "summarise"]


def summarise(as_of: dt.date, decisions: Sequence[Decision]) -> dict[str, Any]:
    """Count a run's decisions as ``credit-engine rate --report-json`` writes them.

    Returns
    -------
    dict
        ``{"as_of", "rated", "tiers": {"A": n, ...}, "green_channel": n,
        "decided_by": {LAYER: n}, "stale_sources": {TABLE: n},
        "green_channel_by_tier": {"A": n, ...}, "joint_punishment": n,
        "joint_punishment_by_tier": {"A": n, ...}, "tier_labels": {"A":
        {"zh", "en"}, ...}}`` with every tier (best first) and layer
        (strongest first) present, keyed by their codes; ``stale_sources``
        counts the decisions marked with each stale table (empty when every
        required source was current); ``tier_labels`` names the tiers decided
        as the policy labels them.
    """
    tally = RunTally(as_of)
    tally.add(decisions)
    return tally.summary()


class RunTally:
    """The counts of :func:`summarise`, kept as decisions go by in batches.

    For a run whose decisions are streamed (e.g. from Spark into the store)
    and never held together: ``summary()`` after the last ``add`` equals
    ``summarise(as_of, every decision)``.

    Parameters
    ----------
    as_of : datetime.date
        The run's rating date.

    Examples
    --------
    >>> tally = RunTally(dt.date(2026, 6, 30))
    >>> tally.summary()["rated"]
    0
    """

    def __init__(self, as_of: dt.date) -> None:
        self.as_of = as_of
        self.rated = 0
        self.green_channel = 0
        self.tiers: Counter[Tier] = Counter()
        self.layers: Counter[DecidedBy] = Counter()
        self.stale: Counter[str] = Counter()
        self.green_by_tier: Counter[Tier] = Counter()
        self.joint_by_tier: Counter[Tier] = Counter()
        self.labels: dict[Tier, dict[str, str]] = {}

    def add(self, decisions: Sequence[Decision]) -> None:
        """Count a batch of decisions."""
        self.rated += len(decisions)
        self.tiers.update(d.tier for d in decisions)
        self.layers.update(d.decided_by for d in decisions)
        self.stale.update(s.table for d in decisions for s in d.stale_sources)
        self.green_channel += sum(d.green_channel for d in decisions)
        self.green_by_tier.update(d.tier for d in decisions if d.green_channel)
        self.joint_by_tier.update(d.tier for d in decisions if d.joint_punishment)
        for d in decisions:
            if d.tier not in self.labels:
                self.labels[d.tier] = dict(d.tier_label)

    def summary(self) -> dict[str, Any]:
        """Return the counts so far, as :func:`summarise` returns them."""
        return {
            "as_of": self.as_of.isoformat(),
            "rated": self.rated,
            "tiers": {t.value: self.tiers.get(t, 0) for t in Tier},
            "green_channel": self.green_channel,
            "decided_by": {by.value: self.layers.get(by, 0) for by in DecidedBy},
            "stale_sources": dict(sorted(self.stale.items())),
            "green_channel_by_tier": {t.value: self.green_by_tier[t] for t in Tier},
            "joint_punishment": sum(self.joint_by_tier.values()),
            "joint_punishment_by_tier": {t.value: self.joint_by_tier[t] for t in Tier},
            "tier_labels": {t.value: self.labels[t] for t in Tier if t in self.labels},
        }


@dataclass
class RatingResult:
    """Outcome of one rating run.

    Attributes
    ----------
    run_id : int or None
        Run id in the operational store (None when not stored).
    decisions : list of Decision
        One per enterprise, ordered by USCC (empty when the caller asked not
        to keep them, e.g. rating many dates).
    summary : dict
        :func:`summarise` of the decisions.
    timings : dict of str to float
        Seconds per step.
    model_name, model_version : str
        The model version that graded.
    role : RunRole
        ``served`` (the zone's decisions) or ``shadow``.
    shadow : list of RatingResult
        The shadow runs made with this served run (same date and inputs).
    features : pandas.DataFrame or None
        The feature rows rated, when the caller asked to keep them (e.g. for
        the CSI of a monitoring report at this date).
    freshness : FreshnessReport or None
        The sources' freshness at the rating date (its stale sources mark
        every decision).
    """

    run_id: int | None
    decisions: list[Decision]
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    model_name: str = ""
    model_version: str = ""
    role: RunRole = RunRole.SERVED
    shadow: list[RatingResult] = field(default_factory=list)
    features: pd.DataFrame | None = field(default=None, repr=False)
    freshness: FreshnessReport | None = field(default=None, repr=False)

    def to_json_dict(self) -> dict[str, Any]:
        """Return the summary with the model, role, run id and shadow runs."""
        out: dict[str, Any] = dict(self.summary)
        out["run_id"] = self.run_id
        out["model"] = {"name": self.model_name, "version": self.model_version}
        out["role"] = self.role.value
        if self.shadow:
            out["shadow"] = [s.to_json_dict() for s in self.shadow]
        return out
