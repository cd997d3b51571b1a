"""Pydantic models of the feature definitions (``features/views``, ``features/sets``).

A *view* computes features from one source table (or, for a derived view, from
other features); a *feature set* lists the features one model uses, versioned
``<name>_v<N>``. The files are data: loading them never executes code.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "Aggregation",
    "FeatureSet",
    "FeatureSpec",
    "FeatureView",
    "Missing",
    "RiskDirection",
    "ViewKind",
    "parse_window",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_WINDOW = re.compile(r"^(\d+)d$")
_SET_NAME = re.compile(r"^[a-z][a-z0-9_]*_v\d+$")


class ViewKind(StrEnum):
    """What a view reads: an event table, a state table, or other features."""

    EVENT = "event"
    STATE = "state"
    DERIVED = "derived"


class Aggregation(StrEnum):
    """How a feature is computed from the records of its view.

    Event views: ``count``, ``sum``, ``mean``, ``min``, ``max``, ``count_distinct``,
    ``share`` (rows matching ``where`` among all rows of the window),
    ``days_since_last``, ``latest`` (value on the latest event), ``max_share_by``
    (largest share of ``column`` held by one value of ``by``), ``present`` (1 if
    the enterprise has any record in the source known at as_of, else 0).
    State views: ``current`` (value of the spell in force), ``active`` (1 if a
    spell matching ``where`` is in force), ``days_active`` (days since the spell in
    force started), ``starts`` (spells that started inside the window), ``present``.
    Derived views: ``transform``.
    """

    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    COUNT_DISTINCT = "count_distinct"
    SHARE = "share"
    DAYS_SINCE_LAST = "days_since_last"
    LATEST = "latest"
    MAX_SHARE_BY = "max_share_by"
    PRESENT = "present"
    CURRENT = "current"
    ACTIVE = "active"
    DAYS_ACTIVE = "days_active"
    STARTS = "starts"
    TRANSFORM = "transform"


EVENT_AGGS = {
    Aggregation.COUNT,
    Aggregation.SUM,
    Aggregation.MEAN,
    Aggregation.MIN,
    Aggregation.MAX,
    Aggregation.COUNT_DISTINCT,
    Aggregation.SHARE,
    Aggregation.DAYS_SINCE_LAST,
    Aggregation.LATEST,
    Aggregation.MAX_SHARE_BY,
    Aggregation.PRESENT,
}
STATE_AGGS = {
    Aggregation.CURRENT,
    Aggregation.ACTIVE,
    Aggregation.DAYS_ACTIVE,
    Aggregation.STARTS,
    Aggregation.PRESENT,
}
NEEDS_VALUE = {
    Aggregation.SUM,
    Aggregation.MEAN,
    Aggregation.MIN,
    Aggregation.MAX,
    Aggregation.COUNT_DISTINCT,
    Aggregation.LATEST,
    Aggregation.MAX_SHARE_BY,
    Aggregation.CURRENT,
}
COUNT_LIKE = {
    Aggregation.COUNT,
    Aggregation.SUM,
    Aggregation.COUNT_DISTINCT,
    Aggregation.STARTS,
    Aggregation.ACTIVE,
}
"""Aggregations that are 0 (not null) when the source has records but none match."""


class RiskDirection(StrEnum):
    """How credit risk moves with the feature's value (for validators and models)."""

    INCREASING = "increasing"
    DECREASING = "decreasing"
    NONE = "none"


class Missing(StrEnum):
    """What having no record in the source means for an enterprise.

    ``null``: unknown (the department has shared nothing on it); features are null
    and stay distinguishable from zero. ``zero``: nothing happened (no penalty, never
    listed); count-like features are 0.
    """

    NULL = "null"
    ZERO = "zero"


def parse_window(window: str | None) -> int | None:
    """Return the window length in days (``None`` for ``all`` or no window).

    Examples
    --------
    >>> parse_window("90d"), parse_window("all"), parse_window(None)
    (90, None, None)
    """
    if window is None or window == "all":
        return None
    match = _WINDOW.match(window)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"window {window!r} must look like '90d', '365d' or 'all'")
    return int(match.group(1))


class FeatureSpec(BaseModel):
    """One feature of a view.

    Parameters
    ----------
    name : str
        Name inside the view; the full name is ``<view>__<name>``.
    agg : Aggregation
        How the feature is computed.
    description : str
        Meaning, for people (docs/features.md).
    risk : RiskDirection
        Direction of risk as the value grows.
    column, expr : str, optional
        The value aggregated: a source column, or an SQL expression over source
        columns and ``as_of`` (DuckDB dialect, transpiled for Spark).
    where : str, optional
        SQL condition on the records counted (and the numerator of ``share``).
    window : str, optional
        ``<N>d`` or ``all`` (default ``all``).
    by : str, optional
        Grouping column of ``max_share_by``.
    map : dict, optional
        Code to number map applied to ``current``/``latest`` (e.g. levels to ordinals).
    transform : str, optional
        Named transform of a derived feature (see ``_transforms``).
    inputs : list of str, optional
        Inputs of the transform: ``view:feature`` references or numbers.
    params : dict, optional
        Parameters of the transform (thresholds live here, not in code).
    requires : list of str, optional
        Source columns that must have a value in at least one record of the
        window for a count, sum, count of distinct values or share to be known:
        where the enterprise has records in the window but none of them has a
        value in these columns, the feature is null (unknown), not 0. The
        contract's extension columns a feature reads are always required.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    agg: Aggregation
    description: str
    risk: RiskDirection = RiskDirection.NONE
    column: str | None = None
    expr: str | None = None
    where: str | None = None
    window: str | None = None
    by: str | None = None
    map: dict[str, float] | None = None
    transform: str | None = None
    inputs: tuple[str | float, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    requires: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        problems = []
        if not _NAME.match(self.name) or "__" in self.name:
            problems.append(f"name {self.name!r} must be snake_case without '__'")
        if self.column is not None and self.expr is not None:
            problems.append("give either 'column' or 'expr', not both")
        if self.agg in NEEDS_VALUE and self.column is None and self.expr is None:
            problems.append(f"agg {self.agg.value!r} needs a 'column' or an 'expr'")
        if self.agg is Aggregation.MAX_SHARE_BY and self.by is None:
            problems.append("agg 'max_share_by' needs 'by'")
        if (self.agg is Aggregation.TRANSFORM) != (self.transform is not None):
            problems.append("'transform' is given exactly for agg 'transform'")
        if self.agg is Aggregation.TRANSFORM and not self.inputs:
            problems.append("a transform needs 'inputs'")
        try:
            parse_window(self.window)
        except ValueError as exc:
            problems.append(str(exc))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def window_days(self) -> int | None:
        """Window length in days, ``None`` for all history."""
        return parse_window(self.window)


class FeatureView(BaseModel):
    """A group of features computed from one source (or from other features).

    Parameters
    ----------
    name : str
        View name, the prefix of its features' names.
    kind : ViewKind
        ``event``, ``state`` (must match the source's kind) or ``derived``.
    source : str, optional
        Contract table read by the view (not for derived views).
    description : str
        What the view covers.
    missing : Missing
        Meaning of having no record in the source (default ``null``).
    where : str, optional
        Condition applied to every record of the view.
    features : list of FeatureSpec
        The features.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    kind: ViewKind
    source: str | None = None
    description: str
    missing: Missing = Missing.NULL
    where: str | None = None
    features: tuple[FeatureSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> FeatureView:
        problems = []
        if not _NAME.match(self.name) or "__" in self.name:
            problems.append(f"view name {self.name!r} must be snake_case without '__'")
        if (self.kind is ViewKind.DERIVED) == (self.source is not None):
            problems.append("a derived view has no 'source'; other views need one")
        allowed = {
            ViewKind.EVENT: EVENT_AGGS,
            ViewKind.STATE: STATE_AGGS,
            ViewKind.DERIVED: {Aggregation.TRANSFORM},
        }[self.kind]
        for f in self.features:
            if f.agg not in allowed:
                problems.append(
                    f"feature {f.name!r}: agg {f.agg.value!r} is not allowed in a "
                    f"{self.kind.value} view "
                    f"(allowed: {sorted(a.value for a in allowed)})"
                )
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"duplicate features {dupes}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def full_name(self, feature: str) -> str:
        """Column name of ``feature``: ``<view>__<feature>``."""
        return f"{self.name}__{feature}"


class FeatureSet(BaseModel):
    """The features one model uses, versioned ``<name>_v<N>``.

    Parameters
    ----------
    name : str
        Versioned name, e.g. ``credit_v1``.
    description : str
        What the set is for.
    features : list of str
        ``view:feature`` references; ``view:*`` takes every feature of a view.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    description: str
    features: tuple[str, ...]

    @model_validator(mode="after")
    def _check(self) -> FeatureSet:
        if not _SET_NAME.match(self.name):
            raise ValueError(f"feature set name {self.name!r} must look like 'name_v1'")
        bad = [f for f in self.features if f.count(":") != 1]
        if bad:
            raise ValueError(
                f"references must be 'view:feature' or 'view:*'; got {bad}"
            )
        return self
