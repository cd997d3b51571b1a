"""Customs rule layer (Orders 251 and 282): levels, Art. 22 inference, repair.

The level in force comes from ``customs_credit_level``. At the change of regime
(2026-04-01) customs re-issues every level as a new spell with reason
``REGIME_TRANSITION``; such a spell continues the one before it, so the date a
level (or a dishonest status) began is taken from the spell it continues:

* ``level_from``: start of the current level, through a transition that kept it;
* ``status_from``: start of the current dishonest / not-dishonest status, through
  a transition that kept the status (DISHONEST -> SERIOUS_DISHONEST at 282 keeps
  the enterprise dishonest: the two-year repair clock runs on).

``CUSTOMS_ART22_PENDING`` infers an Art. 22 situation customs has not (yet)
acted on; ``CUSTOMS_REPAIR_DUE`` flags a dishonest level customs should have
repaired on its own initiative (Art. 7). Every number is a rule-set parameter.

Items 4 and 5 of Art. 22 (a bill, a fine unpaid) and the repair clock (no
situation for two years) are inferred from *missing* records: no payment
version, no new penalty. That silence counts only up to the feed's watermark
(:meth:`Context.evidence_day`), so a feed that stopped delivering asserts
nothing past its last delivery (:data:`ABSENCE`).
"""

from __future__ import annotations

import datetime as dt

from credit_engine.rules._sqlkit import (
    Context,
    FactSql,
    day_of,
    fact_row,
    in_force,
    known,
)

__all__ = ["ABSENCE", "FACTS", "customs_sql"]

_NUM: tuple[type, ...] = (int, float)
_ART22: dict[str, tuple[type, ...]] = {
    "art22_lookback_days": (int,),
    "supervision_ratio_non_broker": _NUM,
    "supervision_amount_non_broker_cny": _NUM,
    "supervision_ratio_broker": _NUM,
    "supervision_amount_broker_cny": _NUM,
    "non_intentional_exclusion_from": (dt.date,),
    "tax_overdue_days": (int,),
    "fine_overdue_days": (int,),
    "fine_overdue_min_cny": _NUM,
}
FACTS: dict[str, dict[str, tuple[type, ...]]] = {
    "CUSTOMS_ADV_CERT": {},
    "CUSTOMS_CERT": {},
    "CUSTOMS_DISHONEST": {},
    "CUSTOMS_SERIOUS_DISHONEST": {},
    "CUSTOMS_ART22_PENDING": _ART22,
    "CUSTOMS_REPAIR_DUE": {
        "auto_repair_days": (int,),
        "tax_overdue_days": (int,),
        "fine_overdue_days": (int,),
        "fine_overdue_min_cny": _NUM,
    },
}
"""Customs facts the engine implements, with the parameters each needs."""

_PAYMENTS = ("customs_penalty", "customs_tax_bill")
ABSENCE: dict[str, tuple[str, ...]] = {
    "CUSTOMS_ART22_PENDING": _PAYMENTS,
    "CUSTOMS_REPAIR_DUE": _PAYMENTS,
}
"""Facts inferred from missing records, with the tables whose silence they read:
items 4 and 5 of Art. 22 (no payment version of a bill or fine), the repair
clock (no new situation, no payment)."""

_LEVELS = {
    "CUSTOMS_ADV_CERT": "ADV_CERT",
    "CUSTOMS_CERT": "CERT",
    "CUSTOMS_DISHONEST": "DISHONEST",
    "CUSTOMS_SERIOUS_DISHONEST": "SERIOUS_DISHONEST",
}
_DISHONEST = "('DISHONEST', 'SERIOUS_DISHONEST')"
_SMUGGLING = "('SMUGGLING_CRIME', 'SMUGGLING_ADMIN')"


def _status(level: str) -> str:
    return f"({level} IN {_DISHONEST})"


def _level_ctes(ctx: Context) -> list[tuple[str, str]]:
    cont = (
        "reason_code = 'REGIME_TRANSITION' AND prev_from IS NOT NULL "
        "AND (prev_to IS NULL OR prev_to >= effective_from)"
    )
    same_level = f"{cont} AND prev_level = credit_level"
    same_status = f"{cont} AND {_status('prev_level')} = {_status('credit_level')}"
    return [
        (
            "cu_lv",
            known(
                ctx,
                "customs_credit_level",
                ["credit_level", "reason_code", "effective_from", "effective_to"],
            ),
        ),
        (
            "cu_lv_seq",
            "SELECT *, lag(credit_level) OVER w AS prev_level, "
            "lag(reason_code) OVER w AS prev_reason, "
            "lag(effective_from) OVER w AS prev_from, "
            "lag(effective_to) OVER w AS prev_to FROM cu_lv "
            "WINDOW w AS (PARTITION BY uscc ORDER BY effective_from, source_record_id)",
        ),
        (
            "cu_lv_now",
            in_force(
                ctx,
                "customs_credit_level",
                "cu_lv_seq",
                [
                    "credit_level",
                    "reason_code",
                    "prev_level",
                    "prev_reason",
                    "prev_from",
                    "prev_to",
                ],
            ),
        ),
        (
            "cu_level",
            "SELECT uscc, credit_level, effective_to, "
            f"CASE WHEN {same_level} THEN prev_from ELSE effective_from END "
            "AS level_from, "
            f"CASE WHEN {same_level} THEN prev_reason ELSE reason_code END "
            "AS level_reason, "
            f"CASE WHEN {same_status} THEN prev_from ELSE effective_from END "
            "AS status_from FROM cu_lv_now",
        ),
    ]


def _penalty_ctes(ctx: Context) -> list[tuple[str, str]]:
    return [
        (
            "cu_pen",
            known(
                ctx,
                "customs_penalty",
                [
                    "event_ts",
                    "category",
                    "amount_cny",
                    "non_intentional",
                    "due_date",
                    "paid_date",
                ],
            ),
        )
    ]


def _bill_ctes(ctx: Context) -> list[tuple[str, str]]:
    """Select the tax bills that are or were overdue over tax_overdue_days.

    The table is large (tens of millions of versions), so it is read twice
    only: once for the keys of bills with a known version overdue at some
    point (item 4 pending now, or an Art. 22 situation during a dishonest
    spell), once for the latest known version of those bills.
    """
    first_day = ctx.integer("tax_overdue_days") + 1
    overdue = (
        f"t.due_date + {first_day} <= {ctx.day} AND "
        f"(t.paid_date IS NULL OR t.paid_date > {ctx.day} "
        f"OR t.paid_date - 1 >= t.due_date + {first_day})"
    )
    return [
        (
            "cu_bill_keys",
            "SELECT DISTINCT * FROM ("
            + known(ctx, "customs_tax_bill", [], where=overdue, every_version=True)
            + ") AS v",
        ),
        (
            "cu_bill",
            known(
                ctx,
                "customs_tax_bill",
                ["due_date", "paid_date"],
                keys_from="cu_bill_keys",
            ),
        ),
    ]


def _unpaid(ctx: Context, alias: str = "") -> str:
    """Not known to be paid by the end of as_of."""
    return f"({alias}paid_date IS NULL OR {alias}paid_date > {ctx.day})"


def _pending_ctes(ctx: Context) -> list[tuple[str, str]]:
    lookback = ctx.integer("art22_lookback_days")
    since = ctx.cutoff.days_before(lookback)
    tax_days = ctx.integer("tax_overdue_days")
    fine_days = ctx.integer("fine_overdue_days")
    fine_min = ctx.number("fine_overdue_min_cny")
    ratio_b, ratio_n = (
        ctx.number("supervision_ratio_broker"),
        ctx.number("supervision_ratio_non_broker"),
    )
    amount_b, amount_n = (
        ctx.number("supervision_amount_broker_cny"),
        ctx.number("supervision_amount_non_broker_cny"),
    )

    def by_broker(column: str, broker: str, other: str) -> str:
        return f"(CASE WHEN {column} THEN {broker} ELSE {other} END)"

    # 海关总署公告2023年第170号: non-intentional violations of a non-broker do not
    # count toward item 3 (brokers and smuggling are not excluded).
    bills_until = ctx.evidence_day("customs_tax_bill")
    fines_until = ctx.evidence_day("customs_penalty")
    exclude = ctx.as_of >= ctx.date("non_intentional_exclusion_from")
    counted = "(coalesce(r.is_customs_broker, false) OR NOT p.non_intentional)"
    after_status = "(l.status_from IS NULL OR p.event_ts >= l.status_from)"
    declarations = known(ctx, "customs_declaration", [], window_days=lookback)
    return [
        (
            "cu_reg_k",
            known(
                ctx,
                "customs_registration",
                ["is_customs_broker", "effective_from", "effective_to"],
            ),
        ),
        (
            "cu_reg",
            in_force(ctx, "customs_registration", "cu_reg_k", ["is_customs_broker"]),
        ),
        # Items 1 and 2: a smuggling case (crime or administrative penalty).
        (
            "cu_i12",
            "SELECT p.uscc, CASE WHEN p.category = 'SMUGGLING_CRIME' THEN 'ART22_1' "
            f"ELSE 'ART22_2' END AS item, {day_of('p.event_ts')} AS since "
            "FROM cu_pen AS p LEFT JOIN cu_level AS l ON l.uscc = p.uscc "
            f"WHERE p.category IN {_SMUGGLING} AND p.event_ts >= {since} "
            f"AND {after_status}",
        ),
        # Item 3: repeated supervision-violation penalties in the lookback.
        (
            "cu_sv",
            "SELECT p.uscc, p.source_record_id, p.event_ts, p.amount_cny, "
            "coalesce(r.is_customs_broker, false) AS broker FROM cu_pen AS p "
            "LEFT JOIN cu_reg AS r ON r.uscc = p.uscc "
            "LEFT JOIN cu_level AS l ON l.uscc = p.uscc "
            f"WHERE p.category = 'SUPERVISION_VIOLATION' AND p.event_ts >= {since} "
            f"AND {after_status}" + (f" AND {counted}" if exclude else ""),
        ),
        (
            "cu_sv_cand",
            "SELECT uscc FROM cu_sv GROUP BY uscc HAVING "
            "sum(CAST(amount_cny AS DECIMAL(38, 2))) > "
            f"CASE WHEN bool_or(broker) THEN {amount_b} ELSE {amount_n} END",
        ),
        (
            "cu_decl",
            f"SELECT d.uscc, count(*) AS n FROM ({declarations}) AS d "
            "SEMI JOIN cu_sv_cand AS c ON c.uscc = d.uscc GROUP BY d.uscc",
        ),
        (
            "cu_sv_run",
            "SELECT s.uscc, s.broker, s.event_ts, count(*) OVER w AS n_penalties, "
            "sum(CAST(s.amount_cny AS DECIMAL(38, 2))) OVER w AS amount "
            "FROM cu_sv AS s SEMI JOIN cu_sv_cand AS c ON c.uscc = s.uscc "
            "WINDOW w AS (PARTITION BY s.uscc ORDER BY s.event_ts, s.source_record_id "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
        ),
        # The situation arose with the penalty that took both the count and the
        # amount over their thresholds.
        (
            "cu_i3",
            "SELECT r.uscc, 'ART22_3' AS item, "
            f"min({day_of('r.event_ts')}) AS since FROM cu_sv_run AS r "
            "LEFT JOIN cu_decl AS d ON d.uscc = r.uscc "
            f"WHERE r.n_penalties > {by_broker('r.broker', ratio_b, ratio_n)} "
            "* coalesce(d.n, 0) "
            f"AND r.amount > {by_broker('r.broker', amount_b, amount_n)} "
            "GROUP BY r.uscc",
        ),
        # Item 4: a customs tax bill unpaid more than tax_overdue_days after due,
        # as far as the bills' feed has spoken (its watermark).
        (
            "cu_i4",
            f"SELECT uscc, 'ART22_4' AS item, min(due_date + {tax_days + 1}) AS since "
            f"FROM cu_bill WHERE due_date < {bills_until} - {tax_days} "
            f"AND {_unpaid(ctx)} GROUP BY uscc",
        ),
        # Item 5: a fine over the minimum unpaid more than fine_overdue_days, as
        # far as the penalties' feed has spoken.
        (
            "cu_i5",
            f"SELECT uscc, 'ART22_5' AS item, min(due_date + {fine_days + 1}) "
            f"AS since FROM cu_pen WHERE amount_cny > {fine_min} "
            f"AND due_date < {fines_until} - {fine_days} AND {_unpaid(ctx)} "
            "GROUP BY uscc",
        ),
        (
            "cu_items",
            "SELECT i.* FROM (SELECT * FROM cu_i12 UNION ALL SELECT * FROM cu_i3 "
            "UNION ALL SELECT * FROM cu_i4 UNION ALL SELECT * FROM cu_i5) AS i "
            "LEFT JOIN cu_level AS l ON l.uscc = i.uscc "
            f"WHERE l.credit_level IS NULL OR l.credit_level NOT IN {_DISHONEST}",
        ),
    ]


def _repair_ctes(ctx: Context) -> list[tuple[str, str]]:
    tax_days = ctx.integer("tax_overdue_days")
    fine_days = ctx.integer("fine_overdue_days")
    fine_min = ctx.number("fine_overdue_min_cny")
    # The last day a payment situation existed: the day before payment, or as_of
    # while it is still unpaid.
    last = f"CASE WHEN {_unpaid(ctx)} THEN {ctx.day} ELSE paid_date - 1 END AS last_day"
    return [
        (
            "cu_dis",
            "SELECT uscc, status_from FROM cu_level "
            f"WHERE credit_level IN {_DISHONEST}",
        ),
        (
            "cu_rep_sit",
            f"SELECT p.uscc, {day_of('p.event_ts')} AS last_day FROM cu_pen AS p "
            "SEMI JOIN cu_dis AS d ON d.uscc = p.uscc "
            f"WHERE p.category IN {_SMUGGLING} UNION ALL SELECT uscc, last_day FROM ("
            f"SELECT p.uscc, p.due_date, {last} FROM cu_pen AS p "
            f"SEMI JOIN cu_dis AS d ON d.uscc = p.uscc WHERE p.amount_cny > {fine_min}"
            f") AS f WHERE last_day >= due_date + {fine_days + 1} "
            "UNION ALL SELECT uscc, last_day FROM ("
            f"SELECT b.uscc, b.due_date, {last} FROM cu_bill AS b "
            "SEMI JOIN cu_dis AS d ON d.uscc = b.uscc"
            f") AS b WHERE last_day >= due_date + {tax_days + 1}",
        ),
        (
            "cu_rep",
            f"SELECT d.uscc, {day_of('d.status_from')} AS start_day, "
            "max(s.last_day) AS last_day FROM cu_dis AS d "
            "LEFT JOIN cu_rep_sit AS s ON s.uscc = d.uscc "
            "GROUP BY d.uscc, d.status_from",
        ),
    ]


def customs_sql(ctx: Context) -> FactSql:
    """Compile the customs facts of the rule set in force.

    Parameters
    ----------
    ctx : Context
        Rating date, the CUSTOMS rule set in force and the enterprise filter.

    Returns
    -------
    FactSql
        Tables read, CTEs and one SELECT per fact the rule set defines.
    """
    codes = [c for c in FACTS if ctx.has(c)]
    if not codes:
        return FactSql((), (), ())
    tables = {"customs_credit_level"}
    ctes = _level_ctes(ctx)
    selects = [
        fact_row(
            code,
            "cu_level",
            since=day_of("level_from"),
            until=day_of("effective_to"),
            detail="level_reason",
            where=f"credit_level = '{level}'",
        )
        for code, level in _LEVELS.items()
        if ctx.has(code)
    ]
    pending, repair = ctx.has("CUSTOMS_ART22_PENDING"), ctx.has("CUSTOMS_REPAIR_DUE")
    if pending or repair:
        tables |= {"customs_penalty", "customs_tax_bill"}
        ctes += _penalty_ctes(ctx) + _bill_ctes(ctx)
    if pending:
        tables |= {"customs_registration", "customs_declaration"}
        ctes += _pending_ctes(ctx)
        selects.append(
            fact_row(
                "CUSTOMS_ART22_PENDING",
                "cu_items",
                since="min(since)",
                detail="string_agg(DISTINCT item, ';' ORDER BY item)",
                group=True,
            )
        )
    if repair:
        days = ctx.integer("auto_repair_days")
        # Two clean years must be evidenced: the feeds whose silence says "no
        # new situation" must have spoken through the end of the period.
        clean_until = ctx.evidence_day(*ABSENCE["CUSTOMS_REPAIR_DUE"])
        ctes += _repair_ctes(ctx)
        selects.append(
            fact_row(
                "CUSTOMS_REPAIR_DUE",
                "cu_rep",
                since=(
                    f"greatest(start_day, coalesce(last_day, start_day)) + {days + 1}"
                ),
                where=(
                    f"{clean_until} > start_day + {days} "
                    f"AND (last_day IS NULL OR {clean_until} > last_day + {days})"
                ),
            )
        )
    return FactSql(tuple(sorted(tables)), tuple(ctes), tuple(selects))
