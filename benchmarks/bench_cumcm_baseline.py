"""Baseline on the real CUMCM 2020 C invoices: pandas aggregates + LightGBM, CV.

A deliberately plain baseline for the engine to beat: thirteen invoice aggregates
per enterprise over its whole history, computed directly with pandas from the
contest CSVs (no engine code), and LightGBM with near-default parameters, on the
123 graded enterprises of attachment 1.

* AUC of 是否违约 (defaulted, 27 of 123) and of grade D against the rest (24):
  binary ``LGBMClassifier``, out-of-fold probabilities.
* Grade A-D as an ordinal target 0..3: ``LGBMRegressor`` on 0..3, out-of-fold
  predictions rounded and clipped to 0..3, scored by quadratic-weighted kappa
  and accuracy (regression keeps the order of the grades; a 4-class classifier
  would not).

Evaluation: stratified 5-fold CV (stratified by the target being predicted), metrics
on the pooled out-of-fold predictions. With 123 rows one split is noisy, so the
same is repeated with 5 seeds (5 x 5-fold) and reported as mean ± sd over the
repeats.

Usage::

    .venv/bin/python benchmarks/bench_cumcm_baseline.py --out cumcm_baseline.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import sklearn
from sklearn.metrics import accuracy_score, cohen_kappa_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "cumcm2020c"
SEED = 20200910  # CUMCM 2020 started on 10 September
REPEAT_SEEDS = (0, 1, 2, 3, 4)
PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 10,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "n_jobs": 1,
    "deterministic": True,
    "verbose": -1,
}
GRADES = {"A": 0, "B": 1, "C": 2, "D": 3}


def read_invoices(data: Path, side: str) -> pd.DataFrame:
    frame = pd.read_csv(
        data / f"attach1_{side}_invoices.csv.gz", dtype={"发票号码": str}
    )
    frame["void"] = frame["发票状态"].str.strip() == "作废发票"
    frame["red"] = ~frame["void"] & (frame["金额"] < 0)
    frame["month"] = frame["开票日期"].str.rsplit("/", n=1).str[0]
    return frame


def aggregates(data: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Thirteen whole-history aggregates per enterprise, and the labels."""
    out = read_invoices(data, "output")
    inp = read_invoices(data, "input")
    valid_out = out[~out["void"]]
    valid_in = inp[~inp["void"]]
    g_out, g_in = out.groupby("企业代号"), inp.groupby("企业代号")
    sales = valid_out.groupby("企业代号")["金额"].sum()
    purchases = valid_in.groupby("企业代号")["金额"].sum()
    by_buyer = valid_out.groupby(["企业代号", "购方单位代号"])["金额"].sum()
    top_buyer = by_buyer.groupby(level=0).max() / sales
    features = pd.DataFrame(
        {
            "out_count": g_out.size(),
            "in_count": g_in.size(),
            "out_amount": sales,
            "in_amount": purchases,
            "margin": (sales - purchases) / sales,
            "out_void_share": g_out["void"].mean(),
            "in_void_share": g_in["void"].mean(),
            "out_red_share": g_out["red"].mean(),
            "in_red_share": g_in["red"].mean(),
            "buyers": g_out["购方单位代号"].nunique(),
            "suppliers": g_in["销方单位代号"].nunique(),
            "top_buyer_share": top_buyer,
            "active_months": valid_out.groupby("企业代号")["month"].nunique(),
        }
    )
    enterprises = pd.read_csv(data / "attach1_enterprises.csv.gz").set_index("企业代号")
    features = features.reindex(enterprises.index)
    labels = pd.DataFrame(
        {
            "default": (enterprises["是否违约"] == "是").astype(int),
            "d_vs_rest": (enterprises["信誉评级"] == "D").astype(int),
            "grade": enterprises["信誉评级"].map(GRADES),
        }
    )
    return features.astype(float), labels


def oof(x: pd.DataFrame, y: pd.Series, seed: int, *, regression: bool) -> np.ndarray:
    pred = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in folds.split(x, y):
        if regression:
            model: Any = lgb.LGBMRegressor(random_state=seed, **PARAMS)
            model.fit(x.iloc[train], y.iloc[train])
            pred[test] = model.predict(x.iloc[test])
        else:
            model = lgb.LGBMClassifier(random_state=seed, **PARAMS)
            model.fit(x.iloc[train], y.iloc[train])
            pred[test] = model.predict_proba(x.iloc[test])[:, 1]
    return pred


def evaluate(x: pd.DataFrame, labels: pd.DataFrame, seed: int) -> dict[str, float]:
    grade = labels["grade"]
    ordinal = np.clip(np.rint(oof(x, grade, seed, regression=True)), 0, 3)
    return {
        "auc_default": roc_auc_score(
            labels["default"], oof(x, labels["default"], seed, regression=False)
        ),
        "auc_d_vs_rest": roc_auc_score(
            labels["d_vs_rest"], oof(x, labels["d_vs_rest"], seed, regression=False)
        ),
        "qwk_grade": cohen_kappa_score(grade, ordinal, weights="quadratic"),
        "accuracy_grade": accuracy_score(grade, ordinal),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA, help="CUMCM 2020 C folder")
    parser.add_argument("--out", type=Path, required=True, help="JSON results file")
    args = parser.parse_args()
    x, labels = aggregates(args.data)
    single = evaluate(x, labels, SEED)
    repeats = [evaluate(x, labels, seed) for seed in REPEAT_SEEDS]
    summary = {
        k: {
            "mean": float(np.mean([r[k] for r in repeats])),
            "sd": float(np.std([r[k] for r in repeats], ddof=1)),
            "runs": [round(r[k], 4) for r in repeats],
        }
        for k in single
    }
    results = {
        "rows": len(x),
        "positives": {
            "default": int(labels["default"].sum()),
            "d_vs_rest": int(labels["d_vs_rest"].sum()),
        },
        "features": list(x.columns),
        "model": {"lightgbm": PARAMS, "grade": "LGBMRegressor on 0..3, rounded"},
        "single_cv": {
            "seed": SEED,
            "folds": 5,
            **{k: float(v) for k, v in single.items()},
        },
        "repeated_cv": {"seeds": list(REPEAT_SEEDS), "folds": 5, **summary},
        "meta": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "versions": {
                "lightgbm": lgb.__version__,
                "scikit-learn": sklearn.__version__,
                "pandas": pd.__version__,
            },
        },
    }
    print(f"CUMCM 2020 C baseline: {len(x)} graded enterprises, {x.shape[1]} features")
    print(f"{'metric':<16}{'single 5-fold':>15}{'5 x 5-fold mean ± sd':>24}")
    for k, v in single.items():
        s = summary[k]
        print(f"{k:<16}{v:>15.3f}{s['mean']:>16.3f} ± {s['sd']:.3f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
