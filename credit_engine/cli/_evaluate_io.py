"""File handling of ``credit-engine evaluate``: read tables, build features, write."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.exceptions import DataContractError

__all__ = ["read_table", "run_evaluate", "write_table"]

_KEYS = ("uscc", "as_of")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet file (by suffix), naming the file on failure."""
    if not path.is_file():
        raise DataContractError(f"{path} does not exist.")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] in {".parquet", ".pq"}:
            return pd.read_parquet(path)
        if ".csv" in suffixes or (suffixes and suffixes[-1] == ".gz"):
            return pd.read_csv(path, dtype={"uscc": str}, low_memory=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise DataContractError(f"Cannot read {path}: {exc}") from exc
    raise DataContractError(f"{path}: use a .csv, .csv.gz or .parquet file.")


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write a frame as Parquet (``.parquet``/``.pq``) or CSV (anything else)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def _column_hint(name: str, columns: list[str]) -> str:
    close = difflib.get_close_matches(name, [str(c) for c in columns], n=3)
    listed = ", ".join(map(str, columns[:15])) + (" …" if len(columns) > 15 else "")
    hint = f" Did you mean {close}?" if close else ""
    return f"Its columns are: {listed}.{hint}"


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


def _check_table(
    frame: pd.DataFrame, path: Path, target: str, group: str | None
) -> None:
    if target not in frame.columns:
        raise DataContractError(
            f"{path} has no target column {target!r}. "
            f"{_column_hint(target, list(frame.columns))} Pass --target COLUMN."
        )
    if group is not None and group not in frame.columns:
        raise DataContractError(
            f"{path} has no group column {group!r} (--group). "
            f"{_column_hint(group, list(frame.columns))}"
        )
    if group == target:
        raise DataContractError(
            f"--group {group!r} is the target; group the folds by another column "
            "(an enterprise or customer id)."
        )


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
    order: list[str] | None = None,
    group: str | None = None,
    threshold: float = 0.5,
    oof_out: Path | None = None,
) -> dict[str, Any]:
    """Run the evaluation behind ``credit-engine evaluate``; return its JSON.

    Raises
    ------
    DataContractError
        If neither or both of ``labels`` and ``table`` are given, a file lacks
        the columns it needs, the target cannot be read (naming the fix), or
        no column is left to model.
    """
    from credit_engine.training import (
        cross_validate_labels,
        load_model_spec,
        plan_columns,
    )

    if (labels is None) == (table is None):
        raise DataContractError("Give exactly one of --labels FILE or --table FILE.")
    if not 0.0 < threshold < 1.0:
        raise DataContractError(
            f"--threshold must be a probability strictly between 0 and 1; got "
            f"{threshold}."
        )
    models_dir = settings.definitions_dir / "models"
    model_specs = [load_model_spec(models_dir, name) for name in specs]
    chosen_set = feature_set or model_specs[0].feature_set
    if labels is not None:
        raw = _spine(read_table(labels), labels, ("uscc", "as_of", target))
        _check_table(raw, labels, target, group)
        raw, candidates, all_directions = _features_for(settings, raw, chosen_set)
        group = group or "uscc"
        plan = plan_columns(raw, only=candidates, identifiers=False)
        origin: dict[str, Any] = {"labels": str(labels), "feature_set": chosen_set}
    else:
        assert table is not None
        raw = read_table(table)
        _check_table(raw, table, target, group)
        if group is None and "uscc" in raw.columns:
            group = "uscc"
        exclude = {target, *_KEYS, *([group] if group else [])}
        plan = plan_columns(raw, exclude=exclude)
        all_directions = {}
        origin = {"table": str(table), "features": str(len(plan.features))}
    features = plan.features
    if not features:
        raise DataContractError(
            f"No column is left to model: {plan.dropped or 'the table has none'}. "
            "Bring feature columns with at least two distinct values."
        )
    directions = {f: d for f, d in all_directions.items() if f in set(features)}
    frame = plan.transform(raw)
    for column in {target, *_KEYS, *([group] if group else [])}:
        if column in raw.columns:
            frame[column] = raw[column].to_numpy()
    result = cross_validate_labels(
        frame,
        features,
        target,
        model_specs,
        directions=directions,
        folds=folds,
        seed=seed,
        groups=group,
        categorical=plan.categorical,
        order=order,
        threshold=threshold,
    )
    payload: dict[str, Any] = {
        **origin,
        **result.to_json_dict(),
        "columns": plan.to_json_dict(),
    }
    keys = [k for k in (*_KEYS, group) if k]
    if oof_out is not None:
        oof = result.oof_frame(raw, keys=list(dict.fromkeys(keys)))
        written = write_table(oof, oof_out)
        payload["oof"] = {"path": str(written), "rows": result.rows}
    ranked = result.succeeded()
    if rate is not None and ranked:
        payload["rated"] = _rate(
            settings, result, plan, raw, frame, target, model_specs, directions,
            rate=rate, rate_out=rate_out, labels_mode=labels is not None,
            chosen_set=chosen_set, order=order, group=group, threshold=threshold,
        )  # fmt: skip
    return payload


def _rate(
    settings: Settings,
    result: Any,
    plan: Any,
    raw: pd.DataFrame,
    frame: pd.DataFrame,
    target: str,
    model_specs: list[Any],
    directions: dict[str, str],
    *,
    rate: Path,
    rate_out: Path | None,
    labels_mode: bool,
    chosen_set: str,
    order: list[str] | None,
    group: str | None,
    threshold: float,
) -> dict[str, Any]:
    """Fit the best family on every labelled row and rate the rows of ``rate``."""
    from credit_engine.training import fit_and_rate

    if labels_mode:
        spine = _spine(read_table(rate), rate, ("uscc", "as_of"))
        built, _, _ = _features_for(settings, spine, chosen_set)
        keys = ["uscc", "as_of"]
    else:
        built = read_table(rate)
        identifiers = [
            c for c, why in plan.dropped.items() if why.startswith("identifier")
        ]
        keys = [c for c in dict.fromkeys([*_KEYS, group, *identifiers]) if c]
    to_rate = plan.transform(built, where=str(rate))
    present = [k for k in keys if k in built.columns]
    for key in present:
        to_rate[key] = built[key].to_numpy()
    if not present:
        to_rate["row"] = range(len(to_rate))
        present = ["row"]
    metric = "auc" if result.kind == "binary" else "qwk"
    best = max(result.succeeded(), key=lambda n: float(result.models[n][metric]))
    spec = next(s for s in model_specs if s.name == best)
    rated = fit_and_rate(
        frame, plan.features, target, spec, to_rate,
        directions=directions, categorical=plan.categorical, order=order,
        groups=group, keys=present, threshold=threshold,
    )  # fmt: skip
    out = rate_out or settings.reports_dir / "evaluate" / "rated.csv"
    write_table(rated, out)
    counts = rated["predicted"].value_counts().sort_index()
    return {
        "path": str(out),
        "rows": len(rated),
        "model": best,
        "predicted": {str(k): int(v) for k, v in counts.items()},
    }
