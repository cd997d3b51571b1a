"""Benchmark: the engine's risk model against a default LightGBM, on the same folds.

For each table, ``credit_engine.training.cross_validate_labels`` (what
``credit-engine evaluate`` runs: the ``risk_gbm`` spec with cross-fitted
calibration and its budgeted tuning grid, and the ``scorecard`` spec) and a
plain ``lightgbm.LGBMClassifier()`` with default parameters are fitted on the
very same folds; the AUC of every fold is reported side by side with the mean
difference, the folds won and a paired test (Wilcoxon signed rank and paired
t). Ordinal targets are compared on the worst level against the rest.

Tables:

* the zoo of public-like plain tables (``benchmarks/_zoo.py``): bankruptcy-like
  ratios, mixed applications with text categories and dates, agency grades,
  declared-order classes, wide, narrow and tiny tables;
* scikit-learn's bundled breast-cancer table (real, public; malignant = event);
* ``--cumcm-home HOME``: the CUMCM 2020 C invoices (real), features
  ``invoices_v1`` built from the lake of an engine home where ``adapt-cumcm``
  and ``ingest`` ran, labels default and D-vs-rest;
* ``--zone HOME`` (repeatable): the development rows of a simulated zone's
  12-date ``credit_v1`` snapshot (``credit-engine demo`` or
  simulate/ingest/features), folds grouped by enterprise.

Usage::

    .venv/bin/python benchmarks/bench_model_quality.py --out quality.json \\
        [--tables bankruptcy,applications] [--cumcm-home cumcm-home] \\
        [--zone /tmp/zone-a] [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _train_plain import development_rows  # noqa: E402
from _zoo import TABLES  # noqa: E402

from credit_engine.config import Settings  # noqa: E402
from credit_engine.training import (  # noqa: E402
    cross_validate_labels,
    load_model_spec,
    plan_columns,
)

SPECS = ("risk_gbm", "scorecard")


def _default_lightgbm(
    x: pd.DataFrame, y: np.ndarray, categorical: list[str], folds: list[np.ndarray]
) -> np.ndarray:
    """Out-of-fold P(event) of ``LGBMClassifier()`` with defaults, same folds."""
    from lightgbm import LGBMClassifier

    data = x.copy()
    for c in categorical:
        data[c] = data[c].astype("category")
    everything = np.arange(len(y))
    proba = np.zeros(len(y))
    for pred in folds:
        fit = np.setdiff1d(everything, pred)
        model = LGBMClassifier(verbosity=-1, n_jobs=1)
        model.fit(data.iloc[fit], y[fit])
        proba[pred] = model.predict_proba(data.iloc[pred])[:, 1]
    return proba


def _paired(engine: list[float], plain: list[float]) -> dict[str, Any]:
    from scipy import stats

    diff = np.asarray(engine) - np.asarray(plain)
    out: dict[str, Any] = {
        "mean_difference": float(diff.mean()),
        "folds_ahead": int((diff > 0).sum()),
        "folds": len(diff),
    }
    if np.allclose(diff, 0):
        out.update(wilcoxon_p=1.0, paired_t_p=1.0)
    else:
        out["wilcoxon_p"] = float(stats.wilcoxon(diff).pvalue)
        out["paired_t_p"] = float(stats.ttest_rel(engine, plain).pvalue)
    return out


def compare(
    name: str,
    frame: pd.DataFrame,
    target: str,
    *,
    order: list[str] | None = None,
    group: str | None = None,
    directions: dict[str, str] | None = None,
    features: list[str] | None = None,
    seed: int = 0,
    folds: int = 5,
) -> dict[str, Any]:
    """Engine families and a default LightGBM on the same folds of one table."""
    from sklearn.metrics import roc_auc_score

    settings = Settings(home=Path("/tmp/unused-home"))
    specs = [load_model_spec(settings.definitions_dir / "models", s) for s in SPECS]
    keys = {target, *([group] if group else [])}
    plan = (
        plan_columns(frame, exclude=keys)
        if features is None
        else plan_columns(frame, only=features, identifiers=False)
    )
    x = plan.transform(frame)
    data = x.copy()
    for column in keys:
        data[column] = frame[column].to_numpy()
    start = time.perf_counter()
    result = cross_validate_labels(
        data,
        plan.features,
        target,
        specs,
        directions={k: v for k, v in (directions or {}).items() if k in plan.features},
        folds=folds,
        seed=seed,
        groups=group,
        categorical=plan.categorical,
        order=order,
    )
    engine_seconds = time.perf_counter() - start
    event = (result.y == len(result.classes) - 1).astype(int)
    fold_rows = [np.flatnonzero(result.fold == k) for k in range(folds)]
    start = time.perf_counter()
    plain = _default_lightgbm(x.iloc[result.index], event, plan.categorical, fold_rows)
    plain_seconds = time.perf_counter() - start
    per_fold_plain = [float(roc_auc_score(event[r], plain[r])) for r in fold_rows]
    row: dict[str, Any] = {
        "table": name,
        "rows": result.rows,
        "features": len(plan.features),
        "categorical": len(plan.categorical),
        "dropped": plan.dropped,
        "kind": result.kind,
        "events": int(event.sum()),
        "seed": seed,
        "default_lightgbm": {
            "auc": float(roc_auc_score(event, plain)),
            "auc_folds": per_fold_plain,
            "seconds": round(plain_seconds, 1),
        },
        "engine_seconds_both_families": round(engine_seconds, 1),
    }
    for spec_name, figures in result.models.items():
        if "error" in figures:
            row[spec_name] = {"error": figures["error"]}
            continue
        fig = figures if result.kind == "binary" else figures["worst_vs_rest"]
        row[spec_name] = {
            "auc": fig["auc"],
            "auc_folds": fig["auc_folds"],
            "vs_default_lightgbm": _paired(fig["auc_folds"], per_fold_plain),
        }
        if result.kind == "ordinal":
            row[spec_name]["qwk"] = figures["qwk"]
    return row


def _cancer() -> tuple[pd.DataFrame, str]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.copy()
    frame["malignant"] = 1 - frame.pop("target")
    return frame, "malignant"


def _cumcm(
    home: Path,
) -> list[tuple[str, pd.DataFrame, str, dict[str, str], list[str]]]:
    from credit_engine.cli._evaluate_io import _features_for

    settings = Settings(home=home)
    out = []
    for label in ("default", "d_vs_rest"):
        path = home / "cumcm" / f"labels_{label}.csv"
        spine = pd.read_csv(path, dtype={"uscc": str})
        spine["as_of"] = pd.to_datetime(spine["as_of"]).dt.date
        frame, features, directions = _features_for(settings, spine, "invoices_v1")
        out.append((f"cumcm_{label}", frame, "label", directions, features))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tables", default=",".join(TABLES) + ",breast_cancer")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--cumcm-home", type=Path, default=None)
    parser.add_argument("--zone", type=Path, action="append", default=[])
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    results: list[dict[str, Any]] = []

    def run(name: str, *a: Any, **k: Any) -> None:
        for seed in seeds:
            row = compare(name, *a, seed=seed, **k)
            results.append(row)
            gbm = row.get("risk_gbm", {})
            versus = gbm.get("vs_default_lightgbm", {})
            print(
                f"{name:16} seed {seed}: engine {gbm.get('auc', float('nan')):.4f} "
                f"default {row['default_lightgbm']['auc']:.4f} "
                f"diff {versus.get('mean_difference', float('nan')):+.4f} "
                f"ahead {versus.get('folds_ahead')}/{versus.get('folds')} "
                f"({row['engine_seconds_both_families']} s)",
                flush=True,
            )

    for name in [t for t in args.tables.split(",") if t]:
        if name == "breast_cancer":
            frame, target = _cancer()
            run(name, frame, target)
            continue
        frame, target, options = TABLES[name]()
        run(name, frame, target, **options)
    if args.cumcm_home is not None:
        for name, frame, target, directions, features in _cumcm(args.cumcm_home):
            run(name, frame, target, directions=directions, features=features)
    for home in args.zone:
        rows, features, directions = development_rows(home)
        run(
            f"zone:{home.name}", rows, "label", group="uscc",
            directions=directions, features=features,
        )  # fmt: skip
    payload = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
