"""Commands of the decision layer: rate, migrations, override."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from credit_engine.cli._shared import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.config import Settings

__all__ = [
    "print_decision",
    "print_examples",
    "print_migrations",
    "print_rating",
    "run_rating",
]

AsOfOption = Annotated[
    dt.datetime,
    typer.Option("--as-of", formats=["%Y-%m-%d"], help="Rating date (YYYY-MM-DD)."),
]


def run_rating(
    settings: Settings,
    as_of: dt.date,
    *,
    policy: str = "zone",
    policy_version: int | None = None,
    actor: str = "cli",
) -> Any:
    """Rate every enterprise at ``as_of`` with progress; return the result."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from credit_engine.rating import RatingEngine

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("loading policy, rules and champion", total=None)
        engine = RatingEngine(
            settings, policy_name=policy, policy_version=policy_version
        )
        return engine.rate(
            as_of,
            actor=actor,
            progress=lambda step: bar.update(task, description=f"rating: {step}"),
        )


def print_rating(result: Any) -> None:
    """Print the tier distribution, deciding layers and green channel of a run."""
    summary = result.summary
    rated = max(summary["rated"], 1)
    decisions = result.decisions
    tiers = Table(title=f"Treatment tiers at {summary['as_of']} (run {result.run_id})")
    tiers.add_column("tier")
    tiers.add_column("label")
    tiers.add_column("enterprises", justify="right")
    tiers.add_column("share", justify="right")
    tiers.add_column("green channel", justify="right")
    tiers.add_column("joint punishment", justify="right")
    labels = {d.tier: d.tier_label for d in decisions}
    for tier, n in summary["tiers"].items():
        label = labels.get(tier, {})
        tiers.add_row(
            tier,
            f"{label.get('zh', '')} {label.get('en', '')}".strip(),
            f"{n:,}",
            f"{n / rated:.1%}",
            f"{sum(d.green_channel for d in decisions if d.tier == tier):,}",
            f"{sum(d.joint_punishment for d in decisions if d.tier == tier):,}",
        )
    tiers.add_row("all", "", f"{summary['rated']:,}", "100%",
                  f"{summary['green_channel']:,}",
                  f"{sum(d.joint_punishment for d in decisions):,}",
                  style="bold")  # fmt: skip
    console.print(tiers)
    layers = Table(title="Which layer decided (statutory > override > policy > model)")
    layers.add_column("layer")
    layers.add_column("enterprises", justify="right")
    layers.add_column("share", justify="right")
    for layer, n in summary["decided_by"].items():
        layers.add_row(layer, f"{n:,}", f"{n / rated:.1%}")
    console.print(layers)
    if result.timings:
        spent = ", ".join(f"{k} {v:.1f} s" for k, v in result.timings.items())
        console.print(f"time: {spent}")


def print_decision(decision: Any, title: str = "") -> None:
    """Print one decision with its facts, measures and reasons (zh and en)."""
    d = decision
    head = Table(
        title=title or f"Decision for {d.uscc} at {d.as_of}", show_header=False
    )
    head.add_column("field", style="bold")
    head.add_column("value")
    head.add_row("tier", f"{d.tier} {d.tier_label['zh']} / {d.tier_label['en']}")
    head.add_row("decided by", str(d.decided_by))
    head.add_row("grade / PD / score", f"{d.grade} / {d.pd:.2%} / {d.score:.0f}")
    head.add_row("model tier / statutory ceiling",
                 f"{d.model_tier} / {d.statutory_ceiling or '-'}")  # fmt: skip
    head.add_row("green channel", "yes" if d.green_channel else "no")
    head.add_row(
        "inspection",
        f"{d.inspection_rate:.1%} ({d.inspection_rate_factor:.2f}× regular)",
    )
    head.add_row("versions", f"{d.model_name} v{d.model_version}; policy "
                 f"{d.policy_name} v{d.policy_version}; "
                 + ", ".join(d.rule_sets.values()))  # fmt: skip
    for m in d.measures:
        head.add_row(f"measure {m.code}", f"{m.zh}\n{m.en}")
    for r in d.reasons:
        text = r.zh if r.zh == r.en else f"{r.zh}\n{r.en}"
        head.add_row(f"reason {r.code} ({r.source.lower()})",
                     text + (f"\n[dim]{r.detail}[/]" if r.detail else ""))  # fmt: skip
    console.print(head)


def print_migrations(matrix: Any, from_date: dt.date, to_date: dt.date) -> None:
    """Print a tier migration matrix (rows: tier at ``from_date``)."""
    table = Table(title=f"Tier migrations {from_date} → {to_date} (rows: from)")
    table.add_column("from \\ to")
    for col in matrix.columns:
        table.add_column(str(col), justify="right")
    for idx, row in matrix.iterrows():
        table.add_row(str(idx), *(f"{int(v):,}" for v in row.to_numpy()))
    console.print(table)
    tiers = [
        t for t in ("A", "B", "C", "D") if t in matrix.index and t in matrix.columns
    ]
    both = int(matrix.loc[tiers, tiers].to_numpy().sum())
    same = int(sum(matrix.loc[t, t] for t in tiers))
    if both:
        up = int(sum(matrix.loc[a, b] for a in tiers for b in tiers if b < a))
        console.print(
            f"rated at both dates: {both:,}; unchanged {same / both:.1%}, "
            f"upgraded {up / both:.1%}, downgraded {(both - same - up) / both:.1%}"
        )


def _pick_examples(decisions: Sequence[Any]) -> list[tuple[str, Any]]:
    """Three telling decisions: green channel, statutory bound, model/policy."""
    picks: list[tuple[str, Any]] = []
    wanted: list[tuple[str, Callable[[Any], bool]]] = [
        ("a green-channel enterprise", lambda d: d.green_channel),
        (
            "an enterprise bounded by statute",
            lambda d: str(d.decided_by) == "STATUTORY" and d.joint_punishment,
        ),
        (
            "an enterprise bounded by statute",
            lambda d: str(d.decided_by) == "STATUTORY",
        ),
        (
            "an enterprise the model put under watch",
            lambda d: str(d.decided_by) in ("MODEL", "POLICY") and d.tier in "CD",
        ),
    ]
    for label, test in wanted:
        if any(label == p[0] for p in picks):
            continue
        found = next((d for d in decisions if test(d)), None)
        if found is not None:
            picks.append((label, found))
    return picks[:3]


def print_examples(decisions: Sequence[Any]) -> None:
    """Print three example decisions with their reasons."""
    for label, d in _pick_examples(decisions):
        print_decision(d, title=f"Example: {label} — {d.uscc} at {d.as_of}")


@app.command()
@friendly_errors
def rate(
    as_of: AsOfOption,
    report_json: Annotated[
        Path | None,
        typer.Option("--report-json", help="Write the run's figures as JSON here."),
    ] = None,
    policy: Annotated[
        str, typer.Option(help="Policy name (models/policies).")
    ] = "zone",
    policy_version: Annotated[
        int | None, typer.Option(help="Policy version (default: the latest).")
    ] = None,
    examples: Annotated[
        bool, typer.Option(help="Print three example decisions with reasons.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who runs the rating (recorded).")] = "cli",
    home: HomeOption = None,
) -> None:
    """Rate every enterprise at a date and record the decisions.

    Statutory facts bound the tier first, then supervisor overrides, then the
    policy's rules, then the champion model's grade.
    """
    settings = settings_for(home)
    result = run_rating(
        settings, as_of.date(), policy=policy, policy_version=policy_version,
        actor=actor,
    )  # fmt: skip
    print_rating(result)
    if examples:
        print_examples(result.decisions)
    if report_json is not None:
        write_json_report(report_json, result.summary)


@app.command()
@friendly_errors
def migrations(
    from_date: Annotated[
        dt.datetime,
        typer.Option("--from", formats=["%Y-%m-%d"], help="Earlier rating date."),
    ],
    to_date: Annotated[
        dt.datetime,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Later rating date."),
    ],
    home: HomeOption = None,
) -> None:
    """Print the tier migration matrix between two rating dates."""
    from credit_engine.store import OperationalStore

    store = OperationalStore.from_settings(settings_for(home))
    matrix = store.migration_matrix(from_date.date(), to_date.date())
    print_migrations(matrix, from_date.date(), to_date.date())


@app.command()
@friendly_errors
def override(
    uscc: Annotated[str, typer.Option(help="Enterprise (USCC).")],
    tier: Annotated[str, typer.Option(help="Tier to apply: A, B, C or D.")],
    reason: Annotated[str, typer.Option(help="Why (recorded and shown as a reason).")],
    actor: Annotated[str, typer.Option(help="Supervisor recording the override.")],
    effective_from: Annotated[
        dt.datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day (default today)."),
    ] = None,
    effective_to: Annotated[
        dt.datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Day it stops (exclusive)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Record a supervisor override; statutory bounds still apply over it.

    The override and its audit-log entry are written in one transaction.
    """
    from credit_engine.audit import AuditLog, record_override
    from credit_engine.store import OperationalStore

    store = OperationalStore.from_settings(settings_for(home))
    start = effective_from.date() if effective_from else dt.datetime.now(dt.UTC).date()
    new_id, entry = record_override(
        AuditLog(store), uscc, tier.upper(), reason, actor, start,
        effective_to.date() if effective_to else None,
    )  # fmt: skip
    console.print(
        f"override {new_id} recorded: {uscc} → tier {tier.upper()} from {start} "
        f"(audit entry {entry.seq}); it applies from the next rating run"
    )
