"""Result objects of :func:`~credit_engine.validation.validate_model`.

They hold and compute (the summary, the JSON-ready dictionary); rendering lives
in :mod:`_render` and writing files in :mod:`_write`, which import this module
and never the other way round.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from credit_engine.jsonable import to_jsonable
from credit_engine.validation._policy import GradeLight, IvBand, Light, ValidationPolicy

__all__ = [
    "AsOfDiscrimination",
    "Calibration",
    "Concentration",
    "CurveData",
    "Discrimination",
    "FeatureIV",
    "FeatureStability",
    "GradeCalibration",
    "RankBreak",
    "RankOrdering",
    "SampleValidation",
    "Stability",
    "ValidationReport",
]


@dataclass(frozen=True)
class Discrimination:
    """How well the PDs of one sample separate defaults from non-defaults.

    Attributes
    ----------
    rows, events : int
        Rows and defaults.
    event_rate : float
        ``events / rows``.
    auc : float
        Area under the ROC curve.
    gini : float
        Accuracy ratio, ``2 * auc - 1``.
    ks : float
        Kolmogorov-Smirnov statistic.
    brier : float
        Mean squared error of the PDs.
    mean_pd : float
        Mean PD of the rows.
    """

    rows: int
    events: int
    event_rate: float
    auc: float
    gini: float
    ks: float
    brier: float
    mean_pd: float


@dataclass(frozen=True)
class GradeCalibration:
    """Observed defaults of one grade against its PD.

    Attributes
    ----------
    grade : str
        Grade label.
    pd : float
        PD of the grade on the master scale.
    n, defaults : int
        Rows and defaults in the grade.
    observed_rate : float or None
        ``defaults / n``; ``None`` for an empty grade.
    binomial_p, jeffreys_p : float or None
        One-sided p-values (H0: PD >= true default rate); ``None`` when empty.
    binomial_colour, jeffreys_colour : {"green", "amber", "red", "empty"}
        Traffic light of each test.
    colour : {"green", "amber", "red", "empty"}
        Worst of the two tests; ``"empty"`` when the grade has no rows.
    jeffreys_lower, jeffreys_upper : float or None
        95 % Jeffreys interval of the default rate; ``None`` when empty.
    """

    grade: str
    pd: float
    n: int
    defaults: int
    observed_rate: float | None
    binomial_p: float | None
    jeffreys_p: float | None
    binomial_colour: GradeLight
    jeffreys_colour: GradeLight
    colour: GradeLight
    jeffreys_lower: float | None
    jeffreys_upper: float | None


@dataclass(frozen=True)
class Calibration:
    """Calibration of the grade scale on one sample.

    Attributes
    ----------
    grades : tuple of GradeCalibration
        One entry per grade of the scale, best to worst.
    hl_statistic, hl_p_value : float
        Hosmer-Lemeshow statistic over the grades and its p-value.
    hl_dof : int
        Degrees of freedom (non-empty grades).
    hl_colour : {"green", "amber", "red"}
        Traffic light of the Hosmer-Lemeshow p-value.
    mean_pd : float
        Mean model PD (``proba``) of the rows.
    mean_grade_pd : float
        Mean grade PD of the rows (what the rating assigns).
    observed_rate : float
        Observed default rate of the sample.
    central_tendency_p : float
        One-sided binomial p-value of all defaults against ``mean_grade_pd``.
    central_tendency_colour : {"green", "amber", "red"}
        Traffic light of ``central_tendency_p``.
    """

    grades: tuple[GradeCalibration, ...]
    hl_statistic: float
    hl_p_value: float
    hl_dof: int
    hl_colour: Light
    mean_pd: float
    mean_grade_pd: float
    observed_rate: float
    central_tendency_p: float
    central_tendency_colour: Light

    @property
    def red_grades(self) -> tuple[str, ...]:
        """Grades whose colour is red, best to worst."""
        return tuple(g.grade for g in self.grades if g.colour == "red")


@dataclass(frozen=True)
class Concentration:
    """Distribution of rows over grades on one sample.

    Attributes
    ----------
    counts : dict of str to int
        Rows per grade, every grade of the scale (best to worst).
    shares : dict of str to float
        Share of rows per grade.
    hhi : float
        Herfindahl-Hirschman index of the shares.
    normalised_hhi : float
        HHI rescaled to [0, 1].
    max_share : float
        Largest share.
    max_share_grade : str
        Grade holding it.
    over_limit : tuple of str
        Grades above the policy's ``max_grade_share``.
    colour : {"green", "amber"}
        Amber when a grade is over the limit.
    """

    counts: dict[str, int]
    shares: dict[str, float]
    hhi: float
    normalised_hhi: float
    max_share: float
    max_share_grade: str
    over_limit: tuple[str, ...]
    colour: Light


@dataclass(frozen=True)
class RankBreak:
    """Two adjacent non-empty grades whose default rates are out of order."""

    better_grade: str
    worse_grade: str
    better_rate: float
    worse_rate: float


@dataclass(frozen=True)
class RankOrdering:
    """Whether the observed default rate grows from the best grade to the worst.

    Attributes
    ----------
    monotone : bool
        True when the rate never falls between adjacent non-empty grades.
    breaks : tuple of RankBreak
        Each adjacent pair where it falls.
    """

    monotone: bool
    breaks: tuple[RankBreak, ...]


@dataclass(frozen=True)
class SampleValidation:
    """Everything measured on one sample (development or out-of-time)."""

    discrimination: Discrimination
    calibration: Calibration
    concentration: Concentration
    rank_ordering: RankOrdering


@dataclass(frozen=True)
class FeatureStability:
    """Characteristic stability index (CSI) of one feature, dev to out-of-time.

    Attributes
    ----------
    feature : str
        Column name.
    kind : {"numeric", "categorical"}
        Numeric features use frozen dev quantile bins; others one bin per
        development category (unseen categories share a bin with missing).
    csi : float
        PSI of the feature.
    colour : {"green", "amber", "red"}
        PSI band.
    missing_dev, missing_oot : float
        Share of missing values in each sample.
    """

    feature: str
    kind: Literal["numeric", "categorical"]
    csi: float
    colour: Light
    missing_dev: float
    missing_oot: float


@dataclass(frozen=True)
class Stability:
    """Population stability from development to out-of-time.

    Attributes
    ----------
    score_psi : float
        PSI of ``proba`` on the frozen development score bins.
    score_colour : {"green", "amber", "red"}
        PSI band of ``score_psi``.
    score_edges : tuple of float
        The frozen bin edges (store them with the model to monitor later).
    score_shares_dev, score_shares_oot : tuple of float
        Share of each sample per score bin.
    grade_psi : float
        PSI of the grade distribution.
    grade_colour : {"green", "amber", "red"}
        PSI band of ``grade_psi``.
    features : tuple of FeatureStability
        CSI per feature, largest first.
    """

    score_psi: float
    score_colour: Light
    score_edges: tuple[float, ...]
    score_shares_dev: tuple[float, ...]
    score_shares_oot: tuple[float, ...]
    grade_psi: float
    grade_colour: Light
    features: tuple[FeatureStability, ...]


@dataclass(frozen=True)
class FeatureIV:
    """Information value of one feature on development data.

    Attributes
    ----------
    feature : str
        Column name.
    iv : float
        Information value.
    band : {"unpredictive", "weak", "medium", "strong", "suspicious"}
        Siddiqi band under the policy.
    source : {"given", "computed"}
        Whether the IV came from the model's own binning or was computed here.
    """

    feature: str
    iv: float
    band: IvBand
    source: Literal["given", "computed"]


@dataclass(frozen=True)
class AsOfDiscrimination:
    """Discrimination of the out-of-time rows of one rating date.

    ``auc`` and ``gini`` are ``None`` when the date holds a single class.
    """

    as_of: str
    rows: int
    events: int
    auc: float | None
    gini: float | None


@dataclass(frozen=True)
class CurveData:
    """Curves behind the charts of the HTML report (not part of the JSON).

    Attributes
    ----------
    roc_dev, roc_oot : tuple of numpy.ndarray
        ``(false_positive_rate, true_positive_rate)`` of each sample.
    ks_population, ks_events, ks_non_events : numpy.ndarray
        Cumulative shares of rows, defaults and non-defaults on the out-of-time
        sample, riskiest rows first.
    """

    roc_dev: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    roc_oot: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]
    ks_population: npt.NDArray[np.float64]
    ks_events: npt.NDArray[np.float64]
    ks_non_events: npt.NDArray[np.float64]


@dataclass(frozen=True)
class ValidationReport:
    """Validation pack of a rating model: development against out-of-time.

    Attributes
    ----------
    model_name : str
        Name of the validated model.
    policy : ValidationPolicy
        Thresholds used for every colour.
    dev, oot : SampleValidation
        Discrimination, calibration, concentration and rank ordering of the
        development and the out-of-time sample (the headline).
    gini_relative_change : float
        ``(gini_oot - gini_dev) / |gini_dev|``; NaN when the dev Gini is 0.
    gini_colour : {"green", "amber", "red"}
        Out-of-time Gini against ``gini_acceptable`` / ``gini_good``, and amber
        at best when it fell by more than ``gini_max_relative_drop``.
    stability : Stability
        PSI of score and grades, CSI per feature.
    information_value : tuple of FeatureIV
        IV per feature, largest first.
    per_as_of : tuple of AsOfDiscrimination
        Out-of-time AUC per rating date; empty when the sample had no ``as_of``.
    curves : CurveData
        Data of the ROC and KS charts (HTML only).
    """

    model_name: str
    policy: ValidationPolicy
    dev: SampleValidation
    oot: SampleValidation
    gini_relative_change: float
    gini_colour: Light
    stability: Stability
    information_value: tuple[FeatureIV, ...]
    per_as_of: tuple[AsOfDiscrimination, ...]
    curves: CurveData = field(repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        """Headline out-of-time figures.

        Returns
        -------
        dict
            ``{"auc", "gini", "ks", "brier", "psi", "calibration": {GRADE:
            COLOUR}, "red_grades": [GRADE, ...], "monotone_default_rate": bool}``
            where ``psi`` is the score PSI and colours are "green", "amber",
            "red" or "empty".
        """
        oot = self.oot
        out: dict[str, Any] = to_jsonable(
            {
                "auc": oot.discrimination.auc,
                "gini": oot.discrimination.gini,
                "ks": oot.discrimination.ks,
                "brier": oot.discrimination.brier,
                "psi": self.stability.score_psi,
                "calibration": {g.grade: g.colour for g in oot.calibration.grades},
                "red_grades": list(oot.calibration.red_grades),
                "monotone_default_rate": oot.rank_ordering.monotone,
            },
            "summary",
        )
        return out

    def to_json_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready types.

        NaN becomes ``None`` and infinite bin edges become the strings ``"inf"``
        and ``"-inf"`` (``float("inf")`` reads them back). The chart curves are
        left out.

        Returns
        -------
        dict
            ``{"model_name", "summary", "policy", "dev", "oot",
            "gini_relative_change", "gini_colour", "stability",
            "information_value", "per_as_of"}``; ``dev`` and ``oot`` hold
            ``{"discrimination", "calibration", "concentration",
            "rank_ordering"}``.
        """
        out: dict[str, Any] = {"model_name": self.model_name, "summary": self.summary()}
        for f in dataclasses.fields(self):
            if f.name not in ("model_name", "curves"):
                out[f.name] = to_jsonable(getattr(self, f.name), f.name)
        return out
