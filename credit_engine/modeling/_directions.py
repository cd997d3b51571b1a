"""One business direction per feature, read by every model family.

Feature definitions declare how risk moves with each feature's value
(``risk: increasing | decreasing | none``). The scorecard turns that into
optbinning's ``monotonic_trend`` of the event rate; LightGBM into a
``monotone_constraints`` sign on the predicted probability of default. Keeping
the translation here means both families obey the same declaration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

__all__ = [
    "DIRECTIONS",
    "Direction",
    "directions_for",
    "lightgbm_constraint",
    "optbinning_trend",
]

Direction = Literal["increasing", "decreasing", "none"]
DIRECTIONS: tuple[Direction, ...] = ("increasing", "decreasing", "none")

_TRENDS: dict[str, str] = {
    "increasing": "ascending",
    "decreasing": "descending",
    "none": "auto_asc_desc",
}
_CONSTRAINTS: dict[str, int] = {"increasing": 1, "decreasing": -1, "none": 0}


def _check(direction: str, feature: str) -> str:
    if direction not in _TRENDS:
        raise ValueError(
            f"The risk direction of feature {feature!r} must be one of "
            f"{', '.join(DIRECTIONS)}; got {direction!r}."
        )
    return direction


def optbinning_trend(direction: str, feature: str = "?") -> str:
    """Return optbinning's ``monotonic_trend`` for a risk direction.

    ``none`` still asks for a monotone event rate, its sign chosen by the data,
    so that every scorecard characteristic reads one way.

    Examples
    --------
    >>> optbinning_trend("increasing"), optbinning_trend("none")
    ('ascending', 'auto_asc_desc')
    """
    return _TRENDS[_check(direction, feature)]


def lightgbm_constraint(direction: str, feature: str = "?") -> int:
    """Return LightGBM's monotone constraint (+1, -1 or 0) for a risk direction.

    Examples
    --------
    >>> lightgbm_constraint("decreasing")
    -1
    """
    return _CONSTRAINTS[_check(direction, feature)]


def directions_for(
    features: Sequence[str], directions: Mapping[str, str] | Sequence[str] | None
) -> list[str]:
    """Align directions with ``features`` (missing names get ``none``).

    Parameters
    ----------
    features : sequence of str
        Feature names in column order.
    directions : mapping, sequence or None
        Directions by feature name, or one per column, or None (all ``none``).

    Raises
    ------
    ValueError
        If a sequence has the wrong length, a mapping names unknown features, or
        a direction is not one of ``increasing``, ``decreasing``, ``none``.
    """
    if directions is None:
        return ["none"] * len(features)
    if isinstance(directions, Mapping):
        unknown = sorted(set(directions) - set(features))
        if unknown:
            raise ValueError(
                f"Directions are given for {len(unknown)} feature(s) not in X: "
                f"{unknown[:5]}. Remove them or pass the matching columns."
            )
        return [_check(str(directions.get(f, "none")), f) for f in features]
    values = list(directions)
    if len(values) != len(features):
        raise ValueError(
            f"Got {len(values)} directions for {len(features)} features; pass one "
            "per column or a mapping by feature name."
        )
    return [_check(str(d), f) for d, f in zip(values, features, strict=True)]
