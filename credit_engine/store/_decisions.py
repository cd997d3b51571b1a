"""Rating runs and their decisions: validation and conversion to insertable rows.

Validation is lazy: every problem of a decisions frame is collected (with counts
and up to five examples) and reported in one :class:`StoreError`. Conversion works
column by column, so that 100,000 decisions become plain dicts in well under a
second.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd

from credit_engine.exceptions import StoreError
from credit_engine.store._schema import DECIDED_BY, TIERS
from credit_engine.uscc import valid_uscc_mask

__all__ = [
    "DECISION_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "RUN_COLUMNS",
    "RatingRun",
    "decision_rows",
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

OPTIONAL_COLUMNS: tuple[str, ...] = ("statutory_ceiling", "override_id")
"""Nullable columns a decisions frame may omit (stored as NULL)."""

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
)
"""Columns of a stored decision, in the order queries return them."""

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

    def __post_init__(self) -> None:
        problems: list[str] = []
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
        if not _is_str_mapping(self.rule_sets):
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


def _is_str_mapping(value: object) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


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
    row["n_rated"] = n_rated
    return row


class _Problems:
    """Collects validation failures, each with a count and a few examples."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def check(self, series: pd.Series, bad: pd.Series, what: str) -> None:
        count = int(bad.sum())
        if count:
            examples = series[bad].head(_MAX_EXAMPLES).tolist()
            rows = series.index[bad][:_MAX_EXAMPLES].tolist()
            self.items.append(
                f"{what}: {count} row(s), e.g. {examples!r} at rows {rows}"
            )

    def add(self, message: str) -> None:
        self.items.append(message)


def _frame(decisions: pd.DataFrame | Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    if isinstance(decisions, pd.DataFrame):
        return decisions.reset_index(drop=True)
    if isinstance(decisions, str | bytes) or not isinstance(decisions, Sequence):
        raise StoreError(
            "decisions must be a pandas DataFrame or a sequence of mappings "
            f"(one per enterprise), got {type(decisions).__name__}."
        )
    return pd.DataFrame.from_records(list(decisions))


def _strings(
    frame: pd.DataFrame, name: str, allowed: tuple[str, ...] | None, problems: _Problems
) -> list[Any]:
    series = frame[name]
    missing = series.isna()
    problems.check(series, missing, f"{name} is missing")
    if allowed is not None:
        bad = ~missing & ~series.isin(allowed)
        problems.check(series, bad, f"{name} must be one of {list(allowed)}")
    else:
        bad = ~missing & ~series.map(lambda v: isinstance(v, str) and v != "")
        problems.check(series, bad, f"{name} must be a non-empty string")
    return series.tolist()


def _optional_strings(
    frame: pd.DataFrame, name: str, allowed: tuple[str, ...], problems: _Problems
) -> list[Any]:
    if name not in frame:
        return [None] * len(frame)
    series = frame[name]
    missing = series.isna()
    problems.check(
        series,
        ~missing & ~series.isin(allowed),
        f"{name} must be null or one of {list(allowed)}",
    )
    return [None if m else v for v, m in zip(series.tolist(), missing, strict=True)]


def _floats(
    frame: pd.DataFrame,
    name: str,
    valid: Callable[[pd.Series], pd.Series],
    rule: str,
    problems: _Problems,
) -> list[Any]:
    series = frame[name]
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    missing = numbers.isna()
    problems.check(series, missing, f"{name} must be a number (not null)")
    problems.check(series, ~missing & ~valid(numbers), f"{name} must be {rule}")
    return numbers.tolist()


def _booleans(frame: pd.DataFrame, name: str, problems: _Problems) -> list[Any]:
    series = frame[name]
    if series.dtype == bool:
        return series.tolist()
    ok = series.map(pd.api.types.is_bool).astype(bool)
    problems.check(series, ~ok, f"{name} must be True or False")
    return [bool(v) if b else None for v, b in zip(series.tolist(), ok, strict=True)]


def _json_lists(
    frame: pd.DataFrame, name: str, item: type, problems: _Problems
) -> list[Any]:
    values: list[Any] = []
    bad: list[bool] = []
    for value in frame[name].tolist():
        converted = _as_list(value)
        ok = converted is not None and all(isinstance(v, item) for v in converted)
        values.append(converted)
        bad.append(not ok)
    kind = "strings" if item is str else "dicts"
    problems.check(
        frame[name],
        pd.Series(bad, index=frame.index),
        f"{name} must be a list of {kind}",
    )
    return values


def _as_list(value: object) -> list[Any] | None:
    # Parquet round trips turn lists into numpy arrays; accept those and tuples.
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    to_list = getattr(value, "tolist", None)
    if callable(to_list) and not isinstance(value, str | bytes):
        converted = to_list()
        return converted if isinstance(converted, list) else None
    return None


def _override_ids(frame: pd.DataFrame, problems: _Problems) -> list[Any]:
    if "override_id" not in frame:
        return [None] * len(frame)
    series = frame["override_id"]
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    missing = series.isna()
    bad = ~missing & (numbers.isna() | (numbers % 1 != 0))
    problems.check(series, bad, "override_id must be null or an integer")
    return [
        None if m or math.isnan(v) or v % 1 else int(v)
        for v, m in zip(numbers.tolist(), missing.tolist(), strict=True)
    ]


def _run_values(
    frame: pd.DataFrame, run: RatingRun, problems: _Problems
) -> dict[str, list[Any]]:
    n = len(frame)
    values: dict[str, list[Any]] = {}
    if "as_of" in frame:
        dates = pd.to_datetime(frame["as_of"], errors="coerce")
        bad = dates.isna() | (dates.dt.date != run.as_of)
        problems.check(
            frame["as_of"], bad, f"as_of must equal the run's as_of {run.as_of}"
        )
    values["as_of"] = [run.as_of] * n
    for name in ("model_name", "model_version", "policy_name"):
        if name in frame:
            values[name] = _strings(frame, name, None, problems)
        else:
            values[name] = [getattr(run, name)] * n
    if "policy_version" in frame:
        series = frame["policy_version"]
        numbers = pd.to_numeric(series, errors="coerce")
        bad = numbers.isna() | (numbers % 1 != 0)
        problems.check(series, bad, "policy_version must be an integer")
        values["policy_version"] = [
            None if b else int(v)
            for v, b in zip(numbers.tolist(), bad.tolist(), strict=True)
        ]
    else:
        values["policy_version"] = [run.policy_version] * n
    if "rule_sets" in frame:
        series = frame["rule_sets"]
        bad = ~series.map(_is_str_mapping).astype(bool)
        problems.check(series, bad, "rule_sets must map regime to rule-set id")
        values["rule_sets"] = [
            dict(v) if not b else None
            for v, b in zip(series.tolist(), bad.tolist(), strict=True)
        ]
    else:
        values["rule_sets"] = [dict(run.rule_sets)] * n
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
    problems = _Problems()
    uscc = frame["uscc"]
    problems.check(
        uscc,
        ~pd.Series(valid_uscc_mask(uscc), index=frame.index),
        "uscc is not a valid GB 32100 code",
    )
    problems.check(
        uscc,
        uscc.duplicated(keep="first") & uscc.notna(),
        "uscc appears more than once in the run",
    )
    values: dict[str, list[Any]] = {
        "uscc": uscc.tolist(),
        "tier": _strings(frame, "tier", TIERS, problems),
        "grade": _strings(frame, "grade", None, problems),
        "pd": _floats(
            frame, "pd", lambda s: s.between(0.0, 1.0), "in [0, 1]", problems
        ),
        "score": _floats(
            frame, "score", lambda s: s.abs() < math.inf, "finite", problems
        ),
        "in_default": _booleans(frame, "in_default", problems),
        "green_channel": _booleans(frame, "green_channel", problems),
        "decided_by": _strings(frame, "decided_by", DECIDED_BY, problems),
        "statutory_ceiling": _optional_strings(
            frame, "statutory_ceiling", TIERS, problems
        ),
        "model_tier": _strings(frame, "model_tier", TIERS, problems),
        "inspection_rate_factor": _floats(
            frame,
            "inspection_rate_factor",
            lambda s: s.between(0.0, math.inf),
            ">= 0",
            problems,
        ),
        "joint_punishment": _booleans(frame, "joint_punishment", problems),
        "joint_incentive": _booleans(frame, "joint_incentive", problems),
        "measures": _json_lists(frame, "measures", str, problems),
        "reasons": _json_lists(frame, "reasons", str, problems),
        "facts": _json_lists(frame, "facts", dict, problems),
        "override_id": _override_ids(frame, problems),
    }
    grade = frame["grade"]
    problems.check(
        grade,
        grade.map(lambda v: isinstance(v, str) and len(v) > 4).astype(bool),
        "grade must have at most 4 characters",
    )
    by_override = (frame["decided_by"] == "OVERRIDE").to_numpy(bool)
    no_id = pd.Series(
        [
            b and v is None
            for b, v in zip(by_override, values["override_id"], strict=True)
        ],
        index=frame.index,
    )
    problems.check(
        frame["uscc"], no_id, "decided_by is OVERRIDE but override_id is missing"
    )
    values.update(_run_values(frame, run, problems))
    if problems.items:
        raise StoreError(
            f"Cannot record {len(frame)} decisions for {run.as_of}: "
            + "; ".join(problems.items)
            + ". Fix the decisions frame; nothing was written."
        )
    names = list(values)
    return [
        dict(zip(names, row, strict=True)) for row in zip(*values.values(), strict=True)
    ]
