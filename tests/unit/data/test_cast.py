from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from credit_engine.data import ColumnType, SourceContract
from credit_engine.data._cast import cast_to_contract, convertible

UTC = dt.UTC


@pytest.fixture(scope="module")
def contract() -> SourceContract:
    return SourceContract.model_validate(
        {
            "name": "sample",
            "department": "tax",
            "kind": "event",
            "title": "t",
            "description": "d",
            "columns": [
                {"name": "uscc", "type": "uscc", "required": True},
                {"name": "source_record_id", "type": "string", "required": True},
                {"name": "event_ts", "type": "timestamp", "required": True},
                {"name": "n_int", "type": "int"},
                {"name": "n_float", "type": "float"},
                {"name": "flag", "type": "bool"},
                {"name": "day", "type": "date"},
                {"name": "ingested_at", "type": "timestamp", "required": True},
            ],
        }
    )


def cast_column(contract, name, values, type_=None):
    raw = pa.table({name: pa.array(values, type_)})
    result = cast_to_contract(raw, contract)
    failed = result.failed.get(name)
    return (
        result.table.column(name).to_pylist(),
        [] if failed is None else failed.tolist(),
        result.raw_values.to_pylist(),
    )


@pytest.mark.parametrize(
    ("column", "text", "expected"),
    [
        ("n_int", ["12", " 7 ", "+3", "-0", "007"], [12, 7, 3, 0, 7]),
        ("n_float", ["1e3", "-0.5", ".5", "2.", " 4 "], [1000.0, -0.5, 0.5, 2.0, 4.0]),
        ("flag", ["true", "FALSE", "1", "0", "Yes"], [True, False, True, False, True]),
        (
            "day",
            ["2024-02-29", " 2023-12-31 "],
            [dt.date(2024, 2, 29), dt.date(2023, 12, 31)],
        ),
        ("uscc", [" keep spaces "], [" keep spaces "]),
    ],
)
def test_text_converts_to_each_type(contract, column, text, expected):
    values, failed, _ = cast_column(contract, column, text)
    assert values == expected
    assert failed == []


@pytest.mark.parametrize(
    ("column", "bad"),
    [
        ("n_int", "1.5"),
        ("n_int", "abc"),
        ("n_int", "99999999999999999999"),
        ("n_float", "1,5"),
        ("n_float", "nan"),
        ("flag", "maybe"),
        ("day", "2023-02-29"),
        ("day", "2024-1-1"),
        ("event_ts", "2024-02-30T00:00:00"),
        ("event_ts", "yesterday"),
    ],
)
def test_unconvertible_text_becomes_null_and_is_flagged(contract, column, bad):
    values, failed, raw = cast_column(contract, column, ["", bad, None])
    assert values == [None, None, None]
    assert failed == [False, True, False]  # empty and null are missing, not invalid
    assert raw[0] is None
    assert raw[2] is None
    assert json.loads(raw[1]) == {column: bad}


def test_timestamps_text_naive_is_utc_and_offsets_convert(contract):
    values, failed, _ = cast_column(
        contract,
        "event_ts",
        [
            "2024-01-01 10:00:00",
            "2024-01-01T10:00:00+08:00",
            "2024-01-01T10:00:00Z",
            "2024-01-01",
        ],
    )
    assert failed == []
    assert values == [
        dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 2, tzinfo=UTC),
        dt.datetime(2024, 1, 1, 10, tzinfo=UTC),
        dt.datetime(2024, 1, 1, tzinfo=UTC),
    ]


def test_typed_timestamps_naive_are_utc_aware_are_converted(contract):
    naive = pa.array([dt.datetime(2024, 5, 1, 12, 0, 0, 123456)], pa.timestamp("ns"))
    shanghai = pa.array(
        [dt.datetime(2024, 5, 1, 4, tzinfo=UTC)], pa.timestamp("s", "Asia/Shanghai")
    )
    assert cast_column(contract, "event_ts", naive)[0] == [
        dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    ]
    assert cast_column(contract, "event_ts", shanghai)[0] == [
        dt.datetime(2024, 5, 1, 4, tzinfo=UTC)
    ]
    dates = pa.array([dt.date(2024, 5, 1)], pa.date32())
    assert cast_column(contract, "event_ts", dates)[0] == [
        dt.datetime(2024, 5, 1, tzinfo=UTC)
    ]
    stamps = pa.array([dt.datetime(2024, 5, 1, 23, 59)], pa.timestamp("us"))
    assert cast_column(contract, "day", stamps)[0] == [dt.date(2024, 5, 1)]


@pytest.mark.parametrize(
    ("column", "values", "type_", "expected", "failed"),
    [
        ("n_int", [1, 2], pa.int32(), [1, 2], []),
        (
            "n_int",
            [1.0, 1.5, None],
            pa.float64(),
            [1, None, None],
            [False, True, False],
        ),
        ("n_int", [2**64 - 1, 5], pa.uint64(), [None, 5], [True, False]),
        ("n_float", [1, None], pa.int64(), [1.0, None], []),
        ("n_float", [float("nan"), 2.5], pa.float32(), [None, 2.5], []),
        ("flag", [0, 1, 2], pa.int8(), [False, True, None], [False, False, True]),
        ("uscc", [123], pa.int64(), ["123"], []),
    ],
)
def test_typed_sources(contract, column, values, type_, expected, failed):
    got, got_failed, _ = cast_column(contract, column, values, type_)
    assert got == expected
    assert got_failed == failed


def test_dictionary_and_large_string_columns(contract):
    raw = pa.table(
        {
            "source_record_id": pa.array(["a", "b", "a"]).dictionary_encode(),
            "n_int": pa.array(["1", "x", "3"], pa.large_string()),
        }
    )
    result = cast_to_contract(raw, contract)
    assert result.table.column("source_record_id").to_pylist() == ["a", "b", "a"]
    assert result.table.column("n_int").to_pylist() == [1, None, 3]


def test_missing_optional_columns_are_null_and_schema_is_the_contract(contract):
    result = cast_to_contract(pa.table({"uscc": ["x"]}), contract)
    assert result.table.column_names == contract.column_names
    for spec in contract.columns:
        assert result.table.schema.field(spec.name).type == spec.type.arrow_type()
    assert result.table.column("n_float").to_pylist() == [None]
    assert result.failed == {}


def test_raw_values_are_valid_json_for_awkward_text(contract):
    awkward = 'say "hi"\\\n\tthen\x01bye'
    raw = pa.table({"n_int": [awkward, "1"], "n_float": ["x", "2"]})
    result = cast_to_contract(raw, contract)
    assert json.loads(result.raw_values[0].as_py()) == {
        "n_int": awkward,
        "n_float": "x",
    }
    assert result.raw_values[1].as_py() is None


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        (pa.string(), ColumnType.DATE, True),
        (pa.null(), ColumnType.BOOL, True),
        (pa.int16(), ColumnType.FLOAT, True),
        (pa.float64(), ColumnType.BOOL, True),
        (pa.date32(), ColumnType.TIMESTAMP, True),
        (pa.timestamp("ms"), ColumnType.STRING, True),
        (pa.date32(), ColumnType.INT, False),
        (pa.bool_(), ColumnType.DATE, False),
        (pa.list_(pa.int64()), ColumnType.STRING, False),
        (pa.binary(), ColumnType.USCC, False),
        (pa.dictionary(pa.int32(), pa.string()), ColumnType.INT, True),
    ],
)
def test_convertible(source, target, ok):
    assert convertible(source, target) is ok
