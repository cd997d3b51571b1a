"""How good the warnings are, against a simulated zone's truth.

Warnings are evaluated monthly over a period (:func:`warning_history`); the
queue ranks each enterprise by the highest priority it reached. Against the
simulator's truth (:func:`load_truth`):

* **precision at the top N**: the share of the N enterprises at the top of the
  queue that are targets (the refund ring's members, or without the scenario
  the simulator's refund fraudsters); a second figure also counts an enterprise
  whose true adverse event followed its first warning within 12 months (the
  warning was right even if it is not in the scheme);
* **recall**: the share of the targets caught (a warning from the scheme start
  on, inside the period), and the share caught *ahead* of any statutory fact
  (first warning before the first adverse statutory fact, or no fact yet);
* **lead time**: for each target caught (a warning from its scheme start on)
  whose first statutory fact is known, the days from its first warning to that
  fact; the median, and the share of at least 60 days.

The truth is read from the simulator's files (``scenarios.parquet``,
``enterprises.parquet``, ``adverse_events.parquet``), never from the lake: it
exists only for a simulated zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.early_warning._evaluate import Evaluation
from credit_engine.exceptions import ConfigurationError

__all__ = [
    "HISTORY_COLUMNS",
    "Quality",
    "Truth",
    "load_truth",
    "month_ends",
    "warning_history",
    "warning_quality",
]

HISTORY_COLUMNS = ("as_of", "uscc", "signal", "priority", "pd")
"""Columns of :func:`warning_history`."""

_ADVERSE_HORIZON_DAYS = 365


def month_ends(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month end from the month of ``first`` to ``last`` (inclusive).

    Examples
    --------
    >>> [d.isoformat() for d in month_ends(dt.date(2025, 11, 5), dt.date(2026, 1, 31))]
    ['2025-11-30', '2025-12-31', '2026-01-31']
    """
    return [d.date() for d in pd.date_range(first, last, freq="ME")]


@dataclass(frozen=True)
class Truth:
    """What the simulator knows: the targets and every true adverse event.

    Attributes
    ----------
    kind : str
        ``refund_ring`` (the scenario's members) or ``refund_fraud`` (the
        simulator's latent refund fraudsters, without the scenario).
    targets : pandas.DataFrame
        ``uscc``, ``start_date`` (scheme start; null: no start known) and
        ``first_statutory_date`` (first adverse statutory fact from the start;
        null: none in the window).
    adverse : pandas.DataFrame
        ``uscc``, ``effective_date`` of every true adverse event.
    """

    kind: str
    targets: pd.DataFrame
    adverse: pd.DataFrame


def _dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce").dt.date


def load_truth(truth_dir: Path, *, since: dt.date | None = None) -> Truth:
    """Read the targets and adverse events from a simulator's truth folder.

    Parameters
    ----------
    truth_dir : pathlib.Path
        The folder ``credit-engine simulate --truth`` wrote.
    since : datetime.date, optional
        Without a ring scenario, the start of the evaluation period: a refund
        fraudster's first statutory fact is its first adverse event on or
        after it.

    Returns
    -------
    Truth
        The refund ring's members when ``scenarios.parquet`` has a
        ``refund_ring`` scenario, else the latent refund fraudsters.

    Raises
    ------
    ConfigurationError
        If the folder lacks the simulator's files.
    """
    folder = Path(truth_dir)
    events_path = folder / "adverse_events.parquet"
    if not events_path.is_file():
        raise ConfigurationError(
            f"{folder} is not a simulator truth folder: {events_path.name} is missing."
        )
    events = pd.read_parquet(events_path, columns=["uscc", "effective_date"])
    events["effective_date"] = _dates(events["effective_date"])
    scenarios = folder / "scenarios.parquet"
    if scenarios.is_file():
        table = pd.read_parquet(scenarios)
        ring = table[table["kind"] == "refund_ring"]
        if len(ring):
            targets = pd.DataFrame(
                {
                    "uscc": ring["uscc"].astype(str).to_numpy(),
                    "start_date": _dates(ring["start_date"]).to_numpy(),
                    "first_statutory_date": _dates(
                        ring["first_statutory_date"]
                    ).to_numpy(),
                }
            )
            return Truth("refund_ring", targets, events)
    enterprises = pd.read_parquet(
        folder / "enterprises.parquet", columns=["uscc", "refund_fraud"]
    )
    fraud = enterprises.loc[enterprises["refund_fraud"].astype(bool), ["uscc"]]
    after = events if since is None else events[events["effective_date"] >= since]
    first = after.groupby("uscc")["effective_date"].min()
    targets = fraud.assign(
        start_date=since, first_statutory_date=fraud["uscc"].map(first)
    ).reset_index(drop=True)
    targets["first_statutory_date"] = targets["first_statutory_date"].astype(object)
    targets = targets.where(targets.notna(), None)
    return Truth("refund_fraud", targets, events)


def warning_history(
    evaluate: Callable[[dt.date], Evaluation],
    dates: Sequence[dt.date],
    *,
    progress: Callable[[dt.date, Evaluation], None] | None = None,
) -> pd.DataFrame:
    """Evaluate the warnings at each date and stack what fired.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(as_of) -> Evaluation`` (e.g. :meth:`WarningSetup.evaluate`).
    dates : sequence of datetime.date
        Evaluation dates (e.g. :func:`month_ends`).
    progress : callable, optional
        Called with each date and its evaluation.

    Returns
    -------
    pandas.DataFrame
        :data:`HISTORY_COLUMNS`: one row per date, enterprise and signal.
    """
    parts = []
    for day in dates:
        evaluation = evaluate(day)
        if progress is not None:
            progress(day, evaluation)
        frame = evaluation.warnings[["uscc", "signal", "priority", "pd"]].copy()
        frame.insert(0, "as_of", day)
        parts.append(frame)
    if not parts:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(HISTORY_COLUMNS)]


@dataclass
class Quality:
    """Precision at the top of the queue and lead time, against the truth.

    Attributes
    ----------
    truth_kind : str
        ``refund_ring`` or ``refund_fraud`` (see :class:`Truth`).
    dates : list of datetime.date
        Evaluation dates.
    top : int
        N of the precision.
    precision_at_top : float
        Share of the top N enterprises that are targets.
    precision_at_top_adverse : float
        Share that are targets or had a true adverse event within 12 months
        after their first warning.
    targets : int
        Targets in the truth.
    caught : int
        Targets with a warning on or after their scheme start.
    caught_in_top : int
        Targets among the top N.
    recall : float
        ``caught / targets`` (0.0 without targets).
    caught_ahead : int
        Targets caught whose first warning came strictly before their first
        statutory fact, or who have none known.
    recall_ahead : float
        ``caught_ahead / targets``.
    precision_warned : float
        Share of all the enterprises warned in the period that are targets.
    median_lead_days : float
        Median days from a caught target's first warning to its first
        statutory fact (NaN if none can be measured).
    lead_days : list of int
        Every lead time measured.
    share_lead_60 : float
        Share of the lead times of at least 60 days.
    by_signal : dict
        Per signal: enterprises warned, of them targets.
    queue : pandas.DataFrame
        The ranked queue: ``uscc``, ``max_priority``, ``max_pd``,
        ``first_warning``, ``signals``, ``target``, ``adverse_12m``.
    """

    truth_kind: str
    dates: list[dt.date]
    top: int
    precision_at_top: float
    precision_at_top_adverse: float
    targets: int
    caught: int
    caught_in_top: int
    median_lead_days: float
    lead_days: list[int]
    share_lead_60: float
    recall: float
    caught_ahead: int
    recall_ahead: float
    precision_warned: float
    by_signal: dict[str, dict[str, int]] = field(default_factory=dict)
    queue: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    def summary(self) -> dict[str, Any]:
        """JSON-ready figures (the benchmark's report)."""
        lead = self.median_lead_days
        return {
            "truth": self.truth_kind,
            "dates": [self.dates[0].isoformat(), self.dates[-1].isoformat()]
            if self.dates
            else [],
            "evaluations": len(self.dates),
            "top": self.top,
            "precision_at_top": round(self.precision_at_top, 4),
            "precision_at_top_incl_adverse_12m": round(
                self.precision_at_top_adverse, 4
            ),
            "targets": self.targets,
            "caught": self.caught,
            "caught_in_top": self.caught_in_top,
            "recall": round(self.recall, 4),
            "caught_ahead_of_statutory": self.caught_ahead,
            "recall_ahead_of_statutory": round(self.recall_ahead, 4),
            "precision_warned": round(self.precision_warned, 4),
            "median_lead_days": None if np.isnan(lead) else float(lead),
            "lead_days_measured": len(self.lead_days),
            "share_lead_at_least_60_days": round(self.share_lead_60, 4),
            "by_signal": self.by_signal,
        }


def warning_quality(history: pd.DataFrame, truth: Truth, *, top: int = 100) -> Quality:
    """Measure a warning history against the truth.

    Parameters
    ----------
    history : pandas.DataFrame
        :func:`warning_history` (``as_of``, ``uscc``, ``signal``, ``priority``,
        ``pd``), evaluated at regular dates (monthly).
    truth : Truth
        :func:`load_truth`.
    top : int, default=100
        N of the precision at the top.

    Returns
    -------
    Quality
    """
    dates = sorted(set(history["as_of"]))
    targets = truth.targets.set_index("uscc")
    queue = (
        history.assign(pd=history["pd"].astype(float))
        .groupby("uscc")
        .agg(
            max_priority=("priority", "max"),
            max_pd=("pd", "max"),
            first_warning=("as_of", "min"),
            signals=("signal", lambda s: sorted(set(s))),
        )
        .reset_index()
    )
    queue["target"] = queue["uscc"].isin(targets.index)
    events = truth.adverse.merge(queue[["uscc", "first_warning"]], on="uscc")
    delta = events["effective_date"] - events["first_warning"]
    horizon = dt.timedelta(days=_ADVERSE_HORIZON_DAYS)
    followed = events.loc[(delta >= dt.timedelta(0)) & (delta <= horizon), "uscc"]
    queue["adverse_12m"] = queue["uscc"].isin(set(followed))
    queue = queue.sort_values(
        ["max_priority", "max_pd", "first_warning", "uscc"],
        ascending=[False, False, True, True],
        na_position="last",
        kind="mergesort",
    ).reset_index(drop=True)
    head = queue.head(top)
    n = max(len(head), 1)
    # Lead time: warnings from each target's scheme start on.
    warned = history[history["uscc"].isin(targets.index)].copy()
    start = warned["uscc"].map(targets["start_date"])
    keep = start.isna() | (warned["as_of"] >= start.fillna(dt.date.min))
    firsts = warned[keep.to_numpy(dtype=bool)].groupby("uscc")["as_of"].min()
    statutory = targets["first_statutory_date"].reindex(firsts.index)
    measured = statutory.notna()
    ahead = int((~measured).sum()) + sum(
        w < s for w, s in zip(firsts[measured], statutory[measured], strict=True)
    )
    n_targets = len(targets)
    lead = [
        (s - w).days for w, s in zip(firsts[measured], statutory[measured], strict=True)
    ]
    by_signal: dict[str, dict[str, int]] = {}
    for code, part in history.groupby("signal"):
        ents = set(part["uscc"])
        by_signal[str(code)] = {
            "enterprises": len(ents),
            "targets": len(ents & set(targets.index)),
        }
    return Quality(
        truth_kind=truth.kind,
        dates=dates,
        top=top,
        precision_at_top=float(head["target"].sum() / n),
        precision_at_top_adverse=float(
            (head["target"] | head["adverse_12m"]).sum() / n
        ),
        targets=n_targets,
        caught=len(firsts),
        caught_in_top=int(head["target"].sum()),
        median_lead_days=float(np.median(lead)) if lead else float("nan"),
        lead_days=sorted(int(x) for x in lead),
        share_lead_60=float(np.mean([x >= 60 for x in lead])) if lead else 0.0,  # noqa: PLR2004
        recall=len(firsts) / n_targets if n_targets else 0.0,
        caught_ahead=ahead,
        recall_ahead=ahead / n_targets if n_targets else 0.0,
        precision_warned=float(queue["target"].mean()) if len(queue) else 0.0,
        by_signal=dict(sorted(by_signal.items())),
        queue=queue,
    )
