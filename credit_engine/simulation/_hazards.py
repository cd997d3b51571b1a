"""Monthly hazards of the adverse-event channels, shared by simulation and truth.

Each channel k has a monthly probability

    lambda_k = sigmoid(alpha_k + b_c * noncompliance + b_h * distress
                       + b_d * 4 * under_declaration + b_f * refund_fraud
                       + b_y * young + b_p * recent_penalty)

where ``noncompliance = (0.77 - compliance) / 0.15`` and ``distress = -health``
are standardised drivers. The same function gives the simulated draws and the
latent truth, so the truth is the exact hazard of the generative model (up to the
expected-path approximation documented in docs/simulator.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from credit_engine.simulation._types import FloatArray

HEALTH_RHO = 0.92
HEALTH_SIGMA = 0.25


@dataclass(frozen=True)
class Channel:
    """Coefficients of one adverse-event channel (monthly logit scale)."""

    name: str
    alpha: float
    b_compliance: float
    b_distress: float
    b_under: float = 0.0
    b_fraud: float = 0.0
    b_young: float = 0.0
    b_penalty: float = 0.0


SMUGGLING = Channel(
    "customs_smuggling", -8.3, 1.1, 0.2, b_under=1.2, b_fraud=0.6, b_penalty=0.8
)
CUSTOMS_TAX_DEFAULT = Channel("customs_tax_default", -7.2, 0.4, 1.2)
TAX_MAJOR = Channel("tax_major_violation", -8.5, 1.0, 0.5, b_fraud=3.0, b_young=0.4)
FX_SERIOUS = Channel("fx_serious_violation", -8.9, 1.0, 0.2, b_under=1.2, b_fraud=1.0)
LOST_CONTACT = Channel("samr_lost_contact", -7.8, 0.5, 1.3, b_young=0.6)
HEAVIER_PENALTY = Channel("samr_heavier_penalty", -8.9, 1.2, 0.2)
ANNUAL_REPORT_MISSING = Channel(
    "samr_annual_report_missing", -4.3, 0.9, 0.8, b_young=0.5
)
"""Yearly probability of missing the June 30 deadline (not a monthly hazard)."""

MONTHLY_CHANNELS = (
    SMUGGLING,
    CUSTOMS_TAX_DEFAULT,
    TAX_MAJOR,
    FX_SERIOUS,
    LOST_CONTACT,
    HEAVIER_PENALTY,
)


@dataclass(frozen=True)
class Drivers:
    """Standardised drivers of a set of enterprises at one time."""

    noncompliance: FloatArray
    distress: FloatArray
    under: FloatArray
    fraud: FloatArray
    young: FloatArray
    penalty: FloatArray
    shift: FloatArray | None = None
    """Scenario shift of every channel's logit (a sector shock); ``None``: none."""


def noncompliance(compliance: FloatArray) -> FloatArray:
    """Standardised non-compliance: (0.77 - compliance) / 0.15."""
    return (0.77 - compliance) / 0.15


def probability(channel: Channel, d: Drivers) -> FloatArray:
    """Probability of ``channel`` per enterprise for one period."""
    z = (
        channel.alpha
        + channel.b_compliance * d.noncompliance
        + channel.b_distress * d.distress
        + channel.b_under * 4.0 * d.under
        + channel.b_fraud * d.fraud
        + channel.b_young * d.young
        + channel.b_penalty * d.penalty
    )
    if d.shift is not None:
        z = z + d.shift
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def expected_health(health: FloatArray, mean: FloatArray, steps: int) -> FloatArray:
    """Return expected health ``1..steps`` months ahead (AR(1)), shape (n, steps)."""
    k = np.arange(1, steps + 1)
    path = mean[:, None] + HEALTH_RHO ** k[None, :] * (health - mean)[:, None]
    return np.asarray(path, dtype=np.float64)


def sigmoid(z: FloatArray) -> FloatArray:
    """Logistic function."""
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def late_filing_probability(compliance: FloatArray, health: FloatArray) -> FloatArray:
    """Monthly probability that a filing misses its due date."""
    return np.minimum(
        0.01 + 0.35 * (1 - compliance) ** 1.5 + 0.10 * sigmoid(-2 * health), 0.4
    )


def arrears_probability(health: FloatArray) -> FloatArray:
    """Monthly probability that tax due is not paid in full."""
    return 0.005 + 0.2 * sigmoid(-2 * health - 1)
