from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring import monitor_overrides
from tests.unit.monitoring.synthetic import thresholds

END = dt.date(2025, 6, 30)


def _decisions(
    as_of: dt.date, n: int, overrides: list[tuple[str, str]]
) -> pd.DataFrame:
    """``n`` model decisions in tier B, then the overridden ones (tier, model tier)."""
    rows = [("B", "B", "MODEL", None)] * (n - len(overrides))
    rows += [(t, m, "OVERRIDE", i + 1) for i, (t, m) in enumerate(overrides)]
    frame = pd.DataFrame(
        rows, columns=["tier", "model_tier", "decided_by", "override_id"]
    )
    frame.insert(0, "as_of", as_of)
    frame.insert(0, "uscc", [f"U{i:05d}" for i in range(n)])
    frame["in_default"] = False
    frame["override_id"] = frame["override_id"].astype("Int64")
    return frame


@pytest.mark.parametrize(
    ("overridden", "light"), [(4, "green"), (5, "amber"), (9, "amber"), (10, "red")]
)
def test_rate_lights_at_the_edges(overridden, light):
    frame = _decisions(dt.date(2025, 5, 31), 100, [("A", "B")] * overridden)
    result = monitor_overrides(
        frame, thresholds=thresholds(), observation_end=END, horizon_days=365
    )
    assert result.rate == pytest.approx(overridden / 100)
    assert result.by_cohort[-1].light == light
    assert result.light == light
    assert result.performance == ()


def test_directions_and_the_latest_cohort():
    old = _decisions(dt.date(2024, 1, 31), 100, [("A", "B"), ("C", "B"), ("B", "B")])
    new = _decisions(dt.date(2024, 2, 29), 100, [("A", "B")])
    result = monitor_overrides(
        pd.concat([old, new]),
        thresholds=thresholds(),
        observation_end=END,
        horizon_days=365,
    )
    first, last = result.by_cohort
    assert (first.upgrades, first.downgrades, first.unchanged) == (1, 1, 1)
    assert last.overridden == 1
    assert result.rate == 0.01


def test_override_in_force_but_bound_by_statute_counts():
    frame = _decisions(dt.date(2025, 5, 31), 10, [])
    frame.loc[0, ["override_id", "decided_by", "tier", "model_tier"]] = [
        7,
        "STATUTORY",
        "D",
        "B",
    ]
    result = monitor_overrides(
        frame, thresholds=thresholds(), observation_end=END, horizon_days=365
    )
    assert result.by_cohort[0].overridden == 1
    assert result.by_cohort[0].downgrades == 1


def test_upgrades_that_default_like_their_model_tier_are_red():
    as_of = dt.date(2024, 1, 31)
    n = 2000
    frame = _decisions(as_of, n, [("A", "B")] * 100)
    frame.loc[: n - 101, "tier"] = np.where(np.arange(n - 100) < 1000, "A", "B")
    frame.loc[: n - 101, "model_tier"] = frame.loc[: n - 101, "tier"]
    rng = np.random.default_rng(0)
    tier_a = (frame["tier"] == "A") & frame["override_id"].isna()
    y = np.where(tier_a, rng.random(n) < 0.01, rng.random(n) < 0.08).astype(int)
    y[-100:] = (np.arange(100) < 8).astype(int)  # upgraded: 8 % like tier B
    outcomes = frame[["uscc", "as_of"]].assign(y=y)
    result = monitor_overrides(
        frame,
        thresholds=thresholds(),
        observation_end=END,
        horizon_days=365,
        outcomes=outcomes,
    )
    up, down = result.performance
    assert result.matured_cohorts == (as_of,)
    assert (up.direction, up.n, up.defaults) == ("upgrade", 100, 8)
    benchmark = y[:1000].mean()  # non-overridden tier A
    assert up.benchmark_rate == pytest.approx(benchmark)
    assert up.p_value == pytest.approx(stats.binom.sf(7, 100, benchmark))
    assert up.light == "red"
    assert down.n == 0
    assert down.light == "green"
    assert result.light == "red"


def test_immature_outcomes_are_ignored_and_bad_frames_refused():
    frame = _decisions(dt.date(2025, 5, 31), 50, [("A", "B")])
    outcomes = frame[["uscc", "as_of"]].assign(y=1)
    result = monitor_overrides(
        frame,
        thresholds=thresholds(),
        observation_end=END,
        horizon_days=365,
        outcomes=outcomes,
    )
    assert result.matured_cohorts == ()
    assert result.performance == ()
    with pytest.raises(DataContractError, match=r"lacks columns \[model_tier\]"):
        monitor_overrides(
            frame.drop(columns=["model_tier"]),
            thresholds=thresholds(),
            observation_end=END,
            horizon_days=365,
        )
    bad = frame.copy()
    bad.loc[0, "tier"] = "E"
    with pytest.raises(DataContractError, match=r"Tiers \['E'\]"):
        monitor_overrides(
            bad, thresholds=thresholds(), observation_end=END, horizon_days=365
        )
