"""Shadow scoring: how a challenger's tiers compare with the champion's.

A challenger rated in shadow decides the same enterprises at the same dates
through the same statutory facts, overrides and policy; only its grades differ.
:func:`tier_agreement` counts champion tier against challenger tier at the
latest date both rated (the tier-agreement matrix), the agreement share at
every common date, the linearly weighted Cohen's kappa of the latest matrix,
and lists the enterprises whose tier would change, largest moves first.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring._cohorts import _as_date
from credit_engine.vocabulary import Tier

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["AgreementPoint", "TierAgreement", "TierChange", "tier_agreement"]

_NEEDED = ("uscc", "as_of", "tier")


@dataclass(frozen=True)
class TierChange:
    """An enterprise whose tier the challenger would change.

    Attributes
    ----------
    uscc : str
        The enterprise.
    champion_tier, challenger_tier : str
        Tier served and tier the challenger would give.
    steps : int
        Challenger tier rank minus champion tier rank: positive when the
        challenger is stricter (a worse tier), negative when more lenient.
    champion_grade, challenger_grade : str or None
        Grades, when the frames have them.
    champion_pd, challenger_pd : float or None
        PDs, when the frames have them.
    """

    uscc: str
    champion_tier: str
    challenger_tier: str
    steps: int
    champion_grade: str | None
    challenger_grade: str | None
    champion_pd: float | None
    challenger_pd: float | None


@dataclass(frozen=True)
class AgreementPoint:
    """Tier agreement at one date both models rated.

    Attributes
    ----------
    as_of : datetime.date
        Rating date.
    n : int
        Enterprises rated by both.
    agreement : float
        Share given the same tier.
    """

    as_of: dt.date
    n: int
    agreement: float


@dataclass(frozen=True)
class TierAgreement:
    """Champion tier against challenger tier (shadow scoring).

    Attributes
    ----------
    as_of : datetime.date
        Latest date both rated: the date of the matrix and of the changes.
    champion_version, challenger_version : str or None
        Versions compared.
    tiers : tuple of str
        Tier labels, best first (rows: champion; columns: challenger).
    counts : tuple of tuple of int
        ``counts[i][j]``: enterprises in champion tier ``tiers[i]`` and
        challenger tier ``tiers[j]``.
    n : int
        Enterprises rated by both at ``as_of``.
    agreement : float
        Share on the diagonal.
    kappa : float or None
        Cohen's kappa with linear weights (ordinal tiers); ``None`` when
        undefined (a single tier on both sides).
    stricter, more_lenient : int
        Enterprises the challenger would put in a worse / better tier.
    only_champion, only_challenger : int
        Enterprises rated at ``as_of`` by one model only.
    changes : tuple of TierChange
        Enterprises whose tier would change, largest moves first, then by
        USCC; at most ``limit`` of them.
    changes_total : int
        All enterprises whose tier would change (``stricter + more_lenient``).
    by_date : tuple of AgreementPoint
        Agreement at every date both rated, oldest first.
    """

    as_of: dt.date
    champion_version: str | None
    challenger_version: str | None
    tiers: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]
    n: int
    agreement: float
    kappa: float | None
    stricter: int
    more_lenient: int
    only_champion: int
    only_challenger: int
    changes: tuple[TierChange, ...]
    changes_total: int
    by_date: tuple[AgreementPoint, ...]


def _frame(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    import pandas as pd

    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"The {name} frame lacks {missing}; it needs uscc, as_of and tier "
            "(grade and pd optional), one row per enterprise and date."
        )
    keep = [c for c in (*_NEEDED, "grade", "pd") if c in frame.columns]
    out = frame[keep].copy()
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.normalize()
    out["tier"] = out["tier"].astype(str)
    unknown = sorted(set(out["tier"]) - set(Tier.values()))
    if unknown:
        raise DataContractError(
            f"The {name} frame has tiers {unknown[:5]}; tiers are "
            f"{list(Tier.values())}."
        )
    if out.duplicated(["uscc", "as_of"]).any():
        raise DataContractError(
            f"The {name} frame repeats (uscc, as_of) keys; pass one run per date."
        )
    return out


def _weighted_kappa(counts: np.ndarray) -> float | None:
    total = counts.sum()
    k = counts.shape[0]
    if total == 0 or k < 2:
        return None
    index = np.arange(k)
    weights = np.abs(index[:, None] - index[None, :]) / (k - 1)
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / total
    denominator = float((weights * expected).sum())
    if denominator == 0.0:
        return None
    return 1.0 - float((weights * counts).sum()) / denominator


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: object) -> str | None:
    return None if _missing(value) else str(value)


def _number(value: object) -> float | None:
    return None if _missing(value) else float(value)  # type: ignore[arg-type]


def tier_agreement(
    champion: pd.DataFrame,
    challenger: pd.DataFrame,
    *,
    limit: int = 50,
    champion_version: str | None = None,
    challenger_version: str | None = None,
) -> TierAgreement:
    """Compare a challenger's shadow tiers with the champion's tiers.

    Parameters
    ----------
    champion, challenger : pandas.DataFrame
        Decisions with ``uscc``, ``as_of``, ``tier`` (``grade`` and ``pd``
        are carried into the list of changes); one row per enterprise and date.
    limit : int, default=50
        Most changes listed (the count of all is ``changes_total``).
    champion_version, challenger_version : str, optional
        Shown in the report.

    Returns
    -------
    TierAgreement

    Raises
    ------
    DataContractError
        If a frame lacks columns, repeats keys or has unknown tiers, or the two
        frames share no rating date.

    Examples
    --------
    >>> import pandas as pd
    >>> champ = pd.DataFrame({"uscc": ["a", "b", "c"], "as_of": ["2026-06-30"] * 3,
    ...                       "tier": ["A", "B", "C"]})
    >>> chall = champ.assign(tier=["A", "C", "C"])
    >>> result = tier_agreement(champ, chall)
    >>> result.agreement, result.stricter, [c.uscc for c in result.changes]
    (0.6666666666666666, 1, ['b'])
    """
    import pandas as pd

    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}.")
    left = _frame(champion, "champion")
    right = _frame(challenger, "challenger")
    common = sorted(set(left["as_of"]) & set(right["as_of"]))
    if not common:
        raise DataContractError(
            "The champion and challenger frames share no rating date; shadow-rate "
            "the challenger at a date the champion was rated "
            "(`credit-engine rate --as-of D --shadow`)."
        )
    merged = left.merge(
        right, on=["uscc", "as_of"], how="outer", suffixes=("_a", "_b"), indicator=True
    )
    merged = merged.loc[merged["as_of"].isin(common)]
    both = merged.loc[merged["_merge"] == "both"]
    rank = {t: i for i, t in enumerate(Tier.values())}
    by_date = []
    for stamp, rows in both.groupby("as_of", sort=True):
        same = int((rows["tier_a"] == rows["tier_b"]).sum())
        by_date.append(
            AgreementPoint(
                _as_date(stamp),
                int(rows.shape[0]),
                same / rows.shape[0] if rows.shape[0] else math.nan,
            )
        )
    latest = common[-1]
    now = merged.loc[merged["as_of"] == latest]
    pair = now.loc[now["_merge"] == "both"].copy()
    a = pair["tier_a"].map(rank).to_numpy(dtype=np.int64)
    b = pair["tier_b"].map(rank).to_numpy(dtype=np.int64)
    k = len(rank)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (a, b), 1)
    pair["steps"] = b - a
    moved = pair.loc[pair["steps"] != 0].assign(size=lambda f: f["steps"].abs())
    moved = moved.sort_values(["size", "uscc"], ascending=[False, True])
    changes = tuple(
        TierChange(
            uscc=str(row["uscc"]),
            champion_tier=str(row["tier_a"]),
            challenger_tier=str(row["tier_b"]),
            steps=int(row["steps"]),
            champion_grade=_text(row.get("grade_a")),
            challenger_grade=_text(row.get("grade_b")),
            champion_pd=_number(row.get("pd_a")),
            challenger_pd=_number(row.get("pd_b")),
        )
        for row in moved.head(limit).to_dict("records")
    )
    n = int(counts.sum())
    return TierAgreement(
        as_of=_as_date(pd.Timestamp(latest)),
        champion_version=champion_version,
        challenger_version=challenger_version,
        tiers=tuple(Tier.values()),
        counts=tuple(tuple(int(v) for v in row) for row in counts),
        n=n,
        agreement=float(np.trace(counts) / n) if n else math.nan,
        kappa=_weighted_kappa(counts),
        stricter=int((pair["steps"] > 0).sum()),
        more_lenient=int((pair["steps"] < 0).sum()),
        only_champion=int((now["_merge"] == "left_only").sum()),
        only_challenger=int((now["_merge"] == "right_only").sum()),
        changes=changes,
        changes_total=int(moved.shape[0]),
        by_date=tuple(by_date),
    )
