"""Source-mapped batches ingest on Spark as on DuckDB: reports, lake, quarantine.

Three mapped batches go into each engine's home, in order:

- the mapping tests' small extract, one row per thing a mapping cannot place
  (an unmapped value, an unparseable date, an unknown id, text in a number
  column), one file feeding two tables (crosswalk file, value maps, local
  dates, ``file_date``);
- the worked example of docs/bring-your-own-records.md (two departments,
  vocabularies, ``not_before``, GBK and GB18030 files);
- the first rows of each of the four real CUMCM 2020 C invoice files (pseudo
  USCCs, invoice numbers' repeats numbered in file order across the files,
  ``file_name``, ``cases``).

Everything is compared through DuckDB, order-insensitive, as in
``test_spark_ingest_parity.py``; the report's ``mapping`` section (rows each
source read and gave each table) must be the same too.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from credit_engine.config import Settings
from credit_engine.data import Lake, ingest_batch, ingest_batch_spark
from credit_engine.exceptions import DataContractError
from tests.engine_parity import assert_same_lakes, lake_rows, report_tables
from tests.integration.test_mapping_ingest import MAPPING, _write_batch

pytestmark = [
    pytest.mark.integration,
    pytest.mark.spark,
    pytest.mark.slow,
    pytest.mark.xdist_group("spark"),
]

REPO = Path(__file__).resolve().parents[2]
BYO = REPO / "tests" / "fixtures" / "byo"
CUMCM = REPO / "data" / "cumcm2020c"
CUMCM_ROWS = 10_000  # per file: the first repeated invoice number is at 9,128


def _cumcm_cut(out: Path) -> Path:
    """The first rows of each real CUMCM invoice file, under their own names."""
    out.mkdir(parents=True)
    for path in sorted(CUMCM.glob("attach*_invoices.csv.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as src:
            lines = [next(src) for _ in range(CUMCM_ROWS + 1)]
        with gzip.open(out / path.name, "wt", encoding="utf-8") as dst:
            dst.writelines(lines)
    shutil.copy(CUMCM / "mapping.yaml", out / "mapping.yaml")
    return out


@pytest.fixture(scope="module")
def batches(tmp_path_factory) -> list[tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("spark-mapping")
    small = _write_batch(root / "small")
    cumcm = _cumcm_cut(root / "cumcm")
    return [
        small,
        (BYO / "extracts", BYO / "mapping" / "siming.yaml"),
        (cumcm, cumcm / "mapping.yaml"),
    ]


@pytest.fixture(scope="module")
def homes(spark, batches, tmp_path_factory):
    """Each batch ingested by each engine into its own home, in order."""
    root = tmp_path_factory.mktemp("spark-mapping-homes")
    duck, on_spark = Settings(home=root / "duck"), Settings(home=root / "spark")
    reports = [
        (
            ingest_batch(data, duck, mapping=mapping),
            ingest_batch_spark(data, on_spark, spark, mapping=mapping),
        )
        for data, mapping in batches
    ]
    return {"duck": duck, "spark": on_spark, "reports": reports}


@pytest.mark.parametrize("batch", [0, 1, 2], ids=["small", "byo", "cumcm"])
def test_the_mapped_ingestion_reports_are_the_same(homes, batch):
    duck, spark = homes["reports"][batch]
    assert duck.batch_id == spark.batch_id
    assert duck.commit_seq == spark.commit_seq
    assert report_tables(duck) == report_tables(spark)
    written = json.loads(Path(spark.json_report).read_text())
    assert written["tables"] == duck.to_json_dict()["tables"]
    # What each source read and gave each table.
    assert written["mapping"] == duck.to_json_dict()["mapping"]
    assert spark.mapping == duck.mapping
    assert all(t["rows_read"] > 0 for t in written["mapping"]["targets"])


def test_rows_a_mapping_cannot_place_are_quarantined_on_spark(homes):
    report = homes["reports"][0][1]
    table = report.tables["annual_report"]
    assert (table.rows_in, table.quarantined) == (7, 4)
    assert table.reasons == {
        "unmapped_value": 1,
        "unparseable_date": 1,
        "unknown_identifier": 1,
        "not_a_number": 1,
        "missing_required": 1,  # the knowledge time derives from the bad date
    }


def test_numbered_repeats_and_pseudo_usccs_reach_the_lake_alike(homes):
    """Real invoice numbers repeat: numbered in file order on both engines."""
    report = homes["reports"][2][1]
    invoices = report.tables["vat_invoice"]
    assert invoices.rows_in == 4 * CUMCM_ROWS
    assert invoices.loaded > 0.9 * invoices.rows_in
    con = duckdb.connect()
    lake = Lake(homes["spark"].lake_dir, homes["spark"].quarantine_dir)
    ids = lake_rows(con, lake.table_files("vat_invoice"), "uscc, source_record_id")
    assert ids["uscc"].str.startswith("91990000CUMC").all()
    assert ids["source_record_id"].str.contains("-").any()  # a numbered repeat


def test_the_mapped_lakes_hold_the_same_rows(homes):
    tables, compared = assert_same_lakes(homes["duck"], homes["spark"])
    assert {"annual_report", "samr_registration", "tax_filing", "vat_invoice"} <= set(
        tables
    )
    assert compared > 20_000


def test_a_mapping_that_fails_on_the_executors_names_the_source(spark, tmp_path):
    """A mapping expression DuckDB cannot run stops the batch with our message."""
    broken = MAPPING.replace(
        "total_assets_cny: {column: 资产总额(万元), scale: 10000}",
        'total_assets_cny: {expr: "CAST(\\"资产总额(万元)\\" AS DOUBLE)"}',
    )
    assert broken != MAPPING
    data, mapping = _write_batch(tmp_path)
    mapping.write_text(broken, encoding="utf-8")
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(DataContractError, match="could not be applied") as duck:
        ingest_batch(data, settings, mapping=mapping)
    with pytest.raises(DataContractError, match="could not be applied") as on_spark:
        ingest_batch_spark(data, settings, spark, mapping=mapping)
    assert "Source 'reports' → table 'annual_report'" in str(on_spark.value)
    assert str(on_spark.value) == str(duck.value)
    assert not Lake(settings.lake_dir, settings.quarantine_dir).committed_batches()
