"""Adapters: turn external data sets into batches the engine ingests.

Each adapter maps a public data set onto the record contracts
(``features/sources``) and writes an input folder for ``credit-engine ingest``,
with the labels needed to evaluate a model on it. Adapters never write to the
lake themselves.

* CUMCM 2020 Problem C (real VAT invoices of 425 small enterprises, graded A-D):
  :func:`convert_cumcm`, ``credit-engine adapt-cumcm``; see ``docs/cumcm.md``.
"""

from __future__ import annotations

from credit_engine.adapters._cumcm import (
    CUMCM_AS_OF,
    CUMCM_GRADES,
    CUMCM_TIMEZONE,
    CumcmBatch,
    convert_cumcm,
    cumcm_uscc,
)

__all__ = [
    "CUMCM_AS_OF",
    "CUMCM_GRADES",
    "CUMCM_TIMEZONE",
    "CumcmBatch",
    "convert_cumcm",
    "cumcm_uscc",
]
