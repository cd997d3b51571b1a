"""Custom Great Expectations expectation: valid Unified Social Credit Codes.

Importing this module imports great_expectations (seconds); only the validation
module imports it, lazily, when an ingestion run starts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from great_expectations.execution_engine.pandas_execution_engine import (
    PandasExecutionEngine,
)
from great_expectations.execution_engine.sparkdf_execution_engine import (
    SparkDFExecutionEngine,
)
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics.map_metric_provider.column_condition_partial import (  # noqa: E501
    column_condition_partial,
)
from great_expectations.expectations.metrics.map_metric_provider.column_map_metric_provider import (  # noqa: E501
    ColumnMapMetricProvider,
)

from credit_engine.uscc import valid_uscc_mask

__all__ = ["ColumnValuesValidUscc", "ExpectColumnValuesToBeValidUscc"]


class ColumnValuesValidUscc(ColumnMapMetricProvider):
    """Row-wise metric ``column_values.valid_uscc`` (GB 32100-2015 check)."""

    condition_metric_name = "column_values.valid_uscc"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        # The same enterprise appears on many rows: check each distinct code once.
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
        valid_unique = valid_uscc_mask(np.asarray(uniques, dtype=object))
        valid = np.zeros(len(column), dtype=bool)
        present = codes >= 0
        valid[present] = valid_unique[codes[present]]
        return pd.Series(valid, index=column.index)

    @column_condition_partial(engine=SparkDFExecutionEngine)
    def _spark(cls, column: Any, **kwargs: Any) -> Any:
        # The same test as a Spark SQL expression, evaluated on the executors
        # (ingest --engine spark); pyspark is there whenever this runs.
        from pyspark.sql import functions as F  # noqa: N812

        from credit_engine.data._spark_sql import uscc_valid_sql

        name = str(kwargs["_accessor_domain_kwargs"]["column"])
        return F.expr(uscc_valid_sql(name))


class ExpectColumnValuesToBeValidUscc(ColumnMapExpectation):
    """Expect column values to be valid Unified Social Credit Codes.

    A valid code has 18 characters from the GB 32100-2015 set and a correct check
    character (:func:`credit_engine.uscc.valid_uscc_mask`). Nulls are ignored, as
    in every column-map expectation; pair it with a not-null expectation.

    Parameters
    ----------
    column : str
        Column to check.
    mostly : float, default=1.0
        Share of non-null values that must be valid.
    """

    map_metric = "column_values.valid_uscc"
    success_keys = ("mostly",)
