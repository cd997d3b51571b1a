"""Rating runs: every enterprise at a date, from lake to stored decisions.

:class:`RatingEngine` loads the policy, the rule sets, the champion model and
the operational store once; :meth:`RatingEngine.rate` builds the features known
at the rating date, rates them, derives the statutory facts, applies overrides
and the policy (:mod:`credit_engine.decisioning`) and records the run; with
shadow models (:meth:`RatingEngine.shadow_models`) it also records what each
would have decided, as shadow runs that are never served.
:func:`rate_dates` rates several dates with one feature query per batch of
dates. :func:`rate_spark` runs the same rating on Apache Spark: features and
facts as Spark SQL jobs, the model scoring and the decisions on the executors
(``mapInPandas``), the run recorded in the store as on the DuckDB path.
"""

from __future__ import annotations

from credit_engine.rating._encoded import (
    EncodedDecision,
    EncodedInputs,
    encoded_payload,
)
from credit_engine.rating._many import (
    ROWS_PER_QUERY,
    date_batches,
    month_ends_between,
    rate_dates,
)
from credit_engine.rating._replay import (
    ReplayResult,
    decision_payload,
    replay_decision,
)
from credit_engine.rating._run import RatingEngine, RatingResult, score_frame, summarise
from credit_engine.rating._spark import rate_spark

__all__ = [
    "ROWS_PER_QUERY",
    "EncodedDecision",
    "EncodedInputs",
    "RatingEngine",
    "RatingResult",
    "ReplayResult",
    "date_batches",
    "decision_payload",
    "encoded_payload",
    "month_ends_between",
    "rate_dates",
    "rate_spark",
    "replay_decision",
    "score_frame",
    "summarise",
]
