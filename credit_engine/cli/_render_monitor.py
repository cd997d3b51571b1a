"""Rich output of monitoring and shadow scoring: status lights, findings, agreement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

from credit_engine.cli._app import console

if TYPE_CHECKING:
    from credit_engine.monitoring import MonitoringReport, TierAgreement
    from credit_engine.rating import RatingResult
    from credit_engine.watch import Finding, MonitoringOutcome

__all__ = [
    "light",
    "print_findings",
    "print_monitoring",
    "print_rating_runs",
    "print_shadow_agreement",
    "print_shadow_runs",
]

_STYLE = {"green": "green", "amber": "yellow", "red": "bold red"}
_SYMBOL = {"green": "●", "amber": "●", "red": "●"}
_PARTS = (
    ("score_psi", "score PSI"),
    ("grade_psi", "grade PSI"),
    ("csi", "CSI"),
    ("backtest", "back-test"),
    ("auc", "AUC"),
    ("hhi", "HHI"),
    ("migration", "migration"),
    ("estimated", "estimated"),
    ("early_outcomes", "early outcomes"),
)


def light(value: str | None, text: str | None = None) -> str:
    """Return Rich markup of a traffic light (``unknown`` dim when ``None``)."""
    if value is None or value not in _STYLE:
        return f"[dim]{text or 'unknown'}[/]"
    return f"[{_STYLE[value]}]{_SYMBOL[value]} {text or value}[/]"


def _status_table(report: MonitoringReport) -> Table:
    table = Table(title=f"Model monitoring at {report.as_of}")
    table.add_column("model")
    table.add_column("role")
    table.add_column("status")
    for _, label in _PARTS:
        table.add_column(label)
    for key, m in report.models.items():
        table.add_row(
            key,
            f"{m.role} v{m.version}",
            light(m.status),
            *(
                light(m.lights[part], "n/a")
                if (part == "csi" and m.csi.unavailable)
                or (part == "early_outcomes" and not m.early_outcomes.tests)
                else light(m.lights[part], " ")
                for part, _ in _PARTS
            ),
        )
    over = report.overrides
    table.add_row(
        "overrides",
        "served",
        light(over.light) if over is not None else light(None, "not monitored"),
    )
    data_status = (
        light(_worst(e.get("status") for e in report.data.values()))
        if report.data
        else light(None)
    )
    table.add_row("data freshness", "", data_status)
    return table


def _worst(values: Any) -> str:
    order = {"green": 0, "amber": 1, "red": 2}
    found = [v for v in values if v in order]
    return max(found, key=order.__getitem__) if found else "green"


def print_findings(items: Sequence[Finding], *, title: str = "Worst items") -> None:
    """Print amber and red findings, worst first (or say there are none)."""
    if not items:
        console.print("[green]no amber or red item[/]")
        return
    console.print(f"[bold]{title}[/]")
    for item in items:
        console.print(f"  {light(item.light)} [bold]{item.subject}[/] {item.part}: ")
        console.print(f"      {item.text}", highlight=False)


def print_monitoring(outcome: MonitoringOutcome, *, worst: int = 8) -> None:
    """Print the status per model with its lights, the worst items and the files."""
    report = outcome.report
    console.print(_status_table(report))
    print_findings(outcome.findings(worst))
    for key, m in report.models.items():
        if m.shadow is not None:
            print_shadow_agreement(key, m.shadow, limit=5)
    for note in report.notes:
        console.print(f"[dim]note: {note}[/]", highlight=False)
    console.print(f"status: {light(report.status)}")
    for kind, path in outcome.files.items():
        console.print(f"{kind}: {path}")
    for run in outcome.logged:
        console.print(
            f"MLflow: {run.name} v{run.version} monitoring run {run.run_id[:8]}"
        )


def print_shadow_agreement(
    subject: str, agreement: TierAgreement, *, limit: int = 10
) -> None:
    """Print a tier-agreement matrix and the largest tier changes."""
    matrix = Table(
        title=(
            f"Shadow scoring {subject}: champion v{agreement.champion_version} tier "
            f"× challenger v{agreement.challenger_version} tier at {agreement.as_of}"
        )
    )
    matrix.add_column("champion \\ challenger")
    for tier in agreement.tiers:
        matrix.add_column(tier, justify="right")
    for tier, row in zip(agreement.tiers, agreement.counts, strict=True):
        matrix.add_row(
            tier,
            *(
                f"[bold]{v:,}[/]" if agreement.tiers[j] == tier else f"{v:,}"
                for j, v in enumerate(row)
            ),
        )
    console.print(matrix)
    kappa = "n/a" if agreement.kappa is None else f"{agreement.kappa:.3f}"
    console.print(
        f"same tier {agreement.agreement:.1%} of {agreement.n:,} (weighted kappa "
        f"{kappa}); stricter {agreement.stricter:,}, more lenient "
        f"{agreement.more_lenient:,}; shadow decisions are never served"
    )
    if not agreement.changes or limit <= 0:
        return
    changes = Table(
        title=(
            f"Enterprises whose tier would change ({min(limit, len(agreement.changes))}"
            f" of {agreement.changes_total:,}, largest first)"
        )
    )
    for column in ("uscc", "champion", "challenger", "grades", "PDs"):
        changes.add_column(column)
    for change in agreement.changes[:limit]:
        pds = (
            f"{change.champion_pd:.2%} → {change.challenger_pd:.2%}"
            if change.champion_pd is not None and change.challenger_pd is not None
            else "-"
        )
        changes.add_row(
            change.uscc,
            change.champion_tier,
            change.challenger_tier,
            f"{change.champion_grade or '-'} → {change.challenger_grade or '-'}",
            pds,
        )
    console.print(changes)


def print_shadow_runs(result: RatingResult) -> None:
    """Print the shadow runs made beside a served run (tiers per shadow model)."""
    if not result.shadow:
        return
    table = Table(title=f"Shadow runs at {result.summary['as_of']} (never served)")
    for column in ("model", "version", "run", "A", "B", "C", "D"):
        table.add_column(column, justify="left" if column == "model" else "right")
    for shadow in result.shadow:
        tiers = shadow.summary["tiers"]
        table.add_row(
            shadow.model_name,
            shadow.model_version,
            str(shadow.run_id),
            *(f"{tiers.get(t, 0):,}" for t in ("A", "B", "C", "D")),
        )
    console.print(table)


def _stale(result: RatingResult) -> str:
    """Return the stale sources a run's decisions are marked with, in red."""
    marked = result.summary.get("stale_sources") or {}
    return f"[red]{len(marked)}[/]" if marked else "0"


def print_rating_runs(results: Sequence[RatingResult]) -> None:
    """Print one line per rating date: its served run, tiers, shadow runs, time."""
    table = Table(title=f"Rating runs at {len(results)} dates")
    for column in ("as_of", "run", "model", "rated", "A", "B", "C", "D",
                   "stale sources", "shadow", "seconds"):  # fmt: skip
        table.add_column(column, justify="left" if column == "model" else "right")
    for result in results:
        tiers = result.summary["tiers"]
        shadow = ", ".join(
            f"{s.model_name.removeprefix('credit_engine.')} v{s.model_version} "
            f"(run {s.run_id})"
            for s in result.shadow
        )
        seconds = sum(result.timings.values()) + sum(
            sum(s.timings.values()) for s in result.shadow
        )
        table.add_row(
            result.summary["as_of"],
            str(result.run_id),
            f"{result.model_name.removeprefix('credit_engine.')} "
            f"v{result.model_version}",
            f"{result.summary['rated']:,}",
            *(f"{tiers.get(t, 0):,}" for t in ("A", "B", "C", "D")),
            _stale(result),
            shadow or "-",
            f"{seconds:.1f}",
        )
    console.print(table)
