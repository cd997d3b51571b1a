"""Command-line interface: ``credit-engine``.

Every command takes ``--home DIR`` (or ``CREDIT_ENGINE_HOME``); everything the
engine writes lives under it unless configured otherwise.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from credit_engine import __version__
from credit_engine.cli._shared import (
    HomeOption,
    app,
    console,
    err_console,
    friendly_errors,
    settings_for,
)
from credit_engine.config import Settings
from credit_engine.exceptions import CreditEngineError

_settings = settings_for
_friendly_errors = friendly_errors


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version.")
    ] = False,
) -> None:
    if version:
        console.print(__version__)
        raise typer.Exit()


# ------------------------------------------------------------------ simulate
@app.command()
@_friendly_errors
def simulate(
    enterprises: Annotated[
        int, typer.Option(help="Number of enterprises.", min=1)
    ] = 10_000,
    start: Annotated[
        str, typer.Option(help="First simulated day, YYYY-MM-DD.")
    ] = "2023-10-01",
    end: Annotated[
        str, typer.Option(help="Last simulated day (extract date).")
    ] = "2026-09-30",
    seed: Annotated[
        int, typer.Option(help="Random seed; same seed, same bytes.")
    ] = 20260401,
    dirty_rate: Annotated[
        float, typer.Option(help="Share of dirty rows per table.")
    ] = 0.01,
    out: Annotated[
        Path | None,
        typer.Option(help="Folder for the tables. Default: HOME/zone/records"),
    ] = None,
    truth: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the latent truth. Default: OUT's sibling '<name>_truth'"
        ),
    ] = None,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            help="Scenario to apply: a name in scenarios/ (e.g. refund_ring) or a "
            "YAML file; repeat for several."
        ),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Simulate a synthetic zone and write every contract's table as Parquet."""
    settings = _settings(home)
    summary = _run_simulation(
        settings, enterprises, start, end, seed, dirty_rate, out, truth,
        scenarios=tuple(scenario or ()),
    )  # fmt: skip
    _print_simulation(summary)


def _parse_date(value: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not a date in YYYY-MM-DD form", param_hint=f"--{name}"
        ) from exc


def _run_simulation(
    settings: Settings,
    enterprises: int,
    start: str,
    end: str,
    seed: int,
    dirty_rate: float,
    out: Path | None,
    truth: Path | None,
    *,
    scenarios: tuple[str, ...] = (),
) -> Any:
    from pydantic import ValidationError

    from credit_engine.data import load_contracts
    from credit_engine.exceptions import SimulationError
    from credit_engine.simulation import SimulationConfig, load_scenario, simulate_zone

    try:
        config = SimulationConfig(
            enterprises=enterprises, start=_parse_date(start, "start"),
            end=_parse_date(end, "end"), seed=seed, dirty_rate=dirty_rate,
        )  # fmt: skip
    except ValidationError as exc:
        msgs = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'window'}: {e['msg']}"
            for e in exc.errors()
        )
        raise SimulationError(f"Invalid simulation parameters: {msgs}") from exc
    out_dir = out or settings.home / "zone" / "records"
    truth_dir = truth or out_dir.with_name(out_dir.name + "_truth")
    contracts = load_contracts(settings.sources_dir)
    loaded = [load_scenario(s, definitions_dir=settings.definitions_dir)
              for s in scenarios]  # fmt: skip
    with _progress() as progress:
        task = progress.add_task("simulate", total=enterprises)
        summary = simulate_zone(
            config, contracts, out_dir, truth_dir,
            progress=lambda done, total: progress.update(task, completed=done),
            scenarios=loaded,
        )  # fmt: skip
    return summary


def _print_simulation(summary: Any) -> None:
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
    console.print(
        f"tables: {summary.out_dir}\ntruth (evaluation only): {summary.truth_dir}"
    )


# -------------------------------------------------------------------- ingest
@contextmanager
def _ingest_progress() -> Iterator[Any]:
    with _progress() as progress:
        tasks: dict[str, TaskID] = {}

        class _Callback:
            def start(self, table: str, total_rows: int) -> None:
                tasks[table] = progress.add_task(f"ingest {table}", total=total_rows)

            def advance(self, table: str, rows: int) -> None:
                progress.advance(tasks[table], rows)

            def done(self, table: str) -> None:
                task = tasks[table]
                progress.update(task, completed=progress.tasks[task].total)

        yield _Callback()


@app.command()
@_friendly_errors
def ingest(
    directory: Annotated[Path, typer.Argument(help="Folder with one file per table.")],
    report_json: Annotated[
        Path | None, typer.Option(help="Also write the JSON report here.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Validate a batch with Great Expectations; load good rows, quarantine the rest."""
    settings = _settings(home)
    report = _run_ingest(settings, directory, report_json)
    _print_ingest(report)


def _run_ingest(settings: Settings, directory: Path, report_json: Path | None) -> Any:
    from credit_engine.data import ingest_batch

    with _ingest_progress() as callback:
        return ingest_batch(
            directory, settings, progress=callback, report_path=report_json
        )


def _print_ingest(report: Any) -> None:
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
        from credit_engine.data import ReasonCode

        why = Table(title="Quarantine reasons (rows, all tables)")
        why.add_column("reason")
        why.add_column("rows", justify="right")
        why.add_column("meaning")
        for code, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            why.add_row(code, f"{n:,}", ReasonCode(code).describe())
        console.print(why)
    for key in ("html_report", "data_docs"):
        if data.get(key):
            console.print(f"{key.replace('_', ' ')}: {data[key]}")


# ---------------------------------------------------------------------- demo
@app.command()
@_friendly_errors
def demo(
    enterprises: Annotated[
        int, typer.Option(help="Enterprises in the demo zone.", min=1)
    ] = 10_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 20260401,
    models: Annotated[
        bool,
        typer.Option(
            help="Train, validate and promote the models after the features "
            "(--no-models stops after the features)."
        ),
    ] = True,
    home: HomeOption = None,
) -> None:
    """Run the main job on the default zone: simulate, ingest, features, models, rate.

    The rating step rates every enterprise on the last day under customs Order
    251 (2026-03-31) and a quarter later under Order 282 (2026-06-30), then
    prints the tier distribution, the migration matrix and three decisions.
    """
    settings = _settings(home)
    started = time.perf_counter()
    console.rule("[bold]1/6 simulate the default zone")
    records = settings.home / "zone" / "records"
    summary = _run_simulation(
        settings, enterprises, "2023-10-01", "2026-09-30", seed, 0.01, records, None
    )
    _print_simulation(summary)
    console.rule("[bold]2/6 ingest the department records")
    report = _run_ingest(settings, records, settings.reports_dir / "latest-ingest.json")
    _print_ingest(report)
    ok = True
    if not report.already_ingested:
        ok = _print_audit(settings, summary.truth_dir, report)
    console.rule("[bold]3/6 build point-in-time features (12 monthly rating dates)")
    dates = _month_ends(dt.date(2024, 10, 31), 12)
    snapshot = settings.home / "features" / "credit_v1_monthly.parquet"
    frame, lineage = _run_features(settings, dates, "credit_v1", snapshot)
    _print_features(frame, lineage, snapshot)
    if models:
        ok = _demo_models(settings, snapshot) and ok
        if ok:
            _demo_rating(settings)
    console.print(
        f"demo finished in {time.perf_counter() - started:.0f} s; "
        f"engine home: {settings.home}"
    )
    if not ok:
        raise typer.Exit(code=1)


def _demo_models(settings: Settings, snapshot: Path) -> bool:
    """Run steps 4 and 5 of the demo; return False if a promotion was refused."""
    ok = True
    console.rule("[bold]4/6 train and validate the graded and risk models")
    from credit_engine.training import model_spec_names

    names = model_spec_names(settings.definitions_dir / "models")
    trained = _models.run_training(settings, names, snapshot)
    _models.print_training(trained)
    console.rule("[bold]5/6 promote the challengers through the gates")
    for result in trained:
        try:
            _models.run_promotion(
                settings, result.registered.name, reason="demo: retrained"
            )
        except CreditEngineError as exc:
            err_console.print(f"[bold red]not promoted[/]: {exc.message}")
            ok = False
    return ok


DEMO_RATING_DATES = (dt.date(2026, 3, 31), dt.date(2026, 6, 30))
"""Last day under customs Order 251, and a quarter into Order 282."""


def _demo_rating(settings: Settings) -> None:
    """Step 6 of the demo: rate twice, print tiers, migrations and examples."""
    console.rule("[bold]6/6 rate every enterprise: statutory facts, policy, tiers")
    first, last = DEMO_RATING_DATES
    _rating.run_rating(settings, first, actor="demo")
    result = _rating.run_rating(settings, last, actor="demo")
    _rating.print_rating(result)
    from credit_engine.store import OperationalStore

    matrix = OperationalStore.from_settings(settings).migration_matrix(first, last)
    _rating.print_migrations(matrix, first, last)
    _rating.print_examples(result.decisions)


def _month_ends(first: dt.date, count: int) -> list[dt.date]:
    """``count`` consecutive month ends starting with the month of ``first``."""
    out = []
    year, month = first.year, first.month
    for _ in range(count):
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        out.append(nxt - dt.timedelta(days=1))
        year, month = nxt.year, nxt.month
    return out


def _print_audit(settings: Settings, truth_dir: Path, report: Any) -> bool:
    """Check ingestion against the simulator's dirty rows; print; return ok."""
    from credit_engine.data import Lake
    from credit_engine.simulation import audit_ingestion

    audit = audit_ingestion(
        truth_dir, Lake(settings.lake_dir, settings.quarantine_dir), report
    )
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
    return audit.ok


# ------------------------------------------------------------------ features
def _parse_dates(values: list[str], name: str) -> list[dt.date]:
    return sorted({_parse_date(v, name) for v in values})


def _run_features(
    settings: Settings, as_of: list[dt.date], feature_set: str, out: Path
) -> tuple[Any, dict[str, Any]]:
    from credit_engine.features import (
        LakeSources,
        build_feature_frame,
        enterprise_spine,
        load_definitions,
        write_snapshot,
    )

    definitions = load_definitions(settings.definitions_dir)
    resolved = definitions.resolve(feature_set)
    sources = LakeSources.from_settings(settings, definitions.contracts)
    with _progress() as progress:
        task = progress.add_task(f"features {feature_set}", total=2)
        spine = enterprise_spine(sources, definitions, as_of)
        progress.advance(task)
        frame = build_feature_frame(
            spine, resolved, definitions=definitions, sources=sources
        )
        progress.advance(task)
    lineage = write_snapshot(
        frame, out, resolved=resolved, sources=sources, as_of=as_of
    )
    return frame, lineage


def _print_features(frame: Any, lineage: dict[str, Any], out: Path) -> None:
    table = Table(title=f"Feature snapshot {lineage['feature_set']}")
    for col in ("as_of", "enterprises", "features", "null share", "mean non-null"):
        table.add_column(col, justify="left" if col == "as_of" else "right")
    features = frame.drop(columns=["uscc", "as_of"])
    for day, rows in frame.groupby("as_of"):
        values = features.loc[rows.index]
        table.add_row(
            str(day), f"{len(rows):,}", str(values.shape[1]),
            f"{values.isna().to_numpy().mean():.1%}",
            f"{values.notna().sum(axis=1).mean():.0f}",
        )  # fmt: skip
    console.print(table)
    console.print(
        f"snapshot: {out}\ndefinitions sha256: {lineage['definitions_sha256'][:16]}…  "
        f"lake state: {lineage['lake_state'][:16]}…"
    )


@app.command()
@_friendly_errors
def features(
    as_of: Annotated[
        list[str] | None,
        typer.Option("--as-of", help="Rating date YYYY-MM-DD; repeat for several."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Snapshot Parquet file to write.")
    ] = None,
    feature_set: Annotated[
        str, typer.Option("--set", help="Feature set (features/sets).")
    ] = "credit_v1",
    markdown: Annotated[
        Path | None,
        typer.Option(help="Write the feature reference (docs/features.md) instead."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Build a point-in-time feature snapshot from the lake (or document the set)."""
    settings = _settings(home)
    if markdown is not None:
        from credit_engine.features import load_definitions
        from credit_engine.features._docs import render_features_markdown

        text = render_features_markdown(
            load_definitions(settings.definitions_dir), feature_set
        )
        markdown.write_text(text + "\n", encoding="utf-8")
        console.print(f"wrote {markdown}")
        return
    if not as_of or out is None:
        raise typer.BadParameter("give --as-of (one or more) and --out")
    dates = _parse_dates(as_of, "as-of")
    frame, lineage = _run_features(settings, dates, feature_set, out)
    _print_features(frame, lineage, out)


# ----------------------------------------------------------------- contracts
@app.command()
@_friendly_errors
def contracts(
    markdown: Annotated[
        Path | None,
        typer.Option(help="Also write the Markdown reference (docs/contracts.md)."),
    ] = None,
    home: HomeOption = None,
) -> None:
    """List the record contracts (features/sources) and check that they load."""
    from credit_engine.data import load_contracts
    from credit_engine.data._contract_docs import render_contracts_markdown

    settings = _settings(home)
    loaded = load_contracts(settings.sources_dir)
    table = Table(title=f"Record contracts in {settings.sources_dir}")
    for col in ("table", "department", "kind", "columns", "title"):
        table.add_column(col)
    for c in loaded.values():
        table.add_row(
            c.name, c.department.value, c.kind.value, str(len(c.columns)), c.title
        )
    console.print(table)
    if markdown is not None:
        markdown.write_text(render_contracts_markdown(loaded) + "\n", encoding="utf-8")
        console.print(f"wrote {markdown}")


@app.command()
def uscc(codes: Annotated[list[str], typer.Argument(help="Codes to check.")]) -> None:
    """Check Unified Social Credit Codes (GB 32100-2015); exit 1 if any is invalid."""
    from credit_engine.uscc import uscc_problem

    bad = 0
    for code in codes:
        problem = uscc_problem(code)
        if problem is None:
            console.print(f"[green]valid[/]   {code}")
        else:
            bad += 1
            console.print(f"[red]invalid[/] {problem}")
    if bad:
        raise typer.Exit(code=1)


# -------------------------------------------------------------- adapt-cumcm
def _default_cumcm_dir() -> Path:
    from credit_engine.config import default_definitions_dir

    return default_definitions_dir() / "data" / "cumcm2020c"


@app.command("adapt-cumcm")
@_friendly_errors
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

    settings = _settings(home)
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


# The model and rating commands live in their own modules; importing them
# registers them.
from credit_engine.cli import _admin, _models, _rating, _serve  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``credit-engine`` console script."""
    app(prog_name="credit-engine")


if __name__ == "__main__":  # pragma: no cover
    main()
