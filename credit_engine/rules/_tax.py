"""Tax rule layer (TAX_2014, TAX_2025): level in force, D retention, violations.

* ``TAX_LEVEL_<L>``: the tax credit level in force (``tax_credit_rating`` spell).
* ``TAX_D_RETENTION``: a D on record whose consequences still run while the level
  in force is not D. ``d_retention_scope`` says which D: ``ANY`` (2014) or
  ``DIRECT_D_ONLY`` (2025 Art. 34(4): a direct-D finding, except the items in
  ``d_retention_excluded_direct_d_codes``). The bar runs through the calendar
  year ``rating_year + d_retention_years + 1`` (kept D for two years, no A in
  the third).
* ``TAX_MAJOR_VIOLATION``: a major tax-violation designation within the maximum
  publicity of a serious dishonesty entry (REPAIR rule set in force).
* ``TAX_REFUND_FRAUD_3Y``: an export-refund fraud case within
  ``refund_fraud_clean_years`` (export-refund class 1 needs 3 clean years).
* ``TAX_ABNORMAL_HOUSEHOLD``: taxpayer status ABNORMAL or ABSCONDED in force.
"""

from __future__ import annotations

from credit_engine.rules._sqlkit import (
    Context,
    FactSql,
    day_of,
    fact_row,
    in_force,
    known,
)

__all__ = ["FACTS", "tax_sql"]

FACTS: dict[str, dict[str, tuple[type, ...]]] = {
    "TAX_LEVEL_A": {},
    "TAX_LEVEL_B": {},
    "TAX_LEVEL_M": {},
    "TAX_LEVEL_C": {},
    "TAX_LEVEL_D": {},
    "TAX_D_RETENTION": {
        "d_retention_years": (int,),
        "d_retention_scope": (str,),
        "d_retention_excluded_direct_d_codes": (list,),
    },
    "TAX_MAJOR_VIOLATION": {},
    "TAX_REFUND_FRAUD_3Y": {"refund_fraud_clean_years": (int,)},
    "TAX_ABNORMAL_HOUSEHOLD": {},
}
"""Tax facts the engine implements, with the parameters each needs (the
publicity period of TAX_MAJOR_VIOLATION comes from the REPAIR rule set)."""

RETENTION_SCOPES = ("ANY", "DIRECT_D_ONLY")

_RATING_DETAIL = (
    "CAST(rating_year AS VARCHAR) || "
    "coalesce(';direct_d=' || CAST(direct_d_code AS VARCHAR), '')"
)


def _rating_ctes(ctx: Context) -> list[tuple[str, str]]:
    return [
        (
            "tx_rt",
            known(
                ctx,
                "tax_credit_rating",
                [
                    "rating_year",
                    "level",
                    "direct_d_code",
                    "effective_from",
                    "effective_to",
                ],
            ),
        ),
        (
            "tx_now",
            in_force(
                ctx,
                "tax_credit_rating",
                "tx_rt",
                ["rating_year", "level", "direct_d_code"],
            ),
        ),
    ]


def _retention(ctx: Context) -> tuple[list[tuple[str, str]], str]:
    years = ctx.integer("d_retention_years")
    scope = ctx.text("d_retention_scope", RETENTION_SCOPES)
    excluded = ctx.int_list("d_retention_excluded_direct_d_codes")
    which = ""
    if scope == "DIRECT_D_ONLY":
        which = " AND r.direct_d_code IS NOT NULL"
        if excluded:
            which += f" AND r.direct_d_code NOT IN ({', '.join(map(str, excluded))})"

    def end(year: str) -> str:
        # First day after the calendar year rating_year + years + 1.
        return f"make_date(CAST({year} AS BIGINT) + {years + 2}, 1, 1)"

    cte = (
        "SELECT r.uscc, r.source_record_id, r.rating_year, r.direct_d_code, "
        "r.effective_from FROM tx_rt AS r LEFT JOIN tx_now AS n ON n.uscc = r.uscc "
        "WHERE r.level = 'D' AND (n.level IS NULL OR n.level <> 'D')"
        f"{which} AND {ctx.day} < {end('r.rating_year')} "
        "QUALIFY row_number() OVER (PARTITION BY r.uscc "
        "ORDER BY r.rating_year DESC, r.source_record_id DESC) = 1"
    )
    select = fact_row(
        "TAX_D_RETENTION",
        "tx_dret",
        since=day_of("effective_from"),
        until=end("rating_year"),
        detail=_RATING_DETAIL,
    )
    return [("tx_dret", cte)], select


def tax_sql(ctx: Context) -> FactSql:
    """Compile the tax facts of the rule set in force.

    Parameters
    ----------
    ctx : Context
        Rating date, the TAX rule set (and REPAIR rule set) in force and the
        enterprise filter.

    Returns
    -------
    FactSql
        Tables read, CTEs and one SELECT per fact the rule set defines.
    """
    tables: set[str] = set()
    ctes: list[tuple[str, str]] = []
    selects: list[str] = []
    levels = [lv for lv in "ABMCD" if ctx.has(f"TAX_LEVEL_{lv}")]
    if levels or ctx.has("TAX_D_RETENTION"):
        tables.add("tax_credit_rating")
        ctes += _rating_ctes(ctx)
    selects += [
        fact_row(
            f"TAX_LEVEL_{lv}",
            "tx_now",
            since=day_of("effective_from"),
            until=day_of("effective_to"),
            detail=_RATING_DETAIL,
            where=f"level = '{lv}'",
        )
        for lv in levels
    ]
    if ctx.has("TAX_D_RETENTION"):
        more, select = _retention(ctx)
        ctes += more
        selects.append(select)
    major, fraud = ctx.has("TAX_MAJOR_VIOLATION"), ctx.has("TAX_REFUND_FRAUD_3Y")
    if major or fraud:
        tables.add("tax_violation")
        ctes.append(
            (
                "tx_v",
                known(
                    ctx,
                    "tax_violation",
                    ["event_ts", "violation_type", "major_violation"],
                ),
            )
        )
    if major:
        days = ctx.integer("serious_max_publicity_days", repair=True)
        ctes.append(
            (
                "tx_major",
                f"SELECT uscc, violation_type, {day_of('event_ts')} AS d FROM tx_v "
                f"WHERE major_violation AND {ctx.day} < {day_of('event_ts')} + {days}",
            )
        )
        selects.append(
            fact_row(
                "TAX_MAJOR_VIOLATION",
                "tx_major",
                since="min(d)",
                until=f"max(d + {days})",
                detail=(
                    "string_agg(DISTINCT violation_type, ';' ORDER BY violation_type)"
                ),
                group=True,
            )
        )
    if fraud:
        years = ctx.integer("refund_fraud_clean_years")
        end = f"CAST({day_of('event_ts')} + INTERVAL '{years}' YEAR AS DATE)"
        ctes.append(
            (
                "tx_fraud",
                f"SELECT uscc, {day_of('event_ts')} AS d, {end} AS ends FROM tx_v "
                f"WHERE violation_type = 'REFUND_FRAUD' AND {ctx.day} < {end}",
            )
        )
        selects.append(
            fact_row(
                "TAX_REFUND_FRAUD_3Y",
                "tx_fraud",
                since="min(d)",
                until="max(ends)",
                group=True,
            )
        )
    if ctx.has("TAX_ABNORMAL_HOUSEHOLD"):
        tables.add("tax_registration")
        ctes += [
            (
                "tx_reg_k",
                known(
                    ctx,
                    "tax_registration",
                    ["status", "effective_from", "effective_to"],
                ),
            ),
            ("tx_reg", in_force(ctx, "tax_registration", "tx_reg_k", ["status"])),
        ]
        selects.append(
            fact_row(
                "TAX_ABNORMAL_HOUSEHOLD",
                "tx_reg",
                since=day_of("effective_from"),
                until=day_of("effective_to"),
                detail="status",
                where="status IN ('ABNORMAL', 'ABSCONDED')",
            )
        )
    return FactSql(tuple(sorted(tables)), tuple(ctes), tuple(selects))
