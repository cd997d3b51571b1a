"""Compute the warnings at a date and store them with their audit entry."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from credit_engine.audit import AuditKind, AuditLog
from credit_engine.config import Settings
from credit_engine.early_warning._evaluate import Evaluation, evaluate_warnings
from credit_engine.early_warning._spec import SignalBook, load_signal_book
from credit_engine.features import Definitions, LakeSources, load_definitions
from credit_engine.rules import RuleBook
from credit_engine.store import OperationalStore, RecordedWarnings

__all__ = ["WarningRun", "WarningSetup", "record_evaluation", "run_warnings"]


@dataclass
class WarningSetup:
    """Everything an evaluation reads, loaded once (reuse it across dates).

    Attributes
    ----------
    settings : Settings
    definitions : Definitions
    book : SignalBook
        The signals, checked against the columns of their feature set.
    rulebook : RuleBook
    """

    settings: Settings
    definitions: Definitions
    book: SignalBook
    rulebook: RuleBook

    @classmethod
    def load(cls, settings: Settings, *, version: int | None = None) -> WarningSetup:
        """Load the definitions, the signals (latest version by default), the rules."""
        definitions = load_definitions(settings.definitions_dir)
        probe = load_signal_book(settings.definitions_dir, version=version)
        columns = definitions.resolve(probe.feature_set).columns
        book = load_signal_book(
            settings.definitions_dir, version=probe.version, feature_columns=columns
        )
        return cls(settings, definitions, book, RuleBook.load(settings.definitions_dir))

    def evaluate(
        self, as_of: dt.date, *, store: OperationalStore | None = None
    ) -> Evaluation:
        """Evaluate every signal at ``as_of`` on the engine home's lake."""
        sources = LakeSources.from_settings(self.settings, self.definitions.contracts)
        return evaluate_warnings(
            as_of, book=self.book, definitions=self.definitions, sources=sources,
            rulebook=self.rulebook, store=store,
        )  # fmt: skip


@dataclass
class WarningRun:
    """An evaluation and what storing it did.

    Attributes
    ----------
    evaluation : Evaluation
    recorded : RecordedWarnings
    audit_seq : int
        The audit entry of the run (kind ``warnings_evaluated``).
    timings : dict of str to float
    """

    evaluation: Evaluation
    recorded: RecordedWarnings
    audit_seq: int
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """Return the evaluation's figures plus what was stored (``--report-json``)."""
        out = self.evaluation.summary()
        out["stored"] = {
            "opened": self.recorded.opened,
            "continued": self.recorded.continued,
            "already_closed": self.recorded.already_closed,
            "audit_seq": self.audit_seq,
        }
        out["seconds"] = {k: round(v, 2) for k, v in self.timings.items()}
        return out


def record_evaluation(
    log: AuditLog, evaluation: Evaluation, actor: str
) -> tuple[RecordedWarnings, int]:
    """Store an evaluation's warnings and its audit entry in one transaction.

    Parameters
    ----------
    log : AuditLog
        The audit log of the store that receives the warnings.
    evaluation : Evaluation
        What :func:`evaluate_warnings` returned.
    actor : str
        Who ran it.

    Returns
    -------
    (RecordedWarnings, int)
        What the store did and the ``seq`` of the audit entry (kind
        ``warnings_evaluated``: date, signals version, counts per signal).
    """
    book = evaluation.book
    with log.transaction() as tx:
        recorded = tx.unit_of_work.warnings.record_warnings(
            evaluation.as_of, evaluation.warnings, signals_version=book.version
        )
        payload = evaluation.summary()
        payload.pop("seconds", None)
        payload["opened"] = recorded.opened
        payload["continued"] = recorded.continued
        entry = tx.append(AuditKind.WARNINGS_EVALUATED.value, actor, payload)
    return recorded, entry.seq


def run_warnings(
    settings: Settings,
    as_of: dt.date,
    *,
    actor: str = "cli",
    store: OperationalStore | None = None,
    setup: WarningSetup | None = None,
) -> WarningRun:
    """Evaluate the signals at ``as_of`` and store the warnings (the CLI command).

    Parameters
    ----------
    settings : Settings
        Engine home: the lake, the definitions, the operational store.
    as_of : datetime.date
        Evaluation date.
    actor : str, default="cli"
        Who runs it (audit log).
    store : OperationalStore, optional
        Default: ``settings.database_url``.
    setup : WarningSetup, optional
        Loaded definitions to reuse (default: loaded now, latest signals).

    Returns
    -------
    WarningRun
    """
    clock = time.perf_counter()
    setup = setup or WarningSetup.load(settings)
    store = store or OperationalStore.from_settings(settings)
    timings = {"load": time.perf_counter() - clock}
    evaluation = setup.evaluate(as_of, store=store)
    timings.update(evaluation.timings)
    clock = time.perf_counter()
    recorded, seq = record_evaluation(AuditLog(store), evaluation, actor)
    timings["store"] = time.perf_counter() - clock
    timings["total"] = sum(timings.values())
    return WarningRun(evaluation, recorded, seq, timings)
