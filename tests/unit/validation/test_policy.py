from __future__ import annotations

import pytest
from pydantic import ValidationError

from credit_engine.validation import ValidationPolicy, iv_band, psi_light, traffic_light


def test_thresholds_are_configurable_and_frozen():
    policy = ValidationPolicy(alpha_amber=0.10, psi_monitor=0.2)
    assert traffic_light(0.07, policy) == "amber"
    assert traffic_light(0.07, ValidationPolicy()) == "green"
    assert psi_light(0.15, policy) == "green"
    with pytest.raises(ValidationError, match="frozen"):
        policy.alpha_red = 0.2  # type: ignore[misc]


def test_policy_rejects_unknown_fields():
    with pytest.raises(ValidationError, match="alpha_yellow"):
        ValidationPolicy(alpha_yellow=0.1)  # type: ignore[call-arg]


def test_policy_names_thresholds_out_of_order():
    with pytest.raises(
        ValidationError,
        match=r"psi_monitor=0.3 must be below psi_significant=0.25",
    ):
        ValidationPolicy(psi_monitor=0.3)


@pytest.mark.parametrize(
    ("p_value", "colour"),
    [
        (0.5, "green"),
        (0.05, "green"),
        (0.049, "amber"),
        (0.01, "amber"),
        (0.009, "red"),
    ],
)
def test_traffic_light_bands(p_value, colour):
    assert traffic_light(p_value, ValidationPolicy()) == colour


def test_traffic_light_refuses_nan():
    with pytest.raises(ValueError, match="p_value is NaN"):
        traffic_light(float("nan"), ValidationPolicy())


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0.0, "unpredictive"),
        (0.02, "weak"),
        (0.1, "medium"),
        (0.3, "strong"),
        (0.5, "strong"),
        (0.51, "suspicious"),
    ],
)
def test_iv_bands(value, band):
    assert iv_band(value, ValidationPolicy()) == band
