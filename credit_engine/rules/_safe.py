"""SAFE rule layer (汇发〔2012〕38号): the goods-trade FX class in force."""

from __future__ import annotations

from credit_engine.rules._sqlkit import (
    Context,
    FactSql,
    day_of,
    fact_row,
    in_force,
    known,
)

__all__ = ["FACTS", "safe_sql"]

FACTS: dict[str, dict[str, tuple[type, ...]]] = {
    "SAFE_CLASS_A": {},
    "SAFE_CLASS_B": {},
    "SAFE_CLASS_C": {},
}
"""SAFE facts the engine implements (none needs a parameter)."""


def safe_sql(ctx: Context) -> FactSql:
    """Compile the SAFE facts of the rule set in force.

    Parameters
    ----------
    ctx : Context
        Rating date, the SAFE rule set in force and the enterprise filter.

    Returns
    -------
    FactSql
        Tables read, CTEs and one SELECT per fact the rule set defines
        (``detail`` is the classification's reason code).
    """
    classes = [c for c in "ABC" if ctx.has(f"SAFE_CLASS_{c}")]
    if not classes:
        return FactSql((), (), ())
    ctes = (
        (
            "sf_k",
            known(
                ctx,
                "safe_classification",
                ["fx_class", "reason_code", "effective_from", "effective_to"],
            ),
        ),
        (
            "sf_now",
            in_force(ctx, "safe_classification", "sf_k", ["fx_class", "reason_code"]),
        ),
    )
    selects = tuple(
        fact_row(
            f"SAFE_CLASS_{c}",
            "sf_now",
            since=day_of("effective_from"),
            until=day_of("effective_to"),
            detail="reason_code",
            where=f"fx_class = '{c}'",
        )
        for c in classes
    )
    return FactSql(("safe_classification",), ctes, selects)
