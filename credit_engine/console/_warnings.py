"""The early-warning queue as the console shows it, over the store and audit log.

The warnings are the early-warning component's (:mod:`credit_engine.early_warning`,
``credit-engine warnings --as-of D``): one row per enterprise and signal in the
store's ``warnings`` table (:class:`credit_engine.store.WarningRepository`),
each with the dates its signal fired and their evidence. The console pages
through them like ``GET /v1/warnings``, adds the signal's zh/en name and
explanation from the signals file that raised it, and moves a warning with
:func:`credit_engine.audit.acknowledge_warning` and
:func:`credit_engine.audit.close_warning` (the move and its audit entry commit
together). Reading a warning's case file is logged like the API's reads
(kind ``warnings_read``, subject the enterprise: 查询留痕).

:class:`WarningsSource` is what the pages need; :class:`StoreWarnings` is the
implementation on the service's store, and tests may inject another one
(``build_console(..., warnings=...)``).
"""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from credit_engine.api._serving import Services
from credit_engine.audit import (
    AuditKind,
    NewEntry,
    acknowledge_warning_unit,
    close_warning_unit,
)
from credit_engine.early_warning import (
    SignalBook,
    load_signal_book,
    signal_book_versions,
)
from credit_engine.exceptions import EarlyWarningNotFoundError
from credit_engine.jsonable import to_jsonable
from credit_engine.store import WarningStatus

__all__ = [
    "WARNING_STATUSES",
    "StoreWarnings",
    "WarningsSource",
    "signal_books",
]

WARNING_STATUSES: tuple[str, ...] = tuple(WarningStatus.values())
"""A warning's lifecycle: ``new`` → ``acknowledged`` → ``closed`` (or new → closed)."""


@runtime_checkable
class WarningsSource(Protocol):
    """What the warnings pages need from the early-warning queue.

    A warning is a mapping of the store's ``warnings`` columns
    (:data:`credit_engine.store.WARNING_DTYPES`: ``warning_id``, ``uscc``,
    ``signal``, ``priority``, ``status``, ``first_as_of``, ``last_as_of``,
    ``times_seen``, ``tier``, ``grade``, ``pd``, ``evidence``, who acknowledged
    and closed it with their notes ...) plus ``signal_info`` (code, department,
    weight, ``name`` and ``explanation`` as ``{"zh", "en"}``, or ``None``);
    :meth:`get_warning` adds ``occurrences`` (every date its signal fired:
    ``as_of``, ``priority``, ``evidence``), oldest first.
    """

    def signals(self) -> list[dict[str, Any]]:
        """Return the signals of the newest signals file (for the filter)."""
        ...

    def list_warnings(  # noqa: PLR0913 - one keyword per filter
        self,
        *,
        status: str | None,
        signal: str | None,
        tier: str | None,
        uscc: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return a page of warnings, most urgent first, and the count matching."""
        ...

    def get_warning(self, warning_id: int) -> dict[str, Any] | None:
        """Return one warning with its evidence and occurrences, or ``None``."""
        ...

    def record_read(self, actor: str, warning: dict[str, Any], *, role: str) -> None:
        """Log that ``actor`` opened ``warning``'s case file (查询留痕)."""
        ...

    def acknowledge(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Move a new warning to acknowledged, audited; return it."""
        ...

    def close(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Close a new or acknowledged warning with a note, audited; return it."""
        ...


@functools.cache
def signal_books(definitions_dir: Path) -> dict[int, SignalBook]:
    """Every version of the signals file under ``definitions_dir`` (cached)."""
    return {
        v: load_signal_book(definitions_dir, version=v)
        for v in signal_book_versions(definitions_dir)
    }


def _info(book: SignalBook | None, code: str) -> dict[str, Any] | None:
    if book is None:
        return None
    try:
        s = book.signal(code)
    except KeyError:
        return None
    return {
        "code": s.code,
        "version": book.version,
        "kind": str(s.kind),
        "department": str(s.department),
        "weight": s.weight,
        "name": s.name.model_dump(),
        "explanation": s.explanation.model_dump(),
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(k): v for k, v in r.items()} for r in rows]


class StoreWarnings:
    """The warnings of the service's store, moved through its audit log.

    Parameters
    ----------
    services : credit_engine.api.Services
        The API's store, audit log and settings (signals files under the
        definitions folder).
    """

    def __init__(self, services: Services) -> None:
        self.services = services

    def _books(self) -> dict[int, SignalBook]:
        return signal_books(self.services.settings.definitions_dir)

    def _shaped(self, row: dict[str, Any]) -> dict[str, Any]:
        books = self._books()
        version = row.get("signals_version")
        book = books.get(int(version)) if version is not None else None
        out: dict[str, Any] = dict(row)
        out["signal_info"] = _info(book, str(row["signal"]))
        return out

    def signals(self) -> list[dict[str, Any]]:
        """Return the signals of the newest signals file, in file order."""
        books = self._books()
        if not books:
            return []
        latest = books[max(books)]
        return [i for c in latest.codes if (i := _info(latest, c)) is not None]

    def list_warnings(  # noqa: PLR0913 - one keyword per filter
        self,
        *,
        status: str | None,
        signal: str | None,
        tier: str | None,
        uscc: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict[str, Any]], int]:
        """Return a page of warnings, most urgent first, and the count matching."""
        store = self.services.store
        filters: dict[str, Any] = {
            "status": status,
            "signal": signal,
            "tier": tier,
            "uscc": uscc,
        }
        frame = store.list_warnings(**filters, limit=limit, offset=offset)
        count = store.count_warnings(**filters)
        return [self._shaped(r) for r in _records(frame)], count

    def get_warning(self, warning_id: int) -> dict[str, Any] | None:
        """Return one warning with its signal's texts and every date it fired."""
        store = self.services.store
        try:
            row = store.get_warning(warning_id)
        except EarlyWarningNotFoundError:
            return None
        out = self._shaped(row)
        out["occurrences"] = store.warning_occurrences(warning_id)
        return out

    def record_read(self, actor: str, warning: dict[str, Any], *, role: str) -> None:
        """Append ``warnings_read`` (subject the enterprise) to the audit log."""
        entry = NewEntry(
            AuditKind.WARNINGS_READ.value,
            actor,
            to_jsonable(
                {
                    "warning_id": warning["warning_id"],
                    "signal": warning["signal"],
                    "status": warning["status"],
                    "role": role,
                    "via": "console",
                    "at": dt.datetime.now(dt.UTC),
                },
                where="warning read",
            ),
            subject=str(warning["uscc"]),
        )
        self.services.writer.append_sync([entry])

    def acknowledge(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Acknowledge a new warning; the move and its audit entry commit together."""
        row, _entry = self.services.writer.run_sync(
            acknowledge_warning_unit(warning_id, actor, note or None)
        )
        return self._shaped(row)

    def close(self, warning_id: int, *, actor: str, note: str) -> dict[str, Any]:
        """Close a new or acknowledged warning with a note, audited atomically."""
        row, _entry = self.services.writer.run_sync(
            close_warning_unit(warning_id, actor, note)
        )
        return self._shaped(row)
