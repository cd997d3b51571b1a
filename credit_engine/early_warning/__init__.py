"""Enterprise early warning: signals as data, evaluated point in time, a work queue.

The signals are a versioned YAML file (``models/warnings/signals_v<N>.yaml``,
:func:`load_signal_book`): each has a stable code (``EW-01`` ...), a
department, zh/en text, a weight and its thresholds and windows. Three kinds:
conditions on point-in-time features (the ``warnings_v1`` feature set, views
``features/views/ew_*.yaml``), a jump of the stored master-scale grade, and a
new adverse statutory fact. :func:`evaluate_warnings` evaluates every signal
for every enterprise at a date (one feature query, one facts query, two reads
of stored ratings) and ranks the enterprises by priority;
:func:`run_warnings` (``credit-engine warnings --as-of D``) stores the result
in the operational store (:class:`credit_engine.store.WarningRepository`),
where a supervisor acknowledges and closes each warning
(:func:`credit_engine.audit.acknowledge_warning`,
:func:`credit_engine.audit.close_warning`). :func:`warning_quality` measures
the warnings against a simulated zone's truth (precision at the top of the
queue, lead time before the first statutory fact).
"""

from __future__ import annotations

from credit_engine.early_warning._evaluate import (
    WARNING_FRAME_COLUMNS,
    Evaluation,
    evaluate_warnings,
    grade_notch,
    rank_enterprises,
)
from credit_engine.early_warning._quality import (
    HISTORY_COLUMNS,
    Quality,
    Truth,
    load_truth,
    month_ends,
    warning_history,
    warning_quality,
)
from credit_engine.early_warning._run import (
    WarningRun,
    WarningSetup,
    record_evaluation,
    run_warnings,
)
from credit_engine.early_warning._spec import (
    Alternative,
    Clause,
    FactEffect,
    FeatureRuleSignal,
    GradeJumpSignal,
    Op,
    Signal,
    SignalBook,
    SignalKind,
    StatutoryFactSignal,
    Text,
    load_signal_book,
    signal_book_versions,
)

__all__ = [
    "HISTORY_COLUMNS",
    "WARNING_FRAME_COLUMNS",
    "Alternative",
    "Clause",
    "Evaluation",
    "FactEffect",
    "FeatureRuleSignal",
    "GradeJumpSignal",
    "Op",
    "Quality",
    "Signal",
    "SignalBook",
    "SignalKind",
    "StatutoryFactSignal",
    "Text",
    "Truth",
    "WarningRun",
    "WarningSetup",
    "evaluate_warnings",
    "grade_notch",
    "load_signal_book",
    "load_truth",
    "month_ends",
    "rank_enterprises",
    "record_evaluation",
    "run_warnings",
    "signal_book_versions",
    "warning_history",
    "warning_quality",
]
