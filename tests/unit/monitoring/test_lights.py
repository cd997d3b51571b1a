from __future__ import annotations

import math

import pytest

from credit_engine.monitoring import (
    DataThresholds,
    cap_light,
    count_light,
    freshness_light,
    level_light,
    ratio_light,
    worst_light,
)
from credit_engine.validation import psi_light, traffic_light
from tests.unit.monitoring.synthetic import thresholds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "green"),
        (0.0499, "green"),
        (0.05, "amber"),
        (0.0999, "amber"),
        (0.10, "red"),
    ],
)
def test_override_rate_edges_take_the_worse_colour(value, expected):
    t = thresholds().overrides
    assert level_light(value, t.rate_amber, t.rate_red) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0999, "green"), (0.10, "amber"), (0.2499, "amber"), (0.25, "red")],
)
def test_psi_edges_take_the_worse_colour(value, expected):
    assert psi_light(value, thresholds().validation_policy()) == expected


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.05, "green"), (0.0499, "amber"), (0.01, "amber"), (0.0099, "red")],
)
def test_p_values_at_alpha_take_the_better_colour(p, expected):
    assert traffic_light(p, thresholds().validation_policy()) == expected


def test_ratio_is_symmetric_around_one():
    t = thresholds().estimation
    assert ratio_light(1.5, t.dr_ratio_amber, t.dr_ratio_red) == "amber"
    assert ratio_light(1 / 1.5, t.dr_ratio_amber, t.dr_ratio_red) == "amber"
    assert ratio_light(2.0, t.dr_ratio_amber, t.dr_ratio_red) == "red"
    assert ratio_light(0.5, t.dr_ratio_amber, t.dr_ratio_red) == "red"
    assert ratio_light(1.49, t.dr_ratio_amber, t.dr_ratio_red) == "green"
    with pytest.raises(ValueError, match="positive"):
        ratio_light(0.0, 1.5, 2.0)


def test_counts_and_freshness():
    s = thresholds().stability
    assert [
        count_light(n, s.csi_red_features_amber, s.csi_red_features_red)
        for n in range(5)
    ] == ["green", "amber", "amber", "red", "red"]
    d = thresholds().data
    assert freshness_light(d.age_days_amber - 1, d) == "green"
    assert freshness_light(d.age_days_amber, d) == "amber"
    assert freshness_light(d.age_days_red, d) == "red"
    assert (
        freshness_light(1, DataThresholds(age_days_amber=2, age_days_red=3)) == "green"
    )


def test_worst_and_cap():
    assert worst_light([]) == "green"
    assert worst_light(["amber", None, "red", "green"]) == "red"
    assert cap_light("red", "amber") == "amber"
    assert cap_light("amber", "red") == "amber"
    with pytest.raises(ValueError, match="Unknown traffic light 'blue'"):
        worst_light(["blue"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="NaN"):
        level_light(math.nan, 1.0, 2.0)
