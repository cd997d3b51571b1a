"""Outcomes of stored decisions: the label definition applied to rated cohorts.

Monitoring back-tests the PDs of matured cohorts against what happened next;
what "happened" is the model spec's label (its adverse events within the
horizon), computed by :mod:`credit_engine.training._labels`, the one module
allowed to look past ``as_of``. This is the public door to it for packages
above training (import-linter keeps the labels module itself private).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandas as pd

from credit_engine.exceptions import DataContractError
from credit_engine.features import LakeSources, load_definitions
from credit_engine.training._labels import attach_labels, lake_observation_end
from credit_engine.training._spec import ModelSpec

if TYPE_CHECKING:
    from credit_engine.config import Settings
    from credit_engine.features import Definitions

__all__ = ["cohort_outcomes", "outcome_observation_end"]


def outcome_observation_end(
    spec: ModelSpec, settings: Settings, *, definitions: Definitions | None = None
) -> dt.date | None:
    """Last day the engine home's lake has outcome records for (``spec``'s label).

    A cohort rated at ``as_of`` is matured when ``as_of + horizon_days`` is on
    or before this day.

    Parameters
    ----------
    spec : ModelSpec
        Gives the label's event tables.
    settings : Settings
        The engine home (lake, definitions).
    definitions : Definitions, optional
        Already loaded definitions (default: loaded from ``settings``).

    Returns
    -------
    datetime.date or None
        ``None`` when the event tables are empty.
    """
    definitions = definitions or load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    return lake_observation_end(spec.label, definitions.contracts, sources)


def cohort_outcomes(
    cohorts: pd.DataFrame,
    spec: ModelSpec,
    settings: Settings,
    *,
    observed_until: dt.date,
    definitions: Definitions | None = None,
) -> pd.DataFrame:
    """Label rated enterprises with ``spec``'s outcome definition.

    Parameters
    ----------
    cohorts : pandas.DataFrame
        ``uscc`` and ``as_of`` (dates) of the rated rows, one per key.
    spec : ModelSpec
        The model spec whose label (events, horizon) defines the outcome.
    settings : Settings
        The engine home (lake, definitions).
    observed_until : datetime.date
        Last day outcomes count as observed: rows whose window ends after it
        are dropped (not matured).
    definitions : Definitions, optional
        Already loaded definitions (default: loaded from ``settings``).

    Returns
    -------
    pandas.DataFrame
        ``uscc``, ``as_of``, ``y`` (1: an adverse event within the horizon) and
        ``event_code`` (the first event), for the matured rows.

    Raises
    ------
    DataContractError
        If ``cohorts`` lacks ``uscc`` or ``as_of``.
    """
    missing = [c for c in ("uscc", "as_of") if c not in cohorts.columns]
    if missing:
        raise DataContractError(
            f"The cohorts frame lacks {missing}; pass uscc and as_of of the rated rows."
        )
    keys = cohorts[["uscc", "as_of"]].drop_duplicates().reset_index(drop=True)
    keys["as_of"] = pd.to_datetime(keys["as_of"]).dt.date
    if keys.empty:
        return pd.DataFrame(
            {"uscc": [], "as_of": [], "y": pd.Series([], dtype="int64"),
             "event_code": []}
        )  # fmt: skip
    definitions = definitions or load_definitions(settings.definitions_dir)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    labelled = attach_labels(
        keys,
        spec.label,
        contracts=definitions.contracts,
        sources=sources,
        observed_until=observed_until,
    )
    out = labelled[["uscc", "as_of", "label", "event_code"]].rename(
        columns={"label": "y"}
    )
    return out.reset_index(drop=True)
