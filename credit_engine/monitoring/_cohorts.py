"""Input frames of the monitor: stored decisions, outcomes, maturity.

Cohorts are the operational store's ``decisions`` rows (one per enterprise per
rating date); outcomes are ``uscc, as_of, y`` rows of matured cohorts only. The
checks here raise one :class:`~credit_engine.exceptions.DataContractError` per
frame that names what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from credit_engine.exceptions import DataContractError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DECISION_COLUMNS",
    "OUTCOME_COLUMNS",
    "OVERRIDE_COLUMNS",
    "attach_outcomes",
    "is_matured",
    "prepare_decisions",
]

DECISION_COLUMNS: tuple[str, ...] = ("uscc", "as_of", "pd", "grade", "in_default")
"""Columns :func:`monitor_model` needs; ``tier`` adds the tier migration.

The store's ``decisions`` table has them all; its ``score`` (points) is not
needed: PSI, AUC and estimates use the PD, on whose bins the development
distribution was frozen."""

OVERRIDE_COLUMNS: tuple[str, ...] = (
    "uscc",
    "as_of",
    "tier",
    "model_tier",
    "decided_by",
    "override_id",
    "in_default",
)
"""Columns :func:`monitor_overrides` needs (the store's ``decisions`` has them)."""

OUTCOME_COLUMNS: tuple[str, ...] = ("uscc", "as_of", "y")
"""Columns of the outcomes frame: ``y`` is 1 for an adverse event within the horizon."""


def _as_date(value: Any) -> dt.date:
    """Return a date from a pandas/numpy timestamp, a string or a date."""
    import pandas as pd

    out: dt.date = pd.Timestamp(str(value)).date()
    return out


def _preview(values: Iterable[object], limit: int = 5) -> str:
    items = [str(v) for v in values]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return "[" + ", ".join(items[:limit]) + "]" + more


def _require(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"The {name} frame lacks columns {_preview(missing)}; it has "
            f"{_preview(frame.columns)}. Select them from the store's decisions "
            "table (see credit_engine.monitoring.DECISION_COLUMNS)."
        )


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    import pandas as pd

    try:
        as_of = pd.to_datetime(frame["as_of"])
    except (TypeError, ValueError) as exc:
        raise DataContractError(
            f"The {name} frame's as_of column is not a date ({exc}); pass dates."
        ) from None
    if as_of.dt.tz is not None:
        as_of = as_of.dt.tz_convert("UTC").dt.tz_localize(None)
    if as_of.isna().any():
        raise DataContractError(
            f"The {name} frame has {int(as_of.isna().sum())} rows without as_of."
        )
    return as_of.dt.normalize().astype("datetime64[ns]")


def _no_duplicates(frame: pd.DataFrame, name: str) -> None:
    repeated = frame.duplicated(["uscc", "as_of"], keep=False)
    if repeated.any():
        keys = frame.loc[repeated, ["uscc", "as_of"]].drop_duplicates().head(5)
        shown = [f"{u}@{a:%Y-%m-%d}" for u, a in keys.itertuples(index=False)]
        raise DataContractError(
            f"The {name} frame has {int(repeated.sum())} rows that repeat a (uscc, "
            f"as_of) key, e.g. {_preview(shown)}; keep one row per enterprise and "
            "rating date (the latest run's)."
        )


def prepare_decisions(
    frame: pd.DataFrame, *, grades: Iterable[str], default_grade: str
) -> pd.DataFrame:
    """Check stored decisions and return them with ``as_of`` as normalised dates.

    Parameters
    ----------
    frame : pandas.DataFrame
        Decisions with at least :data:`DECISION_COLUMNS`.
    grades : iterable of str
        The model's non-default grades.
    default_grade : str
        Grade of rows in default (``in_default`` true).

    Returns
    -------
    pandas.DataFrame
        A copy with ``as_of`` as ``datetime64[ns]`` midnight, ``in_default`` as
        bool and ``pd`` as float, sorted by ``as_of`` and ``uscc``.

    Raises
    ------
    DataContractError
        If a column is missing, a key repeats, a performing row has a grade
        off the scale, or a performing PD is missing or outside [0, 1].
    """
    import pandas as pd

    _require(frame, DECISION_COLUMNS, "decisions")
    if frame.shape[0] == 0:
        raise DataContractError("The decisions frame is empty; pass rated cohorts.")
    out = frame.copy()
    out["as_of"] = _dates(out, "decisions")
    out["in_default"] = out["in_default"].astype(bool)
    out["pd"] = pd.to_numeric(out["pd"], errors="coerce").astype(np.float64)
    out["grade"] = out["grade"].astype(str)
    _no_duplicates(out, "decisions")
    performing = out.loc[~out["in_default"]]
    off_scale = sorted(set(performing["grade"].unique()) - set(grades))
    if off_scale:
        raise DataContractError(
            f"Performing decisions carry grades {_preview(off_scale)} that are not on "
            f"the model's scale {_preview(grades)}; rows in default must have "
            f"in_default true (grade {default_grade}). Pass the decisions of the "
            "model this reference describes."
        )
    bad_pd = performing["pd"].isna() | ~performing["pd"].between(0.0, 1.0)
    if bad_pd.any():
        raise DataContractError(
            f"{int(bad_pd.sum())} performing decisions have a PD that is missing or "
            "outside [0, 1]; the pd column must hold calibrated PDs."
        )
    return out.sort_values(["as_of", "uscc"], kind="stable").reset_index(drop=True)


def is_matured(as_of: dt.date, *, horizon_days: int, observation_end: dt.date) -> bool:
    """Whether a cohort's outcomes are known: ``as_of + horizon <= observation_end``.

    Examples
    --------
    >>> is_matured(dt.date(2024, 1, 31), horizon_days=365,
    ...            observation_end=dt.date(2025, 1, 30))
    True
    >>> is_matured(dt.date(2024, 1, 31), horizon_days=365,
    ...            observation_end=dt.date(2025, 1, 29))
    False
    """
    return as_of + dt.timedelta(days=horizon_days) <= observation_end


def attach_outcomes(decisions: pd.DataFrame, outcomes: pd.DataFrame) -> pd.Series:
    """Return the outcome of each decision row (NaN where none is given).

    Parameters
    ----------
    decisions : pandas.DataFrame
        Output of :func:`prepare_decisions`.
    outcomes : pandas.DataFrame
        :data:`OUTCOME_COLUMNS`; ``y`` in {0, 1}; one row per key.

    Returns
    -------
    pandas.Series
        Float ``y`` aligned with ``decisions``' index.

    Raises
    ------
    DataContractError
        If a column is missing, ``y`` is not 0/1 or a key repeats.
    """
    import pandas as pd

    _require(outcomes, OUTCOME_COLUMNS, "outcomes")
    right = outcomes[list(OUTCOME_COLUMNS)].copy()
    right["as_of"] = _dates(right, "outcomes")
    y = pd.to_numeric(right["y"], errors="coerce")
    if not y.isin([0, 1]).all():
        raise DataContractError(
            "The outcomes frame's y must hold only 0 and 1 (1: an adverse event within "
            "the horizon); drop rows of cohorts that have not matured."
        )
    right["y"] = y.astype(np.float64)
    _no_duplicates(right, "outcomes")
    merged = decisions[["uscc", "as_of"]].merge(right, on=["uscc", "as_of"], how="left")
    return pd.Series(merged["y"].to_numpy(), index=decisions.index, name="y")
