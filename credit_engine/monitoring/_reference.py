"""What a model is monitored against: its frozen development distributions.

:class:`ModelReference` gathers what the validation report of a trained model
already holds (score bins and shares, grade shares and PDs, initial AUC and HHI)
and the frozen distribution of each feature (:class:`FeatureReference`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from credit_engine.exceptions import ConfigurationError
from credit_engine.monitoring._features import FeatureReference, _float

__all__ = ["GradeScaleLike", "ModelReference"]


class GradeScaleLike(Protocol):
    """Anything with grades and their PDs, e.g. ``modeling.MasterScale``."""

    @property
    def grades(self) -> tuple[str, ...]: ...  # noqa: D102

    @property
    def grade_pd(self) -> tuple[float, ...]: ...  # noqa: D102


@dataclass(frozen=True)
class ModelReference:
    """What one model version is monitored against (frozen at its validation).

    Parameters
    ----------
    model_name : str
        Registered model name.
    grades : tuple of str
        Non-default grades, best first (e.g. ``G1``..``G7``).
    grade_pd : tuple of float
        The PD of each grade (master scale), strictly in (0, 1).
    grade_shares_dev : tuple of float
        Development share of each grade (performing rows).
    score_edges : tuple of float
        Frozen development bins of the PD (validation ``stability.score_edges``).
    score_shares_dev : tuple of float
        Development share per PD bin plus a last share for missing PDs.
    auc_initial : float
        AUC at initial validation (the out-of-time AUC).
    hhi_initial : float
        Grade HHI at initial validation (the out-of-time sample).
    default_rate_initial : float
        Observed default rate at initial validation (out-of-time).
    horizon_days : int
        Outcome horizon of the label: a cohort matures ``horizon_days`` after
        its ``as_of``.
    default_grade : str, default="GD"
        Grade of enterprises already in default (``modeling.DEFAULT_GRADE``;
        not imported, as importing the modelling stack costs seconds).
    features : tuple of FeatureReference, default=()
        Frozen development distribution of each feature, for CSI.
    version : str or None, default=None
        Model version, shown in the report.
    """

    model_name: str
    grades: tuple[str, ...]
    grade_pd: tuple[float, ...]
    grade_shares_dev: tuple[float, ...]
    score_edges: tuple[float, ...]
    score_shares_dev: tuple[float, ...]
    auc_initial: float
    hhi_initial: float
    default_rate_initial: float
    horizon_days: int
    default_grade: str = "GD"
    features: tuple[FeatureReference, ...] = field(default=())
    version: str | None = None

    def __post_init__(self) -> None:
        problems = []
        k = len(self.grades)
        if k < 2 or len(set(self.grades)) != k:
            problems.append(f"grades must be >= 2 unique labels, got {self.grades}")
        if len(self.grade_pd) != k or len(self.grade_shares_dev) != k:
            problems.append(
                f"{k} grades need as many PDs and shares; got {len(self.grade_pd)} "
                f"PDs and {len(self.grade_shares_dev)} shares"
            )
        if not all(0.0 < p < 1.0 for p in self.grade_pd):
            problems.append(f"grade PDs must lie in (0, 1), got {self.grade_pd}")
        if self.default_grade in self.grades:
            problems.append(f"the default grade {self.default_grade!r} is not a grade")
        edges = np.asarray(self.score_edges, dtype=np.float64)
        if edges.size < 2 or not (np.diff(edges) > 0).all():
            problems.append(f"score_edges must increase, got {self.score_edges[:6]}")
        if len(self.score_shares_dev) != edges.size:  # bins + missing
            problems.append(
                f"score_shares_dev needs {edges.size - 1} bins + 1 missing share, got "
                f"{len(self.score_shares_dev)}"
            )
        if not 0.0 <= self.auc_initial <= 1.0 or not 0.0 < self.hhi_initial <= 1.0:
            problems.append(
                f"auc_initial={self.auc_initial} and hhi_initial={self.hhi_initial} "
                "must lie in [0, 1]"
            )
        if not 0.0 < self.default_rate_initial < 1.0:
            problems.append(
                f"default_rate_initial={self.default_rate_initial} must lie in (0, 1)"
            )
        if self.horizon_days < 1:
            problems.append(f"horizon_days={self.horizon_days} must be positive")
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            problems.append("feature references repeat a name")
        if problems:
            raise ConfigurationError(
                f"Reference of model {self.model_name!r} is inconsistent: "
                + "; ".join(problems)
                + ". Build it with ModelReference.from_validation_json."
            )

    def pd_of(self) -> dict[str, float]:
        """Return ``{grade: PD}``."""
        return dict(zip(self.grades, self.grade_pd, strict=True))

    @classmethod
    def from_validation_json(
        cls,
        validation: Mapping[str, Any],
        *,
        horizon_days: int,
        master_scale: Mapping[str, float] | GradeScaleLike | None = None,
        features: Sequence[FeatureReference] | None = None,
        version: str | None = None,
        default_grade: str = "GD",
    ) -> ModelReference:
        """Build the reference from a model's ``validation.json``.

        Mapping (keys of :meth:`ValidationReport.to_json_dict`):

        ========================  =============================================
        field                     validation JSON
        ========================  =============================================
        ``model_name``            ``model_name``
        ``score_edges``           ``stability.score_edges`` (bins of the PD)
        ``score_shares_dev``      ``stability.score_shares_dev`` (+ missing)
        ``grades``, ``grade_pd``  ``master_scale`` if given, else
                                  ``oot.calibration.grades[].grade / .pd``
        ``grade_shares_dev``      ``dev.concentration.shares``
        ``auc_initial``           ``summary.auc`` (out-of-time AUC)
        ``hhi_initial``           ``oot.concentration.hhi``
        ``default_rate_initial``  ``oot.discrimination.event_rate``
        ``features``              ``features`` if given, else
                                  ``feature_references`` when present
        ========================  =============================================

        Parameters
        ----------
        validation : mapping
            The parsed validation JSON.
        horizon_days : int
            Outcome horizon of the model's label (``spec.label.horizon_days``).
        master_scale : mapping of str to float or MasterScale-like, optional
            Grade PDs (``{grade: pd}`` best first, or an object with ``grades``
            and ``grade_pd``); the default grade is skipped if present.
        features : sequence of FeatureReference, optional
            Frozen feature distributions (until training stores them).
        version : str, optional
            Model version for the report.
        default_grade : str, default="GD"
            Grade of enterprises in default.

        Raises
        ------
        ConfigurationError
            If a key is missing or the values do not fit together.
        """
        try:
            grades, grade_pd = _scale(validation, master_scale, default_grade)
            shares = validation["dev"]["concentration"]["shares"]
            stability = validation["stability"]
            stored = validation.get("feature_references") or []
            refs = (
                tuple(features)
                if features is not None
                else tuple(FeatureReference.from_json_dict(f) for f in stored)
            )
            return cls(
                model_name=str(validation["model_name"]),
                grades=grades,
                grade_pd=grade_pd,
                grade_shares_dev=tuple(float(shares.get(g, 0.0)) for g in grades),
                score_edges=tuple(_float(e) for e in stability["score_edges"]),
                score_shares_dev=tuple(
                    _float(s) for s in stability["score_shares_dev"]
                ),
                auc_initial=float(validation["summary"]["auc"]),
                hhi_initial=float(validation["oot"]["concentration"]["hhi"]),
                default_rate_initial=float(
                    validation["oot"]["discrimination"]["event_rate"]
                ),
                horizon_days=int(horizon_days),
                default_grade=default_grade,
                features=refs,
                version=version,
            )
        except (KeyError, TypeError) as exc:
            raise ConfigurationError(
                f"The validation JSON lacks {exc}; it needs model_name, summary.auc, "
                "stability.score_edges/score_shares_dev, dev.concentration.shares, "
                "oot.concentration.hhi, oot.discrimination.event_rate and "
                "oot.calibration.grades. Pass the validation.json of a trained model."
            ) from None


def _scale(
    validation: Mapping[str, Any],
    master_scale: Mapping[str, float] | GradeScaleLike | None,
    default_grade: str,
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    if master_scale is None:
        pairs = [
            (str(g["grade"]), float(g["pd"]))
            for g in validation["oot"]["calibration"]["grades"]
        ]
    elif isinstance(master_scale, Mapping):
        pairs = [(str(g), float(p)) for g, p in master_scale.items()]
    else:
        pairs = [
            (str(g), float(p))
            for g, p in zip(master_scale.grades, master_scale.grade_pd, strict=True)
        ]
    pairs = [(g, p) for g, p in pairs if g != default_grade]
    return tuple(g for g, _ in pairs), tuple(p for _, p in pairs)
