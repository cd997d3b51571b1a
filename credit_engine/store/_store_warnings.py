"""The operational store's reads of early warnings (a mixin of the facade).

Each method opens a read-only unit of work and delegates to
:class:`~credit_engine.store.WarningRepository`, which documents the filters
and the order. Writes go through a unit of work: recording an evaluation
(:func:`credit_engine.early_warning.record_evaluation`) and moving a warning
(:func:`credit_engine.audit.acknowledge_warning`,
:func:`credit_engine.audit.close_warning`) commit together with their audit
entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from credit_engine.store._unit_of_work import open_reader

__all__ = ["WarningReads"]


class WarningReads:
    """Reads of early warnings on :class:`~credit_engine.store.OperationalStore`."""

    engine: Engine

    def list_warnings(  # noqa: PLR0913 - one keyword per filter of the API
        self,
        *,
        status: str | None = None,
        signal: str | Sequence[str] | None = None,
        tier: str | None = None,
        as_of: dt.date | None = None,
        uscc: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> pd.DataFrame:
        """Return a page of warnings, most urgent first.

        See :meth:`WarningRepository.list_warnings
        <credit_engine.store.WarningRepository.list_warnings>`.
        """
        with open_reader(self.engine, "read warnings") as uow:
            return uow.warnings.list_warnings(
                status=status, signal=signal, tier=tier, as_of=as_of, uscc=uscc,
                limit=limit, offset=offset,
            )  # fmt: skip

    def count_warnings(
        self,
        *,
        status: str | None = None,
        signal: str | Sequence[str] | None = None,
        tier: str | None = None,
        as_of: dt.date | None = None,
        uscc: str | None = None,
    ) -> int:
        """Count the warnings :meth:`list_warnings` pages through."""
        with open_reader(self.engine, "count warnings") as uow:
            return uow.warnings.count_warnings(
                status=status, signal=signal, tier=tier, as_of=as_of, uscc=uscc
            )

    def get_warning(self, warning_id: int) -> dict[str, Any]:
        """Return one warning (raises ``EarlyWarningNotFoundError`` if unknown)."""
        with open_reader(self.engine, "read a warning") as uow:
            return uow.warnings.get_warning(warning_id)

    def warning_occurrences(self, warning_id: int) -> list[dict[str, Any]]:
        """Return every evaluation date the warning's signal fired, oldest first."""
        with open_reader(self.engine, "read a warning") as uow:
            return uow.warnings.occurrences(warning_id)

    def warning_status_counts(self) -> pd.DataFrame:
        """Return warnings per signal and status (``signal``, ``status``, ``count``)."""
        with open_reader(self.engine, "count warnings") as uow:
            return uow.warnings.status_counts()
