"""Baseline of bench_training.py: fit a default LightGBM and a logistic
regression on the engine's development rows, timing the fits only."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pandas as pd

from credit_engine.config import Settings
from credit_engine.features import LakeSources, load_definitions
from credit_engine.training import (
    build_modelling_table,
    default_snapshot_path,
    load_model_spec,
    out_of_time_mask,
    read_snapshot,
)


def development_rows(home: Path) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
    """The ``risk_gbm`` spec's development rows of a home (out-of-time dates left
    out), its feature columns, and each feature's risk direction."""
    settings = Settings(home=home)
    spec = load_model_spec(settings.definitions_dir / "models", "risk_gbm")
    definitions = load_definitions(settings.definitions_dir)
    resolved = definitions.resolve(spec.feature_set)
    frame, _ = read_snapshot(
        default_snapshot_path(settings, spec.feature_set), spec.feature_set
    )
    sources = LakeSources.from_settings(settings, definitions.contracts)
    table = build_modelling_table(
        frame,
        spec,
        features=resolved.columns,
        contracts=definitions.contracts,
        sources=sources,
    )
    rows = table.rows[~out_of_time_mask(table.rows["as_of"], spec.split.oot_dates)]
    directions = {f.name: f.spec.risk.value for f in resolved.outputs}
    return rows.reset_index(drop=True), table.features, directions


def main() -> None:
    home, out = Path(sys.argv[1]), Path(sys.argv[2])
    rows, features, _ = development_rows(home)
    x = rows[features].astype(float)
    y = rows["label"].to_numpy()

    from lightgbm import LGBMClassifier
    from sklearn.linear_model import LogisticRegression

    start = time.perf_counter()
    LGBMClassifier(n_jobs=1, verbosity=-1).fit(x, y)
    LogisticRegression(max_iter=1000).fit(x.fillna(0.0), y)
    seconds = time.perf_counter() - start
    out.write_text(json.dumps({"fit_seconds": round(seconds, 1), "dev_rows": len(y)}))


if __name__ == "__main__":
    main()
