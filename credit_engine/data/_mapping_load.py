"""Read a source mapping file and check it against the contracts and vocabularies.

The models live in :mod:`credit_engine.data._mapping_spec`, the checks against
the contracts in :mod:`credit_engine.data._mapping_validate`; this module ties
them together, so that imports point one way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from credit_engine.data._contracts import SourceContract
from credit_engine.data._mapping_spec import SourceMapping, VocabularyRef, close_names
from credit_engine.data._mapping_validate import check_against_contracts
from credit_engine.exceptions import ConfigurationError

__all__ = ["load_mapping", "load_vocabulary"]


def _where(raw: Any, loc: tuple[Any, ...]) -> str:
    """Name a pydantic error location: source 'x' → table.column (field)."""
    parts: list[str] = []
    node = raw
    for i, key in enumerate(loc):
        if isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            label = (
                node.get("name") or node.get("table")
                if isinstance(node, dict)
                else None
            )
            prev = loc[i - 1] if i else ""
            if label and prev == "sources":
                parts.append(f"source {label!r}")
            elif label and prev == "targets":
                parts.append(f"table {label!r}")
            else:
                parts.append(f"[{key}]")
            continue
        if key in ("sources", "targets"):
            node = node.get(key) if isinstance(node, dict) else None
            continue
        parts.append(str(key))
        node = node.get(key) if isinstance(node, dict) else None
    return " → ".join(parts) or "(top level)"


def _format_errors(path: Path, raw: Any, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:8]:
        loc = tuple(
            p for p in err["loc"] if not str(p).startswith(("function-", "str", "int"))
        )
        lines.append(f"  - {_where(raw, loc)}: {err['msg']}")
    more = len(exc.errors()) - 8
    if more > 0:
        lines.append(f"  ... and {more} more")
    return f"Invalid source mapping {path}:\n" + "\n".join(lines)


def load_vocabulary(definitions_dir: Path, name: str) -> dict[str, str]:
    """Return a vocabulary as a label-to-code map (codes, Chinese, English, aliases).

    Raises
    ------
    ConfigurationError
        If ``features/vocabularies/<name>.yaml`` is missing or malformed.
    """
    folder = Path(definitions_dir) / "features" / "vocabularies"
    path = folder / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        raise ConfigurationError(
            f"No vocabulary {name!r} in {folder}.{close_names(name, known)}"
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigurationError(f"Vocabulary {path} has no list 'entries'.")
    labels: dict[str, str] = {}
    for entry in entries:
        code = str(entry["code"])
        for label in (
            code,
            entry.get("zh"),
            entry.get("en"),
            *entry.get("aliases", ()),
        ):
            if label is not None:
                labels[str(label)] = code
    return labels


def load_mapping(
    path: Path,
    contracts: dict[str, SourceContract],
    *,
    definitions_dir: Path | None = None,
) -> SourceMapping:
    """Read a mapping file and check it against the contracts.

    Parameters
    ----------
    path : pathlib.Path
        The YAML file.
    contracts : dict of str to SourceContract
        Known contracts.
    definitions_dir : pathlib.Path, optional
        Folder holding ``features/vocabularies`` (for ``values: {vocabulary: ...}``).

    Returns
    -------
    SourceMapping
        The checked mapping (vocabularies resolved).

    Raises
    ------
    ConfigurationError
        Listing every problem, each naming the file, the source, the table and
        the column, with a suggestion (a close contract column or table name).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        raw: Any = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read source mapping {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"Source mapping {path} must be a YAML mapping with 'sources', got "
            f"{type(raw).__name__}."
        )
    try:
        mapping = SourceMapping.model_validate(
            {**raw, "path": path.absolute(), "text": text}
        )
    except ValidationError as exc:
        raise ConfigurationError(_format_errors(path, raw, exc)) from exc
    vocabularies: dict[str, dict[str, str]] = {}
    problems = check_against_contracts(mapping, contracts)
    wanted = {
        c.values.vocabulary
        for s in mapping.sources
        for t in s.targets
        for c in t.columns.values()
        if isinstance(c.values, VocabularyRef)
    }
    for name in sorted(wanted):
        if definitions_dir is None:
            problems.append(f"vocabulary {name!r} needs the definitions folder")
            continue
        try:
            vocabularies[name] = load_vocabulary(definitions_dir, name)
        except ConfigurationError as exc:
            problems.append(exc.message)
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise ConfigurationError(
            f"Source mapping {path} does not fit the record contracts "
            f"({len(problems)} problem(s)):\n{lines}"
        )
    return mapping.model_copy(update={"vocabularies": vocabularies})
