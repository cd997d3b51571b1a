"""Traffic lights of the monitor: from a figure and its thresholds to a colour.

Tests (p-values) and PSIs are coloured by the validation pack's
:func:`~credit_engine.validation.traffic_light` and
:func:`~credit_engine.validation.psi_light`; the helpers here colour the other
figures the same way: a value *at* a threshold takes the worse colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from credit_engine.monitoring._thresholds import DataThresholds
from credit_engine.validation import Light

__all__ = [
    "LIGHTS",
    "cap_light",
    "count_light",
    "freshness_light",
    "level_light",
    "ratio_light",
    "worst_light",
]

LIGHTS: tuple[Light, ...] = ("green", "amber", "red")
"""The colours, best first."""

_SEVERITY: dict[str, int] = {light: i for i, light in enumerate(LIGHTS)}


def _check(name: str, value: float) -> None:
    if math.isnan(value):
        raise ValueError(
            f"{name} is NaN; a colour needs a number. Check the inputs of the figure "
            "that produced it."
        )


def worst_light(lights: Iterable[Light | None]) -> Light:
    """Return the worst colour of ``lights`` (``None`` entries ignored; green if none).

    Raises
    ------
    ValueError
        If an entry is not ``"green"``, ``"amber"`` or ``"red"``.

    Examples
    --------
    >>> worst_light(["green", None, "amber"])
    'amber'
    >>> worst_light([])
    'green'
    """
    worst: Light = "green"
    for light in lights:
        if light is None:
            continue
        if light not in _SEVERITY:
            raise ValueError(
                f"Unknown traffic light {light!r}; expected one of {list(LIGHTS)}."
            )
        if _SEVERITY[light] > _SEVERITY[worst]:
            worst = light
    return worst


def cap_light(light: Light, cap: Light) -> Light:
    """Return ``light`` but no worse than ``cap``.

    Examples
    --------
    >>> cap_light("red", "amber"), cap_light("green", "amber")
    ('amber', 'green')
    """
    return light if _SEVERITY[light] <= _SEVERITY[cap] else cap


def level_light(value: float, amber: float, red: float) -> Light:
    """Colour a figure that is worse the higher it is.

    Parameters
    ----------
    value : float
        The figure, e.g. an override rate or a relative HHI increase.
    amber, red : float
        Thresholds, ``amber <= red``; a value at a threshold takes its colour.

    Returns
    -------
    {"green", "amber", "red"}

    Raises
    ------
    ValueError
        If ``value`` is NaN.

    Examples
    --------
    >>> [level_light(v, 0.05, 0.10) for v in (0.049, 0.05, 0.099, 0.10)]
    ['green', 'amber', 'amber', 'red']
    """
    _check("value", value)
    if value >= red:
        return "red"
    if value >= amber:
        return "amber"
    return "green"


def count_light(count: int, amber: int, red: int) -> Light:
    """Colour a count of findings (e.g. red CSI features): at ``amber`` or more, amber.

    Examples
    --------
    >>> [count_light(n, 1, 3) for n in (0, 1, 2, 3)]
    ['green', 'amber', 'amber', 'red']
    """
    return level_light(float(count), float(amber), float(red))


def ratio_light(ratio: float, amber: float, red: float) -> Light:
    """Colour a ratio that should stay near 1, in either direction.

    The ratio and its reciprocal are compared with the thresholds (both above 1),
    so halving and doubling are the same distance from 1.

    Raises
    ------
    ValueError
        If ``ratio`` is NaN or not positive.

    Examples
    --------
    >>> [ratio_light(r, 1.5, 2.0) for r in (1.0, 1.5, 0.6, 0.5, 2.5)]
    ['green', 'amber', 'amber', 'red', 'red']
    """
    _check("ratio", ratio)
    if ratio <= 0:
        raise ValueError(f"A ratio must be positive to be coloured; got {ratio}.")
    return level_light(max(ratio, 1.0 / ratio), amber, red)


def freshness_light(age_days: float, thresholds: DataThresholds) -> Light:
    """Colour a source table by the age in days of its latest load.

    Parameters
    ----------
    age_days : float
        Days from the table's latest load (or latest event) to the report date.
    thresholds : DataThresholds
        ``age_days_amber`` and ``age_days_red``.

    Returns
    -------
    {"green", "amber", "red"}

    Examples
    --------
    >>> from credit_engine.monitoring import DataThresholds
    >>> limits = DataThresholds(age_days_amber=35, age_days_red=65)
    >>> [freshness_light(d, limits) for d in (3, 35, 70)]
    ['green', 'amber', 'red']
    """
    return level_light(
        float(age_days),
        float(thresholds.age_days_amber),
        float(thresholds.age_days_red),
    )
