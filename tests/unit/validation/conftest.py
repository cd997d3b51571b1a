"""Simulated, calibrated rating data for the validation-pack tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from credit_engine.validation import GradeScale, ScoredSample

GRADES = ("G1", "G2", "G3", "G4", "G5", "G6", "G7")
# Upper PD bound of each grade but the last: the rating assigns grades by PD band.
PD_BOUNDS = np.array([0.005, 0.01, 0.02, 0.04, 0.08, 0.16])


@dataclass(frozen=True)
class Simulated:
    sample: ScoredSample
    features: pd.DataFrame


def grade_of(proba: np.ndarray) -> np.ndarray:
    return np.array(GRADES)[np.searchsorted(PD_BOUNDS, proba, side="right")]


def simulate(
    n: int, rng: np.random.Generator, *, shift: float = 0.0, as_of: bool = False
) -> Simulated:
    """Rows whose ``proba`` is the true PD: the outcomes are drawn from it."""
    latent = rng.normal(loc=shift, size=n)
    proba = expit(-3.6 + 1.2 * latent)
    y = (rng.random(n) < proba).astype(int)
    strong = latent + rng.normal(scale=0.5, size=n)
    strong[rng.random(n) < 0.05] = np.nan  # a missing bin
    features = pd.DataFrame(
        {
            "strong": strong,
            "noise": rng.normal(size=n),
            "sector": rng.choice(np.array(["trade", "retail", "logistics"]), n),
        }
    )
    dates = None
    if as_of:
        dates = np.datetime64("2024-01-31") + 30 * rng.integers(0, 3, n)
    return Simulated(
        ScoredSample(y=y, proba=proba, grade=grade_of(proba), as_of=dates), features
    )


@pytest.fixture(scope="session")
def simulate_rows() -> Callable[..., Simulated]:
    """Factory ``simulate_rows(n, rng, *, shift=0.0, as_of=False)``."""
    return simulate


@pytest.fixture(scope="module")
def dev_data() -> Simulated:
    return simulate(8000, np.random.default_rng(20240601))


@pytest.fixture(scope="module")
def oot_data() -> Simulated:
    return simulate(6000, np.random.default_rng(20240602), as_of=True)


@pytest.fixture(scope="module")
def scale(dev_data: Simulated) -> GradeScale:
    """Master scale calibrated on dev: each grade's PD is its mean true PD."""
    sample = dev_data.sample
    pds = tuple(float(sample.proba[sample.grade == g].mean()) for g in GRADES)
    return GradeScale(grades=GRADES, pd=pds)
