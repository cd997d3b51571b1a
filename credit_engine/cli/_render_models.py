"""Rich tables of the model commands: training, gates, registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table

from credit_engine.cli._app import console

if TYPE_CHECKING:
    from credit_engine.registry import PromotionResult
    from credit_engine.training import TrainedModel

__all__ = [
    "print_gates",
    "print_promoted",
    "print_registered",
    "print_training",
]

_COLOURS = {"green": "green", "amber": "yellow", "red": "red", "empty": "dim"}


def _grades(colours: dict[str, str]) -> str:
    return " ".join(f"[{_COLOURS.get(c, 'white')}]{g}[/]" for g, c in colours.items())


def print_training(results: list[TrainedModel]) -> None:
    """Print the out-of-time figures of trained models and their report paths."""
    table = Table(title="Trained models (out-of-time figures)")
    for column in ("model", "version", "AUC", "KS", "Brier", "PSI", "grades"):
        table.add_column(column, justify="right" if column != "grades" else "left")
    for result in results:
        row = result.to_json_dict()
        table.add_row(
            row["registered_name"],
            f"v{row['version']} (challenger)",
            f"{row['auc']:.4f}",
            f"{row['ks']:.4f}",
            f"{row['brier']:.4f}",
            f"{row['psi']:.4f}",
            _grades(row["calibration"]),
        )
    console.print(table)
    for result in results:
        console.print(f"report: {result.report_dir / 'validation.html'}")


def print_gates(result: PromotionResult) -> None:
    """Print every promotion gate of a version: pass or FAIL, and why."""
    table = Table(title=f"Promotion gates: {result.name} v{result.version}")
    table.add_column("gate")
    table.add_column("result")
    table.add_column("detail")
    for gate in result.gates:
        verdict = "[green]pass" if gate.passed else "[red]FAIL"
        table.add_row(gate.gate, verdict, gate.detail)
    console.print(table)


def print_promoted(result: PromotionResult) -> None:
    """Print that a version became champion (and which one it replaced)."""
    previous = result.previous_champion or "none"
    console.print(
        f"[bold green]promoted[/] {result.name} v{result.version} to champion "
        f"(was {previous})"
    )


def print_registered(versions: list[dict[str, Any]], history: list[Any] | None) -> None:
    """Print the registered versions and, if given, the alias history."""
    table = Table(title="Registered models")
    for column in ("model", "version", "aliases", "AUC", "KS", "PSI", "red", "run",
                   "monitoring"):  # fmt: skip
        table.add_column(column)
    for row in versions:
        status = row.get("monitoring_status")
        table.add_row(
            row["name"],
            row["version"],
            ", ".join(row["aliases"]) or "-",
            f"{row['oot_auc']:.4f}",
            f"{row['oot_ks']:.4f}",
            f"{row['oot_psi']:.4f}",
            f"{np.nan_to_num(row['oot_red_grades']):.0f}",
            row["run_id"][:8],
            (
                f"[{_COLOURS.get(status, 'white')}]{status}[/] "
                f"({row.get('monitoring_as_of')})"
                if status
                else "-"
            ),
        )
    console.print(table)
    if history is not None:
        changes = Table(title="Alias history")
        for column in ("at", "model", "alias", "from", "to", "actor", "reason"):
            changes.add_column(column)
        for change in history:
            changes.add_row(
                change.at,
                change.model,
                change.alias,
                change.from_version or "-",
                change.to_version,
                change.actor,
                change.reason,
            )
        console.print(changes)
