"""A synthetic zone for the monitoring tests: enterprises rated monthly.

Each enterprise has a latent risk that follows a stationary AR(1) from month to
month, so the population is stable and grades migrate mostly to neighbours. The
model's PD is the true PD (calibrated) unless a scenario doubles the true
default rates from a date (the PDs do not see it) or shifts the population
(the PDs do see it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit, logit

import credit_engine
from credit_engine.monitoring import (
    ModelReference,
    MonitoringThresholds,
    build_feature_references,
    load_thresholds,
)
from credit_engine.validation import freeze_bins, hhi, roc_auc

THRESHOLDS_PATH = (
    Path(credit_engine.__file__).parents[1]
    / "models"
    / "monitoring"
    / "thresholds.yaml"
)
GRADES = ("G1", "G2", "G3", "G4", "G5", "G6", "G7")
GRADE_MAP = {
    "G1": "A",
    "G2": "A",
    "G3": "B",
    "G4": "B",
    "G5": "C",
    "G6": "C",
    "G7": "D",
    "GD": "D",
}
CUMULATIVE_SHARES = (0.15, 0.35, 0.55, 0.72, 0.85, 0.94)
INTERCEPT, SLOPE = -3.0, 1.1
RHO = 0.97
HORIZON = 365
START = dt.date(2023, 1, 31)


def thresholds() -> MonitoringThresholds:
    return load_thresholds(THRESHOLDS_PATH)


def month_ends(start: dt.date, months: int) -> list[dt.date]:
    return [d.date() for d in pd.date_range(start, periods=months, freq="ME")]


def true_pd(z: np.ndarray) -> np.ndarray:
    return expit(INTERCEPT + SLOPE * z)


def features_of(z: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    n = z.size
    x1 = z + rng.normal(scale=0.5, size=n)
    x1[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "x_signal": x1,
            "x_noise": rng.exponential(size=n),
            "x_sector": rng.choice(
                ["trade", "logistics", "retail"], size=n, p=[0.5, 0.3, 0.2]
            ),
        }
    )


@dataclass(frozen=True)
class Reference:
    reference: ModelReference
    bounds: np.ndarray
    validation: dict


def make_reference(seed: int = 11, n_dev: int = 40_000) -> Reference:
    """Development and initial-validation samples, as a validation JSON."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=n_dev)
    proba = true_pd(z)
    bounds = np.quantile(proba, CUMULATIVE_SHARES)
    codes = np.searchsorted(bounds, proba, side="right")
    grade_pd = [float(proba[codes == k].mean()) for k in range(len(GRADES))]
    dev_shares = np.bincount(codes, minlength=len(GRADES)) / n_dev
    edges = freeze_bins(proba, 10)
    index = np.clip(np.searchsorted(edges, proba, side="right") - 1, 0, edges.size - 2)
    score_shares = np.append(np.bincount(index, minlength=edges.size - 1) / n_dev, 0.0)
    z_oot = rng.normal(size=n_dev // 2)
    p_oot = true_pd(z_oot)
    y_oot = (rng.random(p_oot.size) < p_oot).astype(int)
    oot_codes = np.searchsorted(bounds, p_oot, side="right")
    validation = {
        "model_name": "credit_engine.synthetic_pd",
        "summary": {"auc": roc_auc(y_oot, p_oot)},
        "stability": {
            "score_edges": ["-inf", *edges[1:-1].tolist(), "inf"],
            "score_shares_dev": score_shares.tolist(),
        },
        "dev": {
            "concentration": {
                "shares": dict(zip(GRADES, dev_shares.tolist(), strict=True))
            }
        },
        "oot": {
            "concentration": {
                "hhi": hhi(np.bincount(oot_codes, minlength=len(GRADES)))
            },
            "discrimination": {"event_rate": float(y_oot.mean())},
            "calibration": {
                "grades": [
                    {"grade": g, "pd": p} for g, p in zip(GRADES, grade_pd, strict=True)
                ]
            },
        },
    }
    refs = build_feature_references(features_of(z, rng), n_bins=10)
    reference = ModelReference.from_validation_json(
        validation, horizon_days=HORIZON, features=refs, version="1"
    )
    return Reference(reference, bounds, validation)


@dataclass(frozen=True)
class Zone:
    decisions: pd.DataFrame
    outcomes: pd.DataFrame
    features: pd.DataFrame
    as_ofs: list[dt.date]
    observation_end: dt.date


def simulate_zone(
    ref: Reference,
    *,
    seed: int = 5,
    n: int = 3000,
    months: int = 24,
    dr_multiplier: float = 1.0,
    multiplier_from: dt.date | None = None,
    shift: float = 0.0,
    shift_from: dt.date | None = None,
    override_rate: float = 0.03,
    default_share: float = 0.02,
) -> Zone:
    """Monthly cohorts of ``n`` enterprises; outcomes for matured cohorts only."""
    rng = np.random.default_rng(seed)
    as_ofs = month_ends(START, months)
    end = as_ofs[-1]
    usccs = np.array([f"91350200{i:09d}X" for i in range(n)], dtype=object)
    z = rng.normal(size=n)
    in_default = rng.random(n) < default_share  # in default throughout
    decisions, outcomes, features = [], [], []
    labels = np.array([*GRADES])
    for as_of in as_ofs:
        z = RHO * z + np.sqrt(1 - RHO**2) * rng.normal(size=n)
        moved = z + (shift if shift_from is not None and as_of >= shift_from else 0.0)
        proba = true_pd(moved)
        grade = labels[np.searchsorted(ref.bounds, proba, side="right")].astype(object)
        grade[in_default] = "GD"
        model_tier = np.array([GRADE_MAP[g] for g in grade], dtype=object)
        tier = model_tier.copy()
        overridden = (rng.random(n) < override_rate) & ~in_default & (model_tier != "A")
        better = {"B": "A", "C": "B", "D": "C"}
        tier[overridden] = [better[t] for t in model_tier[overridden]]
        truth = proba.copy()
        truth[overridden] *= 0.4  # the supervisor knew something the model did not
        if multiplier_from is not None and as_of >= multiplier_from:
            truth = np.minimum(truth * dr_multiplier, 1.0)
        pd_col = np.where(in_default, 1.0, proba)
        decisions.append(
            pd.DataFrame(
                {
                    "uscc": usccs,
                    "as_of": as_of,
                    "pd": pd_col,
                    "grade": grade,
                    "score": 600 - 28.85 * logit(np.clip(pd_col, 1e-6, 1 - 1e-6)),
                    "tier": tier,
                    "model_tier": model_tier,
                    "decided_by": np.where(overridden, "OVERRIDE", "MODEL"),
                    "in_default": in_default,
                    "override_id": pd.Series(np.arange(n) + 1, dtype="Int64").where(
                        overridden, pd.NA
                    ),
                }
            )
        )
        if as_of + dt.timedelta(days=HORIZON) <= end:
            y = (rng.random(n) < truth).astype(int)
            y[in_default] = 1
            outcomes.append(pd.DataFrame({"uscc": usccs, "as_of": as_of, "y": y}))
        frame = features_of(moved, rng)
        frame.insert(0, "as_of", as_of)
        frame.insert(0, "uscc", usccs)
        features.append(frame)
    return Zone(
        decisions=pd.concat(decisions, ignore_index=True),
        outcomes=pd.concat(outcomes, ignore_index=True),
        features=pd.concat(features, ignore_index=True),
        as_ofs=as_ofs,
        observation_end=end,
    )
