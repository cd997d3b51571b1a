"""Model commands: ``train``, ``promote``, ``models``, ``evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

from credit_engine.cli._shared import (
    HomeOption,
    app,
    console,
    err_console,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.config import Settings

_COLOURS = {"green": "green", "amber": "yellow", "red": "red", "empty": "dim"}


def _spec_names(settings: Settings, names: list[str] | None) -> list[str]:
    from credit_engine.training import model_spec_names

    return names or model_spec_names(settings.definitions_dir / "models")


def _registered_name(settings: Settings, name: str) -> str:
    """Accept a spec name (``scorecard``) or a registered name."""
    from credit_engine.training import load_model_spec, model_spec_names

    if name in model_spec_names(settings.definitions_dir / "models"):
        spec = load_model_spec(settings.definitions_dir / "models", name)
        return spec.registered_name
    return name


def _grades(colours: dict[str, str]) -> str:
    return " ".join(f"[{_COLOURS.get(c, 'white')}]{g}[/]" for g, c in colours.items())


# --------------------------------------------------------------------- train
@app.command()
@friendly_errors
def train(
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Model spec under models/; repeat. Default: all."),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option(
            help="Feature snapshot. Default: HOME/features/<set>_monthly.parquet"
        ),
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option(help="Write the figures per model as JSON here.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Train, validate out of time and register models (aliased challenger)."""
    settings = settings_for(home)
    results = run_training(settings, _spec_names(settings, model), snapshot)
    print_training(results)
    if report_json is not None:
        write_json_report(report_json, {"models": [r.to_json_dict() for r in results]})


def run_training(
    settings: Settings, names: list[str], snapshot: Path | None = None
) -> list[Any]:
    """Train each named spec, showing each step as it runs."""
    from credit_engine.training import train_spec

    results = []
    for name in names:
        with console.status(f"[bold]{name}[/]: starting") as status:

            def step(text: str, name: str = name, status: Any = status) -> None:
                status.update(f"[bold]{name}[/]: {text}")
                err_console.log(f"{name}: {text}")

            results.append(train_spec(name, settings, snapshot=snapshot, step=step))
    return results


def print_training(results: list[Any]) -> None:
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


# ------------------------------------------------------------------- promote
def _print_gates(result: Any) -> None:
    table = Table(title=f"Promotion gates: {result.name} v{result.version}")
    table.add_column("gate")
    table.add_column("result")
    table.add_column("detail")
    for gate in result.gates:
        verdict = "[green]pass" if gate.passed else "[red]FAIL"
        table.add_row(gate.gate, verdict, gate.detail)
    console.print(table)


@app.command()
@friendly_errors
def promote(
    name: Annotated[
        str, typer.Argument(help="Model spec (scorecard) or registered name.")
    ],
    version: Annotated[
        str | None,
        typer.Option(help="Version to promote. Default: the current challenger."),
    ] = None,
    reason: Annotated[
        str, typer.Option(help="Why; recorded in the alias history.")
    ] = "",
    actor: Annotated[
        str | None, typer.Option(help="Who promotes. Default: the OS user.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(help="Promote past failed gates (needs --reason; recorded)."),
    ] = False,
    home: HomeOption = None,
) -> None:
    """Move the champion alias to a version if the model spec's gates pass."""
    settings = settings_for(home)
    run_promotion(
        settings, name, version=version, reason=reason, actor=actor, force=force
    )


def run_promotion(
    settings: Settings,
    name: str,
    *,
    version: str | None = None,
    reason: str = "",
    actor: str | None = None,
    force: bool = False,
) -> Any:
    """Promote and print the gate table (also when refused, then re-raise)."""
    from credit_engine.exceptions import PromotionRefusedError
    from credit_engine.registry import promote as promote_version

    registered = _registered_name(settings, name)
    try:
        result = promote_version(
            settings,
            registered,
            version=version,
            actor=actor,
            reason=reason,
            force=force,
        )
    except PromotionRefusedError as exc:
        if exc.result is not None:
            _print_gates(exc.result)
        raise
    _print_gates(result)
    previous = result.previous_champion or "none"
    console.print(
        f"[bold green]promoted[/] {result.name} v{result.version} to champion "
        f"(was {previous})"
    )
    return result


# -------------------------------------------------------------------- models
@app.command()
@friendly_errors
def models(
    history: Annotated[
        bool, typer.Option(help="Also print the alias history.")
    ] = False,
    home: HomeOption = None,
) -> None:
    """List registered models: versions, aliases and out-of-time figures."""
    from credit_engine.registry import (
        alias_history,
        alias_history_path,
        registered_versions,
    )

    settings = settings_for(home)
    table = Table(title="Registered models")
    for column in ("model", "version", "aliases", "AUC", "KS", "PSI", "red", "run"):
        table.add_column(column)
    for row in registered_versions(settings):
        table.add_row(
            row["name"],
            row["version"],
            ", ".join(row["aliases"]) or "-",
            f"{row['oot_auc']:.4f}",
            f"{row['oot_ks']:.4f}",
            f"{row['oot_psi']:.4f}",
            f"{np.nan_to_num(row['oot_red_grades']):.0f}",
            row["run_id"][:8],
        )
    console.print(table)
    if history:
        changes = Table(title="Alias history")
        for column in ("at", "model", "alias", "from", "to", "actor", "reason"):
            changes.add_column(column)
        for change in alias_history(alias_history_path(settings)):
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


# ------------------------------------------------------------------ evaluate
@app.command()
@friendly_errors
def evaluate(
    labels: Annotated[
        Path | None,
        typer.Option(
            help="CSV/Parquet with uscc, as_of, label (0/1 or ordinal grade, "
            "0 = best); features are built from the lake."
        ),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(help="A ready feature table (CSV/Parquet) instead of --labels."),
    ] = None,
    target: Annotated[
        str, typer.Option(help="Target column of --table (or of --labels).")
    ] = "label",
    feature_set: Annotated[
        str | None,
        typer.Option(help="Feature set to build for --labels. Default: the specs'."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Model spec; repeat. Default: all."),
    ] = None,
    folds: Annotated[int, typer.Option(help="Cross-validation folds.", min=2)] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the folds.")] = 0,
    rate: Annotated[
        Path | None,
        typer.Option(
            help="Rows (uscc, as_of) to rate with a model fitted on all labels."
        ),
    ] = None,
    rate_out: Annotated[
        Path | None, typer.Option(help="CSV for the ratings of --rate.")
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option(help="Write the cross-validated figures here.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Cross-validate the model families on labels you bring."""
    from credit_engine.cli._evaluate_io import run_evaluate

    settings = settings_for(home)
    payload = run_evaluate(
        settings,
        labels=labels,
        table=table,
        target=target,
        feature_set=feature_set,
        specs=_spec_names(settings, model),
        folds=folds,
        seed=seed,
        rate=rate,
        rate_out=rate_out,
    )
    rows = payload["target"]["rows"]
    out = Table(title=f"Cross-validation ({folds} folds, {rows} rows)")
    out.add_column("model")
    if payload["target"]["kind"] == "binary":
        out.add_column("AUC (pooled)", justify="right")
        out.add_column("AUC per fold", justify="right")
        for name, fig in payload["models"].items():
            folds_text = " ".join(f"{v:.3f}" for v in fig["auc_folds"])
            out.add_row(name, f"{fig['auc']:.4f}", folds_text)
    else:
        out.add_column("QW kappa", justify="right")
        out.add_column("accuracy", justify="right")
        for name, fig in payload["models"].items():
            out.add_row(name, f"{fig['qwk']:.4f}", f"{fig['accuracy']:.4f}")
    console.print(out)
    if payload.get("rated"):
        rated = payload["rated"]
        console.print(f"rated {rated['rows']} rows: {rated['path']}")
    if report_json is not None:
        write_json_report(report_json, payload)
