"""Command ``adapt-cumcm``: the CUMCM 2020 C invoices as an ingestible batch."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
)

__all__ = ["adapt_cumcm"]


def _default_cumcm_dir() -> Path:
    from credit_engine.config import default_definitions_dir

    return default_definitions_dir() / "data" / "cumcm2020c"


@app.command("adapt-cumcm")
@friendly_errors
def adapt_cumcm(
    source_dir: Annotated[
        Path | None,
        typer.Argument(
            help="Folder with the six attach*.csv.gz files of CUMCM 2020 Problem C. "
            "Default: data/cumcm2020c in the repository.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Output folder: batch in OUT/records, labels in OUT. "
            "Default: HOME/cumcm"
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Convert the CUMCM 2020 C invoices into an ingestible batch and label files."""
    from credit_engine.adapters import convert_cumcm

    settings = settings_for(home)
    batch = convert_cumcm(
        source_dir or _default_cumcm_dir(), out or settings.home / "cumcm"
    )
    table = Table(title=f"CUMCM 2020 C -> vat_invoice batch (as_of {batch.as_of})")
    table.add_column("invoices")
    table.add_column("rows", justify="right")
    for name, rows in batch.source_rows.items():
        table.add_row(name, f"{rows:,}")
    for label, counts in (("direction", batch.directions), ("status", batch.statuses)):
        for code, rows in counts.items():
            table.add_row(f"  {label} {code}", f"{rows:,}")
    table.add_row("[bold]written", f"[bold]{batch.rows:,}")
    table.add_row("status with stray spaces (stripped)", f"{batch.status_whitespace:,}")
    table.add_row("repeated numbers renumbered <no>-<k>", f"{batch.renumbered:,}")
    table.add_row("  of which identical rows (kept)", f"{batch.identical_rows:,}")
    for cause, rows in batch.expected_quarantined.items():
        table.add_row(f"[yellow]to be quarantined: {cause}", f"{rows:,}")
    console.print(table)
    grades = " / ".join(f"{g} {n}" for g, n in batch.grades.items())
    console.print(
        f"enterprises: {batch.enterprises} ({batch.labelled} graded: {grades}; "
        f"defaulted {batch.defaulted}, grade D {batch.grade_d}; "
        f"{batch.to_rate} to rate)\nbatch: {batch.records_dir}\nlabels: "
        f"{batch.out_dir}/labels_{{default,d_vs_rest,grade}}.csv, to_rate.csv, "
        f"enterprises.csv, spine.csv\nnext: credit-engine ingest {batch.records_dir}"
        + (f" --home {home}" if home is not None else "")
    )
