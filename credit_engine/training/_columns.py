"""Feature columns of a plain table: what each column is, and how it is modelled.

``evaluate --table`` reads tables nobody prepared for the engine: numbers,
numbers written as text (``1,234``, ``12%``), dates written as text, yes/no
flags, categories, free text and identifiers, with missing values anywhere. A
:class:`ColumnPlan` is fitted on the labelled rows and applied unchanged to the
rows to rate:

* numbers stay numbers; booleans become 0/1; numeric text is parsed;
* dates (typed or ``YYYY-MM-DD``-like text) become days since 1970-01-01;
* categories become codes (the 50 most frequent values; the rest share one
  code; unseen values are missing), which LightGBM splits natively and the
  scorecard bins as categories;
* a column is dropped, and listed with its reason, when it is all missing,
  constant, an identifier (a distinct integer or text per row) or free text
  with too many distinct values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.exceptions import DataContractError

__all__ = ["ColumnPlan", "plan_columns"]

MAX_CATEGORIES = 50
"""Categories kept per column (the most frequent); the rest share one code."""
OTHER = "(other)"
_PARSE_SHARE = 0.95
_ID_NAME = re.compile(r"(^|[_\s.-])(id|key|index|no|num|number|code)$", re.IGNORECASE)
_DATE_TEXT = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2})?)?\s*$"
)
_EPOCH = pd.Timestamp("1970-01-01")


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # numeric | boolean | numeric_text | date | categorical
    categories: tuple[str, ...] = ()


@dataclass
class ColumnPlan:
    """Columns kept (and how each is converted) and columns dropped (and why).

    Attributes
    ----------
    columns : list
        Kept columns in table order, each with its kind (``numeric``,
        ``boolean``, ``numeric_text``, ``date``, ``categorical``).
    dropped : dict
        Column -> reason.
    """

    columns: list[_Column] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)

    @property
    def features(self) -> list[str]:
        """Names of the model's input columns, in table order."""
        return [c.name for c in self.columns]

    @property
    def categorical(self) -> list[str]:
        """Columns given to the models as category codes."""
        return [c.name for c in self.columns if c.kind == "categorical"]

    def converted(self) -> dict[str, str]:
        """Columns that are not plain numbers, with what was done to them."""
        said = {
            "boolean": "yes/no -> 1/0",
            "numeric_text": "numbers written as text -> numbers",
            "date": "date -> days since 1970-01-01",
        }
        out = {}
        for c in self.columns:
            if c.kind == "categorical":
                other = f" + {OTHER}" if OTHER in c.categories else ""
                kept = len(c.categories) - (1 if other else 0)
                out[c.name] = f"category ({kept} values{other})"
            elif c.kind in said:
                out[c.name] = said[c.kind]
        return out

    def transform(
        self, frame: pd.DataFrame, *, where: str = "the table"
    ) -> pd.DataFrame:
        """Return the model matrix: one float column per kept column.

        Raises
        ------
        DataContractError
            If ``frame`` lacks kept columns (naming them).
        """
        missing = [c.name for c in self.columns if c.name not in frame.columns]
        if missing:
            raise DataContractError(
                f"{where} lacks {len(missing)} feature column(s) of the labelled "
                f"table: {missing[:8]}. Give it the same columns."
            )
        out = {c.name: _convert(frame[c.name], c) for c in self.columns}
        return pd.DataFrame(out, index=frame.index, columns=self.features)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "features": len(self.columns),
            "categorical": self.categorical,
            "converted": self.converted(),
            "dropped": dict(self.dropped),
        }


def _numeric_text(values: pd.Series) -> pd.Series:
    cleaned = (
        values.astype(str)
        .str.strip()
        .str.replace(r"[,\s¥$€£]", "", regex=True)
        .str.replace(r"%$", "", regex=True)
    )
    return pd.to_numeric(cleaned, errors="coerce")


def _dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = values
    else:
        stamps = pd.to_datetime(values.astype(str), errors="coerce", format="mixed")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return (stamps - _EPOCH) / pd.Timedelta(days=1)


def _convert(values: pd.Series, column: _Column) -> pd.Series:
    if column.kind == "numeric":
        return pd.to_numeric(values, errors="coerce").astype(float)
    if column.kind == "boolean":
        return values.map(_truth).astype(float)
    if column.kind == "numeric_text":
        return _numeric_text(values).astype(float)
    if column.kind == "date":
        return _dates(values).astype(float)
    text = values.astype("string").str.strip()
    code = {v: float(i) for i, v in enumerate(column.categories)}
    other = code.get(OTHER, np.nan)
    mapped = text.map(lambda v: np.nan if pd.isna(v) else code.get(v, other))
    return mapped.astype(float)


def _truth(value: Any) -> float:
    if pd.isna(value):
        return np.nan
    text = str(value).strip().lower()
    if text in {"true", "yes", "y", "1", "是"}:
        return 1.0
    if text in {"false", "no", "n", "0", "否"}:
        return 0.0
    return np.nan


def _is_identifier_number(name: str, values: pd.Series) -> bool:
    """Tell whether an integer column holds a distinct value per row, like an id."""
    present = values.dropna()
    if len(present) < 20 or present.nunique() != len(values):
        return False
    as_float = present.astype(float)
    if not np.allclose(as_float, np.round(as_float)):
        return False
    ordered = np.sort(as_float.to_numpy())
    consecutive = bool(np.all(np.diff(ordered) == 1))
    return consecutive or bool(_ID_NAME.search(name)) or name.startswith("Unnamed:")


def _plan_one(name: str, values: pd.Series, *, identifiers: bool) -> _Column | str:
    """Return the kept column, or the reason to drop it."""
    present = values.dropna()
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        present = present[present.astype(str).str.strip() != ""]
    if present.empty:
        return "all values missing"
    if present.astype(str).nunique() == 1 and len(present) == len(values):
        return "constant (one value, none missing)"
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        if identifiers and _is_identifier_number(name, values):
            return "identifier (a distinct integer per row)"
        return _Column(name, "numeric")
    typed = {"b": "boolean", "M": "date"}.get(values.dtype.kind)
    if typed is not None:
        return _Column(name, typed)
    return _plan_text(name, values, present.astype(str).str.strip(), identifiers)


def _plan_text(
    name: str, values: pd.Series, text: pd.Series, identifiers: bool
) -> _Column | str:
    """Plan a text column: flags, numbers, dates, categories, ids or free text."""
    kind = None
    if set(text.str.lower().unique()) <= {
        "true",
        "false",
        "yes",
        "no",
        "y",
        "n",
        "是",
        "否",
    }:
        kind = "boolean"
    elif _numeric_text(text).notna().mean() >= _PARSE_SHARE:
        kind = "numeric_text"
        if identifiers and _is_identifier_number(name, _numeric_text(values)):
            return "identifier (a distinct integer per row)"
    elif (
        text.str.match(_DATE_TEXT).mean() >= _PARSE_SHARE
        and _dates(text).notna().mean() >= _PARSE_SHARE
    ):
        kind = "date"
    if kind is not None:
        return _Column(name, kind)
    distinct = text.nunique()
    if identifiers and distinct == len(values) and len(values) >= 20:
        return "identifier (a distinct text per row)"
    if distinct > MAX_CATEGORIES and distinct > 0.5 * len(text):
        return f"free text ({distinct:,} distinct values in {len(text):,} rows)"
    counts = text.value_counts(sort=True)
    kept = sorted(str(v) for v in counts.index[:MAX_CATEGORIES])
    if distinct > MAX_CATEGORIES:
        kept.append(OTHER)
    return _Column(name, "categorical", tuple(kept))


def plan_columns(
    frame: pd.DataFrame,
    *,
    exclude: Iterable[str] = (),
    only: Sequence[str] | None = None,
    identifiers: bool = True,
) -> ColumnPlan:
    """Decide, column by column, how a table's columns enter the models.

    Parameters
    ----------
    frame : pandas.DataFrame
        The labelled rows.
    exclude : iterable of str
        Columns that are never features (target, group, keys).
    only : sequence of str, optional
        Consider only these columns (e.g. a feature set's); default: all.
    identifiers : bool, default=True
        Drop columns that look like identifiers (not for a feature set's
        columns, whose names are known features).

    Returns
    -------
    ColumnPlan
        Kept and dropped columns.
    """
    skip = set(exclude)
    names = [c for c in (only if only is not None else frame.columns) if c not in skip]
    plan = ColumnPlan()
    for name in names:
        decided = _plan_one(str(name), frame[name], identifiers=identifiers)
        if isinstance(decided, str):
            plan.dropped[str(name)] = decided
        else:
            plan.columns.append(decided)
    return plan
