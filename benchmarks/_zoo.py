"""A zoo of public-like plain feature tables, seeded, for ``evaluate``.

Each maker returns ``(frame, target, options)``: a table as a user would bring
it (numbers, numbers as text, dates as text, yes/no flags, categories, free
text, ids, empty and constant columns, missing values, rare classes) and the
``evaluate`` options it needs (``order``, ``group``). Used by the tests of
``evaluate`` and by ``bench_model_quality.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["TABLES", "make_table"]

Table = tuple[pd.DataFrame, str, dict[str, Any]]


def _latent(rng: np.random.Generator, x: np.ndarray, informative: int) -> np.ndarray:
    """A non-linear risk score of the first ``informative`` columns."""
    w = rng.normal(size=informative)
    z = x[:, :informative] @ w / np.sqrt(informative)
    z += 0.6 * np.tanh(x[:, 0] * x[:, 1]) + 0.4 * (x[:, 2] > 1.0)
    return np.asarray(z)


def bankruptcy(seed: int = 0, n: int = 6_800, p: int = 64) -> Table:
    """Financial ratios, heavy tails, 3 % bankrupt; an id, an empty, a constant."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    z = _latent(rng, x, 12)
    noisy = z + rng.logistic(size=n) * 0.6
    y = (noisy > np.quantile(noisy, 0.968)).astype(int)
    ratios = np.sign(x) * np.expm1(np.abs(x) * 0.8)
    frame = pd.DataFrame(ratios, columns=[f"ratio_{i:02d}" for i in range(p)])
    frame.loc[rng.random(n) < 0.05, "ratio_05"] = np.nan
    frame.insert(0, "company_id", np.arange(100_001, 100_001 + n))
    frame["net_income_flag"] = 1.0
    frame["unused_ratio"] = np.nan
    frame["bankrupt"] = y
    return frame, "bankrupt", {}


def applications(seed: int = 1, n: int = 5_000) -> Table:
    """Mixed credit applications: text categories, dates and numbers as text."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8))
    region = rng.choice([f"R{i}" for i in range(8)], n)
    industry = rng.choice([f"industry {i}" for i in range(25)], n)
    region_effect = pd.Series(region).map({f"R{i}": 0.15 * i for i in range(8)})
    z = _latent(rng, x, 6) + region_effect.to_numpy() - 0.5
    y = z + rng.logistic(size=n) > np.quantile(z, 0.85)
    frame = pd.DataFrame(x[:, :6], columns=[f"x{i}" for i in range(6)])
    frame.loc[rng.random(n) < 0.1, "x3"] = np.nan
    frame["income"] = [f"{v:,.0f}" for v in np.exp(10 + x[:, 6])]
    frame["utilisation"] = [f"{v:.1f}%" for v in 100 / (1 + np.exp(-x[:, 7]))]
    days = rng.integers(0, 900, n)
    frame["applied_on"] = (
        pd.Timestamp("2021-01-01") + pd.to_timedelta(days, "D")
    ).strftime("%Y-%m-%d")
    frame["region"] = region
    frame["industry"] = industry
    frame["homeowner"] = rng.choice(["yes", "no"], n)
    frame["customer_name"] = [f"customer {i}" for i in rng.permutation(n)]
    frame["notes"] = None
    frame["status"] = np.where(y, "bad", "good")
    return frame, "status", {}


def agency_grades(seed: int = 2, n: int = 4_000) -> Table:
    """Rating-agency letters AAA..D, with rare CC and C; firms observed 2-3 times."""
    rng = np.random.default_rng(seed)
    firms = rng.integers(0, n // 2, n)
    base = rng.normal(size=(n // 2, 20))
    x = base[firms] + 0.3 * rng.normal(size=(n, 20))
    z = _latent(rng, x, 10) + rng.normal(scale=0.5, size=n)
    scale = ["AAA", "AA", "A", "BBB", "BB", "B", "CCC", "CC", "C", "D"]
    cuts = np.quantile(z, [0.05, 0.15, 0.35, 0.6, 0.8, 0.92, 0.97, 0.9985, 0.9993])
    grades = np.asarray(scale, dtype=object)[np.searchsorted(cuts, z)]
    frame = pd.DataFrame(x, columns=[f"f{i:02d}" for i in range(20)])
    frame["sector"] = rng.choice(["trade", "manufacturing", "services", "logistics"], n)
    frame["firm"] = [f"F{f:05d}" for f in firms]
    frame["rating"] = grades
    return frame, "rating", {"group": "firm"}


def declared_order(seed: int = 3, n: int = 3_000) -> Table:
    """Text risk classes whose order must be declared (``--order low,medium,high``)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10))
    z = _latent(rng, x, 5) + rng.logistic(size=n) * 0.5
    classes = np.asarray(["low", "medium", "high"], dtype=object)
    frame = pd.DataFrame(x, columns=[f"v{i}" for i in range(10)])
    frame["risk_class"] = classes[np.searchsorted(np.quantile(z, [0.6, 0.9]), z)]
    return frame, "risk_class", {"order": ["low", "medium", "high"]}


def wide(seed: int = 4, n: int = 1_500, p: int = 300) -> Table:
    """Many more columns than signals."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p))
    z = _latent(rng, x, 8)
    y = (z + rng.logistic(size=n) > np.quantile(z, 0.9)).astype(int)
    frame = pd.DataFrame(x, columns=[f"w{i:03d}" for i in range(p)])
    frame["default"] = y
    return frame, "default", {}


def narrow(seed: int = 5, n: int = 3_000) -> Table:
    """Two features."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    z = 1.2 * x[:, 0] - 0.8 * np.abs(x[:, 1])
    y = (z + rng.logistic(size=n) > 1.5).astype(int)
    return pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "default": y}), "default", {}


def tiny(seed: int = 6, n: int = 150) -> Table:
    """A few hundred rows or fewer, as from a contest or a pilot."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8))
    z = _latent(rng, x, 4)
    y = (z + rng.logistic(size=n) * 0.7 > np.quantile(z, 0.75)).astype(int)
    frame = pd.DataFrame(x, columns=[f"t{i}" for i in range(8)])
    frame["defaulted"] = y
    return frame, "defaulted", {}


TABLES: dict[str, Callable[..., Table]] = {
    "bankruptcy": bankruptcy,
    "applications": applications,
    "agency_grades": agency_grades,
    "declared_order": declared_order,
    "wide": wide,
    "narrow": narrow,
    "tiny": tiny,
}
"""Every maker of the zoo by name."""


def make_table(name: str, **kwargs: Any) -> Table:
    """Make one table of the zoo by name (see :data:`TABLES`)."""
    return TABLES[name](**kwargs)
