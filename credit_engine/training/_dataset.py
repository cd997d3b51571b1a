"""The modelling table: feature snapshot rows, population rules and labels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.data import SourceContract
from credit_engine.exceptions import DataContractError
from credit_engine.features import Sources, read_snapshot_lineage
from credit_engine.modeling import any_flag_set
from credit_engine.training._labels import attach_labels
from credit_engine.training._spec import ModelSpec

__all__ = ["ModellingTable", "build_modelling_table", "read_snapshot"]

KEYS = ("uscc", "as_of")


def read_snapshot(path: Path, feature_set: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a feature snapshot and its lineage; check it holds ``feature_set``.

    Raises
    ------
    DataContractError
        If the file is missing or holds another feature set, saying how to
        build the right one.
    """
    if not path.is_file():
        raise DataContractError(
            f"No feature snapshot at {path}. Build one first, e.g. "
            f"`credit-engine features --set {feature_set} --as-of 2024-10-31 ... "
            f"--out {path}` (the demo builds 12 monthly dates)."
        )
    lineage = read_snapshot_lineage(path)
    if lineage.get("feature_set") != feature_set:
        raise DataContractError(
            f"{path} holds feature set {lineage.get('feature_set')!r}, but the model "
            f"spec needs {feature_set!r}."
        )
    frame = pd.read_parquet(path)
    frame["as_of"] = pd.to_datetime(frame["as_of"]).dt.date
    return frame, lineage


@dataclass
class ModellingTable:
    """Rows ready for development: labelled, in the rated population.

    Attributes
    ----------
    rows : pandas.DataFrame
        ``uscc``, ``as_of``, features, ``label``, ``event_code``, ``oot``.
    features : list of str
        Feature columns.
    counts : dict
        Rows dropped at each step (for the report).
    """

    rows: pd.DataFrame
    features: list[str]
    counts: dict[str, int]


def build_modelling_table(
    snapshot: pd.DataFrame,
    spec: ModelSpec,
    *,
    features: list[str],
    contracts: Mapping[str, SourceContract],
    sources: Sources,
) -> ModellingTable:
    """Apply the population rules, attach labels and drop defaulted rows.

    Parameters
    ----------
    snapshot : pandas.DataFrame
        Feature rows (``uscc``, ``as_of`` and ``features``).
    spec : ModelSpec
        Population, default state and label definitions.
    features : list of str
        The feature set's columns.
    contracts, sources
        Where outcomes are read (the lake).
    """
    stale = [c for c in features if c not in snapshot.columns]
    if stale:
        raise DataContractError(
            f"The snapshot lacks {len(stale)} feature(s) of {spec.feature_set!r}: "
            f"{stale[:5]}. It was built from older definitions; rebuild it with "
            "`credit-engine features` (or `credit-engine demo`)."
        )
    needed = [*spec.population_exclude, *spec.default_state]
    missing = [c for c in needed if c not in snapshot.columns]
    if missing:
        raise DataContractError(
            f"Model spec {spec.name!r} uses flag features {missing} that the "
            f"snapshot of {spec.feature_set!r} does not have."
        )
    counts = {"snapshot_rows": len(snapshot)}
    kept = snapshot[~any_flag_set(snapshot, spec.population_exclude)]
    counts["excluded_population"] = len(snapshot) - len(kept)
    labelled = attach_labels(kept, spec.label, contracts=contracts, sources=sources)
    counts["incomplete_outcome_window"] = len(kept) - len(labelled)
    in_default = any_flag_set(labelled, spec.default_state)
    counts["in_default_at_as_of"] = int(in_default.sum())
    rows = labelled[~in_default].reset_index(drop=True)
    counts["development_rows"] = len(rows)
    if rows.empty:
        raise DataContractError(
            "No rows are left to develop on: every row was excluded, in default "
            "or without a complete 12-month outcome window. Rate dates at least "
            f"{spec.label.horizon_days} days before the lake's last records."
        )
    return ModellingTable(rows=rows, features=features, counts=counts)
