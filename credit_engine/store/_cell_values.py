"""Plain conversions of decision cell values, shared by the record and its schema.

No pandera here: the rating job's schema (:mod:`._decision_schema`) and the
decision records (:mod:`._decisions`) both read cells through these helpers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["as_list", "is_str_mapping", "numbers"]


def is_str_mapping(value: object) -> bool:
    """Return whether ``value`` maps strings to strings (a ``rule_sets`` value)."""
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    )


def as_list(value: object) -> list[Any] | None:
    """Return ``value`` as a list (lists, tuples, numpy arrays), else ``None``."""
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


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def numbers(series: pd.Series) -> pd.Series:
    """Return ``series`` as float64, NaN where a value is not a number."""
    try:
        converted = pd.to_numeric(series, errors="coerce")
    except (TypeError, ValueError):  # lists, dicts ... in the column
        converted = series.map(_number)
    return converted.astype("float64")
