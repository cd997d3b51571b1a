"""Tables of the supervision sections: green channel, punishments, migrations.

Also the overrides, early warnings and data freshness.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import pandas as pd

from credit_engine.zone_statistics._decisions import migration_summary
from credit_engine.zone_statistics._periods import Period
from credit_engine.zone_statistics._report import StatTable

__all__ = [
    "PunishmentNamer",
    "freshness_tables",
    "green_channel_tables",
    "migration_tables",
    "override_tables",
    "punishment_tables",
    "warning_tables",
]

PunishmentNamer = Callable[[str, int, str], str | None]
"""``(policy_name, policy_version, code) -> name``; ``None``: not a joint punishment."""


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    return (part / whole).where(whole > 0)


def green_channel_tables(totals: pd.DataFrame) -> tuple[StatTable, ...]:
    """Build the green-channel table from :meth:`DecisionFigures.totals`."""
    frame = totals.loc[:, ["period", "as_of", "rated", "green_channel"]].copy()
    frame["share"] = _share(frame["green_channel"], frame["rated"])
    return (
        StatTable(
            "green_channel",
            "Enterprises granted the green channel",
            frame.sort_values("period").reset_index(drop=True),
            ("period",),
            ("rated", "green_channel", "share"),
            {
                "rated": "rated",
                "green_channel": "green_channel",
                "share": "green_channel",
            },
            labels=("as_of",),
            note="At each period's latest rating date.",
        ),
    )


def punishment_tables(
    totals: pd.DataFrame,
    flagged: pd.DataFrame,
    representative: Mapping[str, dt.date],
    names: PunishmentNamer,
) -> tuple[StatTable, ...]:
    """Joint punishments: count per period and per measure code.

    Parameters
    ----------
    totals : pandas.DataFrame
        :meth:`DecisionFigures.totals`.
    flagged : pandas.DataFrame
        Decisions with joint punishment: ``as_of, uscc, measures,
        policy_name, policy_version``.
    representative : mapping of str to datetime.date
        Each period's rating date.
    names : PunishmentNamer
        Names the joint-punishment measures of a policy version.
    """
    frame = totals.loc[:, ["period", "as_of", "rated", "joint_punishment"]].copy()
    frame["share"] = _share(frame["joint_punishment"], frame["rated"])
    period_of = {day: label for label, day in representative.items()}
    rows = []
    for as_of, uscc, measures, policy, version in zip(
        flagged["as_of"],
        flagged["uscc"],
        flagged["measures"],
        flagged["policy_name"],
        flagged["policy_version"],
        strict=True,
    ):
        period = period_of.get(as_of)
        if period is None:
            continue
        for code in measures or ():
            name = names(str(policy), int(version), str(code))
            if name is not None:
                rows.append((period, as_of, code, name, uscc))
    by_measure = pd.DataFrame(
        rows, columns=["period", "as_of", "measure", "measure_name", "uscc"]
    )
    by_measure = (
        by_measure.groupby(["period", "as_of", "measure", "measure_name"])["uscc"]
        .nunique()
        .rename("enterprises")
        .reset_index()
        .astype({"enterprises": "int64"})
    )
    return (
        StatTable(
            "joint_punishments",
            "Enterprises under joint punishment (失信联合惩戒)",
            frame.sort_values("period").reset_index(drop=True),
            ("period",),
            ("rated", "joint_punishment", "share"),
            {
                "rated": "rated",
                "joint_punishment": "joint_punishment",
                "share": "joint_punishment",
            },
            labels=("as_of",),
            note=(
                "At each period's latest rating date; only on a legally grounded "
                "serious-dishonesty list (国办发〔2020〕49号)."
            ),
        ),
        StatTable(
            "joint_punishments_by_measure",
            "Joint punishments by measure",
            by_measure.sort_values(["period", "measure"]).reset_index(drop=True),
            ("period", "measure"),
            ("enterprises",),
            {"enterprises": "enterprises"},
            labels=("as_of", "measure_name"),
            note=(
                "Measures the decision's policy version marks joint_punishment; an "
                "enterprise may be under several."
            ),
        ),
    )


def migration_tables(cells: pd.DataFrame) -> tuple[StatTable, ...]:
    """Build the migration cells and their up/down summary, per pair of dates."""
    cells = cells.astype({"enterprises": "int64"}) if not cells.empty else cells
    summary = migration_summary(cells)
    counts = ("rated_both", "unchanged", "upgrades", "downgrades", "new", "gone")
    return (
        StatTable(
            "migrations",
            "Tier migration between consecutive rating dates",
            cells.loc[
                :,
                [
                    "period",
                    "to_as_of",
                    "from_tier",
                    "to_tier",
                    "from_as_of",
                    "enterprises",
                ],
            ].reset_index(drop=True),
            ("period", "to_as_of", "from_tier", "to_tier"),
            ("enterprises",),
            {"enterprises": "enterprises"},
            labels=("from_as_of",),
            note=(
                "Rows: tier at the earlier date (from_as_of) or new (not rated "
                "then); columns: tier at the later date (to_as_of) or gone."
            ),
        ),
        StatTable(
            "migration_summary",
            "Upgrades and downgrades between consecutive rating dates",
            summary.loc[:, ["period", "to_as_of", "from_as_of", *counts]],
            ("period", "to_as_of"),
            counts,
            {c: c for c in counts},
            labels=("from_as_of",),
            note="An upgrade moves to a better tier (A is best).",
        ),
    )


def override_tables(
    overrides: pd.DataFrame,
    in_force: Mapping[str, int],
    totals: pd.DataFrame,
    periods: Sequence[Period],
) -> tuple[StatTable, ...]:
    """Count overrides recorded, revoked and in force per period.

    Parameters
    ----------
    overrides : pandas.DataFrame
        Every override created before the knowledge cutoff (``created_at``,
        ``revoked_at`` aware UTC).
    in_force : mapping of str to int
        Overrides in force at each period's stock date.
    totals : pandas.DataFrame
        :meth:`DecisionFigures.totals` (decisions fixed by an override).
    periods : sequence of Period
    """
    created = pd.to_datetime(overrides["created_at"], utc=True).dt.date
    revoked = pd.to_datetime(overrides["revoked_at"], utc=True).dt.date
    by_period = totals.set_index("period")
    rows = []
    for p in periods:
        made = (created >= p.start) & (created <= p.end)
        gone = revoked.notna() & (revoked >= p.start) & (revoked <= p.end)
        rows.append(
            {
                "period": p.label,
                "recorded": int(made.sum()),
                "revoked": int(gone.sum()),
                "in_force": int(in_force.get(p.label, 0)),
                "decided_by_override": int(
                    by_period["decided_by_override"].get(p.label, 0)
                ),
            }
        )
    measures = ("recorded", "revoked", "in_force", "decided_by_override")
    return (
        StatTable(
            "overrides",
            "Supervisor overrides",
            pd.DataFrame(rows, columns=["period", *measures]),
            ("period",),
            measures,
            {m: m for m in measures},
            note=(
                "recorded / revoked: overrides created / revoked in the period "
                "(before the knowledge cutoff); in_force: at the period's stock "
                "date; decided_by_override: decisions of the period's latest "
                "rating whose tier an override fixed."
            ),
        ),
    )


def warning_tables(
    warnings: pd.DataFrame, periods: Sequence[Period]
) -> tuple[StatTable, ...]:
    """Warnings raised, closed and open per period, in total and by signal.

    Parameters
    ----------
    warnings : pandas.DataFrame
        ``uscc, signal_code, raised_on, closed_on`` (see
        :data:`~credit_engine.zone_statistics.WarningSource`).
    periods : sequence of Period
    """
    raised = pd.Series(warnings["raised_on"], dtype=object)
    closed = pd.Series(warnings["closed_on"], dtype=object)
    has_closed = closed.notna()
    rows, by_signal = [], []
    for p in periods:
        in_raised = raised.map(lambda d, p=p: p.start <= d <= p.end).astype(bool)
        in_closed = has_closed & closed.map(
            lambda d, p=p: d is not None and p.start <= d <= p.end
        ).astype(bool)
        still_open = raised.map(lambda d, p=p: d <= p.stock_date).astype(bool) & (
            ~has_closed
            | closed.map(lambda d, p=p: d is None or d > p.stock_date).astype(bool)
        )
        rows.append(
            {
                "period": p.label,
                "raised": int(in_raised.sum()),
                "enterprises_raised": int(warnings.loc[in_raised, "uscc"].nunique()),
                "closed": int(in_closed.sum()),
                "open_at_end": int(still_open.sum()),
            }
        )
        for signal in sorted(set(warnings.loc[in_raised | in_closed, "signal_code"])):
            mine = warnings["signal_code"] == signal
            by_signal.append(
                {
                    "period": p.label,
                    "signal_code": signal,
                    "raised": int((in_raised & mine).sum()),
                    "closed": int((in_closed & mine).sum()),
                }
            )
    measures = ("raised", "enterprises_raised", "closed", "open_at_end")
    return (
        StatTable(
            "warnings",
            "Early warnings raised and closed",
            pd.DataFrame(rows, columns=["period", *measures]),
            ("period",),
            measures,
            {m: m for m in measures},
            note=(
                "raised: first raised at a rating date in the period; closed: "
                "closed in the period (known before the knowledge cutoff); "
                "open_at_end: raised by and not closed at the stock date."
            ),
        ),
        StatTable(
            "warnings_by_signal",
            "Early warnings by signal",
            pd.DataFrame(
                by_signal, columns=["period", "signal_code", "raised", "closed"]
            ),
            ("period", "signal_code"),
            ("raised", "closed"),
            {"raised": "raised", "closed": "closed"},
        ),
    )


def freshness_tables(frame: pd.DataFrame) -> tuple[StatTable, ...]:
    """Show the freshness hook's frame as one table (first column the key)."""
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1).reset_index(drop=True)
    return (
        StatTable(
            "freshness",
            "Data freshness at the knowledge cutoff",
            frame,
            tuple(columns[:1]),
            tuple(columns[1:]),
        ),
    )
