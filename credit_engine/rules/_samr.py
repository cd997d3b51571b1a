"""SAMR rule layer: serious list (Order 44), abnormal list, registration status.

* ``SAMR_SERIOUS_LIST``: a serious-list entry in force and younger than the
  maximum publicity period of a serious dishonesty entry (REPAIR rule set in
  force). Publicity stops at the maximum even if no removal record has arrived;
  an early removal (``effective_to`` known by the cutoff) ends it sooner.
* ``SAMR_ABNORMAL_LIST``: an abnormal-list entry in force.
* ``SAMR_ABNORMAL_ESCALATION_DUE``: an abnormal-list entry in force for at least
  ``abnormal_escalation_days``; SAMR should have moved it to the serious list.
* ``SAMR_NOT_IN_BUSINESS``: registration status REVOKED (吊销) or CANCELLED (注销).

The escalation is inferred from a *missing* record (no removal from the
abnormal list): its clock runs only up to the list's watermark
(:meth:`~credit_engine.rules._sqlkit.Context.evidence_day`, :data:`ABSENCE`).
"""

from __future__ import annotations

from credit_engine.rules._sqlkit import (
    Context,
    FactSql,
    active_spells,
    day_of,
    fact_row,
    in_force,
    known,
)

__all__ = ["ABSENCE", "FACTS", "samr_sql"]

FACTS: dict[str, dict[str, tuple[type, ...]]] = {
    "SAMR_SERIOUS_LIST": {},
    "SAMR_ABNORMAL_LIST": {},
    "SAMR_ABNORMAL_ESCALATION_DUE": {"abnormal_escalation_days": (int,)},
    "SAMR_NOT_IN_BUSINESS": {},
}
"""SAMR facts the engine implements, with the parameters each needs (the
publicity period of SAMR_SERIOUS_LIST comes from the REPAIR rule set)."""

ABSENCE: dict[str, tuple[str, ...]] = {
    "SAMR_ABNORMAL_ESCALATION_DUE": ("abnormal_list",),
}
"""Facts inferred from missing records: the escalation (no removal in time)."""

_CAUSES = "string_agg(DISTINCT cause, ';' ORDER BY cause)"


def _spells(ctx: Context, table: str, columns: list[str]) -> str:
    return known(ctx, table, [*columns, "effective_from", "effective_to"])


def samr_sql(ctx: Context) -> FactSql:
    """Compile the SAMR facts of the rule set in force.

    Parameters
    ----------
    ctx : Context
        Rating date, the SAMR rule set (and REPAIR rule set) in force and the
        enterprise filter.

    Returns
    -------
    FactSql
        Tables read, CTEs and one SELECT per fact the rule set defines.
    """
    tables: set[str] = set()
    ctes: list[tuple[str, str]] = []
    selects: list[str] = []
    if ctx.has("SAMR_SERIOUS_LIST"):
        days = ctx.integer("serious_max_publicity_days", repair=True)
        listed = day_of("effective_from")
        tables.add("serious_violation_list")
        ctes += [
            ("sm_sl", _spells(ctx, "serious_violation_list", ["cause"])),
            (
                "sm_sl_on",
                f"SELECT uscc, cause, {listed} AS listed, "
                f"least({day_of('effective_to')}, {listed} + {days}) AS ends "
                f"FROM ({active_spells(ctx, 'sm_sl')}) AS a "
                f"WHERE {ctx.day} < {listed} + {days}",
            ),
        ]
        selects.append(
            fact_row(
                "SAMR_SERIOUS_LIST",
                "sm_sl_on",
                since="min(listed)",
                until="max(ends)",
                detail=_CAUSES,
                group=True,
            )
        )
    abnormal = ctx.has("SAMR_ABNORMAL_LIST")
    escalation = ctx.has("SAMR_ABNORMAL_ESCALATION_DUE")
    if abnormal or escalation:
        tables.add("abnormal_list")
        ctes += [
            ("sm_ab", _spells(ctx, "abnormal_list", ["cause"])),
            ("sm_ab_on", active_spells(ctx, "sm_ab")),
        ]
    if abnormal:
        selects.append(
            fact_row(
                "SAMR_ABNORMAL_LIST",
                "sm_ab_on",
                since=f"min({day_of('effective_from')})",
                until=(
                    "CASE WHEN count(effective_to) = count(*) "
                    f"THEN max({day_of('effective_to')}) END"
                ),
                detail=_CAUSES,
                group=True,
            )
        )
    if escalation:
        days = ctx.integer("abnormal_escalation_days")
        due = f"{day_of('effective_from')} + {days}"
        selects.append(
            fact_row(
                "SAMR_ABNORMAL_ESCALATION_DUE",
                "sm_ab_on",
                since=f"min({due})",
                detail=_CAUSES,
                where=f"{due} <= {ctx.evidence_day('abnormal_list')}",
                group=True,
            )
        )
    if ctx.has("SAMR_NOT_IN_BUSINESS"):
        tables.add("samr_registration")
        ctes += [
            ("sm_reg_k", _spells(ctx, "samr_registration", ["status"])),
            ("sm_reg", in_force(ctx, "samr_registration", "sm_reg_k", ["status"])),
        ]
        selects.append(
            fact_row(
                "SAMR_NOT_IN_BUSINESS",
                "sm_reg",
                since=day_of("effective_from"),
                until=day_of("effective_to"),
                detail="status",
                where="status IN ('REVOKED', 'CANCELLED')",
            )
        )
    return FactSql(tuple(sorted(tables)), tuple(ctes), tuple(selects))
