"""``credit-engine mapping``: check a source mapping, translate ids through it.

A source mapping (YAML) brings extracts in their own layout onto the record
contracts (``docs/bring-your-own-records.md``). ``mapping check`` validates it
against the contracts and, given the folder of extracts, dry-runs the ingestion
on a sample: per table, how many rows would load and be quarantined, why, with
examples. Nothing is written. ``mapping ids`` translates a file's source ids to
USCCs through one of the mapping's crosswalks (e.g. a label file keyed by
anonymised ids, for ``credit-engine evaluate``).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    err_console,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.cli._progress import RichProgress

if TYPE_CHECKING:
    from credit_engine.data import IngestReport, SourceMapping

__all__: list[str] = []

mapping_app = typer.Typer(
    help="Source mappings (YAML) for extracts in their own layout: check; "
    "translate ids.",
    no_args_is_help=True,
)
app.add_typer(mapping_app, name="mapping")

_EXAMPLES = 2


def _print_mapping(mapping: SourceMapping) -> None:
    table = Table(title=f"Source mapping {mapping.path.name if mapping.path else ''}")
    for col in ("source", "files", "table", "columns mapped", "known at"):
        table.add_column(col)
    for source in mapping.sources:
        for target in source.targets:
            known = (
                target.known_at.rule
                if target.known_at
                else ("column" if "ingested_at" in target.columns else "")
            )
            table.add_row(
                source.name, ", ".join(source.files), target.table,
                str(len(target.columns)), known,
            )  # fmt: skip
    console.print(table)


def _print_check(report: IngestReport) -> None:
    from credit_engine.data import QuarantineReason

    stats = (report.mapping or {}).get("targets", [])
    if stats:
        sources = Table(title="Rows per source and table")
        for col in (
            "source",
            "table",
            "rows read",
            "rows out",
            "left out (where, empty cells)",
        ):
            sources.add_column(
                col, justify="left" if col in ("source", "table") else "right"
            )
        for s in stats:
            sources.add_row(
                s["source"], s["table"], f"{s['rows_read']:,}", f"{s['rows_out']:,}",
                f"{s['left_out']:,}",
            )  # fmt: skip
        console.print(sources)
    counts = Table(title="Dry run: what the ingestion would do (nothing written)")
    for col in ("table", "rows", "would load", "would quarantine", "duplicates"):
        counts.add_column(col, justify="left" if col == "table" else "right")
    for name, t in sorted(report.tables.items()):
        colour = "green" if t.quarantined == 0 else "yellow"
        counts.add_row(
            name, f"{t.rows_in:,}", f"{t.loaded:,}", f"[{colour}]{t.quarantined:,}",
            f"{t.duplicates:,}",
        )  # fmt: skip
    console.print(counts)
    for name, t in sorted(report.tables.items()):
        if not t.reasons:
            continue
        why = Table(title=f"{name}: quarantine reasons and examples")
        for col in ("reason", "rows", "example (file:row)", "why"):
            why.add_column(col, justify="right" if col == "rows" else "left")
        for code, n in sorted(t.reasons.items(), key=lambda kv: -kv[1]):
            samples = t.samples.get(code, [])[:_EXAMPLES]
            where = "\n".join(
                f"{s['_source_file']}:{s['_row_number']}" for s in samples
            )
            text = "\n".join(s["_reason_text"] for s in samples)
            why.add_row(
                f"{code}\n[dim]{QuarantineReason(code).describe()}",
                f"{n:,}",
                where,
                text,
            )
        console.print(why)


@mapping_app.command("check")
@friendly_errors
def check(
    mapping: Annotated[Path, typer.Argument(help="The source mapping (YAML).")],
    directory: Annotated[
        Path | None,
        typer.Argument(help="Folder of extracts to dry-run the mapping on (optional)."),
    ] = None,
    rows: Annotated[
        int, typer.Option(min=1, help="Rows read from each file for the dry run.")
    ] = 10_000,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Read every row (not a sample).")
    ] = False,
    fail_on_quarantine: Annotated[
        bool, typer.Option(help="Exit 1 if any row would be quarantined.")
    ] = False,
    report_json: Annotated[
        Path | None, typer.Option(help="Also write the dry run's JSON report here.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Check a mapping against the contracts; dry-run it on a folder of extracts.

    Exit 2 if the mapping is invalid or the files do not fit it (the message
    names the file, the source, the table and the column, and suggests a fix).
    """
    from credit_engine.data import dry_run_batch, load_contracts, load_mapping

    settings = settings_for(home)
    loaded = load_mapping(
        mapping,
        load_contracts(settings.sources_dir),
        definitions_dir=settings.definitions_dir,
    )
    _print_mapping(loaded)
    if directory is None:
        console.print(
            f"[green]mapping {mapping} is valid[/]; give the folder of extracts to "
            "dry-run it."
        )
        return
    with RichProgress().ingestion() as callback:
        report = dry_run_batch(
            directory,
            settings,
            mapping=loaded,
            sample_rows=None if all_rows else rows,
            progress=callback,
        )
    _print_check(report)
    sample = "every row" if all_rows else f"the first {rows:,} rows of each file"
    console.print(f"read {sample}; nothing was written.")
    if report_json is not None:
        write_json_report(report_json, report.to_json_dict())
    quarantined = sum(t.quarantined for t in report.tables.values())
    if fail_on_quarantine and quarantined:
        err_console.print(f"[bold red]{quarantined:,} row(s) would be quarantined[/]")
        raise typer.Exit(code=1)


@mapping_app.command("ids")
@friendly_errors
def ids(
    mapping: Annotated[Path, typer.Argument(help="The source mapping (YAML).")],
    file: Annotated[Path, typer.Argument(help="CSV file with a column of source ids.")],
    crosswalk: Annotated[str, typer.Option(help="Crosswalk of the mapping to use.")],
    column: Annotated[str, typer.Option(help="Column of FILE holding the source ids.")],
    out: Annotated[Path, typer.Option(help="CSV file to write.")],
    encoding: Annotated[str, typer.Option(help="Encoding of FILE.")] = "utf-8",
    home: HomeOption = None,
) -> None:
    """Write FILE with its COLUMN of source ids replaced by a ``uscc`` column.

    For files outside the batch keyed by the source's ids, e.g. labels for
    ``credit-engine evaluate --labels``. Fails, listing them, if an id has no
    USCC in the crosswalk.
    """
    from credit_engine.data import load_contracts, load_mapping, translate_ids
    from credit_engine.exceptions import DataContractError

    settings = settings_for(home)
    loaded = load_mapping(
        mapping,
        load_contracts(settings.sources_dir),
        definitions_dir=settings.definitions_dir,
    )
    with file.open(encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in reader.fieldnames or []]
        records = [{k.strip(): v for k, v in r.items()} for r in reader]
    if column not in fields:
        raise DataContractError(
            f"{file}: no column {column!r}; its columns are {fields}."
        )
    usccs = translate_ids(loaded, crosswalk, [r[column] for r in records])
    unknown = sorted(
        {r[column] for r, u in zip(records, usccs, strict=True) if u is None}
    )
    if unknown:
        raise DataContractError(
            f"{file}: {len(unknown)} id(s) have no USCC through crosswalk "
            f"{crosswalk!r}, "
            f"e.g. {unknown[:5]}; add them to the crosswalk. Nothing was written."
        )
    out_fields = ["uscc", *(f for f in fields if f != column)]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=out_fields, lineterminator="\n")
        writer.writeheader()
        for record, uscc in zip(records, usccs, strict=True):
            writer.writerow({"uscc": uscc, **{f: record[f] for f in out_fields[1:]}})
    console.print(f"wrote {len(records):,} rows to {out}")
