"""Benchmark: train both model families on a zone's 12 monthly snapshots.

Runs, in separate processes on the same engine home (after ``credit-engine
demo``, which leaves the lake, the 12-date ``credit_v1`` snapshot and the
simulator truth there):

* **engine**: ``credit-engine train`` (both specs: labels, out-of-fold master
  scale, fit, calibration, out-of-time validation with HTML report, MLflow
  registration) — the issue's target is at most 5 minutes on 2 cores;
* **plain baseline**: the floor of fitting alone: a default LightGBM and a
  logistic regression on the same development rows (features and labels are
  prepared before its clock starts).

Then it reports each model's out-of-time AUC next to the **ceiling**: the AUC of
the simulator's true 12-month event probabilities on the same rows.

Usage::

    .venv/bin/python benchmarks/bench_training.py --home .credit-engine \\
        --out benchmarks/results/training.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from _proc import measure

HERE = Path(__file__).resolve().parent


def _ceiling(home: Path, engine: dict[str, Any]) -> list[dict[str, Any]]:
    from sklearn.metrics import roc_auc_score

    truth = pd.read_parquet(home / "zone" / "records_truth" / "monthly.parquet")
    truth["as_of"] = pd.to_datetime(truth["as_of"]).dt.date
    rows = []
    for model in engine["models"]:
        folder = Path(model["report"]).parent
        oot = pd.read_parquet(folder / "oot_rows.parquet")
        oot["as_of"] = pd.to_datetime(oot["as_of"]).dt.date
        joined = oot.merge(truth, on=["uscc", "as_of"], how="inner")
        rows.append(
            {
                "model": model["registered_name"],
                "oot_rows": len(oot),
                "rows_with_truth": len(joined),
                "oot_auc": round(model["auc"], 4),
                "ceiling_auc": round(
                    float(roc_auc_score(joined["label"], joined["p_adverse_12m"])), 4
                ),
                "red_grades": model["red_grades"],
                "seconds": model["seconds"],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    home = args.home.resolve()
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        figures = Path(tmp) / "train.json"
        engine_run = measure(
            [
                str(bin_dir / "credit-engine"),
                "train",
                "--home",
                str(home),
                "--report-json",
                str(figures),
            ]
        )
        engine = json.loads(figures.read_text())
        plain_out = Path(tmp) / "plain.json"
        plain_run = measure(
            [sys.executable, str(HERE / "_train_plain.py"), str(home), str(plain_out)]
        )
        plain = json.loads(plain_out.read_text())
    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
        },
        "engine_train_both": engine_run,
        "plain_fit_both": {**plain_run, **plain},
        "ratio_engine_to_plain_fit": round(
            engine_run["seconds"] / plain["fit_seconds"], 1
        ),
        "models": _ceiling(home, engine),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
