"""End-to-end ingestion: real files, real GX, real DuckDB, real lake on tmp_path.

One module-scoped scenario ingests three batches into the same engine home:

A. a faulty first batch: ``customs_declaration`` as CSV (one fault per row),
   ``customs_credit_level`` as Parquet and ``vat_invoice`` as a folder of parts;
B. a second batch overlapping A (duplicates of lake and quarantine rows, a key
   conflict against the lake, a new version of a record, a new record);
C. batch A again (idempotent re-ingest).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_engine.config import Settings
from credit_engine.data import (
    IngestReport,
    Lake,
    QuarantineReason,
    SourceContract,
    ingest_batch,
)
from credit_engine.data._lake import ingest_lock

pytestmark = pytest.mark.integration

DECL = "customs_declaration"
LEVEL = "customs_credit_level"
VAT = "vat_invoice"

# Expected reasons of the faulty customs_declaration CSV rows.
DECL_FAULTS: dict[int, set[str]] = {
    0: {"invalid_uscc:uscc"},
    1: {"unknown_code:trade_mode"},
    2: {"below_min:declared_value"},
    3: {"above_max:item_count"},
    4: {"bad_format:hs_code"},
    5: {"known_before_event:ingested_at"},
    6: {"missing_required:currency"},
    7: {"invalid_type:value_cny"},
    8: {"invalid_type:event_ts"},
    9: {"unknown_code:trade_mode", "bad_format:port_code"},
    33: {"key_conflict:uscc,source_record_id"},
}
DECL_DUPLICATES = {31: 15, 32: 7}  # CSV row -> the earlier row it repeats
LEVEL_FAULTS = {
    0: {"invalid_interval:effective_to"},
    1: {"unknown_code:credit_level"},
    2: {"missing_required:uscc"},
}
VAT_FAULTS = {0: {"below_min:amount_cny"}, 1: {"above_max:amount_cny"}}


def csv_cells(table: pa.Table) -> pd.DataFrame:
    """Typed records as CSV text: naive UTC timestamps, ``repr`` floats."""
    frame = table.to_pandas()
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        col = frame[name]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[name] = col.dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype(object)
        else:
            out[name] = [
                ""
                if v is None or v != v
                else str(v).lower()
                if isinstance(v, bool)
                else repr(v)
                if isinstance(v, float)
                else str(v)
                for v in col.astype(object)
            ]
    return out


def with_values(table: pa.Table, rows: dict[int, dict[str, Any]]) -> pa.Table:
    """Copy of ``table`` with some cells replaced."""
    records = table.to_pylist()
    for row, values in rows.items():
        records[row] = {**records[row], **values}
    return pa.Table.from_pylist(records, schema=table.schema)


def write_batch_a(
    root: Path,
    contracts: dict[str, SourceContract],
    valid_table: Callable[..., pa.Table],
) -> dict[str, pa.Table]:
    rng = np.random.default_rng(7)
    decl = valid_table(contracts[DECL], 40, rng)
    cells = csv_cells(decl)
    uscc = cells.loc[0, "uscc"]
    cells.loc[0, "uscc"] = uscc[:-1] + ("1" if uscc[-1] == "0" else "0")
    faults = {
        1: {"trade_mode": "9999"},
        2: {"declared_value": "-5"},
        3: {"item_count": "51"},
        4: {"hs_code": "12AB"},
        5: {"ingested_at": "2020-01-01 00:00:00"},
        6: {"currency": ""},
        7: {"value_cny": "abc"},
        8: {"event_ts": "2024-02-30T00:00:00"},
        9: {"trade_mode": "XXXX", "port_code": "9999"},
    }
    for row, values in faults.items():
        for col, value in values.items():
            cells.loc[row, col] = value
    # Row 15 with an explicit +08:00 offset; row 31 repeats it as naive UTC.
    ts = decl.column("event_ts")[15].as_py() + dt.timedelta(hours=8)
    cells.loc[15, "event_ts"] = ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+08:00"
    cells.loc[31] = csv_cells(decl.slice(15, 1)).iloc[0].to_numpy()
    cells.loc[32] = cells.loc[7].to_numpy()
    cells.loc[33] = cells.loc[16].to_numpy()  # same key and ingested_at, new value
    cells.loc[33, "declared_value"] = "1.5"
    root.mkdir(parents=True)
    cells.to_csv(root / f"{DECL}.csv", index=False)

    level = valid_table(contracts[LEVEL], 20, rng)
    start = level.column("effective_from")[0].as_py()
    level = with_values(
        level,
        {
            0: {"effective_to": start - dt.timedelta(days=1)},
            1: {"credit_level": "AAA"},
            2: {"uscc": None},
        },
    )
    pq.write_table(level, root / f"{LEVEL}.parquet")

    vat = valid_table(contracts[VAT], 30, rng)
    vat = with_values(
        vat,
        {
            0: {"status": "VALID", "amount_cny": -5.0},
            1: {
                "status": "RED_LETTER",
                "amount_cny": 5.0,
                "tax_cny": -1.0,
                "total_cny": -1.0,
            },
            2: {
                "status": "RED_LETTER",
                "amount_cny": -5.0,
                "tax_cny": -1.0,
                "total_cny": -6.0,
            },
        },
    )
    vat = with_values(vat, {20: vat.slice(3, 1).to_pylist()[0]})  # copy across parts
    (root / VAT).mkdir()
    pq.write_table(vat.slice(0, 15), root / VAT / "part-000.parquet")
    pq.write_table(vat.slice(15), root / VAT / "part-001.parquet")
    return {DECL: decl, LEVEL: level, VAT: vat}


def write_batch_b(root: Path, decl: pa.Table, level: pa.Table) -> None:
    later = decl.column("ingested_at")[26].as_py() + dt.timedelta(days=1)
    rows = [
        *decl.slice(20, 5).to_pylist(),  # duplicates of loaded rows
        decl.slice(1, 1).to_pylist()[0] | {"trade_mode": "9999"},  # of quarantine
        decl.slice(25, 1).to_pylist()[0] | {"declared_value": 2.5},  # key conflict
        # Declarations are never updated: a re-sent record with a later
        # ingested_at is a key conflict too, not a new version.
        decl.slice(26, 1).to_pylist()[0] | {"ingested_at": later},
        decl.slice(27, 1).to_pylist()[0] | {"source_record_id": "9" * 18},  # new
    ]
    root.mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=decl.schema), root / f"{DECL}.parquet"
    )
    # Credit levels are versioned: the spell of row 5 ends, re-sent later.
    spell = level.slice(5, 1).to_pylist()[0]
    closed = spell | {
        "effective_to": spell["effective_from"] + dt.timedelta(days=30),
        "ingested_at": spell["ingested_at"] + dt.timedelta(days=31),
    }
    pq.write_table(
        pa.Table.from_pylist([closed], schema=level.schema), root / f"{LEVEL}.parquet"
    )


class Recorder:
    """Progress callback recording its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int | None]] = []

    def start(self, table: str, total_rows: int | None) -> None:
        self.calls.append(("start", table, total_rows))

    def advance(self, table: str, rows: int) -> None:
        self.calls.append(("advance", table, rows))

    def done(self, table: str) -> None:
        self.calls.append(("done", table, None))


@pytest.fixture(scope="module")
def scenario(
    tmp_path_factory: pytest.TempPathFactory,
    contracts: dict[str, SourceContract],
    valid_table: Callable[..., pa.Table],
) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("scenario")
    settings = Settings(home=root / "home")
    typed = write_batch_a(root / "in_a", contracts, valid_table)
    write_batch_b(root / "in_b", typed[DECL], typed[LEVEL])
    recorder = Recorder()
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    a = ingest_batch(
        root / "in_a", settings, progress=recorder, report_path=root / "user" / "a.json"
    )
    files_after_a = {t: lake.table_files(t) for t in (DECL, LEVEL, VAT)}
    b = ingest_batch(root / "in_b", settings)
    state_before_c = lake.state_hash()
    c = ingest_batch(root / "in_a", settings)
    return {
        "settings": settings,
        "root": root,
        "typed": typed,
        "a": a,
        "b": b,
        "c": c,
        "lake": lake,
        "recorder": recorder,
        "files_after_a": files_after_a,
        "state_before_c": state_before_c,
    }


def quarantine_of(lake: Lake, table: str, batch_id: str) -> pd.DataFrame:
    files = [f for f in lake.quarantine_files(table) if f"batch={batch_id}" in str(f)]
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def reasons_by_row(frame: pd.DataFrame) -> dict[int, set[str]]:
    return {
        int(r): set(x)
        for r, x in zip(frame["_row_number"], frame["_reasons"], strict=True)
    }


# --- batch A: every reason code, with its column ------------------------------


def test_every_faulty_csv_row_is_quarantined_with_its_reasons(scenario):
    q = quarantine_of(scenario["lake"], DECL, scenario["a"].batch_id)
    assert reasons_by_row(q) == DECL_FAULTS
    assert set(q["_source_file"]) == {f"{DECL}.csv"}


def test_state_and_conditional_range_faults(scenario):
    lake, batch = scenario["lake"], scenario["a"].batch_id
    assert reasons_by_row(quarantine_of(lake, LEVEL, batch)) == LEVEL_FAULTS
    vat = quarantine_of(lake, VAT, batch)
    assert reasons_by_row(vat) == VAT_FAULTS
    assert set(vat["_source_file"]) == {f"{VAT}/part-000.parquet"}


# Reasons only a source mapping gives (tests/integration/test_mapping_ingest.py).
MAPPING_REASONS = {
    "unmapped_value",
    "unparseable_date",
    "unknown_identifier",
    "not_a_number",
}


def test_all_reason_codes_are_covered_by_the_scenario(scenario):
    seen = set()
    for report in (scenario["a"], scenario["b"]):
        for table in report.tables.values():
            seen |= set(table.reasons)
    assert seen == {code.value for code in QuarantineReason} - MAPPING_REASONS


def test_counts_and_reasons_of_batch_a(scenario):
    report: IngestReport = scenario["a"]
    decl = report.tables[DECL]
    assert (decl.rows_in, decl.loaded, decl.quarantined, decl.duplicates) == (
        40,
        27,
        11,
        2,
    )
    assert decl.reasons == {
        "above_max": 1,
        "bad_format": 2,
        "below_min": 1,
        "invalid_type": 2,
        "invalid_uscc": 1,
        "key_conflict": 1,
        "known_before_event": 1,
        "missing_required": 1,
        "unknown_code": 2,
    }
    level = report.tables[LEVEL]
    assert (level.rows_in, level.loaded, level.quarantined, level.duplicates) == (
        20,
        17,
        3,
        0,
    )
    vat = report.tables[VAT]
    assert (vat.rows_in, vat.loaded, vat.quarantined, vat.duplicates) == (30, 27, 2, 1)


def test_invalid_type_keeps_the_raw_value_and_is_not_also_missing(scenario):
    q = quarantine_of(scenario["lake"], DECL, scenario["a"].batch_id).set_index(
        "_row_number"
    )
    assert json.loads(q.loc[7, "_raw_values"]) == {"value_cny": "abc"}
    assert pd.isna(q.loc[7, "value_cny"])
    assert json.loads(q.loc[8, "_raw_values"]) == {"event_ts": "2024-02-30T00:00:00"}
    assert pd.isna(q.loc[1, "_raw_values"])


def test_reason_text_names_the_column_and_value(scenario):
    q = quarantine_of(scenario["lake"], DECL, scenario["a"].batch_id).set_index(
        "_row_number"
    )
    assert q.loc[1, "_reason_text"].startswith(
        "trade_mode '9999' is not one of 0110, 9610"
    )
    assert "value_cny 'abc' is not a valid float" in q.loc[7, "_reason_text"]
    assert "declared_value -5.0 is below the minimum 0" in q.loc[2, "_reason_text"]
    assert "; " in q.loc[9, "_reason_text"]
    vat = quarantine_of(scenario["lake"], VAT, scenario["a"].batch_id).set_index(
        "_row_number"
    )
    assert 'status=="RED_LETTER"' in vat.loc[1, "_reason_text"]


def test_duplicates_are_listed_not_stored(scenario):
    lake, batch = scenario["lake"], scenario["a"].batch_id
    listed = pd.concat(
        [
            pd.read_parquet(f)
            for f in lake.duplicate_files(DECL)
            if f"batch={batch}" in str(f)
        ]
    )
    assert sorted(listed["row_number"]) == sorted(DECL_DUPLICATES)
    assert set(listed["duplicate_of"]) == {"batch"}
    vat_listed = pd.concat([pd.read_parquet(f) for f in lake.duplicate_files(VAT)])
    assert vat_listed["source_file"].tolist() == [f"{VAT}/part-001.parquet"]
    assert vat_listed["row_number"].tolist() == [5]


def test_offset_and_naive_timestamps_mean_the_same_instant(scenario):
    decl = scenario["typed"][DECL]
    loaded = pd.concat([pd.read_parquet(f) for f in scenario["files_after_a"][DECL]])
    rid = decl.column("source_record_id")[15].as_py()
    row = loaded.loc[loaded["source_record_id"] == rid].iloc[0]
    assert row["event_ts"] == pd.Timestamp(decl.column("event_ts")[15].as_py())


def test_lake_files_have_contract_schema_and_lineage_columns(scenario, contracts):
    contract = contracts[DECL]
    schema = pq.read_schema(scenario["files_after_a"][DECL][0])
    assert schema.names == [
        *contract.column_names,
        "_batch_id",
        "_row_hash_a",
        "_row_hash_b",
    ]
    for col in contract.columns:
        assert schema.field(col.name).type == col.type.arrow_type()
    assert schema.field("_row_hash_a").type == pa.uint64()
    meta = pq.ParquetFile(scenario["files_after_a"][DECL][0]).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    path = scenario["files_after_a"][DECL][0]
    assert path.parent == (
        scenario["settings"].lake_dir
        / "customs"
        / DECL
        / f"batch={scenario['a'].batch_id}"
    )


def test_progress_callback_sees_every_table(scenario):
    calls = scenario["recorder"].calls
    assert ("start", LEVEL, 20) in calls
    assert ("start", DECL, None) in calls  # CSV: unknown until read
    assert sum(n for kind, t, n in calls if kind == "advance" and t == VAT) == 30
    assert [t for kind, t, _ in calls if kind == "done"] == sorted([DECL, LEVEL, VAT])


# --- batch B: against the lake -------------------------------------------------


def test_second_batch_dedups_against_lake_and_quarantine(scenario):
    report = scenario["b"]
    decl = report.tables[DECL]
    assert (decl.rows_in, decl.loaded, decl.quarantined, decl.duplicates) == (
        9,
        1,
        2,
        6,
    )
    assert decl.reasons == {"key_conflict": 2}
    listed = pd.concat(
        [
            pd.read_parquet(f)
            for f in scenario["lake"].duplicate_files(DECL)
            if f"batch={report.batch_id}" in str(f)
        ]
    )
    assert listed["duplicate_of"].tolist() == ["lake"] * 5 + ["quarantine"]


def test_a_new_version_of_a_versioned_record_is_loaded(scenario):
    level = scenario["typed"][LEVEL]
    rid = level.column("source_record_id")[5].as_py()
    lake = scenario["lake"]
    loaded = pd.concat([pd.read_parquet(f) for f in lake.table_files(LEVEL)])
    versions = loaded[loaded["source_record_id"] == rid].sort_values("ingested_at")
    assert len(versions) == 2
    latest = versions.iloc[-1]
    assert latest["effective_to"] - latest["effective_from"] == pd.Timedelta(days=30)
    assert versions.iloc[0]["effective_to"] != latest["effective_to"]
    assert scenario["b"].tables[LEVEL].loaded == 1


def test_a_resent_record_of_an_unversioned_table_is_a_key_conflict(scenario):
    decl = scenario["typed"][DECL]
    rid = decl.column("source_record_id")[26].as_py()
    lake = scenario["lake"]
    loaded = pd.concat([pd.read_parquet(f) for f in lake.table_files(DECL)])
    assert (loaded["source_record_id"] == rid).sum() == 1
    assert lake.row_count(DECL) == len(loaded) == 27 + 1
    quarantined = quarantine_of(lake, DECL, scenario["b"].batch_id)
    text = quarantined.loc[quarantined["source_record_id"] == rid, "_reason_text"]
    assert text.str.contains("never updated").all()


# --- batch C: idempotent re-ingest ---------------------------------------------


def test_reingest_loads_nothing_and_commits_nothing(scenario):
    a, c = scenario["a"], scenario["c"]
    assert c.batch_id == a.batch_id
    assert c.already_ingested
    assert c.commit_seq is None
    assert "already ingested" in c.summary
    for name, table in c.tables.items():
        assert table.rows_in == a.tables[name].rows_in
        assert (table.loaded, table.quarantined) == (0, 0)
        assert table.duplicates == table.rows_in
    assert scenario["lake"].state_hash() == scenario["state_before_c"]
    assert [m.seq for m in scenario["lake"].committed_batches()] == [1, 2]


def test_rows_balance_in_every_table_of_every_report(scenario):
    for report in (scenario["a"], scenario["b"], scenario["c"]):
        for table in report.to_json_dict()["tables"].values():
            assert (
                table["rows_in"]
                == table["loaded"] + table["quarantined"] + table["duplicates"]
            )


# --- lake, reports ------------------------------------------------------------


def test_lake_lists_exactly_the_committed_files(scenario):
    lake, settings = scenario["lake"], scenario["settings"]
    on_disk = sorted(settings.lake_dir.glob("*/*/batch=*/*.parquet"))
    listed = sorted(f for t in (DECL, LEVEL, VAT) for f in lake.table_files(t))
    assert listed == on_disk
    manifests = lake.committed_batches()
    assert [m.batch_id for m in manifests] == [
        scenario["a"].batch_id,
        scenario["b"].batch_id,
    ]
    assert manifests[0].tables[DECL].quarantined == 11
    assert not any(settings.staging_dir.iterdir())
    assert (settings.lake_dir / ".lock").read_text() == ""  # names no holder
    with ingest_lock(settings.lake_dir):  # and is free
        pass


def test_json_report_has_the_agreed_shape(scenario):
    a: IngestReport = scenario["a"]
    written = json.loads(Path(a.json_report).read_text())
    assert written == json.loads((scenario["root"] / "user" / "a.json").read_text())
    assert written == a.to_json_dict()
    assert set(written) == {
        "batch_id",
        "started_at",
        "finished_at",
        "input_dir",
        "html_report",
        "data_docs",
        "tables",
    }
    assert set(written["tables"]) == {DECL, LEVEL, VAT}
    for table in written["tables"].values():
        assert set(table) == {
            "rows_in",
            "loaded",
            "quarantined",
            "duplicates",
            "reasons",
        }
        assert all(isinstance(v, int) for v in table["reasons"].values())
    assert (
        Path(a.json_report)
        == scenario["settings"].reports_dir / a.batch_id / "ingest.json"
    )


def test_reingest_reports_beside_the_original_reports(scenario):
    a, c = scenario["a"], scenario["c"]
    rerun = Path(c.json_report)
    assert rerun.parent.parent == Path(a.json_report).parent / "reruns"
    assert json.loads(rerun.read_text()) == c.to_json_dict()
    assert json.loads(Path(a.json_report).read_text()) == a.to_json_dict()
    assert Path(c.data_docs).is_file()
    assert Path(a.data_docs).is_file()


def test_html_report_and_data_docs_exist(scenario):
    a: IngestReport = scenario["a"]
    html = Path(a.html_report).read_text(encoding="utf-8")
    for name in (DECL, LEVEL, VAT):
        assert name in html
    assert "<svg" in html
    assert "is not one of" in html  # sample rows
    assert QuarantineReason.KNOWN_BEFORE_EVENT.describe() in html
    assert 'href="data_docs/index.html"' in html
    docs = Path(a.data_docs)
    assert (
        docs
        == scenario["settings"].reports_dir / a.batch_id / "data_docs" / "index.html"
    )
    assert docs.is_file()
    assert "raw.customs_declaration" in docs.read_text(encoding="utf-8")
    assert "already ingested" in Path(scenario["c"].html_report).read_text(
        encoding="utf-8"
    )
