"""Contract -> simulator -> ingestion round trip on a small synthetic zone.

Every dirty row the simulator injects must be caught with the right reason, no
clean row may be quarantined, exact duplicates are counted, and every table
balances: rows_in = loaded + quarantined + duplicates.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from credit_engine.data import Lake, ingest_batch
from credit_engine.simulation import EXPECTED_REASON

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ingested(ingested_zone):
    return ingested_zone


def test_every_table_balances_and_all_rows_are_accounted_for(zone, ingested):
    _, report = ingested
    tables = report.to_json_dict()["tables"]
    assert set(tables) == set(zone.rows)
    for name, t in tables.items():
        assert t["rows_in"] == zone.rows[name], name
        assert t["rows_in"] == t["loaded"] + t["quarantined"] + t["duplicates"], name


def test_each_dirty_row_is_caught_with_its_reason_and_no_clean_row_is(
    zone, ingested, truth
):
    settings, report = ingested
    dirty = truth["dirty_rows"]
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    quarantined = pd.concat(
        [
            pd.read_parquet(
                f, columns=["_source_file", "_row_number", "_reasons", "_reason_text"]
            ).assign(table=name)
            for name in zone.rows
            for f in lake.quarantine_files(name)
        ],
        ignore_index=True,
    )
    expected = dirty[dirty["kind"] != "exact_duplicate"]
    got = quarantined.set_index(["table", "_row_number"])
    want = expected.set_index(["table", "row_number"])
    assert set(got.index) == set(want.index), "quarantine differs from the dirty rows"
    for (table, row), item in want.iterrows():
        codes = {r.split(":", 1)[0] for r in got.loc[(table, row), "_reasons"]}
        columns = {r.split(":", 1)[1] for r in got.loc[(table, row), "_reasons"]}
        assert EXPECTED_REASON[item["kind"]] in codes, (table, row, item["kind"], codes)
        assert item["column"] in columns, (table, row, item["column"], columns)
    uscc_texts = quarantined.loc[
        quarantined["_reasons"].map(lambda r: "invalid_uscc:uscc" in list(r)),
        "_reason_text",
    ]
    assert uscc_texts.str.contains("but its first 17 characters require").any()
    dups = dirty[dirty["kind"] == "exact_duplicate"].groupby("table").size()
    for name, t in report.to_json_dict()["tables"].items():
        assert t["duplicates"] == dups.get(name, 0), name


def test_every_dirty_kind_shows_up_in_the_report_reasons(ingested, truth):
    _, report = ingested
    reasons: dict[str, int] = {}
    for t in report.to_json_dict()["tables"].values():
        for code, n in t["reasons"].items():
            reasons[code] = reasons.get(code, 0) + n
    kinds = set(truth["dirty_rows"]["kind"]) - {"exact_duplicate"}
    assert {EXPECTED_REASON[k] for k in kinds} <= set(reasons)


def test_lake_holds_exactly_the_clean_rows_with_contract_types(
    ingested, contracts, clean
):
    settings, _ = ingested
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    for name, contract in contracts.items():
        if not contract.simulated:  # optional sources the simulator does not make
            assert not lake.table_files(name), name
            continue
        files = lake.table_files(name)
        assert files, name
        schema = pq.read_schema(files[0])
        for spec in contract.columns:
            assert schema.field(spec.name).type == spec.type.arrow_type(), (name, spec)
        loaded = pd.concat(
            pd.read_parquet(f, columns=["source_record_id"]) for f in files
        )
        # ``clean`` drops every dirty row, the appended duplicate copies included.
        assert len(loaded) == len(clean[name]), name
        assert set(loaded["source_record_id"]) == set(clean[name]["source_record_id"])


def test_reingesting_the_zone_loads_nothing(zone, ingested):
    settings, _ = ingested
    again = ingest_batch(Path(zone.out_dir), settings).to_json_dict()["tables"]
    for name, t in again.items():
        assert t["loaded"] == 0, name
        assert t["quarantined"] == 0, name
        assert t["duplicates"] == t["rows_in"], name


def test_the_demo_self_check_passes_and_flags_a_missed_row(zone, ingested, tmp_path):
    from credit_engine.simulation import audit_ingestion

    settings, report = ingested
    lake = Lake(settings.lake_dir, settings.quarantine_dir)
    audit = audit_ingestion(Path(zone.truth_dir), lake, report)
    assert audit.ok
    assert {k.kind for k in audit.kinds if k.injected} == set(EXPECTED_REASON)
    # Claim a clean row was corrupted: the self-check must notice it was loaded.
    dirty = pd.read_parquet(Path(zone.truth_dir) / "dirty_rows.parquet")
    clean_row = next(
        r
        for r in range(1000)
        if r not in set(dirty.query("table == 'tax_filing'").row_number)
    )
    fake = pd.concat(
        [
            dirty,
            pd.DataFrame(
                [
                    {
                        "table": "tax_filing",
                        "row_number": clean_row,
                        "kind": "unknown_code",
                        "column": "tax_type",
                    }
                ]
            ),
        ]
    )
    (tmp_path / "truth").mkdir()
    fake.to_parquet(tmp_path / "truth" / "dirty_rows.parquet")
    broken = audit_ingestion(tmp_path / "truth", lake, report)
    assert not broken.ok
    unknown = next(k for k in broken.kinds if k.kind == "unknown_code")
    assert unknown.caught == unknown.injected - 1
