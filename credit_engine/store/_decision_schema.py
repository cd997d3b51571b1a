"""The pandera schema of a decisions frame, and the one message its failures make.

Every check is a vectorised :class:`pandera.Check` whose ``error`` is the
sentence our message starts with ("tier must be one of [...]"); validation runs
with ``lazy=True``, so every failing check of every column is collected, then
:func:`problems` turns pandera's ``failure_cases`` into one line per check:
what failed, how many rows, up to five offending values and their row numbers.
Nulls are never skipped (``ignore_na=False``): each check decides what a missing
value means.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from credit_engine.store._cell_values import as_list, is_str_mapping, numbers
from credit_engine.uscc import valid_uscc_mask
from credit_engine.vocabulary import DecidedBy, Tier

__all__ = ["as_list", "numbers", "problems"]

_MAX_EXAMPLES = 5

_Vector = Callable[[pd.Series], pd.Series]


def _check(what: str, passes: _Vector) -> pa.Check:
    return pa.Check(passes, ignore_na=False, error=what)


def _present(series: pd.Series) -> pd.Series:
    return series.notna()


def _strings(name: str, allowed: tuple[str, ...] | None) -> list[pa.Check]:
    checks = [_check(f"{name} is missing", _present)]
    if allowed is not None:
        checks.append(
            _check(
                f"{name} must be one of {list(allowed)}",
                lambda s: s.isna() | s.isin(allowed),
            )
        )
    else:
        checks.append(
            _check(
                f"{name} must be a non-empty string",
                lambda s: s.isna() | s.map(lambda v: isinstance(v, str) and v != ""),
            )
        )
    return checks


def _floats(name: str, valid: _Vector, rule: str) -> list[pa.Check]:
    return [
        _check(f"{name} must be a number (not null)", lambda s: numbers(s).notna()),
        _check(
            f"{name} must be {rule}",
            lambda s: numbers(s).isna() | valid(numbers(s)),
        ),
    ]


def _is_bool(series: pd.Series) -> pd.Series:
    if series.dtype == bool:
        return pd.Series(True, index=series.index)
    return series.map(pd.api.types.is_bool).astype(bool)


def _list_of(item: type) -> _Vector:
    def ok(value: object) -> bool:
        converted = value if type(value) is list else as_list(value)
        return converted is not None and all(isinstance(v, item) for v in converted)

    def passes(series: pd.Series) -> pd.Series:
        return pd.Series(
            [ok(v) for v in series.tolist()], index=series.index, dtype=bool
        )

    return passes


def _integer_or_null(series: pd.Series) -> pd.Series:
    values = numbers(series)
    return series.isna() | (values.notna() & (values % 1 == 0))


def _override_cites_its_id(frame: pd.DataFrame) -> pd.Series:
    if "override_id" in frame:
        ids = frame["override_id"]
        has_id = ids.notna() & _integer_or_null(ids)
    else:
        has_id = pd.Series(False, index=frame.index)
    return ~(frame["decided_by"] == "OVERRIDE") | has_id


def _column(checks: list[pa.Check], *, required: bool = True) -> pa.Column:
    # No dtype: the checks decide what each column accepts, and nothing is
    # coerced (the caller converts once the frame is valid).
    return pa.Column(checks=checks, nullable=True, required=required)


def _schema(as_of: Any) -> pa.DataFrameSchema:
    tiers = Tier.values()
    columns: dict[str, pa.Column] = {
        "uscc": _column(
            [
                _check(
                    "uscc is not a valid GB 32100 code",
                    lambda s: pd.Series(valid_uscc_mask(s), index=s.index),
                ),
                _check(
                    "uscc appears more than once in the run",
                    lambda s: ~(s.duplicated(keep="first") & s.notna()),
                ),
            ]
        ),
        "tier": _column(_strings("tier", tiers)),
        "grade": _column(
            [
                *_strings("grade", None),
                _check(
                    "grade must have at most 4 characters",
                    lambda s: ~s.map(lambda v: isinstance(v, str) and len(v) > 4),
                ),
            ]
        ),
        "pd": _column(_floats("pd", lambda s: s.between(0.0, 1.0), "in [0, 1]")),
        "score": _column(_floats("score", lambda s: s.abs() < math.inf, "finite")),
        "in_default": _column([_check("in_default must be True or False", _is_bool)]),
        "green_channel": _column(
            [_check("green_channel must be True or False", _is_bool)]
        ),
        "decided_by": _column(_strings("decided_by", DecidedBy.values())),
        "statutory_ceiling": _column(
            [
                _check(
                    f"statutory_ceiling must be null or one of {list(tiers)}",
                    lambda s: s.isna() | s.isin(tiers),
                )
            ],
            required=False,
        ),
        "model_tier": _column(_strings("model_tier", tiers)),
        "inspection_rate_factor": _column(
            _floats(
                "inspection_rate_factor", lambda s: s.between(0.0, math.inf), ">= 0"
            )
        ),
        "joint_punishment": _column(
            [_check("joint_punishment must be True or False", _is_bool)]
        ),
        "joint_incentive": _column(
            [_check("joint_incentive must be True or False", _is_bool)]
        ),
        "measures": _column(
            [_check("measures must be a list of strings", _list_of(str))]
        ),
        "reasons": _column(
            [_check("reasons must be a list of strings", _list_of(str))]
        ),
        "facts": _column([_check("facts must be a list of dicts", _list_of(dict))]),
        "override_id": _column(
            [_check("override_id must be null or an integer", _integer_or_null)],
            required=False,
        ),
        "stale_sources": _column(
            [
                _check(
                    "stale_sources must be null or a list of dicts",
                    lambda s: s.isna() | _list_of(dict)(s),
                )
            ],
            required=False,
        ),
        "as_of": _column(
            [
                _check(
                    f"as_of must equal the run's as_of {as_of}",
                    lambda s: pd.to_datetime(s, errors="coerce").dt.date == as_of,
                )
            ],
            required=False,
        ),
        **{
            name: _column(_strings(name, None), required=False)
            for name in ("model_name", "model_version", "policy_name")
        },
        "policy_version": _column(
            [
                _check(
                    "policy_version must be an integer",
                    lambda s: numbers(s).notna() & (numbers(s) % 1 == 0),
                )
            ],
            required=False,
        ),
        "rule_sets": _column(
            [
                _check(
                    "rule_sets must map regime to rule-set id",
                    lambda s: s.map(is_str_mapping).astype(bool),
                )
            ],
            required=False,
        ),
    }
    return pa.DataFrameSchema(
        columns,
        # Examples of frame-wide checks show the enterprise (uscc).
        checks=[
            pa.Check(
                _override_cites_its_id,
                ignore_na=False,
                error="decided_by is OVERRIDE but override_id is missing",
            )
        ],
        name="decisions",
    )


def problems(frame: pd.DataFrame, as_of: Any) -> list[str]:
    """Validate a decisions frame lazily; return one line per failed check.

    Parameters
    ----------
    frame : pandas.DataFrame
        Decisions with a default index (row numbers), every required column and
        no unknown one (checked before).
    as_of : datetime.date
        The run's rating date (an ``as_of`` column must equal it).

    Returns
    -------
    list of str
        ``"<what failed>: <n> row(s), e.g. [<values>] at rows [<rows>]"`` in
        the order of the schema's checks; empty if the frame is valid.
    """
    schema = _schema(as_of)
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        return _describe(schema, frame, exc.failure_cases)
    return []


def _describe(
    schema: pa.DataFrameSchema, frame: pd.DataFrame, failures: pd.DataFrame
) -> list[str]:
    order = [
        (str(check.error), name)
        for name, column in schema.columns.items()
        for check in column.checks
    ] + [(str(check.error), "uscc") for check in schema.checks]
    lines = []
    for what, shown in order:
        cases = failures[failures["check"] == what]
        if cases.empty:
            continue
        rows = sorted({int(i) for i in cases["index"].dropna()})
        if not rows:  # the check itself raised: pandera reports the exception
            lines.append(
                f"{what}: could not be checked ({cases['failure_case'].iloc[0]})"
            )
            continue
        head = rows[:_MAX_EXAMPLES]
        examples = frame[shown].loc[head].tolist()
        lines.append(f"{what}: {len(rows)} row(s), e.g. {examples!r} at rows {head}")
    known = {what for what, _ in order}
    for what in sorted(set(failures["check"].astype(str)) - known):
        # pandera's own checks (none are declared today): keep their words.
        lines.append(f"{what}: {int((failures['check'] == what).sum())} failure(s)")
    return lines
