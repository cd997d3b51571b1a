"""File handling of ``credit-engine evaluate``: read labels, build features, rate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.exceptions import DataContractError

__all__ = ["read_table", "run_evaluate"]


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix), naming the file on failure."""
    if not path.is_file():
        raise DataContractError(f"{path} does not exist.")
    if path.suffix.lower() in {".parquet", ".pq"}:
        return pd.read_parquet(path)
    if path.suffix.lower() in {".csv", ".gz"}:
        return pd.read_csv(path, dtype={"uscc": str})
    raise DataContractError(f"{path}: use a .csv or .parquet file.")


def _spine(frame: pd.DataFrame, path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"{path} lacks column(s) {missing}; it needs {list(needed)} "
            f"(got {list(frame.columns)[:8]})."
        )
    out = frame.copy()
    try:
        out["as_of"] = pd.to_datetime(out["as_of"]).dt.date
    except (ValueError, TypeError) as exc:
        raise DataContractError(f"{path}: as_of must be dates YYYY-MM-DD.") from exc
    return out


def _features_for(
    settings: Settings, spine: pd.DataFrame, feature_set: str
) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    from credit_engine.features import (
        LakeSources,
        build_feature_frame,
        load_definitions,
    )

    definitions = load_definitions(settings.definitions_dir)
    resolved = definitions.resolve(feature_set)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    keys = spine[["uscc", "as_of"]].drop_duplicates()
    built = build_feature_frame(
        keys, resolved, definitions=definitions, sources=sources
    )
    built["as_of"] = pd.to_datetime(built["as_of"]).dt.date
    frame = spine.merge(built, on=["uscc", "as_of"], how="left")
    directions = {f.name: f.spec.risk.value for f in resolved.outputs}
    return frame, resolved.columns, directions


def run_evaluate(
    settings: Settings,
    *,
    labels: Path | None,
    table: Path | None,
    target: str,
    feature_set: str | None,
    specs: list[str],
    folds: int,
    seed: int,
    rate: Path | None,
    rate_out: Path | None,
) -> dict[str, Any]:
    """Run the evaluation behind ``credit-engine evaluate``; return its JSON.

    Raises
    ------
    DataContractError
        If neither or both of ``labels`` and ``table`` are given, or a file
        lacks the columns it needs.
    """
    from credit_engine.training import (
        cross_validate_labels,
        fit_and_rate,
        load_model_spec,
    )

    if (labels is None) == (table is None):
        raise DataContractError("Give exactly one of --labels FILE or --table FILE.")
    models_dir = settings.definitions_dir / "models"
    model_specs = [load_model_spec(models_dir, name) for name in specs]
    chosen_set = feature_set or model_specs[0].feature_set
    if labels is not None:
        source = _spine(read_table(labels), labels, ("uscc", "as_of", target))
        frame, features, directions = _features_for(settings, source, chosen_set)
        origin = {"labels": str(labels), "feature_set": chosen_set}
    else:
        assert table is not None
        frame = read_table(table)
        if target not in frame.columns:
            raise DataContractError(
                f"{table} has no target column {target!r}; pass --target."
            )
        skip = {target, "uscc", "as_of"}
        features = [
            c
            for c in frame.columns
            if c not in skip and pd.api.types.is_numeric_dtype(frame[c])
        ]
        directions = {}
        origin = {"table": str(table), "features": str(len(features))}
    result = cross_validate_labels(
        frame,
        features,
        target,
        model_specs,
        directions=directions,
        folds=folds,
        seed=seed,
        groups="uscc" if "uscc" in frame.columns else None,
    )
    payload: dict[str, Any] = {**origin, **result.to_json_dict()}
    if rate is not None:
        to_rate = _spine(read_table(rate), rate, ("uscc", "as_of"))
        if labels is not None:
            to_rate, _, _ = _features_for(settings, to_rate, chosen_set)
        metric = "auc" if result.kind == "binary" else "qwk"
        best = max(result.models, key=lambda n: float(result.models[n][metric]))
        spec = next(s for s in model_specs if s.name == best)
        rated = fit_and_rate(
            frame, features, target, spec, to_rate, directions=directions
        )
        out = rate_out or settings.reports_dir / "evaluate" / "rated.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        rated.to_csv(out, index=False)
        counts = rated["predicted"].value_counts().sort_index()
        payload["rated"] = {
            "path": str(out),
            "rows": len(rated),
            "model": best,
            "predicted": {str(k): int(v) for k, v in counts.items()},
        }
    return payload
