"""Model commands: ``train``, ``promote``, ``models``, ``evaluate``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from credit_engine.cli._app import (
    HomeOption,
    app,
    console,
    friendly_errors,
    settings_for,
    write_json_report,
)
from credit_engine.cli._progress import RichProgress
from credit_engine.cli._render_evaluate import print_cross_validation
from credit_engine.cli._render_models import (
    print_gates,
    print_promoted,
    print_registered,
    print_training,
)
from credit_engine.config import Settings

if TYPE_CHECKING:
    from credit_engine.registry import PromotionResult, ShadowPeriod

__all__ = ["evaluate", "models", "promote", "run_promotion", "train"]


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
    from credit_engine.pipeline import train_models

    settings = settings_for(home)
    results = train_models(
        settings, _spec_names(settings, model), snapshot, progress=RichProgress()
    )
    print_training(results)
    if report_json is not None:
        write_json_report(report_json, {"models": [r.to_json_dict() for r in results]})


# ------------------------------------------------------------------- promote
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


def _shadow_period(
    settings: Settings, name: str, version: str | None
) -> ShadowPeriod | None:
    """Read the shadow runs of the version to promote (for ``min_shadow_days``)."""
    from credit_engine.registry import CHALLENGER, alias_version
    from credit_engine.store import OperationalStore
    from credit_engine.watch import shadow_period

    chosen = version or alias_version(settings, name, CHALLENGER)
    if chosen is None:
        return None  # promote() says there is no challenger
    return shadow_period(OperationalStore.from_settings(settings), name, chosen)


def run_promotion(
    settings: Settings,
    name: str,
    *,
    version: str | None = None,
    reason: str = "",
    actor: str | None = None,
    force: bool = False,
) -> PromotionResult:
    """Promote and print the gate table (also when refused, then re-raise)."""
    from credit_engine.exceptions import PromotionRefusedError
    from credit_engine.registry import PromotionResult
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
            shadow=_shadow_period(settings, registered, version),
        )
    except PromotionRefusedError as exc:
        if isinstance(exc.result, PromotionResult):
            print_gates(exc.result)
        raise
    print_gates(result)
    print_promoted(result)
    return result


# -------------------------------------------------------------------- models
@app.command()
@friendly_errors
def models(
    history: Annotated[
        bool,
        typer.Option(help="Also print the alias history (from the audit log)."),
    ] = False,
    export_history: Annotated[
        Path | None,
        typer.Option(
            help="Write the alias history as JSON lines to this file (the format "
            "of the alias_history.jsonl of older releases)."
        ),
    ] = None,
    changes: Annotated[
        int,
        typer.Option(
            help="Enterprises whose tier would change, listed per challenger.",
            min=0,
        ),
    ] = 10,
    home: HomeOption = None,
) -> None:
    """List registered models: versions, aliases, out-of-time figures, shadow scoring.

    Every alias move (promotion) is an entry of kind model_promotion in the
    audit log; --history prints them, --export-history writes them out. Each
    model whose challenger has shadow runs gets a section: the tier agreement
    of its latest shadow run with the champion's run that date, and the
    enterprises whose tier would change.
    """
    from credit_engine.cli._render_monitor import print_shadow_agreement
    from credit_engine.registry import (
        alias_history,
        export_alias_history,
        registered_versions,
    )
    from credit_engine.store import OperationalStore
    from credit_engine.watch import compare_shadow, models_in_charge

    settings = settings_for(home)
    print_registered(
        registered_versions(settings),
        alias_history(settings) if history else None,
    )
    if export_history is not None:
        count = export_alias_history(settings, export_history)
        console.print(f"alias history: {count} change(s) written to {export_history}")
    store = OperationalStore.from_settings(settings)
    for model in models_in_charge(settings):
        if model.champion is None or model.challenger is None:
            continue
        agreement = compare_shadow(
            store, model.name, model.champion, model.challenger, limit=changes
        )
        if agreement is not None:
            print_shadow_agreement(model.name, agreement, limit=changes)


# ------------------------------------------------------------------ evaluate
def _order(value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip() for v in value.split(",") if v.strip()]
    if len(items) < 2:
        from credit_engine.exceptions import DataContractError

        raise DataContractError(
            f"--order needs at least two values separated by commas, best first "
            f"(e.g. --order AAA,AA,A,BBB); got {value!r}."
        )
    return items


@app.command()
@friendly_errors
def evaluate(
    labels: Annotated[
        Path | None,
        typer.Option(
            help="CSV/Parquet with uscc, as_of and the target; features are built "
            "from the lake."
        ),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            help="A ready feature table (CSV/Parquet) instead of --labels: numbers, "
            "text categories, dates; ids, empty and constant columns are dropped "
            "and listed."
        ),
    ] = None,
    target: Annotated[
        str,
        typer.Option(
            help="Target column: 0/1, integer grades (0 = best) or text grades."
        ),
    ] = "label",
    order: Annotated[
        str | None,
        typer.Option(
            help="The target's values best first, comma separated (e.g. "
            "AAA,AA,A,BBB,BB,B,CCC,CC,C,D). Needed for text grades other than "
            "yes/no words and rating-agency letters."
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="Column whose rows stay in one fold (an enterprise id). "
            "Default: uscc when present, else none."
        ),
    ] = None,
    threshold: Annotated[
        float,
        typer.Option(
            help="Probability threshold for precision/recall/F1 (ordinal: on the "
            "worst grade), besides the best-F1 one."
        ),
    ] = 0.5,
    oof_out: Annotated[
        Path | None,
        typer.Option(help="Write the out-of-fold predictions here (CSV/Parquet)."),
    ] = None,
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
            help="Rows to rate with the best family fitted on all labels: uscc, "
            "as_of (--labels) or the table's feature columns (--table)."
        ),
    ] = None,
    rate_out: Annotated[
        Path | None, typer.Option(help="CSV/Parquet for the ratings of --rate.")
    ] = None,
    report_json: Annotated[
        Path | None, typer.Option(help="Write the cross-validated figures here.")
    ] = None,
    home: HomeOption = None,
) -> None:
    """Cross-validate the model families on labels or a feature table you bring.

    Exit code 1 when every family failed (each failure is printed).
    """
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
        order=_order(order),
        group=group,
        threshold=threshold,
        oof_out=oof_out,
    )
    print_cross_validation(payload, folds)
    if report_json is not None:
        write_json_report(report_json, payload)
    if all("error" in figures for figures in payload["models"].values()):
        raise typer.Exit(code=1)
