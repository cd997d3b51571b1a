"""Evaluate the early-warning signals at a date, point in time, for every enterprise.

One feature-engine query computes the book's feature set for every enterprise
known at the date; each feature rule is then a vectorised mask over that frame.
One statutory-facts query gives the new adverse facts; two reads of the
operational store give the stored grades now and about ``lag_days`` before.
Nothing loops over enterprises in Python: only the evidence of the rows that
fired is turned into dicts.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.early_warning._spec import (
    Clause,
    FactEffect,
    FeatureRuleSignal,
    GradeJumpSignal,
    Op,
    SignalBook,
    StatutoryFactSignal,
)
from credit_engine.features import (
    Definitions,
    Sources,
    build_feature_frame,
    enterprise_spine,
)
from credit_engine.jsonable import to_jsonable
from credit_engine.rules import RuleBook, statutory_facts
from credit_engine.store import OperationalStore

__all__ = [
    "WARNING_FRAME_COLUMNS",
    "Evaluation",
    "evaluate_warnings",
    "grade_notch",
    "rank_enterprises",
]

WARNING_FRAME_COLUMNS = (
    "uscc",
    "signal",
    "department",
    "weight",
    "priority",
    "n_signals",
    "tier",
    "grade",
    "pd",
    "evidence",
)
"""Columns of :attr:`Evaluation.warnings`."""

_SIGNIFICANT = 6
_OPS = {
    Op.GT: np.greater,
    Op.GE: np.greater_equal,
    Op.LT: np.less,
    Op.LE: np.less_equal,
    Op.EQ: np.equal,
    Op.NE: np.not_equal,
}


def grade_notch(grade: object) -> float:
    """Master-scale grade as a number: ``G1`` 1 … ``G7`` 7, ``GD`` (default) 8.

    Examples
    --------
    >>> grade_notch("G3"), grade_notch("GD"), grade_notch(None)
    (3.0, 8.0, nan)
    """
    if not isinstance(grade, str):
        return math.nan
    if grade == "GD":
        return 8.0
    if len(grade) == 2 and grade[0] == "G" and grade[1].isdigit():  # noqa: PLR2004
        return float(grade[1])
    return math.nan


def _round(value: Any) -> Any:
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    if number == 0 or number.is_integer():
        return int(number) if abs(number) < 2**53 else number
    digits = _SIGNIFICANT - 1 - math.floor(math.log10(abs(number)))
    return round(number, max(digits, 0))


@dataclass
class Evaluation:
    """The signals evaluated at one date.

    Attributes
    ----------
    as_of : datetime.date
        Evaluation date.
    book : SignalBook
        The signals evaluated (name and version).
    warnings : pandas.DataFrame
        One row per enterprise and signal that fired (:data:`WARNING_FRAME_COLUMNS`),
        ordered by priority (see :func:`rank_enterprises`).
    enterprises : int
        Enterprises evaluated (known to the zone at ``as_of``).
    not_evaluated : dict of str to str
        Signals that could not be evaluated at this date and why (e.g. no
        stored rating run about ``lag_days`` earlier for a grade jump).
    rating_date : datetime.date or None
        The stored rating run the tiers, grades and PDs come from.
    timings : dict of str to float
        Seconds per step.
    """

    as_of: dt.date
    book: SignalBook
    warnings: pd.DataFrame
    enterprises: int
    not_evaluated: dict[str, str] = field(default_factory=dict)
    rating_date: dt.date | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Warnings per signal code, every code of the book present."""
        fired = self.warnings["signal"].value_counts()
        return {code: int(fired.get(code, 0)) for code in self.book.codes}

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures of the evaluation (the CLI's ``--report-json``)."""
        return {
            "as_of": self.as_of.isoformat(),
            "signals": f"{self.book.name}_v{self.book.version}",
            "enterprises": self.enterprises,
            "warnings": len(self.warnings),
            "enterprises_warned": int(self.warnings["uscc"].nunique()),
            "by_signal": self.counts(),
            "not_evaluated": dict(self.not_evaluated),
            "rating_date": self.rating_date.isoformat() if self.rating_date else None,
            "seconds": {k: round(v, 2) for k, v in self.timings.items()},
        }


# ------------------------------------------------------------------ feature rules
def _side(frame: pd.DataFrame, clause: Clause) -> np.ndarray:
    if clause.other is not None:
        return clause.factor * frame[clause.other].to_numpy(dtype=float)
    return np.full(len(frame), float(clause.value or 0.0))


def _holds(frame: pd.DataFrame, clauses: Sequence[Clause]) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for clause in clauses:
        left = frame[clause.feature].to_numpy(dtype=float)
        right = _side(frame, clause)
        with np.errstate(invalid="ignore"):
            ok = _OPS[clause.op](left, right)
        mask &= ok & ~np.isnan(left) & ~np.isnan(right)
    return mask


def _feature_rule(frame: pd.DataFrame, signal: FeatureRuleSignal) -> pd.DataFrame:
    mask = _holds(frame, signal.when)
    fired_alternatives: dict[str, np.ndarray] = {}
    if signal.any_of:
        either = np.zeros(len(frame), dtype=bool)
        for alt in signal.any_of:
            fired_alternatives[alt.name] = _holds(frame, alt.when)
            either |= fired_alternatives[alt.name]
        mask &= either
    if not mask.any():
        return pd.DataFrame(columns=["uscc", "signal", "evidence"])
    cols = signal.features()
    values = frame.loc[mask, cols].to_dict("records")
    rules = [c.describe() for c in signal.when]
    names = [
        [a for a, m in fired_alternatives.items() if m[i]] for i in np.flatnonzero(mask)
    ]
    evidence = []
    for row, alternatives in zip(values, names, strict=True):
        item: dict[str, Any] = {"values": {k: _round(v) for k, v in row.items()}}
        item["rule"] = rules + [
            c.describe()
            for a in signal.any_of
            if a.name in alternatives
            for c in a.when
        ]
        if signal.any_of:
            item["alternatives"] = alternatives
        evidence.append(item)
    return pd.DataFrame(
        {"uscc": frame.loc[mask, "uscc"].to_numpy(), "signal": signal.code,
         "evidence": evidence}
    )  # fmt: skip


# -------------------------------------------------------------- statutory facts
def _new_facts(
    facts: pd.DataFrame, as_of: dt.date, signal: StatutoryFactSignal
) -> pd.DataFrame:
    if facts.empty:
        return pd.DataFrame(columns=["uscc", "signal", "evidence"])
    adverse = np.zeros(len(facts), dtype=bool)
    if FactEffect.CEILING in signal.effects:
        adverse |= facts["ceiling"].notna().to_numpy()
    if FactEffect.BLOCKS_GREEN_CHANNEL in signal.effects:
        adverse |= facts["blocks_green_channel"].fillna(False).to_numpy(dtype=bool)
    if FactEffect.JOINT_PUNISHMENT in signal.effects:
        adverse |= facts["joint_punishment"].fillna(False).to_numpy(dtype=bool)
    adverse &= ~facts["favourable"].fillna(False).to_numpy(dtype=bool)
    adverse &= ~facts["code"].isin(signal.exclude_codes).to_numpy()
    first_day = as_of - dt.timedelta(days=signal.window_days - 1)
    since = facts["since"]
    adverse &= since.map(lambda d: d is not None and first_day <= d <= as_of).to_numpy(
        dtype=bool
    )
    kept = facts.loc[adverse]
    if kept.empty:
        return pd.DataFrame(columns=["uscc", "signal", "evidence"])
    columns = ["code", "department", "rule_set", "since", "detail", "ceiling",
               "blocks_green_channel", "joint_punishment", "en", "zh"]  # fmt: skip
    records = to_jsonable(kept[columns].to_dict("records"), where="statutory facts")
    grouped: dict[str, list[dict[str, Any]]] = {}
    for uscc, rec in zip(kept["uscc"], records, strict=True):
        grouped.setdefault(str(uscc), []).append(rec)
    return pd.DataFrame(
        {
            "uscc": list(grouped),
            "signal": signal.code,
            "evidence": [
                {"facts": items, "window_days": signal.window_days}
                for items in grouped.values()
            ],
        }
    )


# ------------------------------------------------------------------ grade jumps
def _grade_jump(
    store: OperationalStore | None,
    as_of: dt.date,
    signal: GradeJumpSignal,
    current: tuple[dt.date | None, pd.DataFrame],
) -> tuple[pd.DataFrame, str | None]:
    empty = pd.DataFrame(columns=["uscc", "signal", "evidence"])
    now_date, now = current
    if store is None:
        return empty, "no operational store given"
    if now_date is None:
        return empty, (
            f"no stored rating run in the {signal.current_max_age_days} days up to "
            f"{as_of.isoformat()}"
        )
    target = now_date - dt.timedelta(days=signal.lag_days)
    with store.unit_of_work("read stored ratings") as uow:
        then_date, then = uow.warnings.ratings_closest_to(
            target, before=now_date, tolerance_days=signal.tolerance_days
        )
    if then_date is None:
        return empty, (
            f"no stored rating run within {signal.tolerance_days} days of "
            f"{target.isoformat()} ({signal.lag_days} days before the run of "
            f"{now_date.isoformat()})"
        )
    both = now.merge(then, on="uscc", suffixes=("_now", "_then"))
    notches = both["grade_now"].map(grade_notch) - both["grade_then"].map(grade_notch)
    fired = both.loc[(notches >= signal.notches).to_numpy()]
    moved = notches[(notches >= signal.notches).to_numpy()]
    evidence = [
        {
            "grade_now": g_now, "grade_then": g_then, "notches": int(n),
            "pd_now": _round(p_now), "pd_then": _round(p_then),
            "rated_now": now_date.isoformat(), "rated_then": then_date.isoformat(),
        }
        for g_now, g_then, n, p_now, p_then in zip(
            fired["grade_now"], fired["grade_then"], moved, fired["pd_now"],
            fired["pd_then"], strict=True,
        )
    ]  # fmt: skip
    return (
        pd.DataFrame(
            {
                "uscc": fired["uscc"].astype(str).to_numpy(),
                "signal": signal.code,
                "evidence": evidence,
            }
        ),  # fmt: skip
        None,
    )


# --------------------------------------------------------------------- ranking
def rank_enterprises(warnings: pd.DataFrame) -> pd.DataFrame:
    """Order warnings by their enterprise's priority, most urgent first.

    An enterprise's priority is the sum of the weights of the distinct signals
    that fired for it at the date; ties go to the higher stored PD (unknown
    last), then to more signals, then by USCC and signal code. Every warning of
    an enterprise carries the enterprise's priority, so they stay together.

    Parameters
    ----------
    warnings : pandas.DataFrame
        Columns ``uscc``, ``signal``, ``weight`` and optionally ``pd``.

    Returns
    -------
    pandas.DataFrame
        The rows with ``priority`` and ``n_signals`` set, sorted.
    """
    frame = warnings.copy()
    grouped = frame.groupby("uscc")["weight"]
    frame["priority"] = grouped.transform("sum").astype(float)
    frame["n_signals"] = grouped.transform("size").astype(int)
    if "pd" not in frame:
        frame["pd"] = np.nan
    frame["_pd"] = frame["pd"].astype(float).fillna(-1.0)
    frame = frame.sort_values(
        ["priority", "_pd", "n_signals", "uscc", "signal"],
        ascending=[False, False, False, True, True],
        kind="mergesort",
    )
    return frame.drop(columns="_pd").reset_index(drop=True)


def _assemble(
    parts: list[pd.DataFrame], book: SignalBook, ratings: pd.DataFrame
) -> pd.DataFrame:
    """Stack the firings, add weights and ratings, rank, name co-firing signals."""
    kept = [p for p in parts if len(p)]
    if kept:
        warnings = pd.concat(kept, ignore_index=True)
    else:
        warnings = pd.DataFrame(columns=["uscc", "signal", "evidence"])
    meta = {s.code: s for s in book.signals}
    warnings["department"] = warnings["signal"].map(lambda c: str(meta[c].department))
    warnings["weight"] = warnings["signal"].map(lambda c: float(meta[c].weight))
    if len(ratings):
        warnings = warnings.merge(
            ratings[["uscc", "tier", "grade", "pd"]], on="uscc", how="left"
        )
    else:
        warnings = warnings.assign(tier=None, grade=None, pd=np.nan)
    warnings = rank_enterprises(warnings)
    together = warnings.groupby("uscc")["signal"].agg(list)
    warnings["evidence"] = pd.Series(
        [
            {**ev, "with": [c for c in together[u] if c != s]}
            for ev, u, s in zip(
                warnings["evidence"], warnings["uscc"], warnings["signal"], strict=True
            )
        ],
        index=warnings.index,
        dtype=object,
    )
    warnings = warnings.astype({"tier": object, "grade": object})
    warnings = warnings.where(warnings.notna(), None).astype({"pd": float})
    return warnings[list(WARNING_FRAME_COLUMNS)]


# ------------------------------------------------------------------ evaluation
def evaluate_warnings(  # noqa: PLR0913 - everything an evaluation reads, by name
    as_of: dt.date,
    *,
    book: SignalBook,
    definitions: Definitions,
    sources: Sources,
    rulebook: RuleBook,
    store: OperationalStore | None = None,
    usccs: Sequence[str] | None = None,
) -> Evaluation:
    """Evaluate every signal of ``book`` at ``as_of`` for every enterprise.

    Point in time throughout: the feature rules read the book's feature set as
    known at the end of ``as_of`` (:mod:`credit_engine.features`), the
    statutory facts are those in force then
    (:func:`credit_engine.rules.statutory_facts`), and grade jumps compare
    stored rating runs on or before ``as_of``.

    Parameters
    ----------
    as_of : datetime.date
        Evaluation date.
    book : SignalBook
        The signals (:func:`load_signal_book`).
    definitions : Definitions
        Feature definitions (holding ``book.feature_set``).
    sources : Sources
        The lake (or frames) to read.
    rulebook : RuleBook
        The statutory rule sets.
    store : OperationalStore, optional
        Stored rating runs: grade jumps, and each enterprise's tier, grade and
        PD (without a store grade jumps are not evaluated and PDs are unknown).
    usccs : sequence of str, optional
        Evaluate only these enterprises (default: every one known at ``as_of``).

    Returns
    -------
    Evaluation
        The warnings that fired, ranked, with their evidence.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    spine = enterprise_spine(sources, definitions, [as_of])
    if usccs is not None:
        spine = spine[spine["uscc"].isin(set(usccs))].reset_index(drop=True)
    known = set(spine["uscc"])
    parts: list[pd.DataFrame] = []
    rules = book.feature_rules()
    if rules and len(spine):
        frame = build_feature_frame(
            spine, book.feature_set, definitions=definitions, sources=sources
        )
        timings["features"] = time.perf_counter() - clock
        parts += [_feature_rule(frame, s) for s in rules]
    clock = time.perf_counter()
    fact_signals = [s for s in book.signals if isinstance(s, StatutoryFactSignal)]
    if fact_signals:
        facts = statutory_facts(sources, as_of, rulebook=rulebook, usccs=usccs)
        facts = facts[facts["uscc"].isin(known)]
        parts += [_new_facts(facts, as_of, s) for s in fact_signals]
    timings["facts"] = time.perf_counter() - clock
    clock = time.perf_counter()
    current: tuple[dt.date | None, pd.DataFrame] = (None, pd.DataFrame())
    jumps = [s for s in book.signals if isinstance(s, GradeJumpSignal)]
    if store is not None:
        max_age = max([s.current_max_age_days for s in jumps], default=31)
        with store.unit_of_work("read stored ratings") as uow:
            current = uow.warnings.ratings_near(as_of, max_age_days=max_age)
    not_evaluated: dict[str, str] = {}
    for signal in jumps:
        fired, why = _grade_jump(store, as_of, signal, current)
        if why is not None:
            not_evaluated[signal.code] = why
        parts.append(fired[fired["uscc"].isin(known)])
    timings["ratings"] = time.perf_counter() - clock
    return Evaluation(
        as_of=as_of,
        book=book,
        warnings=_assemble(parts, book, current[1]),
        enterprises=len(spine),
        not_evaluated=not_evaluated,
        rating_date=current[0],
        timings=timings,
    )
