"""Benchmark: the monitoring core on 100,000-enterprise cohorts.

Builds synthetic decisions of ``--rows`` enterprises rated at ``--cohorts``
month ends (a stationary latent risk, calibrated PDs, 2 % in default, 3 %
holding an informed one-tier upgrade), outcomes for the first ``--matured``
cohorts (the observation end is set so that their 365-day horizon has passed),
and ``--features`` features of the latest cohort for CSI; then times,
separately:

- ``monitor_model`` (PSI, CSI, back-tests, DeLong AUC test, estimated default
  rate and AUC with Monte Carlo intervals, HHI, grade and tier migration);
- ``monitor_overrides``;
- ``build_report`` + ``to_json_dict`` (the JSON);
- ``render_html`` (charts), which the budget does not need per cohort.

The target: 100,000 enterprises x up to 24 cohorts in well under 5 minutes.

Usage::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_monitoring_core.py \
        [--rows 100000] [--cohorts 12] [--features 20] [--rounds 1] [--html]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from credit_engine.monitoring import (
    ModelReference,
    build_feature_references,
    build_report,
    load_thresholds,
    monitor_model,
    monitor_overrides,
    render_html,
)
from credit_engine.validation import freeze_bins

REPO = Path(__file__).resolve().parents[1]
GRADES = ("G1", "G2", "G3", "G4", "G5", "G6", "G7")
TIERS = {"G1": "A", "G2": "A", "G3": "B", "G4": "B", "G5": "C", "G6": "C", "G7": "D"}
SHARES = (0.15, 0.35, 0.55, 0.72, 0.85, 0.94)


def true_pd(z: np.ndarray) -> np.ndarray:
    return expit(-3.0 + 1.1 * z)


def reference(
    rng: np.random.Generator, n_features: int
) -> tuple[ModelReference, np.ndarray]:
    z = rng.normal(size=200_000)
    proba = true_pd(z)
    bounds = np.quantile(proba, SHARES)
    codes = np.searchsorted(bounds, proba, side="right")
    edges = freeze_bins(proba, 10)
    index = np.clip(np.searchsorted(edges, proba, side="right") - 1, 0, edges.size - 2)
    shares = np.bincount(codes, minlength=7) / z.size
    dev_features = pd.DataFrame(
        {f"f{i:02d}": z * (i % 3) + rng.normal(size=z.size) for i in range(n_features)}
    )
    validation = {
        "model_name": "bench_pd",
        "summary": {"auc": 0.77},
        "stability": {
            "score_edges": edges.tolist(),
            "score_shares_dev": [
                *(np.bincount(index, minlength=edges.size - 1) / z.size),
                0.0,
            ],
        },
        "dev": {
            "concentration": {"shares": dict(zip(GRADES, shares.tolist(), strict=True))}
        },
        "oot": {
            "concentration": {"hhi": float(np.sum(shares**2))},
            "discrimination": {"event_rate": float(proba.mean())},
            "calibration": {
                "grades": [
                    {"grade": g, "pd": float(proba[codes == k].mean())}
                    for k, g in enumerate(GRADES)
                ]
            },
        },
    }
    refs = build_feature_references(dev_features, n_bins=10)
    return ModelReference.from_validation_json(
        validation, horizon_days=365, features=refs
    ), bounds


def cohorts(
    rng: np.random.Generator,
    bounds: np.ndarray,
    rows: int,
    months: int,
    *,
    matured: int,
    n_features: int,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dt.date]:
    as_ofs = [d.date() for d in pd.date_range("2023-01-31", periods=months, freq="ME")]
    # the observation end at which the first `matured` cohorts have their outcomes
    end = as_ofs[matured - 1] + dt.timedelta(days=365) if matured else as_ofs[-1]
    usccs = np.array([f"91350200{i:09d}X" for i in range(rows)], dtype=object)
    in_default = rng.random(rows) < 0.02  # in default throughout
    holds_override = (rng.random(rows) < 0.03) & ~in_default  # one tier better
    better = {"A": "A", "B": "A", "C": "B", "D": "C"}
    z = rng.normal(size=rows)
    labels = np.array(GRADES, dtype=object)
    tier_of = np.vectorize(lambda g: TIERS.get(g, "D"), otypes=[object])
    frames, outcomes = [], []
    for as_of in as_ofs:
        z = 0.97 * z + np.sqrt(1 - 0.97**2) * rng.normal(size=rows)
        proba = true_pd(z)
        grade = labels[np.searchsorted(bounds, proba, side="right")]
        grade[in_default] = "GD"
        model_tier = tier_of(grade)
        overridden = holds_override & (model_tier != "A")
        tier = model_tier.copy()
        tier[overridden] = [better[t] for t in model_tier[overridden]]
        frames.append(
            pd.DataFrame(
                {
                    "uscc": usccs,
                    "as_of": as_of,
                    "pd": np.where(in_default, 1.0, proba),
                    "grade": grade,
                    "tier": tier,
                    "model_tier": model_tier,
                    "decided_by": np.where(overridden, "OVERRIDE", "MODEL"),
                    "in_default": in_default,
                    "override_id": pd.Series(np.arange(rows), dtype="Int64").where(
                        overridden, pd.NA
                    ),
                }
            )
        )
        if as_of + dt.timedelta(days=365) <= end:
            truth = np.where(overridden, 0.4 * proba, proba)  # informed overrides
            y = (rng.random(rows) < truth).astype(int)
            outcomes.append(pd.DataFrame({"uscc": usccs, "as_of": as_of, "y": y}))
    features = pd.DataFrame(
        {f"f{i:02d}": z * (i % 3) + rng.normal(size=rows) for i in range(n_features)}
    )
    features.insert(0, "as_of", as_ofs[-1])
    features.insert(0, "uscc", usccs)
    empty = pd.DataFrame({"uscc": [], "as_of": [], "y": []})
    return (
        pd.concat(frames, ignore_index=True),
        pd.concat(outcomes, ignore_index=True) if outcomes else empty,
        features,
        end,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cohorts", type=int, default=12)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument(
        "--matured", type=int, default=None, help="matured cohorts (default: half)"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--html", action="store_true", help="also time render_html")
    args = parser.parse_args()
    thresholds = load_thresholds(REPO / "models" / "monitoring" / "thresholds.yaml")
    rng = np.random.default_rng(20260401)
    start = time.perf_counter()
    ref, bounds = reference(rng, args.features)
    matured = args.cohorts // 2 if args.matured is None else args.matured
    decisions, outcomes, features, end = cohorts(
        rng, bounds, args.rows, args.cohorts, matured=matured, n_features=args.features
    )
    built = time.perf_counter() - start
    print(
        f"python {platform.python_version()}, {platform.machine()}; data built in "
        f"{built:.1f} s: {len(decisions):,} decisions, {len(outcomes):,} outcomes, "
        f"{args.features} features; n_draws={thresholds.estimation.n_draws}"
    )
    for round_ in range(1, args.rounds + 1):
        t0 = time.perf_counter()
        model = monitor_model(
            decisions,
            ref,
            observation_end=end,
            thresholds=thresholds,
            seed=1,
            outcomes=outcomes,
            features=features,
        )
        t1 = time.perf_counter()
        overrides = monitor_overrides(
            decisions,
            thresholds=thresholds,
            observation_end=end,
            horizon_days=365,
            outcomes=outcomes,
        )
        t2 = time.perf_counter()
        report = build_report(
            end, {"bench_pd": model}, thresholds=thresholds, overrides=overrides
        )
        text = json.dumps(report.to_json_dict(), allow_nan=False)
        t3 = time.perf_counter()
        line = (
            f"round {round_}: monitor_model {t1 - t0:.1f} s "
            f"({(t1 - t0) / args.cohorts:.2f} s per cohort), monitor_overrides "
            f"{t2 - t1:.1f} s, report + JSON {t3 - t2:.2f} s "
            f"({len(text) / 1e3:.0f} kB); core total {t3 - t0:.1f} s; status "
            f"{report.status} {model.lights}"
        )
        if args.html:
            render_html(report, thresholds)
            line += f"; render_html {time.perf_counter() - t3:.1f} s"
        print(line)


if __name__ == "__main__":
    main()
