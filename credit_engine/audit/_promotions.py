"""Model promotions (alias moves) as audit entries of kind ``model_promotion``.

The registry (:mod:`credit_engine.registry`) logs every move of a model alias
(``champion``, ``challenger``) here: who, when, why, from which version to
which, and the promotion gates' results. The history file older releases wrote
(``HOME/mlflow/alias_history.jsonl``) is imported once, line by line
(:func:`import_legacy_promotions`), and is from then on only an export.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from credit_engine.audit._chain import AuditEntry, NewEntry
from credit_engine.audit._log import AuditLog
from credit_engine.exceptions import AuditError

__all__ = ["PROMOTION_KIND", "import_legacy_promotions", "promotion_entries"]

PROMOTION_KIND = "model_promotion"
"""Kind of the entries recording alias moves."""

_PAGE = 10_000


def promotion_entries(log: AuditLog, model: str | None = None) -> list[AuditEntry]:
    """Every ``model_promotion`` entry (of ``model``'s alias moves), oldest first."""
    out: list[AuditEntry] = []
    offset = 0
    while True:
        page = log.entries(
            kind=PROMOTION_KIND, subject=model, limit=_PAGE, offset=offset
        )
        out.extend(page)
        if len(page) < _PAGE:
            return out
        offset += _PAGE


def _identity(payload: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (
        str(payload.get("model")),
        str(payload.get("alias")),
        str(payload.get("to_version")),
        str(payload.get("at")),
    )


def import_legacy_promotions(log: AuditLog, path: Path) -> int:
    """Append the lines of an alias-history JSONL file not yet in the log.

    A line is in the log when an entry has the same model, alias, target
    version and time. Imported entries say ``"imported_from"``; their actor is
    the line's. All are appended in one transaction.

    Returns
    -------
    int
        Lines imported now (0 when the file is missing or all are in the log).

    Raises
    ------
    AuditError
        If a line is not a JSON object with ``model``, ``alias``, ``to_version``,
        ``actor`` and ``at`` (naming the line; nothing is imported).
    """
    path = Path(path)
    if not path.is_file():
        return 0
    lines = [
        (n, line)
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if line.strip()
    ]
    if not lines:
        return 0
    known = {_identity(e.payload) for e in promotion_entries(log)}
    new: list[NewEntry] = []
    for number, line in lines:
        try:
            change = json.loads(line)
            if not isinstance(change, dict):
                raise ValueError("not a JSON object")
            missing = [
                k
                for k in ("model", "alias", "to_version", "actor", "at")
                if not change.get(k)
            ]
            if missing:
                raise ValueError(f"missing {missing}")
        except ValueError as exc:
            raise AuditError(
                f"Cannot import line {number} of {path} into the audit log: {exc}. "
                "Fix or remove that line; nothing was imported."
            ) from None
        if _identity(change) in known:
            continue
        known.add(_identity(change))
        new.append(
            NewEntry(
                PROMOTION_KIND,
                str(change["actor"]),
                {**change, "imported_from": path.name},
                subject=str(change["model"]),
            )
        )
    log.append_many(new)
    return len(new)
