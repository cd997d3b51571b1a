"""Rich tables of the decision layer: tiers, deciding layers, decisions, migrations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from rich.table import Table

from credit_engine.cli._app import console
from credit_engine.cli._render_freshness import print_stale_sources

__all__ = [
    "print_decision",
    "print_examples",
    "print_migrations",
    "print_rating",
]


def print_rating(result: Any) -> None:
    """Print the tier distribution, deciding layers and green channel of a run.

    From the run's summary only: the decisions need not be kept (a run on
    Spark streams them into the store).
    """
    summary = result.summary
    rated = max(summary["rated"], 1)
    tiers = Table(title=f"Treatment tiers at {summary['as_of']} (run {result.run_id})")
    tiers.add_column("tier")
    tiers.add_column("label")
    tiers.add_column("enterprises", justify="right")
    tiers.add_column("share", justify="right")
    tiers.add_column("green channel", justify="right")
    tiers.add_column("joint punishment", justify="right")
    labels = summary["tier_labels"]
    for tier, n in summary["tiers"].items():
        label = labels.get(tier, {})
        tiers.add_row(
            tier,
            f"{label.get('zh', '')} {label.get('en', '')}".strip(),
            f"{n:,}",
            f"{n / rated:.1%}",
            f"{summary['green_channel_by_tier'][tier]:,}",
            f"{summary['joint_punishment_by_tier'][tier]:,}",
        )
    tiers.add_row("all", "", f"{summary['rated']:,}", "100%",
                  f"{summary['green_channel']:,}",
                  f"{summary['joint_punishment']:,}",
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
    freshness = getattr(result, "freshness", None)
    if freshness is not None:
        print_stale_sources(
            freshness.stale_sources, freshness.at, freshness.knowledge_date
        )


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
    if d.stale_sources:
        head.add_row(
            "[bold red]stale sources[/]",
            ", ".join(
                f"{s.table} ({s.department}, last {s.watermark_date or 'never'})"
                for s in d.stale_sources
            ),
        )
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
