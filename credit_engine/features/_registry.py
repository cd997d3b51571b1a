"""Load, check and resolve the feature definitions against the record contracts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlglot
import yaml
from pydantic import ValidationError
from sqlglot import exp

from credit_engine.data import RecordKind, SourceContract, load_contracts
from credit_engine.exceptions import ConfigurationError
from credit_engine.features._spec import (
    Aggregation,
    FeatureSet,
    FeatureSpec,
    FeatureView,
    ViewKind,
)
from credit_engine.features._transforms import TRANSFORMS

__all__ = [
    "Definitions",
    "FeatureRef",
    "ResolvedSet",
    "check_expression",
    "load_definitions",
]

RESERVED = {"as_of"}
"""Names usable in expressions besides the source's columns."""


@dataclass(frozen=True)
class FeatureRef:
    """A feature of a view."""

    view: FeatureView
    spec: FeatureSpec

    @property
    def name(self) -> str:
        """Column name ``<view>__<feature>``."""
        return self.view.full_name(self.spec.name)

    @property
    def ref(self) -> str:
        """Reference ``view:feature``."""
        return f"{self.view.name}:{self.spec.name}"


@dataclass(frozen=True)
class ResolvedSet:
    """A feature set ready to compile.

    Attributes
    ----------
    feature_set : FeatureSet
        The set as defined.
    outputs : list of FeatureRef
        The set's features, in order (the snapshot's columns).
    needed : list of FeatureRef
        Every feature to compute: the outputs plus the inputs of derived ones.
    fingerprint : str
        SHA-256 of the definitions and contracts the set depends on.
    """

    feature_set: FeatureSet
    outputs: list[FeatureRef]
    needed: list[FeatureRef]
    fingerprint: str

    @property
    def name(self) -> str:
        """The set's versioned name."""
        return self.feature_set.name

    @property
    def columns(self) -> list[str]:
        """Feature column names of a snapshot of this set."""
        return [f.name for f in self.outputs]


def check_expression(sql: str, allowed: Iterable[str], where: str) -> None:
    """Check an SQL expression of a definition: parseable, row-level, known columns.

    Raises
    ------
    ConfigurationError
        Naming the definition (``where``), the problem and the allowed columns.
    """
    allowed = set(allowed)
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise ConfigurationError(f"{where}: cannot parse SQL {sql!r}: {exc}") from exc
    if any(tree.find_all(exp.Select, exp.AggFunc, exp.Window)):
        raise ConfigurationError(
            f"{where}: {sql!r} must be a row-level expression (no SELECT, aggregate "
            "or window function); the aggregation is the feature's 'agg'."
        )
    unknown = sorted({c.name for c in tree.find_all(exp.Column)} - allowed)
    if unknown:
        shown = ", ".join(sorted(allowed)[:40])
        raise ConfigurationError(
            f"{where}: unknown column(s) {unknown} in {sql!r}; available: {shown}."
        )


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc}") from exc


def _parse(model: type[FeatureView] | type[FeatureSet], path: Path) -> Any:
    raw = _load_yaml(path)
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path} must hold a YAML mapping.")
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"  - {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        raise ConfigurationError(
            f"Invalid definition {path}:\n" + "\n".join(lines)
        ) from exc
    if parsed.name != path.stem:
        raise ConfigurationError(
            f"{path} defines {parsed.name!r}; name the file {parsed.name}.yaml."
        )
    return parsed


def _check_view(view: FeatureView, contracts: Mapping[str, SourceContract]) -> None:
    if view.kind is ViewKind.DERIVED:
        return
    if view.source not in contracts:
        raise ConfigurationError(
            f"view {view.name!r}: unknown source {view.source!r}; known sources: "
            f"{', '.join(sorted(contracts))}."
        )
    contract = contracts[str(view.source)]
    expected = ViewKind.EVENT if contract.kind is RecordKind.EVENT else ViewKind.STATE
    if view.kind is not expected:
        raise ConfigurationError(
            f"view {view.name!r} is kind {view.kind.value!r} but its source "
            f"{view.source!r} is a {contract.kind.value} table; use kind "
            f"{expected.value!r}."
        )
    allowed = set(contract.column_names) | RESERVED
    if view.where:
        check_expression(view.where, allowed, f"view {view.name!r} where")
    for f in view.features:
        label = f"view {view.name!r}, feature {f.name!r}"
        for attr in ("where", "expr"):
            value = getattr(f, attr)
            if value:
                check_expression(value, allowed, f"{label} {attr}")
        for attr in ("column", "by"):
            value = getattr(f, attr)
            if value is not None and value not in contract.column_names:
                raise ConfigurationError(
                    f"{label}: unknown {attr} {value!r} of source {view.source!r}; "
                    f"columns: {', '.join(contract.column_names)}."
                )


@dataclass
class Definitions:
    """Every feature view and feature set, checked against the contracts.

    Attributes
    ----------
    views : dict of str to FeatureView
    sets : dict of str to FeatureSet
    contracts : dict of str to SourceContract
    file_hashes : dict of str to str
        SHA-256 of every definition file, by relative path (lineage).
    """

    views: dict[str, FeatureView]
    sets: dict[str, FeatureSet]
    contracts: dict[str, SourceContract]
    file_hashes: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Definitions(views={len(self.views)}, sets={sorted(self.sets)}, "
            f"contracts={len(self.contracts)})"
        )

    def feature(self, ref: str, context: str) -> FeatureRef:
        """Resolve ``view:feature``.

        Raises
        ------
        ConfigurationError
            If the view or the feature does not exist.
        """
        view_name, _, feat = ref.partition(":")
        if view_name not in self.views:
            raise ConfigurationError(
                f"{context}: unknown view {view_name!r} in {ref!r}; views: "
                f"{', '.join(sorted(self.views))}."
            )
        view = self.views[view_name]
        for spec in view.features:
            if spec.name == feat:
                return FeatureRef(view, spec)
        raise ConfigurationError(
            f"{context}: view {view_name!r} has no feature {feat!r}; it has "
            f"{', '.join(f.name for f in view.features)}."
        )

    def _inputs(self, ref: FeatureRef) -> list[FeatureRef]:
        return [
            self.feature(x, f"feature {ref.ref}")
            for x in ref.spec.inputs
            if isinstance(x, str)
        ]

    def resolve(self, set_name: str) -> ResolvedSet:
        """Resolve a feature set: its outputs and everything they need.

        Raises
        ------
        ConfigurationError
            For an unknown set or reference, or a cycle among derived features.
        """
        if set_name not in self.sets:
            raise ConfigurationError(
                f"unknown feature set {set_name!r}; "
                f"sets: {', '.join(sorted(self.sets))}."
            )
        return self._resolve(self.sets[set_name])

    def resolve_features(
        self, refs: Iterable[str], name: str = "adhoc_v1"
    ) -> ResolvedSet:
        """Resolve an ad-hoc list of ``view:feature`` references as a feature set.

        Raises
        ------
        ConfigurationError
            For an unknown reference.
        """
        try:
            fs = FeatureSet(name=name, description="ad hoc", features=tuple(refs))
        except ValidationError as exc:
            raise ConfigurationError(f"Invalid feature references: {exc}") from exc
        return self._resolve(fs)

    def _resolve(self, fs: FeatureSet) -> ResolvedSet:
        set_name = fs.name
        outputs: list[FeatureRef] = []
        for item in fs.features:
            view_name, _, feat = item.partition(":")
            if feat == "*":
                if view_name not in self.views:
                    raise ConfigurationError(
                        f"feature set {set_name!r}: unknown view {view_name!r} in "
                        f"{item!r}; views: {', '.join(sorted(self.views))}."
                    )
                view = self.views[view_name]
                outputs += [FeatureRef(view, s) for s in view.features]
            else:
                outputs.append(self.feature(item, f"feature set {set_name!r}"))
        needed: dict[str, FeatureRef] = {}

        def visit(ref: FeatureRef, path: tuple[str, ...]) -> None:
            if ref.name in path:
                raise ConfigurationError(
                    f"derived features form a cycle: {path + (ref.name,)}"
                )
            for dep in self._inputs(ref):
                visit(dep, (*path, ref.name))
            needed.setdefault(ref.name, ref)

        for ref in outputs:
            visit(ref, ())
        views = sorted({r.view.name for r in needed.values()})
        sources = sorted(
            {str(self.views[v].source) for v in views if self.views[v].source}
        )
        digest = hashlib.sha256()
        digest.update(fs.model_dump_json().encode())
        for v in views:
            digest.update(self.views[v].model_dump_json().encode())
        for s in sources:
            digest.update(self.contracts[str(s)].fingerprint().encode())
        unique_outputs = list({r.name: r for r in outputs}.values())
        return ResolvedSet(
            fs, unique_outputs, list(needed.values()), digest.hexdigest()
        )


def load_definitions(definitions_dir: Path) -> Definitions:
    """Load contracts, feature views and feature sets from ``definitions_dir``.

    Parameters
    ----------
    definitions_dir : pathlib.Path
        Folder holding ``features/sources``, ``features/views`` and ``features/sets``.

    Returns
    -------
    Definitions
        Checked definitions.

    Raises
    ------
    ConfigurationError
        Naming the file and the problem: unknown source, column or transform,
        malformed SQL, a bad reference or duplicate names.
    """
    root = Path(definitions_dir) / "features"
    contracts = load_contracts(root / "sources")
    views: dict[str, FeatureView] = {}
    hashes: dict[str, str] = {}
    for path in sorted((root / "views").glob("*.yaml")):
        view = _parse(FeatureView, path)
        _check_view(view, contracts)
        views[view.name] = view
        hashes[str(path.relative_to(root))] = hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
    sets: dict[str, FeatureSet] = {}
    for path in sorted((root / "sets").glob("*.yaml")):
        fs = _parse(FeatureSet, path)
        sets[fs.name] = fs
        hashes[str(path.relative_to(root))] = hashlib.sha256(
            path.read_bytes()
        ).hexdigest()
    defs = Definitions(views, sets, contracts, hashes)
    for view in views.values():
        for spec in view.features:
            if spec.agg is Aggregation.TRANSFORM:
                _check_transform(defs, view, spec)
    for name in sets:
        defs.resolve(name)
    return defs


def _check_transform(defs: Definitions, view: FeatureView, spec: FeatureSpec) -> None:
    label = f"view {view.name!r}, feature {spec.name!r}"
    if spec.transform not in TRANSFORMS:
        raise ConfigurationError(
            f"{label}: unknown transform {spec.transform!r}; known: "
            f"{', '.join(sorted(TRANSFORMS))}."
        )
    t = TRANSFORMS[spec.transform]
    low, high = t.arity
    n = len(spec.inputs)
    if n < low or (high is not None and n > high):
        span = "" if high == low else "+" if high is None else f"-{high}"
        raise ConfigurationError(
            f"{label}: transform {spec.transform!r} takes {low}{span} inputs, got {n}."
        )
    missing = [p for p in t.params if p not in spec.params]
    if missing:
        raise ConfigurationError(
            f"{label}: transform {spec.transform!r} needs params {missing}."
        )
    for x in spec.inputs:
        if isinstance(x, str):
            defs.feature(x, label)
