from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_engine.data._read import batch_fingerprint, discover_inputs, iter_pieces
from credit_engine.exceptions import DataContractError

CHANGE = "samr_change"


@pytest.fixture
def change(contracts, valid_table):
    return valid_table(contracts[CHANGE], 25, np.random.default_rng(5))


def test_parquet_csv_and_part_folders_are_found(
    tmp_path, contracts, valid_table, change
):
    pq.write_table(change, tmp_path / f"{CHANGE}.parquet")
    level = valid_table(contracts["customs_credit_level"], 6, np.random.default_rng(1))
    (tmp_path / "customs_credit_level").mkdir()
    pq.write_table(
        level.slice(0, 4), tmp_path / "customs_credit_level" / "part-000.parquet"
    )
    pq.write_table(
        level.slice(4), tmp_path / "customs_credit_level" / "part-001.parquet"
    )
    (tmp_path / "customs_credit_level" / "_SUCCESS").write_text("")
    (tmp_path / "tax_violation.csv").write_text(
        "uscc,source_record_id,event_ts,violation_type,"
        "amount_cny,major_violation,ingested_at\n"
    )
    (tmp_path / ".DS_Store").write_text("")
    tables = {t.contract.name: t for t in discover_inputs(tmp_path, contracts)}
    assert sorted(tables) == ["customs_credit_level", CHANGE, "tax_violation"]
    parts = tables["customs_credit_level"]
    assert [f.name for f in parts.files] == [
        "customs_credit_level/part-000.parquet",
        "customs_credit_level/part-001.parquet",
    ]
    assert parts.total_rows == 6
    assert parts.fmt == "parquet"
    assert tables["tax_violation"].fmt == "csv"
    assert tables["tax_violation"].total_rows is None


def test_optional_columns_may_be_absent(tmp_path, contracts, valid_table):
    penalty = valid_table(contracts["customs_penalty"], 3, np.random.default_rng(2))
    pq.write_table(
        penalty.drop_columns(["paid_date"]), tmp_path / "customs_penalty.parquet"
    )
    (table,) = discover_inputs(tmp_path, contracts)
    assert "paid_date" not in table.files[0].columns


def test_two_inputs_for_one_table_are_refused(tmp_path, contracts, change):
    pq.write_table(change, tmp_path / f"{CHANGE}.parquet")
    (tmp_path / f"{CHANGE}.csv").write_text("uscc\n")
    with pytest.raises(
        DataContractError, match="several inputs for table 'samr_change'"
    ):
        discover_inputs(tmp_path, contracts)


def test_missing_input_directory(tmp_path, contracts):
    with pytest.raises(DataContractError, match="does not exist or is not a directory"):
        discover_inputs(tmp_path / "nope", contracts)


def test_batch_id_depends_on_names_and_contents(tmp_path, contracts, change):
    pq.write_table(change, tmp_path / f"{CHANGE}.parquet")
    first = batch_fingerprint(discover_inputs(tmp_path, contracts))
    assert len(first) == 16
    assert int(first, 16) >= 0
    assert batch_fingerprint(discover_inputs(tmp_path, contracts)) == first
    pq.write_table(change.slice(1), tmp_path / f"{CHANGE}.parquet")
    assert batch_fingerprint(discover_inputs(tmp_path, contracts)) != first


def test_pieces_respect_the_row_limit_and_number_rows_per_file(
    tmp_path, contracts, change
):
    (tmp_path / CHANGE).mkdir()
    pq.write_table(
        change.slice(0, 12), tmp_path / CHANGE / "a.parquet", row_group_size=5
    )
    pq.write_table(change.slice(12), tmp_path / CHANGE / "b.parquet")
    (table,) = discover_inputs(tmp_path, contracts)
    pieces = [(f.name, first, p.num_rows) for f, first, p in iter_pieces(table, 5)]
    assert all(n <= 5 for _, _, n in pieces)
    assert sum(n for _, _, n in pieces) == 25
    firsts = [(name, first) for name, first, _ in pieces]
    assert firsts[:3] == [
        (f"{CHANGE}/a.parquet", 0),
        (f"{CHANGE}/a.parquet", 5),
        (f"{CHANGE}/a.parquet", 10),
    ]
    assert firsts[3] == (f"{CHANGE}/b.parquet", 0)


def test_csv_is_read_as_text_in_pieces(tmp_path, contracts):
    lines = ["uscc,source_record_id,event_ts,field,ingested_at"]
    lines += [f"X,{i},2024-01-01,NAME,2024-01-02" for i in range(2500)]
    (tmp_path / f"{CHANGE}.csv").write_text("\n".join(lines) + "\n")
    (table,) = discover_inputs(tmp_path, contracts)
    pieces = list(iter_pieces(table, 1000))
    assert [p.num_rows for _, _, p in pieces] == [1000, 1000, 500]
    assert [first for _, first, _ in pieces] == [0, 1000, 2000]
    assert all(
        p.schema.field("source_record_id").type == pa.string() for _, _, p in pieces
    )
