"""Named transforms of derived features, as portable SQL.

Each transform turns the SQL expressions of its inputs (other features) and its
parameters into one SQL expression. They are pure and null-safe, and use only SQL
that sqlglot transpiles to Spark. A definition names a transform; an unknown name
fails when the definitions load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["TRANSFORMS", "Transform", "render_transform"]


@dataclass(frozen=True)
class Transform:
    """A named transform.

    Attributes
    ----------
    arity : tuple of int
        Minimum and maximum number of inputs (maximum ``None``: unbounded).
    params : tuple of str
        Required parameter names.
    doc : str
        One line for docs/features.md.
    render : callable
        ``render(inputs, params) -> sql``.
    """

    arity: tuple[int, int | None]
    params: tuple[str, ...]
    doc: str
    render: Callable[[Sequence[str], Mapping[str, Any]], str]


def _num(value: Any) -> str:
    return repr(float(value))


def _ratio(a: str, b: str) -> str:
    return (
        f"(CASE WHEN ({b}) IS NULL OR ({b}) = 0 THEN NULL "
        f"ELSE CAST(({a}) AS DOUBLE) / ({b}) END)"
    )


def _flag(condition: str, value: str) -> str:
    return f"(CASE WHEN ({value}) IS NULL THEN NULL WHEN {condition} THEN 1 ELSE 0 END)"


def _entropy(xs: Sequence[str], _: Mapping[str, Any]) -> str:
    terms = " + ".join(
        f"(CASE WHEN ({x}) > 0 THEN ({x}) * ln({x}) ELSE 0 END)" for x in xs
    )
    all_null = " AND ".join(f"({x}) IS NULL" for x in xs)
    return f"(CASE WHEN {all_null} THEN NULL ELSE -({terms}) END)"


TRANSFORMS: dict[str, Transform] = {
    "ratio": Transform(
        (2, 2), (), "a / b; null when b is null or 0", lambda x, p: _ratio(x[0], x[1])
    ),
    "per_thousand": Transform(
        (2, 2), (), "1000 · a / b", lambda x, p: f"(1000 * {_ratio(x[0], x[1])})"
    ),
    "difference": Transform((2, 2), (), "a − b", lambda x, p: f"(({x[0]}) - ({x[1]}))"),
    "log1p": Transform(
        (1, 1), (), "ln(1 + max(a, 0))", lambda x, p: f"ln(1 + greatest(({x[0]}), 0))"
    ),
    "scale": Transform(
        (1, 1),
        ("factor",),
        "a · factor",
        # In doubles: a decimal times a decimal factor would round to the
        # engine's decimal scale, which DuckDB and Spark choose differently.
        lambda x, p: f"(CAST(({x[0]}) AS DOUBLE) * {_num(p['factor'])})",
    ),
    "trend": Transform(
        (2, 2),
        ("short_days", "long_days"),
        "daily rate over the short window ÷ daily rate over the long window",
        lambda x, p: _ratio(
            f"({x[0]}) / {_num(p['short_days'])}", f"({x[1]}) / {_num(p['long_days'])}"
        ),
    ),
    "gt": Transform(
        (1, 1),
        ("threshold",),
        "1 if a > threshold, 0 if not, null if a is null",
        lambda x, p: _flag(f"({x[0]}) > {_num(p['threshold'])}", x[0]),
    ),
    "lt": Transform(
        (1, 1),
        ("threshold",),
        "1 if a < threshold, 0 if not, null if a is null",
        lambda x, p: _flag(f"({x[0]}) < {_num(p['threshold'])}", x[0]),
    ),
    "in_set": Transform(
        (1, 1),
        ("values",),
        "1 if a is one of the values, 0 if not, null if a is null",
        lambda x, p: _flag(
            f"({x[0]}) IN ({', '.join(_num(v) for v in p['values'])})", x[0]
        ),
    ),
    "all_of": Transform(
        (2, None),
        (),
        "1 if every input is 1, else 0 (null counts as not met)",
        lambda x, p: (
            "(CASE WHEN "
            + " AND ".join(f"({v}) = 1" for v in x)
            + " THEN 1 ELSE 0 END)"
        ),
    ),
    "any_of": Transform(
        (2, None),
        (),
        "1 if some input is 1, else 0",
        lambda x, p: (
            "(CASE WHEN " + " OR ".join(f"({v}) = 1" for v in x) + " THEN 1 ELSE 0 END)"
        ),
    ),
    "count_of": Transform(
        (2, None),
        (),
        "number of inputs equal to 1",
        lambda x, p: (
            "("
            + " + ".join(f"(CASE WHEN ({v}) = 1 THEN 1 ELSE 0 END)" for v in x)
            + ")"
        ),
    ),
    "entropy": Transform(
        (2, None),
        (),
        "−Σ p·ln p over shares (e.g. trade-mode mix); null if all null",
        _entropy,
    ),
    "fill": Transform(
        (1, 1),
        ("value",),
        "a, or value where a is null",
        lambda x, p: f"coalesce(({x[0]}), {_num(p['value'])})",
    ),
}
"""Every named transform, by name."""


def render_transform(
    name: str, inputs: Sequence[str], params: Mapping[str, Any]
) -> str:
    """Return the SQL of transform ``name`` applied to ``inputs``.

    Raises
    ------
    KeyError
        If the transform is unknown (definitions are checked at load time).
    """
    return TRANSFORMS[name].render(inputs, params)
