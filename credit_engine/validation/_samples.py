"""Inputs of the validation pack: a scored sample and the master-scale view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["GradeScale", "ScoredSample"]


def _preview(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    more = f" and {len(values) - limit} more" if len(values) > limit else ""
    return f"[{shown}]{more}"


@dataclass(frozen=True)
class ScoredSample:
    """Outcomes, PDs and grades of one sample (development or out-of-time).

    Arrays are converted on construction: ``y`` to int64, ``proba`` to float64
    and ``grade`` to str.

    Parameters
    ----------
    y : numpy.ndarray
        Outcomes, 1 for a default (event) and 0 otherwise.
    proba : numpy.ndarray
        Calibrated probability of default (PD) of each row, in [0, 1].
    grade : numpy.ndarray
        Grade label of each row, e.g. ``"G1"`` .. ``"G7"`` (non-default grades).
    as_of : numpy.ndarray or None, default=None
        Rating date of each row, for per-``as_of`` breakdowns.

    Raises
    ------
    ValueError
        If the arrays are not one-dimensional with the same length, if ``y``
        holds values other than 0 and 1, or if ``proba`` holds values outside
        [0, 1] or NaN.

    Examples
    --------
    >>> s = ScoredSample(y=np.array([0, 1]), proba=np.array([0.1, 0.7]),
    ...                  grade=np.array(["G1", "G2"]))
    >>> s.n_rows, s.n_events
    (2, 1)
    """

    y: npt.NDArray[np.int64]
    proba: npt.NDArray[np.float64]
    grade: npt.NDArray[np.str_]
    as_of: npt.NDArray[np.generic] | None = None

    def __post_init__(self) -> None:
        arrays = {
            "y": np.asarray(self.y),
            "proba": np.asarray(self.proba),
            "grade": np.asarray(self.grade),
        }
        if self.as_of is not None:
            arrays["as_of"] = np.asarray(self.as_of)
        shapes = {name: arr.shape for name, arr in arrays.items()}
        if any(len(shape) != 1 for shape in shapes.values()) or (
            len({shape[0] for shape in shapes.values()}) != 1
        ):
            got = ", ".join(f"{name}.shape={shape}" for name, shape in shapes.items())
            raise ValueError(
                f"ScoredSample arrays must be one-dimensional and of equal length; "
                f"got {got}. Pass one value per row in each array."
            )
        y = arrays["y"]
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"ScoredSample.y must be numeric or boolean; got dtype {y.dtype}. "
                "Encode defaults as 1 and non-defaults as 0."
            )
        not_binary = ~np.isin(y, [0, 1])  # NaN is neither
        if not_binary.any():
            bad = sorted({str(v) for v in y[not_binary].tolist()})
            raise ValueError(
                f"ScoredSample.y must hold only 0 and 1; got values {_preview(bad)}. "
                "Encode defaults as 1 and non-defaults as 0, and drop rows whose "
                "performance window is not complete."
            )
        proba = arrays["proba"].astype(np.float64)
        outside = ~((proba >= 0.0) & (proba <= 1.0))  # NaN counts as outside
        if outside.any():
            first = proba[outside][:5].tolist()
            raise ValueError(
                f"ScoredSample.proba must lie in [0, 1] without NaN; "
                f"{int(outside.sum())} values do not, e.g. {first}. Pass calibrated "
                "probabilities of default, not scores or log-odds."
            )
        object.__setattr__(self, "y", y.astype(np.int64))
        object.__setattr__(self, "proba", proba)
        object.__setattr__(self, "grade", arrays["grade"].astype(str))
        if self.as_of is not None:
            object.__setattr__(self, "as_of", arrays["as_of"])

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return int(self.y.shape[0])

    @property
    def n_events(self) -> int:
        """Number of defaults (``y == 1``)."""
        return int(self.y.sum())


@dataclass(frozen=True)
class GradeScale:
    """The part of a master scale the validator needs.

    Parameters
    ----------
    grades : tuple of str
        Non-default grades, best to worst.
    pd : tuple of float
        PD assigned to each grade, in the same order; strictly increasing and
        inside (0, 1).

    Raises
    ------
    ValueError
        If the lengths differ, a grade repeats, or a PD is outside (0, 1) or
        not above the PD of the previous grade.

    Examples
    --------
    >>> scale = GradeScale(grades=("G1", "G2"), pd=(0.01, 0.05))
    >>> scale.pd_of("G2")
    0.05
    """

    grades: tuple[str, ...]
    pd: tuple[float, ...]

    def __post_init__(self) -> None:
        grades = tuple(str(g) for g in self.grades)
        pds = tuple(float(p) for p in self.pd)
        if not grades or len(grades) != len(pds):
            raise ValueError(
                f"GradeScale needs one PD per grade; got {len(grades)} grades and "
                f"{len(pds)} PDs. Pass grades and pd of equal, non-zero length."
            )
        repeated = sorted({g for g in grades if grades.count(g) > 1})
        if repeated:
            raise ValueError(
                f"GradeScale grades must be unique; {_preview(repeated)} repeat. "
                "List each grade once, best to worst."
            )
        outside = [
            f"{g}={p}" for g, p in zip(grades, pds, strict=True) if not 0 < p < 1
        ]
        if outside:
            raise ValueError(
                f"GradeScale PDs must lie strictly between 0 and 1; got "
                f"{_preview(outside)}. Floor PDs at a small positive value."
            )
        unordered = [
            f"{grades[i]}={pds[i]} >= {grades[i + 1]}={pds[i + 1]}"
            for i in range(len(pds) - 1)
            if not pds[i] < pds[i + 1]
        ]
        if unordered:
            raise ValueError(
                f"GradeScale PDs must increase from the best grade to the worst; got "
                f"{_preview(unordered)}. Order grades best to worst."
            )
        object.__setattr__(self, "grades", grades)
        object.__setattr__(self, "pd", pds)

    def pd_of(self, grade: str) -> float:
        """Return the PD of ``grade``.

        Raises
        ------
        KeyError
            If ``grade`` is not on the scale.
        """
        try:
            return self.pd[self.grades.index(grade)]
        except ValueError:
            raise KeyError(
                f"Grade {grade!r} is not on the scale {_preview(list(self.grades))}."
            ) from None
