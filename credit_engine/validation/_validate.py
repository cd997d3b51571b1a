"""One call that validates a rating model on development and out-of-time data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from credit_engine.validation._calibration import (
    binomial_test,
    hosmer_lemeshow,
    jeffreys_interval,
    jeffreys_test,
)
from credit_engine.validation._discrimination import (
    _ks_curve,
    information_value,
    ks_statistic,
    roc_auc,
)
from credit_engine.validation._policy import (
    GradeLight,
    Light,
    ValidationPolicy,
    iv_band,
    psi_light,
    traffic_light,
)
from credit_engine.validation._results import (
    AsOfDiscrimination,
    Calibration,
    Concentration,
    CurveData,
    Discrimination,
    FeatureIV,
    FeatureStability,
    GradeCalibration,
    RankBreak,
    RankOrdering,
    SampleValidation,
    Stability,
    ValidationReport,
)
from credit_engine.validation._samples import GradeScale, ScoredSample, _preview
from credit_engine.validation._stability import (
    _bin_counts,
    _check_edges,
    _labels,
    freeze_bins,
    hhi,
    normalised_hhi,
    psi,
    psi_categorical,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["validate_model"]

_DEFAULT_POLICY = ValidationPolicy()
_SEVERITY: dict[str, int] = {"empty": -1, "green": 0, "amber": 1, "red": 2}


def _check_sample(name: str, sample: ScoredSample, scale: GradeScale) -> None:
    if not isinstance(sample, ScoredSample):
        raise TypeError(
            f"{name} must be a ScoredSample; got {type(sample).__name__}. Wrap the "
            "outcomes, PDs and grades in ScoredSample(y=..., proba=..., grade=...)."
        )
    if sample.n_rows == 0:
        raise ValueError(f"The {name} sample is empty; pass at least one scored row.")
    if sample.n_events in (0, sample.n_rows):
        only = "defaults" if sample.n_events else "non-defaults"
        raise ValueError(
            f"The {name} sample holds only {only} ({sample.n_rows} rows): AUC is "
            "undefined for a single class. Pass a sample with both defaults and "
            "non-defaults (lengthen the window or pool rating dates)."
        )
    unknown = sorted(set(np.unique(sample.grade).tolist()) - set(scale.grades))
    if unknown:
        raise ValueError(
            f"The {name} sample has grades that are not on the scale: "
            f"{_preview(unknown)}; the scale has {_preview(list(scale.grades))}. "
            "Drop defaulted-grade rows or pass the matching GradeScale."
        )


def _check_features(
    features_dev: pd.DataFrame,
    features_oot: pd.DataFrame,
    dev: ScoredSample,
    oot: ScoredSample,
) -> list[str]:
    for name, frame, sample in (
        ("features_dev", features_dev, dev),
        ("features_oot", features_oot, oot),
    ):
        if frame.shape[0] != sample.n_rows:
            raise ValueError(
                f"{name} has {frame.shape[0]} rows but its sample has "
                f"{sample.n_rows}; pass the features of exactly the scored rows, "
                "in the same order."
            )
    dev_cols = [str(c) for c in features_dev.columns]
    oot_cols = {str(c) for c in features_oot.columns}
    missing = [c for c in dev_cols if c not in oot_cols]
    extra = sorted(oot_cols - set(dev_cols))
    if missing or extra:
        raise ValueError(
            f"features_dev and features_oot must have the same columns; "
            f"features_oot lacks {_preview(missing)} and has extra {_preview(extra)}."
            " Select the model's features in both frames."
        )
    if len(set(dev_cols)) != len(dev_cols):
        raise ValueError("features_dev has repeated column names; make them unique.")
    return dev_cols


def _worst(*colours: GradeLight) -> GradeLight:
    return max(colours, key=lambda c: _SEVERITY[c])


def _discrimination(sample: ScoredSample) -> Discrimination:
    auc = roc_auc(sample.y, sample.proba)
    return Discrimination(
        rows=sample.n_rows,
        events=sample.n_events,
        event_rate=sample.n_events / sample.n_rows,
        auc=auc,
        gini=2.0 * auc - 1.0,
        ks=ks_statistic(sample.y, sample.proba),
        brier=float(np.mean((sample.proba - sample.y) ** 2)),
        mean_pd=float(sample.proba.mean()),
    )


def _grade_calibration(
    grade: str, pd_: float, n: int, defaults: int, policy: ValidationPolicy
) -> GradeCalibration:
    if n == 0:
        return GradeCalibration(
            grade=grade,
            pd=pd_,
            n=0,
            defaults=0,
            observed_rate=None,
            binomial_p=None,
            jeffreys_p=None,
            binomial_colour="empty",
            jeffreys_colour="empty",
            colour="empty",
            jeffreys_lower=None,
            jeffreys_upper=None,
        )
    binomial_p = binomial_test(n, defaults, pd_)
    jeffreys_p = jeffreys_test(n, defaults, pd_)
    binomial_colour = traffic_light(binomial_p, policy)
    jeffreys_colour = traffic_light(jeffreys_p, policy)
    lower, upper = jeffreys_interval(n, defaults)
    return GradeCalibration(
        grade=grade,
        pd=pd_,
        n=n,
        defaults=defaults,
        observed_rate=defaults / n,
        binomial_p=binomial_p,
        jeffreys_p=jeffreys_p,
        binomial_colour=binomial_colour,
        jeffreys_colour=jeffreys_colour,
        colour=_worst(binomial_colour, jeffreys_colour),
        jeffreys_lower=lower,
        jeffreys_upper=upper,
    )


def _grade_counts(
    sample: ScoredSample, scale: GradeScale
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Rows and defaults per grade of the scale (best to worst)."""
    index = {g: i for i, g in enumerate(scale.grades)}
    labels, inverse = np.unique(sample.grade, return_inverse=True)
    codes = np.array([index[g] for g in labels.tolist()], dtype=np.int64)[inverse]
    k = len(scale.grades)
    rows = np.bincount(codes, minlength=k).astype(np.int64)
    defaults = np.bincount(codes, weights=sample.y, minlength=k).astype(np.int64)
    return rows, defaults


def _calibration(
    sample: ScoredSample, scale: GradeScale, policy: ValidationPolicy
) -> Calibration:
    rows, defaults = _grade_counts(sample, scale)
    grades = tuple(
        _grade_calibration(g, p, int(n), int(d), policy)
        for g, p, n, d in zip(scale.grades, scale.pd, rows, defaults, strict=True)
    )
    statistic, p_value = hosmer_lemeshow(rows, defaults, scale.pd)
    mean_grade_pd = float(np.dot(rows, scale.pd) / rows.sum())
    central_p = binomial_test(sample.n_rows, sample.n_events, mean_grade_pd)
    return Calibration(
        grades=grades,
        hl_statistic=statistic,
        hl_p_value=p_value,
        hl_dof=int((rows > 0).sum()),
        hl_colour=traffic_light(p_value, policy),
        mean_pd=float(sample.proba.mean()),
        mean_grade_pd=mean_grade_pd,
        observed_rate=sample.n_events / sample.n_rows,
        central_tendency_p=central_p,
        central_tendency_colour=traffic_light(central_p, policy),
    )


def _concentration(
    sample: ScoredSample, scale: GradeScale, policy: ValidationPolicy
) -> Concentration:
    rows, _ = _grade_counts(sample, scale)
    shares = rows / rows.sum()
    top = int(np.argmax(shares))
    over = tuple(
        g
        for g, s in zip(scale.grades, shares, strict=True)
        if s > policy.max_grade_share
    )
    return Concentration(
        counts={g: int(n) for g, n in zip(scale.grades, rows, strict=True)},
        shares={g: float(s) for g, s in zip(scale.grades, shares, strict=True)},
        hhi=hhi(shares),
        normalised_hhi=normalised_hhi(shares),
        max_share=float(shares[top]),
        max_share_grade=scale.grades[top],
        over_limit=over,
        colour="amber" if over else "green",
    )


def _rank_ordering(calibration: Calibration) -> RankOrdering:
    rated = [
        (g.grade, g.observed_rate)
        for g in calibration.grades
        if g.observed_rate is not None
    ]
    breaks = tuple(
        RankBreak(better_grade=a, worse_grade=b, better_rate=ra, worse_rate=rb)
        for (a, ra), (b, rb) in zip(rated, rated[1:], strict=False)
        if rb < ra
    )
    return RankOrdering(monotone=not breaks, breaks=breaks)


def _sample_validation(
    sample: ScoredSample, scale: GradeScale, policy: ValidationPolicy
) -> SampleValidation:
    calibration = _calibration(sample, scale, policy)
    return SampleValidation(
        discrimination=_discrimination(sample),
        calibration=calibration,
        concentration=_concentration(sample, scale, policy),
        rank_ordering=_rank_ordering(calibration),
    )


def _feature_arrays(
    column: str, dev: pd.Series, oot: pd.Series
) -> tuple[
    Literal["numeric", "categorical"],
    npt.NDArray[np.float64] | npt.NDArray[np.object_],
    npt.NDArray[np.float64] | npt.NDArray[np.object_],
]:
    import pandas as pd

    if pd.api.types.is_numeric_dtype(dev.dtype):
        try:
            oot_numbers = pd.to_numeric(oot)
        except (TypeError, ValueError):
            raise ValueError(
                f"Feature {column!r} is numeric in features_dev ({dev.dtype}) but "
                f"not in features_oot ({oot.dtype}); cast it to the same dtype in "
                "both frames."
            ) from None
        return (
            "numeric",
            dev.to_numpy(dtype=np.float64, na_value=np.nan),
            oot_numbers.to_numpy(dtype=np.float64, na_value=np.nan),
        )
    return "categorical", dev.to_numpy(dtype=object), oot.to_numpy(dtype=object)


def _feature_stability(
    column: str, dev: pd.Series, oot: pd.Series, policy: ValidationPolicy
) -> FeatureStability:
    kind, x_dev, x_oot = _feature_arrays(column, dev, oot)
    if kind == "numeric":
        csi = psi(x_dev, x_oot, freeze_bins(x_dev, policy.n_score_bins))
    else:
        labels, missing = _labels(x_dev)
        categories = [str(c) for c in np.unique(labels[~missing])]
        csi = psi_categorical(x_dev, x_oot, categories)
    return FeatureStability(
        feature=column,
        kind=kind,
        csi=csi,
        colour=psi_light(csi, policy),
        missing_dev=float(dev.isna().mean()),
        missing_oot=float(oot.isna().mean()),
    )


def _stability(
    dev: ScoredSample,
    oot: ScoredSample,
    scale: GradeScale,
    *,
    edges: npt.NDArray[np.float64],
    features_dev: pd.DataFrame,
    features_oot: pd.DataFrame,
    columns: list[str],
    policy: ValidationPolicy,
) -> Stability:
    score_psi = psi(dev.proba, oot.proba, edges)
    grade_psi = psi_categorical(dev.grade, oot.grade, scale.grades)
    dev_counts = _bin_counts(dev.proba, edges)
    oot_counts = _bin_counts(oot.proba, edges)
    oot_position = {str(c): i for i, c in enumerate(features_oot.columns)}
    features = [
        _feature_stability(
            c, features_dev.iloc[:, i], features_oot.iloc[:, oot_position[c]], policy
        )
        for i, c in enumerate(columns)
    ]
    features.sort(key=lambda f: (-f.csi, f.feature))
    return Stability(
        score_psi=score_psi,
        score_colour=psi_light(score_psi, policy),
        score_edges=tuple(float(e) for e in edges),
        score_shares_dev=tuple((dev_counts / dev_counts.sum()).tolist()),
        score_shares_oot=tuple((oot_counts / oot_counts.sum()).tolist()),
        grade_psi=grade_psi,
        grade_colour=psi_light(grade_psi, policy),
        features=tuple(features),
    )


def _information_values(
    features_dev: pd.DataFrame,
    features_oot: pd.DataFrame,
    *,
    columns: list[str],
    y: npt.NDArray[np.int64],
    feature_iv: Mapping[str, float] | None,
    policy: ValidationPolicy,
) -> tuple[FeatureIV, ...]:
    given = dict(feature_iv or {})
    bad = [f"{k}={v!r}" for k, v in given.items() if not _is_number(v)]
    if bad:
        raise ValueError(
            f"feature_iv must map feature names to finite, non-negative numbers; got "
            f"{_preview(bad)}. Pass the IV of the model's binning or leave it out."
        )
    out = [
        FeatureIV(
            feature=str(k), iv=float(v), band=iv_band(float(v), policy), source="given"
        )
        for k, v in given.items()
    ]
    oot_position = {str(c): i for i, c in enumerate(features_oot.columns)}
    for i, column in enumerate(columns):
        if column in given:
            continue
        _, x_dev, _ = _feature_arrays(
            column, features_dev.iloc[:, i], features_oot.iloc[:, oot_position[column]]
        )
        value = information_value(x_dev, y, n_bins=policy.n_score_bins)
        out.append(
            FeatureIV(
                feature=column, iv=value, band=iv_band(value, policy), source="computed"
            )
        )
    out.sort(key=lambda f: (-f.iv, f.feature))
    return tuple(out)


def _is_number(value: object) -> bool:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number >= 0


def _per_as_of(oot: ScoredSample) -> tuple[AsOfDiscrimination, ...]:
    if oot.as_of is None:
        return ()
    import pandas as pd

    codes, uniques = pd.factorize(oot.as_of, sort=True)
    index = pd.Index(uniques)
    if isinstance(index, pd.DatetimeIndex) and (index == index.normalize()).all():
        labels = [str(v) for v in index.strftime("%Y-%m-%d")]
    else:
        labels = [str(v) for v in index]
    out = []
    for code, label in enumerate(labels):
        mask = codes == code
        y = oot.y[mask]
        events = int(y.sum())
        auc = None
        if 0 < events < y.shape[0]:
            auc = roc_auc(y, oot.proba[mask])
        out.append(
            AsOfDiscrimination(
                as_of=label,
                rows=int(y.shape[0]),
                events=events,
                auc=auc,
                gini=None if auc is None else 2.0 * auc - 1.0,
            )
        )
    return tuple(out)


def _gini_colour(
    gini_dev: float, gini_oot: float, policy: ValidationPolicy
) -> tuple[float, Light]:
    change = (gini_oot - gini_dev) / abs(gini_dev) if gini_dev != 0 else math.nan
    colour: Light
    if gini_oot < policy.gini_acceptable:
        colour = "red"
    elif gini_oot < policy.gini_good:
        colour = "amber"
    else:
        colour = "green"
    if colour == "green" and change < -policy.gini_max_relative_drop:
        colour = "amber"
    return change, colour


def _curves(dev: ScoredSample, oot: ScoredSample) -> CurveData:
    from sklearn.metrics import roc_curve

    fpr_dev, tpr_dev, _ = roc_curve(dev.y, dev.proba)
    fpr_oot, tpr_oot, _ = roc_curve(oot.y, oot.proba)
    ks = _ks_curve(oot.y, oot.proba)
    return CurveData(
        roc_dev=(np.asarray(fpr_dev, float), np.asarray(tpr_dev, float)),
        roc_oot=(np.asarray(fpr_oot, float), np.asarray(tpr_oot, float)),
        ks_population=ks.population,
        ks_events=ks.events,
        ks_non_events=ks.non_events,
    )


def validate_model(
    *,
    model_name: str,
    dev: ScoredSample,
    oot: ScoredSample,
    scale: GradeScale,
    features_dev: pd.DataFrame,
    features_oot: pd.DataFrame,
    policy: ValidationPolicy = _DEFAULT_POLICY,
    feature_iv: Mapping[str, float] | None = None,
    score_edges: npt.ArrayLike | None = None,
) -> ValidationReport:
    """Validate a rating model on its development and out-of-time samples.

    Computes, on both samples (the out-of-time one is the headline):

    - discrimination: AUC, Gini, KS, Brier, rows, defaults, default rate;
    - calibration per grade: binomial and Jeffreys one-sided tests with their
      colours (the grade colour is the worse; empty grades are "empty", not
      tested), Hosmer-Lemeshow over the grades, mean PD against the observed
      rate (central tendency);
    - concentration: grade shares, HHI, normalised HHI, grades over the limit;
    - rank ordering: whether the observed default rate rises from the best
      grade to the worst (empty grades skipped), with the breaks.

    and from development to out-of-time: PSI of the PD on frozen development
    bins, PSI of the grades, CSI per feature; IV per feature on development;
    and out-of-time AUC per ``as_of`` when the sample has dates.

    Parameters
    ----------
    model_name : str
        Name shown in the report.
    dev, oot : ScoredSample
        Development and out-of-time samples; each must hold both classes and
        only grades of ``scale``.
    scale : GradeScale
        Grades (best to worst) and their PDs.
    features_dev, features_oot : pandas.DataFrame
        Model features of the same rows, in the same order, with the same
        columns. Numeric columns are binned on dev quantiles; others are
        compared as categories.
    policy : ValidationPolicy, default=ValidationPolicy()
        Thresholds of every colour; also the number of bins for PSI, CSI and IV.
    feature_iv : mapping of str to float or None, default=None
        IV from the model's own binning; features it lacks get an IV computed
        here on dev (quantile bins plus a missing bin, smoothed WoE).
    score_edges : array-like of float or None, default=None
        Frozen development bins of the PD stored with the model; frozen from
        ``dev.proba`` when ``None``.

    Returns
    -------
    ValidationReport
        Results, with :meth:`~ValidationReport.summary` and
        :meth:`~ValidationReport.to_json_dict`; write them to files with
        :func:`~credit_engine.validation.write_validation_report`.

    Raises
    ------
    ValueError
        If a sample holds a single class (AUC undefined) or grades off the
        scale, the feature frames do not match their samples or each other,
        ``feature_iv`` holds a non-number, or ``score_edges`` are not strictly
        increasing.
    TypeError
        If ``dev`` or ``oot`` is not a :class:`ScoredSample`.
    """
    _check_sample("dev", dev, scale)
    _check_sample("oot", oot, scale)
    columns = _check_features(features_dev, features_oot, dev, oot)
    if score_edges is None:
        edges = freeze_bins(dev.proba, policy.n_score_bins)
    else:
        edges = _check_edges(score_edges)
    dev_result = _sample_validation(dev, scale, policy)
    oot_result = _sample_validation(oot, scale, policy)
    change, colour = _gini_colour(
        dev_result.discrimination.gini, oot_result.discrimination.gini, policy
    )
    return ValidationReport(
        model_name=model_name,
        policy=policy,
        dev=dev_result,
        oot=oot_result,
        gini_relative_change=change,
        gini_colour=colour,
        stability=_stability(
            dev,
            oot,
            scale,
            edges=edges,
            features_dev=features_dev,
            features_oot=features_oot,
            columns=columns,
            policy=policy,
        ),
        information_value=_information_values(
            features_dev,
            features_oot,
            columns=columns,
            y=dev.y,
            feature_iv=feature_iv,
            policy=policy,
        ),
        per_as_of=_per_as_of(oot),
        curves=_curves(dev, oot),
    )
