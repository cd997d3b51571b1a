"""Master scale: PD bands mapped to rating grades, fitted with each model version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DEFAULT_GRADE", "PD_FLOOR", "MasterScale"]

DEFAULT_GRADE = "GD"
"""The default grade: an enterprise already in a default state at ``as_of``."""

PD_FLOOR = 0.0003
"""Smallest PD of a grade (the Basel floor of 3 basis points)."""

MIN_PD_STEP = 1.05
"""Each grade's PD is at least this multiple of the better grade's PD."""

DEFAULT_SHARES = (0.15, 0.35, 0.55, 0.72, 0.85, 0.94)
"""Cumulative development shares that close grades G1..G6 (G7 takes the rest)."""


@dataclass(frozen=True)
class MasterScale:
    """PD bands ``(lower, upper]`` per grade, best first, plus a default grade.

    Basel-style: at least 7 non-default grades and one default grade. Each
    grade carries the PD it stands for (the mean development PD of its band);
    validation tests observed default rates against it.

    Parameters
    ----------
    grades : tuple of str
        Non-default grade codes, best (lowest PD) first, e.g. ``G1``..``G7``.
    upper : tuple of float
        Upper PD bound of each grade but the last (the last is open).
    grade_pd : tuple of float
        The PD of each grade.

    Examples
    --------
    >>> scale = MasterScale(("G1", "G2"), (0.05,), (0.02, 0.2))
    >>> scale.assign(np.array([0.01, 0.05, 0.5])).tolist()
    ['G1', 'G1', 'G2']
    >>> scale.assign(np.array([0.01]), in_default=np.array([True])).tolist()
    ['GD']
    """

    grades: tuple[str, ...]
    upper: tuple[float, ...]
    grade_pd: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.upper) != len(self.grades) - 1 or len(self.grade_pd) != len(
            self.grades
        ):
            raise ValueError(
                f"A master scale with {len(self.grades)} grades needs "
                f"{len(self.grades) - 1} upper bounds and {len(self.grades)} PDs; "
                f"got {len(self.upper)} and {len(self.grade_pd)}."
            )
        if list(self.upper) != sorted(set(self.upper)):
            raise ValueError(
                f"Upper PD bounds must strictly increase; got {self.upper}."
            )

    @classmethod
    def fit(
        cls,
        proba_default: np.ndarray,
        y: np.ndarray | None = None,
        *,
        cumulative_shares: Sequence[float] = DEFAULT_SHARES,
        conservatism: float = 0.5,
        pd_floor: float = PD_FLOOR,
        prefix: str = "G",
        also: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    ) -> MasterScale:
        """Fit grade bands as quantiles of development PDs, and a PD per grade.

        Parameters
        ----------
        proba_default : ndarray
            Development PDs of performing rows, ideally out-of-fold (not seen by
            the model that produced them).
        y : ndarray, optional
            Their outcomes. When given, each grade's PD is the Jeffreys
            posterior quantile ``conservatism`` of its observed default rate
            (0.5: the central estimate; higher adds a margin of conservatism);
            otherwise the mean PD of the band.
        cumulative_shares : sequence of float
            Increasing shares of the development population at which grades
            close; ``k`` shares give ``k + 1`` grades (at least 7 are required).
        conservatism : float, default=0.5
            Posterior quantile of the grade PD, in (0, 1).
        pd_floor : float, default=0.0003
            Smallest grade PD (Basel's 3 basis points).
        prefix : str, default="G"
            Grade code prefix.
        also : sequence of (proba, y) pairs, optional
            Further scored samples whose observed default rates each grade's
            PD must also cover (needs ``y``): the grade PD is the largest of
            the Jeffreys quantiles of every sample with rows in the grade.
            Training passes the final model's own PDs on its latest
            development dates, so that a grade's PD holds both for enterprises
            the model has not seen (out of fold) and for those it has.

        Raises
        ------
        ValueError
            If fewer than 6 shares are given, they do not increase within (0, 1),
            or the PDs are too concentrated to give distinct bands.
        """
        shares = [float(s) for s in cumulative_shares]
        if (
            len(shares) < 6
            or shares != sorted(set(shares))
            or not (0 < shares[0] and shares[-1] < 1)
        ):
            raise ValueError(
                "cumulative_shares must be at least 6 strictly increasing shares in "
                f"(0, 1) giving at least 7 grades; got {shares}."
            )
        if not 0 < conservatism < 1:
            raise ValueError(f"conservatism must be in (0, 1); got {conservatism}.")
        p = np.asarray(proba_default, dtype=float)
        keep = np.isfinite(p)
        p = p[keep]
        if p.size == 0:
            raise ValueError("Cannot fit a master scale on no PDs.")
        upper = np.unique(np.quantile(p, shares, method="higher"))
        if len(upper) < len(shares) or upper[-1] >= p.max():
            raise ValueError(
                "The development PDs take too few distinct values "
                f"({np.unique(p).size}) to form {len(shares) + 1} grades; use "
                "fewer grades or a model with finer PDs."
            )
        index = np.searchsorted(upper, p, side="left")
        if y is None:
            if also:
                raise ValueError("Samples in 'also' need the outcomes y as well.")
            grade_pd = [float(p[index == k].mean()) for k in range(len(upper) + 1)]
        else:
            events = np.asarray(y, dtype=float)[keep]
            grade_pd = _jeffreys_by_grade(index, events, len(upper) + 1, conservatism)
            for extra_p, extra_y in also:
                q = np.asarray(extra_p, dtype=float)
                seen = np.isfinite(q)
                extra = _jeffreys_by_grade(
                    np.searchsorted(upper, q[seen], side="left"),
                    np.asarray(extra_y, dtype=float)[seen],
                    len(upper) + 1,
                    conservatism,
                )
                grade_pd = [max(a, b) for a, b in zip(grade_pd, extra, strict=True)]
        # A grade's PD is at least the floor and MIN_PD_STEP times the better
        # grade's, so the scale stays strictly ordered when a thin grade's
        # observed rate dips below its neighbour's.
        ordered = [max(grade_pd[0], pd_floor)]
        for value in grade_pd[1:]:
            ordered.append(max(value, ordered[-1] * MIN_PD_STEP))
        grade_pd = [min(v, 0.9999) for v in ordered]
        grades = tuple(f"{prefix}{k + 1}" for k in range(len(upper) + 1))
        return cls(
            grades, tuple(float(u) for u in upper), tuple(float(g) for g in grade_pd)
        )

    @property
    def all_grades(self) -> tuple[str, ...]:
        """Non-default grades then the default grade."""
        return (*self.grades, DEFAULT_GRADE)

    def assign(
        self, proba_default: np.ndarray, in_default: np.ndarray | None = None
    ) -> np.ndarray:
        """Grade of each PD; rows ``in_default`` get the default grade."""
        index = np.searchsorted(np.asarray(self.upper), proba_default, side="left")
        result = np.asarray(self.grades, dtype=object)[index]
        if in_default is not None:
            result = np.where(np.asarray(in_default, bool), DEFAULT_GRADE, result)
        return np.asarray(result, dtype=object)

    def table(self) -> pd.DataFrame:
        """One row per grade: code, PD band and grade PD (default grade last)."""
        lower = (0.0, *self.upper)
        upper = (*self.upper, 1.0)
        rows: list[dict[str, Any]] = [
            {"grade": g, "pd_from": lo, "pd_to": hi, "pd": p}
            for g, lo, hi, p in zip(
                self.grades, lower, upper, self.grade_pd, strict=True
            )
        ]
        rows.append({"grade": DEFAULT_GRADE, "pd_from": None, "pd_to": None, "pd": 1.0})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the model version)."""
        return {
            "grades": list(self.grades),
            "upper": list(self.upper),
            "grade_pd": list(self.grade_pd),
            "default_grade": DEFAULT_GRADE,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MasterScale:
        """Rebuild a scale from :meth:`to_dict`."""
        return cls(tuple(data["grades"]), tuple(data["upper"]), tuple(data["grade_pd"]))


def _jeffreys_by_grade(
    index: np.ndarray, events: np.ndarray, n_grades: int, quantile: float
) -> list[float]:
    """Jeffreys posterior ``quantile`` of each grade's default rate (0 when empty)."""
    from scipy.stats import beta

    out = []
    for k in range(n_grades):
        rows = index == k
        n, d = float(rows.sum()), float(events[rows].sum())
        out.append(float(beta.ppf(quantile, d + 0.5, n - d + 0.5)) if n else 0.0)
    return out
