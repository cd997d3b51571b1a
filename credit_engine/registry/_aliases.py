"""Alias history: who moved which alias, when and why, in the audit log.

MLflow keeps no history of its aliases. Every move is appended to the
operational store's hash-chained audit log as an entry of kind
``model_promotion`` (:mod:`credit_engine.audit`), so promotions are covered by
the same tamper evidence as decisions and overrides. The JSON-lines file of
older releases (``HOME/mlflow/alias_history.jsonl``) is imported into the log
the first time the history is read or written, and is now only an export
(:func:`export_alias_history`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from credit_engine.audit import (
    PROMOTION_KIND,
    AuditLog,
    import_legacy_promotions,
    promotion_entries,
)
from credit_engine.config import Settings
from credit_engine.store import OperationalStore

__all__ = [
    "AliasChange",
    "alias_history",
    "alias_history_path",
    "export_alias_history",
    "record_alias_change",
]


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
    seq : int or None
        The audit entry that records it (None until recorded).
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
    seq: int | None = None

    def to_json_dict(self) -> dict[str, Any]:
        """Return the fields of the history file (``seq`` left out)."""
        out = asdict(self)
        del out["seq"]
        return out


_FIELDS = {f.name for f in fields(AliasChange)} - {"seq"}


def alias_history_path(settings: Settings) -> Path:
    """Return the alias-history file of older releases (imported; now an export)."""
    return settings.home / "mlflow" / "alias_history.jsonl"


def _log(settings: Settings) -> AuditLog:
    log = AuditLog(OperationalStore.from_settings(settings))
    import_legacy_promotions(log, alias_history_path(settings))
    return log


def record_alias_change(settings: Settings, change: AliasChange) -> AliasChange:
    """Append an alias move to the audit log (kind ``model_promotion``).

    Returns
    -------
    AliasChange
        The change with the ``seq`` of its entry.
    """
    entry = _log(settings).append(
        PROMOTION_KIND, change.actor, change.to_json_dict(), subject=change.model
    )
    return AliasChange(**{**change.to_json_dict(), "seq": entry.seq})


def alias_history(settings: Settings, model: str | None = None) -> list[AliasChange]:
    """All recorded alias moves, oldest first (only ``model``'s when given).

    Read from the audit log (after importing an older release's history file).
    """
    return [
        AliasChange(**{k: v for k, v in e.payload.items() if k in _FIELDS}, seq=e.seq)
        for e in promotion_entries(_log(settings), model)
    ]


def export_alias_history(
    settings: Settings, path: Path, model: str | None = None
) -> int:
    """Write the alias history as JSON lines (the older releases' file format).

    Returns
    -------
    int
        Lines written.
    """
    changes = alias_history(settings, model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        json.dumps(c.to_json_dict(), ensure_ascii=False) + "\n" for c in changes
    )
    path.write_text(text, encoding="utf-8")
    return len(changes)
