"""Render the feature reference ``docs/features.md`` from the definitions."""

from __future__ import annotations

from credit_engine.features._registry import Definitions
from credit_engine.features._spec import Aggregation, FeatureSpec, FeatureView, ViewKind
from credit_engine.features._transforms import TRANSFORMS

__all__ = ["render_features_markdown"]

_INTRO = """\
# Features

<!-- Generated from features/views and features/sets by
`credit-engine features --markdown docs/features.md`; do not edit. -->

Every feature is computed **point in time**: for a rating date `as_of`, only records
that had happened *and* were known to the zone by the end of that day count
(`event_ts` and `ingested_at` before `as_of + 1 day`); of a record that is updated
(a fine re-sent when paid, a spell re-sent when it ends) the latest version known
then is used; a state (credit level, class, list entry) counts if it was in force at
the end of `as_of` as known then. Windows (`90d`, `365d` …) end at `as_of`.

**No record is not zero.** In a view marked *missing = null* (the enterprise's
activity with a department: declarations, invoices, filings, FX), an enterprise of
which the department has shared nothing at all gets null features, and its
`…__present` feature is 0; with records but none in the window, counts and sums are 0.
In a view marked *missing = zero* (penalties, lists, violations) having no record
means nothing happened, and counts are 0. Shares, means and days-since are null when
there is nothing to measure.

**Risk direction** says how credit risk moves as the value grows (`increasing`,
`decreasing`, or `none` for size and mix features); the models' monotone
constraints come from it.

Features are named `<view>__<feature>`. The definitions are data
(`features/views/*.yaml`, `features/sets/*.yaml`); the same definitions serve the
batch snapshots, the online path of the API and, transpiled, Apache Spark.
"""


def _how(view: FeatureView, spec: FeatureSpec) -> str:
    if spec.agg is Aggregation.TRANSFORM:
        inputs = ", ".join(
            f"`{x}`" if isinstance(x, str) else str(x) for x in spec.inputs
        )
        params = ", ".join(f"{k}={v}" for k, v in spec.params.items())
        return f"{spec.transform}({inputs}{'; ' + params if params else ''})"
    parts = [spec.agg.value]
    value = spec.column or spec.expr
    if value:
        parts.append(f"of `{value}`")
    if spec.by:
        parts.append(f"by `{spec.by}`")
    if spec.where:
        parts.append(f"where `{spec.where}`")
    if spec.map:
        parts.append("mapped " + ", ".join(f"{k}→{v:g}" for k, v in spec.map.items()))
    return " ".join(parts).replace("|", "\\|")


def render_features_markdown(
    definitions: Definitions, feature_set: str = "credit_v1"
) -> str:
    """Return the Markdown reference of every feature of ``feature_set``.

    Parameters
    ----------
    definitions : Definitions
        Loaded definitions.
    feature_set : str, default="credit_v1"
        The set documented (its features, grouped by view).

    Returns
    -------
    str
        The document (``docs/features.md`` is this text; a test keeps it so).
    """
    resolved = definitions.resolve(feature_set)
    n_views = len({r.view.name for r in resolved.outputs})
    lines = [
        _INTRO,
        f"## Feature set `{resolved.name}`",
        "",
        " ".join(resolved.feature_set.description.split()),
        "",
        f"{len(resolved.outputs)} features from {n_views} views.",
        "",
    ]
    seen: list[str] = []
    for ref in resolved.outputs:
        if ref.view.name not in seen:
            seen.append(ref.view.name)
    for name in seen:
        view = definitions.views[name]
        if view.kind is ViewKind.DERIVED:
            source = "derived from other features"
        else:
            contract = definitions.contracts[str(view.source)]
            source = (
                f"`{view.source}` ({contract.department.value}, {contract.kind.value})"
            )
        lines += [
            f"### `{view.name}`",
            "",
            " ".join(view.description.split()),
            "",
            f"Source: {source}"
            + (f"; records where `{view.where}`" if view.where else "")
            + (f"; missing = {view.missing.value}" if view.source else "")
            + ".",
            "",
            "| feature | meaning | computed as | window | risk |",
            "|---|---|---|---|---|",
        ]
        for ref in resolved.outputs:
            if ref.view.name != name:
                continue
            spec = ref.spec
            lines.append(
                f"| `{ref.name}` | {spec.description.replace('|', '/')} | "
                f"{_how(view, spec)} | {spec.window or ''} | {spec.risk.value} |"
            )
        lines.append("")
    lines += ["## Transforms", "", "| transform | meaning |", "|---|---|"]
    lines += [f"| `{n}` | {t.doc} |" for n, t in sorted(TRANSFORMS.items())]
    return "\n".join(lines)
