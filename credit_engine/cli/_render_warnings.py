"""Rich tables of early warning: counts per signal and the top of the queue."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from credit_engine.cli._app import console

__all__ = ["evidence_text", "print_warning_run"]

_SHOWN_VALUES = 3


def _number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int | float):
        number = float(value)
        if abs(number) >= 1000:  # noqa: PLR2004
            return f"{number:,.0f}"
        return f"{number:.3g}"
    return str(value)


def evidence_text(evidence: dict[str, Any]) -> str:
    """Return a short line of the numbers that fired a warning."""
    if "facts" in evidence:
        return "; ".join(
            f"{f.get('code')} since {f.get('since')}" for f in evidence["facts"][:2]
        )
    if "grade_now" in evidence:
        return (
            f"{evidence['grade_then']} ({evidence['rated_then']}) → "
            f"{evidence['grade_now']} ({evidence['rated_now']})"
        )
    values = evidence.get("values", {})
    shown = list(values.items())[:_SHOWN_VALUES]
    text = ", ".join(f"{k.split('__')[-1]}={_number(v)}" for k, v in shown)
    if evidence.get("alternatives"):
        text += f" [{', '.join(evidence['alternatives'])}]"
    return text


def print_warning_run(run: Any, top: int) -> None:
    """Print warnings per signal, what was stored, and the ``top`` warnings."""
    evaluation = run.evaluation
    book = evaluation.book
    counts = evaluation.counts()
    title = (
        f"Early warnings at {evaluation.as_of} ({book.name} v{book.version}; "
        f"{evaluation.enterprises:,} enterprises)"
    )
    table = Table(title=title)
    table.add_column("signal")
    table.add_column("department")
    table.add_column("信号 / signal")
    table.add_column("weight", justify="right")
    table.add_column("fired", justify="right")
    for signal in book.signals:
        fired = (
            "not evaluated"
            if signal.code in evaluation.not_evaluated
            else f"{counts[signal.code]:,}"
        )
        table.add_row(
            signal.code, str(signal.department),
            f"{signal.name.zh}\n{signal.name.en}", f"{signal.weight:g}", fired,
        )  # fmt: skip
    table.add_row("all", "", "", "", f"{len(evaluation.warnings):,}", style="bold")
    console.print(table)
    for code, why in evaluation.not_evaluated.items():
        console.print(f"{code} not evaluated: {why}")
    recorded = run.recorded
    console.print(
        f"stored: {recorded.opened:,} new warnings, {recorded.continued:,} open ones "
        f"seen again, {recorded.already_closed:,} on closed ones (audit entry "
        f"{run.audit_seq}); {evaluation.warnings['uscc'].nunique():,} enterprises "
        "warned"
    )
    if top > 0 and len(evaluation.warnings):
        _print_top(run, top)
    spent = ", ".join(f"{k} {v:.1f} s" for k, v in run.timings.items())
    console.print(f"time: {spent}")


def _print_top(run: Any, top: int) -> None:
    evaluation = run.evaluation
    book = evaluation.book
    frame = evaluation.warnings.head(top)
    ids = run.recorded.warning_ids[:top]
    table = Table(title=f"Top {len(frame)} warnings by priority")
    table.add_column("#", justify="right")
    table.add_column("id", justify="right")
    table.add_column("USCC", no_wrap=True, min_width=18)
    table.add_column("priority", justify="right")
    table.add_column("tier")
    table.add_column("PD", justify="right")
    table.add_column("signal: 信号 / signal; evidence")
    for i, (wid, row) in enumerate(
        zip(ids, frame.itertuples(index=False), strict=True), start=1
    ):
        signal = book.signal(row.signal)
        pd_text = "-" if row.pd is None or row.pd != row.pd else f"{row.pd:.2%}"
        text = (
            f"{row.signal} {signal.name.zh} / {signal.name.en}\n"
            f"[dim]{escape(evidence_text(row.evidence))}[/]"
        )
        table.add_row(
            str(i), str(wid), row.uscc, f"{row.priority:g}", row.tier or "-", pd_text,
            text,
        )  # fmt: skip
    console.print(table)
