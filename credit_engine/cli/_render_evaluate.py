"""Rich tables of ``credit-engine evaluate``: figures per family, target, columns."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from credit_engine.cli._app import console

__all__ = ["print_cross_validation"]


def _prf(figures: dict[str, Any]) -> str:
    return (
        f"{figures['precision']:.3f} / {figures['recall']:.3f} / {figures['f1']:.3f}"
        f" @ {figures['threshold']:.3f}"
    )


def _print_target(payload: dict[str, Any]) -> None:
    levels = payload.get("target_levels")
    if not levels:
        return
    shown = ", ".join(f"{lvl['level']} ({lvl['rows']:,})" for lvl in levels["levels"])
    console.print(
        f"target [bold]{levels['column']}[/] ({levels['kind']}, best first, order "
        f"from {levels['order_from']}): {shown}"
    )
    for merge in levels["merged"]:
        console.print(
            f"  [yellow]merged[/] {'/'.join(map(str, merge['values']))} "
            f"({merge['rows']} rows, too few for the folds) into {merge['into']}"
        )
    if levels["absent"]:
        console.print(f"  values of --order absent from the data: {levels['absent']}")
    if levels["rows_without_target"]:
        console.print(
            f"  rows without a target, left out: {levels['rows_without_target']:,}"
        )


def _binary_table(payload: dict[str, Any], title: str) -> Table:
    out = Table(title=title)
    for column in ("model", "AUC (pooled)", "AUC per fold", "avg precision"):
        out.add_column(column, justify="left" if column == "model" else "right")
    out.add_column("P / R / F1 at best F1", justify="right")
    out.add_column(f"P / R / F1 at {payload.get('threshold', 0.5):g}", justify="right")
    for name, fig in payload["models"].items():
        if "error" in fig:
            out.add_row(name, "[red]failed[/]", fig["error"][:120], "", "", "")
            continue
        folds_text = " ".join(f"{v:.3f}" for v in fig["auc_folds"])
        out.add_row(
            name,
            f"{fig['auc']:.4f}",
            folds_text,
            f"{fig.get('average_precision', float('nan')):.4f}",
            _prf(fig["best_f1"]) if "best_f1" in fig else "",
            _prf(fig["at_threshold"]) if "at_threshold" in fig else "",
        )
    return out


def _ordinal_table(payload: dict[str, Any], title: str) -> Table:
    out = Table(title=title)
    for column in ("model", "QW kappa", "accuracy", "macro F1", "kappa per fold"):
        out.add_column(column, justify="left" if column == "model" else "right")
    out.add_column("worst vs rest: AUC", justify="right")
    out.add_column("P / R / F1 at best F1", justify="right")
    out.add_column(f"P / R / F1 at {payload.get('threshold', 0.5):g}", justify="right")
    for name, fig in payload["models"].items():
        if "error" in fig:
            out.add_row(name, "[red]failed[/]", fig["error"][:120], "", "", "", "", "")
            continue
        worst = fig.get("worst_vs_rest")
        out.add_row(
            name,
            f"{fig['qwk']:.4f}",
            f"{fig['accuracy']:.4f}",
            f"{fig.get('macro_f1', float('nan')):.4f}",
            " ".join(f"{v:.3f}" for v in fig["qwk_folds"]),
            f"{worst['auc']:.4f}" if worst else "",
            _prf(worst["best_f1"]) if worst else "",
            _prf(worst["at_threshold"]) if worst else "",
        )
    return out


def _per_level(name: str, fig: dict[str, Any]) -> Table:
    out = Table(title=f"{name}: precision / recall / F1 per level")
    for column in ("level", "rows", "precision", "recall", "F1"):
        out.add_column(column, justify="left" if column == "level" else "right")
    for row in fig["per_level"]:
        out.add_row(
            str(row["level"]),
            f"{row['rows']:,}",
            f"{row['precision']:.3f}",
            f"{row['recall']:.3f}",
            f"{row['f1']:.3f}",
        )
    return out


def _print_columns(payload: dict[str, Any]) -> None:
    columns = payload.get("columns")
    if not columns:
        return
    if columns["dropped"]:
        dropped = Table(title=f"Columns left out ({len(columns['dropped'])})")
        dropped.add_column("column")
        dropped.add_column("why")
        for name, why in columns["dropped"].items():
            dropped.add_row(name, why)
        console.print(dropped)
    converted = columns.get("converted") or {}
    if converted:
        shown = "; ".join(f"{k}: {v}" for k, v in list(converted.items())[:12])
        more = f" (+{len(converted) - 12} more)" if len(converted) > 12 else ""
        console.print(f"converted columns: {shown}{more}")


def print_cross_validation(payload: dict[str, Any], folds: int) -> None:
    """Print the cross-validated figures of ``evaluate`` (and where files went)."""
    rows = payload["target"]["rows"]
    title = f"Cross-validation ({folds} folds, {rows} rows)"
    _print_target(payload)
    if payload.get("group"):
        console.print(f"folds grouped by [bold]{payload['group']}[/]")
    if payload["target"]["kind"] == "binary":
        console.print(_binary_table(payload, title))
    else:
        console.print(_ordinal_table(payload, title))
        for name, fig in payload["models"].items():
            if "per_level" in fig:
                console.print(_per_level(name, fig))
    for name, fig in payload["models"].items():
        if "error" in fig:
            console.print(f"[red]{name} failed[/]: {fig['error']} ({fig.get('where')})")
    _print_columns(payload)
    if payload.get("oof"):
        console.print(f"out-of-fold predictions: {payload['oof']['path']}")
    if payload.get("rated"):
        rated = payload["rated"]
        console.print(f"rated {rated['rows']} rows ({rated['model']}): {rated['path']}")
