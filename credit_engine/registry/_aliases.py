"""Alias history: who moved which alias, when and why (MLflow keeps none)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AliasChange", "alias_history", "record_alias_change"]


@dataclass(frozen=True)
class AliasChange:
    """One move of an alias of a registered model.

    Attributes
    ----------
    model : str
        Registered model name.
    alias : str
        ``champion`` or ``challenger``.
    to_version : str
        Version the alias points to after the change.
    from_version : str or None
        Version it pointed to before (None if new).
    actor : str
        Who made the change.
    reason : str
        Why (free text; promotion records the gate results too).
    at : str
        UTC time, ISO 8601.
    gates : list of dict
        Gate results of a promotion (empty for a training's challenger alias).
    """

    model: str
    alias: str
    to_version: str
    from_version: str | None
    actor: str
    reason: str
    at: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    gates: list[dict[str, Any]] = field(default_factory=list)


def record_alias_change(path: Path, change: AliasChange) -> None:
    """Append a change to the history file (JSON lines, append-only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(change), ensure_ascii=False) + "\n")


def alias_history(path: Path, model: str | None = None) -> list[AliasChange]:
    """All recorded changes, oldest first (only ``model``'s when given)."""
    if not path.is_file():
        return []
    changes = [
        AliasChange(**json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [c for c in changes if model is None or c.model == model]
