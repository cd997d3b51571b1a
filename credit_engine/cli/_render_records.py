"""Rich tables of the record steps: simulation, ingestion, self-check, features."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from credit_engine.cli._app import console, err_console

if TYPE_CHECKING:
    from credit_engine.data import IngestReport
    from credit_engine.pipeline import FeatureSnapshot
    from credit_engine.simulation import SimulationSummary, ZoneAudit

__all__ = ["print_features", "print_ingest", "print_self_check", "print_simulation"]


def print_simulation(summary: SimulationSummary) -> None:
    """Print rows and dirty rows per table, and where the files are."""
    table = Table(title=f"Synthetic zone: {summary.enterprises:,} enterprises")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("dirty rows", justify="right")
    for name, rows in summary.rows.items():
        dirty = sum(summary.dirty.get(name, {}).values())
        table.add_row(name, f"{rows:,}", f"{dirty:,}")
    table.add_row(
        "[bold]total",
        f"[bold]{summary.total_rows:,}",
        f"[bold]{sum(sum(d.values()) for d in summary.dirty.values()):,}",
    )
    console.print(table)
    if summary.scenarios:
        applied = Table(title="Scenarios applied (affected enterprises, rows)")
        applied.add_column("scenario")
        applied.add_column("counts")
        for name, counts in summary.scenarios.items():
            applied.add_row(name, ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        console.print(applied)
    console.print(
        f"tables: {summary.out_dir}\ntruth (evaluation only): {summary.truth_dir}"
    )


def print_ingest(report: IngestReport) -> None:
    """Print counts per table, quarantine reasons and where the reports are."""
    data = report.to_json_dict()
    title = f"Ingestion of batch {data.get('batch_id', '')}"
    if getattr(report, "already_ingested", False):
        title += " (already ingested: nothing new loaded)"
    table = Table(title=title)
    table.add_column("table")
    for col in ("rows in", "loaded", "quarantined", "duplicates"):
        table.add_column(col, justify="right")
    totals = [0, 0, 0, 0]
    reasons: dict[str, int] = {}
    for name, t in data["tables"].items():
        values = [t["rows_in"], t["loaded"], t["quarantined"], t["duplicates"]]
        totals = [a + b for a, b in zip(totals, values, strict=True)]
        table.add_row(name, *(f"{v:,}" for v in values))
        for code, n in t["reasons"].items():
            reasons[code] = reasons.get(code, 0) + n
    table.add_row("[bold]total", *(f"[bold]{v:,}" for v in totals))
    console.print(table)
    if reasons:
        from credit_engine.data import QuarantineReason

        why = Table(title="Quarantine reasons (rows, all tables)")
        why.add_column("reason")
        why.add_column("rows", justify="right")
        why.add_column("meaning")
        for code, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            why.add_row(code, f"{n:,}", QuarantineReason(code).describe())
        console.print(why)
    mapping = data.get("mapping")
    if mapping:
        mapped = Table(title=f"Source mapping {mapping['file']}")
        for col in ("source", "table", "rows read", "rows out", "left out"):
            mapped.add_column(
                col, justify="left" if col in ("source", "table") else "right"
            )
        for s in mapping["targets"]:
            mapped.add_row(
                s["source"], s["table"], f"{s['rows_read']:,}", f"{s['rows_out']:,}",
                f"{s['left_out']:,}",
            )  # fmt: skip
        console.print(mapped)
    for key in ("html_report", "data_docs"):
        if data.get(key):
            console.print(f"{key.replace('_', ' ')}: {data[key]}")


def print_self_check(audit: ZoneAudit) -> None:
    """Print the ingestion checked against the simulator's dirty rows."""
    table = Table(title="Self-check: dirty rows injected by the simulator")
    for col in ("dirty kind", "injected", "caught", "as"):
        table.add_column(
            col, justify="left" if col in ("dirty kind", "as") else "right"
        )
    for k in audit.kinds:
        mark = "[green]" if k.ok else "[red]"
        table.add_row(
            k.kind, f"{k.injected:,}", f"{mark}{k.caught:,}", k.expected_reason
        )
    console.print(table)
    colour = "green" if audit.clean_rows_rejected == 0 else "red"
    console.print(
        f"clean rows rejected: [{colour}]{audit.clean_rows_rejected:,}[/]; "
        f"tables out of balance: {len(audit.unbalanced_tables)}"
    )
    if not audit.ok:
        err_console.print("[bold red]self-check failed[/]: see the table above.")


def print_features(snapshot: FeatureSnapshot) -> None:
    """Print enterprises, null share and filled features per rating date."""
    lineage = snapshot.lineage
    table = Table(title=f"Feature snapshot {lineage['feature_set']}")
    for col in ("as_of", "enterprises", "features", "null share", "mean non-null"):
        table.add_column(col, justify="left" if col == "as_of" else "right")
    for row in snapshot.per_date().itertuples(index=False):
        table.add_row(
            str(row.as_of), f"{row.enterprises:,}", str(row.features),
            f"{row.null_share:.1%}", f"{row.mean_non_null:.0f}",
        )  # fmt: skip
    console.print(table)
    if lineage.get("engine"):
        console.print(f"engine: {lineage['engine']}")
    console.print(
        f"snapshot: {snapshot.path}\ndefinitions sha256: "
        f"{lineage['definitions_sha256'][:16]}…  "
        f"lake state: {lineage['lake_state'][:16]}…"
    )
    if "known_enterprises" in lineage:
        console.print(f"enterprises known from: {lineage['known_enterprises']}")
    for warning in getattr(snapshot, "warnings", ()):
        err_console.print(f"[bold yellow]warning[/]: {warning}")
