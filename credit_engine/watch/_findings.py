"""The worst items of a monitoring report, one sentence each, for people to read.

The report has a light per part; :func:`findings` turns every amber or red
part into a :class:`Finding` that says what moved and by how much (the PSI, the
red grades, the AUC drop...), worst first: red before amber, champions before
challengers, then the order of the status parts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from credit_engine.monitoring import ModelMonitoring, MonitoringReport

__all__ = ["Finding", "findings"]

_SEVERITY = {"red": 0, "amber": 1}
_PARTS = (
    "score_psi",
    "grade_psi",
    "csi",
    "backtest",
    "auc",
    "hhi",
    "migration",
    "estimated",
    "early_outcomes",
)


@dataclass(frozen=True)
class Finding:
    """One amber or red item of a monitoring report.

    Attributes
    ----------
    light : {"amber", "red"}
        Its colour.
    subject : str
        The report key it concerns (a model, ``overrides`` or ``data``).
    part : str
        The part (``score_psi``, ``backtest``, ``rate``...).
    text : str
        What is wrong, with the figures.
    """

    light: str
    subject: str
    part: str
    text: str

    def __str__(self) -> str:
        return f"{self.light}: {self.subject} {self.part}: {self.text}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _model_text(m: ModelMonitoring, part: str) -> str:  # noqa: PLR0911 - one per part
    if part == "score_psi":
        return f"PSI of the PD {m.score_psi.value:.3f} at {m.score_psi.as_of}"
    if part == "grade_psi":
        return f"PSI of the grades {m.grade_psi.value:.3f} at {m.grade_psi.as_of}"
    if part == "csi":
        worst = ", ".join(
            f"{f.feature} {f.csi:.2f}"
            for f in [d for d in m.csi.features if d.counted][:3]
            if f.light != "green"
        )
        return (
            f"{len(m.csi.red_features)} red, {len(m.csi.amber_features)} amber "
            f"features at {m.csi.as_of} (worst: {worst})"
        )
    if part == "backtest":
        bad = [b for b in m.backtest.cohorts if b.light != "green"]
        latest = bad[-1] if bad else m.backtest.cohorts[-1]
        grades = ", ".join(latest.red_grades) or "none"
        ambers = ", ".join(latest.amber_grades) or "none"
        return (
            f"cohort {latest.as_of}: observed {_pct(latest.observed_rate)} against a "
            f"mean grade PD of {_pct(latest.mean_grade_pd)}; red grades {grades}, "
            f"amber {ambers}"
        )
    if part == "auc":
        test = m.auc.by_cohort[-1]
        return (
            f"AUC {test.auc_current:.3f} on cohort {test.as_of} against "
            f"{test.auc_initial:.3f} at validation (p = {test.p_value:.4f})"
        )
    if part == "hhi":
        return (
            f"grade HHI {m.hhi.current:.3f} against {m.hhi.initial:.3f} at "
            f"validation ({m.hhi.relative_change:+.0%})"
        )
    if part == "migration":
        texts = [
            f"{mm.kind} migration {mm.from_as_of} → {mm.to_as_of}: "
            f"{len(mm.rejected)} cell(s) fail the stability test"
            for mm in (m.migration.grade, m.migration.tier)
            if mm is not None and mm.light != "green"
        ]
        return "; ".join(texts)
    if part == "early_outcomes":
        return _early_text(m)
    last = m.estimated.by_cohort[-1]
    return (
        f"expected default rate {_pct(last.expected_default_rate)} at {last.as_of} "
        f"against {_pct(m.estimated.default_rate_initial)} at validation "
        f"(× {last.default_rate_ratio:.2f})"
    )


def _early_text(m: ModelMonitoring) -> str:
    texts = []
    for t in m.early_outcomes.alarms()[:3]:
        where = "the zone" if t.dimension == "zone" else f"{t.dimension} {t.segment}"
        versus = "" if t.dimension == "zone" else " relative to the rest of the zone"
        texts.append(
            f"{where}: {t.observed} adverse events in the {t.elapsed_days} days since "
            f"cohort {t.cohort} against {t.expected:.1f} expected from the PDs "
            f"(× {t.ratio:.2f}{versus}, p = {t.p_value:.2g}, {t.rows} enterprises)"
        )
    return "; ".join(texts)


def findings(report: MonitoringReport, limit: int | None = None) -> list[Finding]:
    """Return the amber and red items of ``report``, worst first.

    Parameters
    ----------
    report : MonitoringReport
        The report.
    limit : int, optional
        At most this many.

    Returns
    -------
    list of Finding
    """
    found: list[tuple[tuple[int, int, int, int], Finding]] = []
    for rank, (key, m) in enumerate(report.models.items()):
        role = 0 if m.role == "champion" else 1
        for order, part in enumerate(_PARTS):
            light = m.lights.get(part, "green")
            if light == "green":
                continue
            item = Finding(light, key, part, _model_text(m, part))
            found.append(((_SEVERITY[light], role, rank, order), item))
    over = report.overrides
    if over is not None and over.light != "green":
        for cohort in over.by_cohort[-1:]:
            if cohort.light != "green":
                text = (
                    f"{_pct(cohort.rate)} of decisions overridden at {cohort.as_of} "
                    f"({cohort.upgrades} up, {cohort.downgrades} down)"
                )
                found.append(
                    ((_SEVERITY[cohort.light], 0, 99, 0), Finding(
                        cohort.light, "overrides", "rate", text))
                )  # fmt: skip
        for perf in over.performance:
            if perf.light != "green":
                text = (
                    f"{perf.direction}s default at {_pct(perf.default_rate)} against "
                    f"{_pct(perf.benchmark_rate)} in the tier they were given "
                    f"(p = {perf.p_value:.4f})"
                    if perf.p_value is not None
                    else f"{perf.direction}s: {perf.n} matured rows"
                )
                found.append(
                    ((_SEVERITY[perf.light], 0, 99, 1), Finding(
                        perf.light, "overrides", "performance", text))
                )  # fmt: skip
    for table, entry in report.data.items():
        status = str(entry.get("status"))
        if status in _SEVERITY:
            details = ", ".join(f"{k} {v}" for k, v in entry.items() if k != "status")
            found.append(
                ((_SEVERITY[status], 0, 100, 0), Finding(
                    status, "data", table, details or "stale"))
            )  # fmt: skip
    found.sort(key=lambda pair: pair[0])
    items = [item for _, item in found]
    return items if limit is None else items[:limit]
