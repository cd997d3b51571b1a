"""Day arithmetic written in integer microseconds on Spark equals the calendar's.

``to_spark(..., timestamp_columns=...)`` rewrites ``CAST(ts AS DATE)`` and
``ts < as_of - INTERVAL 'N' DAY`` into integer arithmetic (Spark would go
through the session calendar for every record). Both forms run on Spark over
instants at and around midnight, before 1970 and on leap days, and must give
the same dates and the same comparisons as the calendar form and as DuckDB.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from credit_engine.config import Settings
from credit_engine.features import load_definitions, to_spark
from credit_engine.features._sql import timestamp_columns

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.xdist_group("spark"),
]

UTC = dt.UTC
INSTANTS = [
    dt.datetime(2024, 2, 29, 0, 0, tzinfo=UTC),
    dt.datetime(2024, 2, 28, 23, 59, 59, 999_999, tzinfo=UTC),
    dt.datetime(2024, 3, 1, 0, 0, 0, 1, tzinfo=UTC),
    dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    dt.datetime(1969, 12, 31, 0, 0, tzinfo=UTC),
    dt.datetime(1900, 1, 1, 12, 0, tzinfo=UTC),
    dt.datetime(1970, 1, 1, 0, 0, tzinfo=UTC),
    dt.datetime(2026, 6, 30, 23, 59, 59, tzinfo=UTC),
    dt.datetime(2025, 7, 1, 0, 0, tzinfo=UTC),
]
AS_OF = [dt.date(2025, 6, 30), dt.date(2024, 3, 1), dt.date(1970, 1, 1)]

QUERY = (
    "SELECT i, as_of, CAST(event_ts AS DATE) AS day, "
    "event_ts < as_of - INTERVAL '364' DAY AS before_364, "
    "as_of - INTERVAL '1' DAY <= event_ts AS since_1, "
    "date_diff('day', CAST(event_ts AS DATE), as_of) AS age "
    "FROM records ORDER BY i, as_of"
)


@pytest.fixture(scope="module")
def records() -> pa.Table:
    pairs = [(i, ts, day) for i, ts in enumerate(INSTANTS) for day in AS_OF]
    return pa.table(
        {
            "i": pa.array([i for i, _, _ in pairs], pa.int64()),
            "event_ts": pa.array([ts for _, ts, _ in pairs], pa.timestamp("us", "UTC")),
            "as_of": pa.array([day for _, _, day in pairs], pa.date32()),
        }
    )


def _spark(spark, records: pa.Table, sql: str) -> pd.DataFrame:
    spark.createDataFrame(records).createOrReplaceTempView("records")
    out = spark.sql(sql).toArrow().to_pandas()
    out["day"] = pd.to_datetime(out["day"]).dt.date
    out["as_of"] = pd.to_datetime(out["as_of"]).dt.date
    return out.astype({"before_364": bool, "since_1": bool, "age": "int64"})


def test_integer_day_arithmetic_gives_the_calendars_dates(spark, records):
    rewritten = to_spark(QUERY, timestamp_columns={"event_ts"})
    assert "INTERVAL" not in rewritten
    assert "UNIX_MICROS" in rewritten
    assert "CAST(event_ts AS DATE)" not in rewritten
    calendar = _spark(spark, records, to_spark(QUERY))
    integer = _spark(spark, records, rewritten)
    pd.testing.assert_frame_equal(integer, calendar)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("records", records)
    duck = con.execute(QUERY).df()
    duck["day"] = pd.to_datetime(duck["day"]).dt.date
    duck["as_of"] = pd.to_datetime(duck["as_of"]).dt.date
    duck = duck.astype({"before_364": bool, "since_1": bool, "age": "int64"})
    pd.testing.assert_frame_equal(integer, duck, check_dtype=False)
    # The edge cases are there: a pre-1970 instant one microsecond before
    # midnight keeps its own day.
    first = integer[integer["i"] == 3].iloc[0]
    assert first["day"] == dt.date(1969, 12, 31)


def test_only_columns_typed_timestamp_everywhere_are_rewritten():
    defs = load_definitions(Settings().definitions_dir)
    names = timestamp_columns(defs.contracts)
    assert {"event_ts", "ingested_at"} <= names
    for contract in defs.contracts.values():
        for column in contract.columns:
            if column.name in names:
                assert column.type == "timestamp", (contract.name, column.name)
    # A date column compared with a day before as_of is left to Spark (cheap).
    sql = to_spark(
        "SELECT count(*) FILTER (WHERE due_date < as_of - INTERVAL '180' DAY) FROM t",
        timestamp_columns=names,
    )
    assert "as_of - INTERVAL '180' DAY" in sql
