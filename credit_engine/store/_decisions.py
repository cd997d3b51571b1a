"""Rating runs and their decisions: validation and conversion to insertable rows.

Validation is lazy: a pandera schema (:mod:`credit_engine.store._decision_schema`)
collects every problem of a decisions frame (with counts and up to five examples),
reported in one :class:`StoreError`. Conversion works column by column, so that
100,000 decisions become plain dicts in about a second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from credit_engine.exceptions import StoreError
from credit_engine.store._cell_values import as_list, is_str_mapping, numbers
from credit_engine.store._schema import RunRole

__all__ = [
    "DECISION_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "RUN_COLUMNS",
    "RatingRun",
    "decision_rows",
    "is_str_mapping",
    "run_row",
]

REQUIRED_COLUMNS: tuple[str, ...] = (
    "uscc",
    "tier",
    "grade",
    "pd",
    "score",
    "in_default",
    "green_channel",
    "decided_by",
    "model_tier",
    "inspection_rate_factor",
    "joint_punishment",
    "joint_incentive",
    "measures",
    "reasons",
    "facts",
)
"""Columns every decisions frame must have."""

OPTIONAL_COLUMNS: tuple[str, ...] = (
    "statutory_ceiling",
    "override_id",
    "stale_sources",
)
"""Columns a decisions frame may omit (``stale_sources``: an empty list; the
others NULL)."""

RUN_COLUMNS: tuple[str, ...] = (
    "as_of",
    "model_name",
    "model_version",
    "policy_name",
    "policy_version",
    "rule_sets",
)
"""Columns copied from the run onto every decision unless the frame has them."""

DECISION_COLUMNS: tuple[str, ...] = (
    "decision_id",
    "run_id",
    "uscc",
    "as_of",
    "tier",
    "grade",
    "pd",
    "score",
    "in_default",
    "green_channel",
    "decided_by",
    "statutory_ceiling",
    "model_tier",
    "inspection_rate_factor",
    "joint_punishment",
    "joint_incentive",
    "measures",
    "reasons",
    "facts",
    "override_id",
    "model_name",
    "model_version",
    "policy_name",
    "policy_version",
    "rule_sets",
    "stale_sources",
)
"""Columns of a stored decision, in the order queries return them
(``stale_sources`` is an empty list on decisions stored before it existed)."""

_MAX_EXAMPLES = 5


@dataclasses.dataclass(frozen=True)
class RatingRun:
    """What a rating run was: date, timing, actor, model, policy and rule sets.

    ``run_id`` and ``n_rated`` are not fields: the store assigns the first and
    counts the decisions for the second.

    Parameters
    ----------
    as_of : datetime.date
        Rating date.
    started_at, finished_at : datetime.datetime
        Timezone-aware start and end of the run (stored as UTC).
    actor : str
        Who or what ran it (user name or service account).
    model_name, model_version : str
        Registered model and version that produced the grades.
    policy_name : str
        Treatment policy that turned grades into tiers.
    policy_version : int
        Version of that policy.
    rule_sets : mapping of str to str
        Rule-set id per regime, e.g. ``{"CUSTOMS": "CUSTOMS_282"}``.
    lake_state : str
        Identifier of the lake state the features were read from.
    summary : mapping, default={}
        Free, JSON-serialisable summary (counts per tier, timings ...).
    role : RunRole or str, default=RunRole.SERVED
        ``served``: the zone's decisions at ``as_of`` (the latest served run of
        a date supersedes the earlier ones); ``shadow``: another model
        version's decisions on the same inputs, recorded for comparison and
        monitoring, never served nor read as the zone's decisions.

    Raises
    ------
    StoreError
        If a field is empty, of the wrong type, or a datetime is naive, or
        ``finished_at`` precedes ``started_at``.

    Examples
    --------
    >>> import datetime as dt
    >>> t0 = dt.datetime(2025, 10, 1, 2, 0, tzinfo=dt.UTC)
    >>> run = RatingRun(
    ...     as_of=dt.date(2025, 9, 30), started_at=t0,
    ...     finished_at=t0 + dt.timedelta(minutes=3), actor="rating-job",
    ...     model_name="credit_engine.sme_pd", model_version="7",
    ...     policy_name="treatment", policy_version=2,
    ...     rule_sets={"CUSTOMS": "CUSTOMS_282"}, lake_state="commit-0042",
    ... )
    >>> run.rule_sets["CUSTOMS"]
    'CUSTOMS_282'
    """

    as_of: dt.date
    started_at: dt.datetime
    finished_at: dt.datetime
    actor: str
    model_name: str
    model_version: str
    policy_name: str
    policy_version: int
    rule_sets: Mapping[str, str]
    lake_state: str
    summary: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    role: RunRole = RunRole.SERVED

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.role not in {r.value for r in RunRole}:
            problems.append(
                f"role must be one of {[r.value for r in RunRole]}, got {self.role!r}"
            )
        if isinstance(self.as_of, dt.datetime) or not isinstance(self.as_of, dt.date):
            problems.append(f"as_of must be a datetime.date, got {self.as_of!r}")
        for name in ("started_at", "finished_at"):
            value = getattr(self, name)
            if not isinstance(value, dt.datetime) or value.utcoffset() is None:
                problems.append(
                    f"{name} must be a timezone-aware datetime, got {value!r}"
                )
        if not problems and self.finished_at < self.started_at:
            problems.append(
                f"finished_at must not precede started_at, got started_at="
                f"{self.started_at.isoformat()}, finished_at="
                f"{self.finished_at.isoformat()}"
            )
        for name in ("actor", "model_name", "model_version", "policy_name"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{name} must be a non-empty string, got {value!r}")
        if not isinstance(self.lake_state, str):
            problems.append(f"lake_state must be a string, got {self.lake_state!r}")
        if isinstance(self.policy_version, bool) or not isinstance(
            self.policy_version, int
        ):
            problems.append(
                f"policy_version must be an int, got {self.policy_version!r}"
            )
        if not is_str_mapping(self.rule_sets):
            problems.append(
                "rule_sets must map regime names to rule-set ids (str to str), "
                f"got {self.rule_sets!r}"
            )
        if not isinstance(self.summary, Mapping):
            problems.append(f"summary must be a mapping, got {self.summary!r}")
        if problems:
            raise StoreError(
                "Invalid RatingRun: " + "; ".join(problems) + ". Fix these fields "
                "where the rating job builds its RatingRun."
            )
        object.__setattr__(self, "rule_sets", dict(self.rule_sets))
        object.__setattr__(self, "summary", dict(self.summary))
        object.__setattr__(self, "role", RunRole(self.role))


def run_row(run: RatingRun, n_rated: int) -> dict[str, Any]:
    """Return the ``rating_runs`` row of ``run`` (without ``run_id``).

    Parameters
    ----------
    run : RatingRun
        The run.
    n_rated : int
        Number of decisions recorded with it.

    Returns
    -------
    dict
        Column name to value.
    """
    row = {f.name: getattr(run, f.name) for f in dataclasses.fields(run)}
    row["role"] = run.role.value
    row["n_rated"] = n_rated
    return row


def _frame(decisions: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(decisions, pd.DataFrame):
        return decisions.reset_index(drop=True)
    if isinstance(decisions, str | bytes) or not isinstance(decisions, Sequence):
        raise StoreError(
            "decisions must be a pandas DataFrame or a sequence of mappings "
            f"(one per enterprise), got {type(decisions).__name__}."
        )
    return pd.DataFrame.from_records(list(decisions))


def _optional(frame: pd.DataFrame, name: str) -> list[Any]:
    if name not in frame:
        return [None] * len(frame)
    series = frame[name]
    return [
        None if m else v for v, m in zip(series.tolist(), series.isna(), strict=True)
    ]


def _booleans(series: pd.Series) -> list[Any]:
    if series.dtype == bool:
        return series.tolist()
    return [bool(v) for v in series.tolist()]


def _values(frame: pd.DataFrame, run: RatingRun) -> dict[str, list[Any]]:
    """Convert a valid decisions frame column by column (run columns filled in)."""
    n = len(frame)
    values: dict[str, list[Any]] = {
        name: frame[name].tolist() for name in ("uscc", "tier", "grade", "decided_by")
    }
    for name in ("pd", "score", "inspection_rate_factor"):
        values[name] = numbers(frame[name]).tolist()
    for name in ("in_default", "green_channel", "joint_punishment", "joint_incentive"):
        values[name] = _booleans(frame[name])
    values["statutory_ceiling"] = _optional(frame, "statutory_ceiling")
    values["model_tier"] = frame["model_tier"].tolist()
    for name in ("measures", "reasons", "facts"):
        values[name] = [as_list(v) for v in frame[name].tolist()]
    values["override_id"] = [
        None if v is None else int(float(v)) for v in _optional(frame, "override_id")
    ]
    values["stale_sources"] = [
        [] if v is None else as_list(v) for v in _optional(frame, "stale_sources")
    ]
    values["as_of"] = [run.as_of] * n
    for name in ("model_name", "model_version", "policy_name"):
        values[name] = (
            frame[name].tolist() if name in frame else [getattr(run, name)] * n
        )
    values["policy_version"] = (
        [int(v) for v in numbers(frame["policy_version"]).tolist()]
        if "policy_version" in frame
        else [run.policy_version] * n
    )
    values["rule_sets"] = (
        [dict(v) for v in frame["rule_sets"].tolist()]
        if "rule_sets" in frame
        else [dict(run.rule_sets)] * n
    )
    return values


def decision_rows(
    run: RatingRun, decisions: pd.DataFrame | Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Validate decisions and convert them to plain dicts for one executemany.

    Parameters
    ----------
    run : RatingRun
        The run the decisions belong to; it fills ``as_of``, the model, policy
        and rule-set columns unless the frame has them.
    decisions : pandas.DataFrame or sequence of mappings
        One row per enterprise with :data:`REQUIRED_COLUMNS` and optionally
        :data:`OPTIONAL_COLUMNS` and :data:`RUN_COLUMNS`.

    Returns
    -------
    list of dict
        Rows without ``decision_id`` and ``run_id``.

    Raises
    ------
    StoreError
        Listing every problem found: missing or unknown columns, invalid USCCs,
        duplicate enterprises, unknown tiers or deciders, PD outside [0, 1],
        overrides without an ``override_id`` ...
    """
    frame = _frame(decisions)
    if frame.empty and len(frame.columns) == 0:
        return []
    columns = set(map(str, frame.columns))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = sorted(columns - set(REQUIRED_COLUMNS + OPTIONAL_COLUMNS + RUN_COLUMNS))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing required columns {missing}")
        if unknown:
            parts.append(f"unknown columns {unknown[:_MAX_EXAMPLES]}")
        raise StoreError(
            "Cannot record decisions: " + " and ".join(parts) + ". A decisions frame "
            f"has the columns {list(REQUIRED_COLUMNS)}, optionally "
            f"{list(OPTIONAL_COLUMNS + RUN_COLUMNS)}; rename or drop the others."
        )
    # pandera costs a second to import: only the rating job needs it.
    from credit_engine.store._decision_schema import problems

    found = problems(frame, run.as_of)
    if found:
        raise StoreError(
            f"Cannot record {len(frame)} decisions for {run.as_of}: "
            + "; ".join(found)
            + ". Fix the decisions frame; nothing was written."
        )
    values = _values(frame, run)
    names = list(values)
    return [
        dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)
    ]
