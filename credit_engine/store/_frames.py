"""Query results to pandas frames with the same dtypes on every backend.

Dates stay :class:`datetime.date` objects (``object`` dtype), instants become
``datetime64[us, UTC]``, JSON columns hold decoded lists and dicts, nullable
integers use ``Int64``; an empty result has the same columns and dtypes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pandas as pd

from credit_engine.store._decisions import DECISION_COLUMNS

__all__ = [
    "DECISION_DTYPES",
    "OVERRIDE_DTYPES",
    "RUN_DTYPES",
    "decision_frame",
    "decision_row",
    "to_frame",
]

_UTC = "datetime64[us, UTC]"

DECISION_DTYPES: dict[str, str] = {
    "decision_id": "int64",
    "run_id": "int64",
    "uscc": "str",
    "as_of": "object",
    "tier": "str",
    "grade": "str",
    "pd": "float64",
    "score": "float64",
    "in_default": "bool",
    "green_channel": "bool",
    "decided_by": "str",
    "statutory_ceiling": "str",
    "model_tier": "str",
    "inspection_rate_factor": "float64",
    "joint_punishment": "bool",
    "joint_incentive": "bool",
    "measures": "object",
    "reasons": "object",
    "facts": "object",
    "override_id": "Int64",
    "model_name": "str",
    "model_version": "str",
    "policy_name": "str",
    "policy_version": "int64",
    "rule_sets": "object",
    "stale_sources": "object",
}
assert tuple(DECISION_DTYPES) == DECISION_COLUMNS

RUN_DTYPES: dict[str, str] = {
    "run_id": "int64",
    "as_of": "object",
    "started_at": _UTC,
    "finished_at": _UTC,
    "actor": "str",
    "model_name": "str",
    "model_version": "str",
    "policy_name": "str",
    "policy_version": "int64",
    "rule_sets": "object",
    "lake_state": "str",
    "n_rated": "int64",
    "summary": "object",
    "role": "str",
}

OVERRIDE_DTYPES: dict[str, str] = {
    "override_id": "int64",
    "uscc": "str",
    "tier": "str",
    "reason": "str",
    "actor": "str",
    "effective_from": "object",
    "effective_to": "object",
    "created_at": _UTC,
}


def _series(values: list[Any], dtype: str) -> pd.Series:
    # Object columns (dates, JSON) keep None for missing values, not NaN.
    if dtype == "object":
        return pd.Series(values, dtype=object)
    if dtype == _UTC:
        return pd.Series(pd.to_datetime(values, utc=True), dtype=_UTC)
    series: pd.Series = pd.Series(values, dtype=cast(Any, dtype))
    return series


def to_frame(rows: Sequence[Sequence[Any]], dtypes: Mapping[str, str]) -> pd.DataFrame:
    """Build a frame from result rows whose values follow the order of ``dtypes``.

    Parameters
    ----------
    rows : sequence of sequences
        Result rows (SQLAlchemy ``Row`` objects or tuples).
    dtypes : mapping of str to str
        Column name to pandas dtype, in the order of the values in each row.

    Returns
    -------
    pandas.DataFrame
        One column per entry of ``dtypes``, with that dtype, and a default index.

    Examples
    --------
    >>> to_frame([(1, "A")], {"run_id": "int64", "tier": "str"}).dtypes.tolist()
    [dtype('int64'), <StringDtype(na_value=nan)>]
    """
    names = list(dtypes)
    columns: list[list[Any]] = (
        [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in names]
    )
    if len(columns) != len(names):  # pragma: no cover - a bug in a query
        raise AssertionError(
            f"query returned {len(columns)} columns for {names}; this is a bug in "
            "credit_engine.store, please report it"
        )
    return pd.DataFrame(
        {
            name: _series(values, dtypes[name])
            for name, values in zip(names, columns, strict=True)
        }
    )


def decision_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Return a stored decision as a dict; ``stale_sources`` NULL becomes ``[]``.

    Decisions stored before revision 0002 have no stale-source marks: they
    were rated before freshness was checked, and read as marked by nothing.
    """
    out = dict(row)
    if out.get("stale_sources") is None:
        out["stale_sources"] = []
    return out


def decision_frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Build the frame of stored decisions (:data:`DECISION_DTYPES`).

    ``stale_sources`` NULL (rows stored before revision 0002) reads as ``[]``.
    """
    frame = to_frame(rows, DECISION_DTYPES)
    frame["stale_sources"] = pd.Series(
        [[] if v is None else v for v in frame["stale_sources"].tolist()],
        dtype=object,
        index=frame.index,
    )
    return frame
