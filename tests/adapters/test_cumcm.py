"""CUMCM 2020 C adapter: pseudo-USCCs, row counts, labels, quirks, ingest round trip."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from credit_engine.adapters import (
    CUMCM_AS_OF,
    CumcmBatch,
    convert_cumcm,
    cumcm_uscc,
)
from credit_engine.config import Settings, default_definitions_dir
from credit_engine.data import (
    Lake,
    ingest_batch,
    load_contracts,
    load_mapping,
    prepare_mapped_batch,
)
from credit_engine.data._read import iter_chunks
from credit_engine.exceptions import DataContractError
from credit_engine.features import LakeSources, build_feature_frame, load_definitions
from credit_engine.uscc import valid_uscc_mask

CUMCM_DIR = default_definitions_dir() / "data" / "cumcm2020c"

INVOICE_ROWS = {
    "attach1_input_invoices.csv.gz": 210_947,
    "attach1_output_invoices.csv.gz": 162_484,
    "attach2_input_invoices.csv.gz": 395_175,
    "attach2_output_invoices.csv.gz": 330_835,
}
# Graded A (E16), C (E104), D and defaulted (E100); ungraded with a " 作废发票"
# status (E142, E317). None has a row the contract would quarantine.
SUBSET = ("E16", "E100", "E104", "E142", "E317")


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> CumcmBatch:
    return convert_cumcm(CUMCM_DIR, tmp_path_factory.mktemp("cumcm"))


@pytest.fixture(scope="module")
def subset(tmp_path_factory) -> CumcmBatch:
    return convert_cumcm(
        CUMCM_DIR, tmp_path_factory.mktemp("cumcm_subset"), enterprises=SUBSET
    )


# ---------------------------------------------------------------- pseudo-USCC
def test_pseudo_usccs_are_valid_unique_and_deterministic():
    ids = [f"E{n}" for n in range(1, 426)]
    codes = [cumcm_uscc(i) for i in ids]
    assert valid_uscc_mask(codes).all()
    assert len(set(codes)) == len(codes)
    assert codes == [cumcm_uscc(i) for i in ids]
    assert all(c.startswith("91990000CUMC") for c in codes)
    assert cumcm_uscc("E1") == "91990000CUMC000019"  # golden: the scheme is stable
    assert cumcm_uscc("E425") == "91990000CUMC00425E"


@pytest.mark.parametrize("bad", ["E0", "E01", "e1", "X12", "E100000", "E1 ", ""])
def test_malformed_enterprise_ids_are_refused(bad):
    with pytest.raises(DataContractError, match="is not 'E' followed by a number"):
        cumcm_uscc(bad)


# ------------------------------------------------------------- the full data
def test_every_invoice_row_is_kept(full, contracts):
    assert full.source_rows == INVOICE_ROWS
    assert full.rows == sum(INVOICE_ROWS.values()) == 1_099_441
    assert full.directions == {"INPUT": 210_947 + 395_175, "OUTPUT": 162_484 + 330_835}
    table = pq.read_table(full.invoices_path)
    assert table.num_rows == full.rows
    assert table.schema.remove_metadata() == contracts["vat_invoice"].arrow_schema()
    keys = table.select(["uscc", "direction", "source_record_id"]).to_pandas()
    assert not keys.duplicated().any()
    assert full.renumbered > full.identical_rows > 0


def test_codes_times_and_signs_fit_the_contract(full, contracts):
    table = pq.read_table(full.invoices_path)
    contract = contracts["vat_invoice"]
    for column in ("direction", "status"):
        codes = set(pc.unique(table.column(column)).to_pylist())
        assert codes <= set(contract.column(column).values or ())
    assert valid_uscc_mask(pc.unique(table.column("uscc")).to_pylist()).all()
    # Local midnight in Asia/Shanghai is 16:00 UTC the day before; known at the
    # end of the local day.
    event_ts = table.column("event_ts")
    assert pc.all(pc.equal(pc.hour(event_ts), 16)).as_py()
    lag = pc.unique(pc.subtract(table.column("ingested_at"), event_ts)).to_pylist()
    assert lag == [dt.timedelta(days=1) - dt.timedelta(seconds=1)]
    last = pc.max(event_ts).as_py()
    assert last == dt.datetime(2020, 2, 20, 16, tzinfo=dt.UTC)
    status, amount = table.column("status"), table.column("amount_cny")
    red = pc.equal(status, "RED_LETTER")
    assert pc.all(pc.less(pc.filter(amount, red), 0)).as_py()
    negative_status = pc.unique(pc.filter(status, pc.less(amount, 0))).to_pylist()
    assert set(negative_status) == {"RED_LETTER", "VOID"}


def test_status_quirks_are_handled(full):
    assert full.status_whitespace == 47 + 48  # " 作废发票" in the output invoices
    assert full.statuses["VOID"] == 7_608 + 11_159 + 47 + 17_236 + 27_507 + 48
    # 346 voided red-letter invoices keep their negative amounts as VOID, which
    # the contract allows; only red-letter rows with a positive tax break it.
    table = pq.read_table(full.invoices_path, columns=["status", "amount_cny"])
    void_negative = pc.and_(
        pc.equal(table.column("status"), "VOID"), pc.less(table.column("amount_cny"), 0)
    )
    assert pc.sum(void_negative).as_py() == 346
    assert full.expected_quarantined == {"red_letter_positive_tax": 5}


def test_label_files_have_the_right_counts(full):
    enterprises = pd.read_csv(full.enterprises_path)
    assert list(enterprises.columns) == [
        "uscc",
        "cumcm_id",
        "name",
        "grade",
        "defaulted",
    ]
    assert len(enterprises) == full.enterprises == 425
    assert enterprises["uscc"].tolist() == [cumcm_uscc(f"E{n}") for n in range(1, 426)]
    labels = {
        name: pd.read_csv(full.out_dir / f"{name}.csv")
        for name in ("labels_default", "labels_d_vs_rest", "labels_grade")
    }
    for frame in labels.values():
        assert list(frame.columns) == ["uscc", "as_of", "label"]
        assert len(frame) == 123
        assert set(frame["as_of"]) == {CUMCM_AS_OF.isoformat()}
    assert labels["labels_default"]["label"].sum() == 27
    assert labels["labels_d_vs_rest"]["label"].sum() == 24
    grade = labels["labels_grade"]["label"].value_counts().to_dict()
    assert grade == {0: 27, 1: 38, 2: 34, 3: 24}
    # Every D defaulted (README), so D => default.
    assert (
        labels["labels_d_vs_rest"]["label"] <= labels["labels_default"]["label"]
    ).all()
    to_rate = pd.read_csv(full.to_rate_path)
    assert list(to_rate.columns) == ["uscc", "as_of"]
    assert len(to_rate) == full.to_rate == 302
    graded = set(labels["labels_default"]["uscc"])
    assert graded.isdisjoint(to_rate["uscc"])
    assert graded | set(to_rate["uscc"]) == set(enterprises["uscc"])
    assert (full.labelled, full.defaulted, full.grade_d) == (123, 27, 24)


# --------------------------------------------------------------- the subset
def test_a_subset_is_converted_deterministically(subset, tmp_path):
    assert subset.enterprises == 5
    assert subset.labelled == 3
    assert subset.expected_quarantined == {}
    again = convert_cumcm(CUMCM_DIR, tmp_path, enterprises=SUBSET)
    for name in ("records/vat_invoice.parquet", "enterprises.csv", "labels_grade.csv"):
        assert (tmp_path / name).read_bytes() == (subset.out_dir / name).read_bytes()
    assert again.source_rows == subset.source_rows


def test_a_subset_ingests_without_quarantine_and_gives_features(subset, tmp_path):
    settings = Settings(home=tmp_path / "home")
    report = ingest_batch(subset.records_dir, settings)
    table = report.tables["vat_invoice"]
    assert (table.rows_in, table.quarantined, table.duplicates) == (subset.rows, 0, 0)
    assert table.loaded == subset.rows
    defs = load_definitions(settings.definitions_dir)
    sources = LakeSources(
        Lake(settings.lake_dir, settings.quarantine_dir), defs.contracts
    )
    spine = pd.read_csv(subset.spine_path)
    spine["as_of"] = pd.to_datetime(spine["as_of"]).dt.date
    frame = build_feature_frame(spine, "invoices_v1", definitions=defs, sources=sources)
    assert len(frame) == 5
    assert len(frame.columns) == 2 + 30  # uscc, as_of and the set's features
    assert (frame["vat_invoices__output_amount_all"] > 0).all()
    assert frame["vat_invoices__history_days"].notna().all()
    assert frame["vat_invoices__output_void_share_all"].notna().all()


def test_unknown_requested_enterprises_are_named(tmp_path):
    with pytest.raises(DataContractError, match=r"requested enterprises 'E999'"):
        convert_cumcm(CUMCM_DIR, tmp_path, enterprises=["E1", "E999"])
    assert not (tmp_path / "records").exists()


# ----------------------------------------------------- a tiny synthetic copy
_HEAD = "企业代号,发票号码,开票日期,{cp},金额,税额,价税合计,发票状态\n"


def _write(folder: Path, name: str, text: str) -> None:
    with gzip.open(folder / name, "wt", encoding="utf-8") as handle:
        handle.write(text)


def _tiny_source(folder: Path, output_rows: str) -> Path:
    folder.mkdir()
    _write(
        folder,
        "attach1_enterprises.csv.gz",
        "企业代号,企业名称,信誉评级,是否违约\nE1,***公司,A,否\nE2,***店,D,是\n",
    )
    _write(folder, "attach2_enterprises.csv.gz", "企业代号,企业名称\nE3,个体经营E3 \n")
    _write(
        folder,
        "attach1_input_invoices.csv.gz",
        _HEAD.format(cp="销方单位代号") + "E1,100,2019/1/2,A1,10.0,1.3,11.3,有效发票\n",
    )
    _write(
        folder,
        "attach1_output_invoices.csv.gz",
        _HEAD.format(cp="购方单位代号") + output_rows,
    )
    _write(folder, "attach2_input_invoices.csv.gz", _HEAD.format(cp="销方单位代号"))
    _write(folder, "attach2_output_invoices.csv.gz", _HEAD.format(cp="购方单位代号"))
    return folder


def test_mapping_on_a_tiny_copy(tmp_path):
    source = _tiny_source(
        tmp_path / "src",
        "E1,7,2019/12/31,B1,100.0,13.0,113.0,有效发票\n"
        "E1,7,2020/1/1,B2,-50.0,-6.5,-56.5,有效发票\n"
        "E1,7,2020/1/1,B2,30.0,3.9,33.9, 作废发票\n"
        "E1,8,2020/1/2,B2,-2.0,0.26,-1.74,有效发票\n"
        "E2,7,2020/2/3,B1,-5.0,-0.65,-5.65,作废发票\n",
    )
    batch = convert_cumcm(source, tmp_path / "out")
    frame = pd.read_parquet(batch.invoices_path)
    out = frame[frame["direction"] == "OUTPUT"]
    assert out["source_record_id"].tolist() == ["7", "7-2", "7-3", "8", "7"]
    assert out["status"].tolist() == [
        "VALID",
        "RED_LETTER",
        "VOID",
        "RED_LETTER",
        "VOID",
    ]
    first = out.iloc[0]
    assert first["event_ts"] == pd.Timestamp("2019-12-30 16:00", tz="UTC")
    assert first["ingested_at"] == pd.Timestamp("2019-12-31 15:59:59", tz="UTC")
    assert first["uscc"] == cumcm_uscc("E1")
    assert batch.status_whitespace == 1
    assert batch.renumbered == 2
    # The voided red-letter row (E2) is allowed; the red-letter row with a
    # positive tax is not.
    assert batch.expected_quarantined == {"red_letter_positive_tax": 1}
    grades = pd.read_csv(batch.labels_grade_path)
    assert grades["label"].tolist() == [0, 3]
    assert pd.read_csv(batch.to_rate_path)["uscc"].tolist() == [cumcm_uscc("E3")]
    names = pd.read_csv(batch.enterprises_path)["name"].tolist()
    assert names == ["***公司", "***店", "个体经营E3"]
    assert batch.as_of == dt.date(2020, 2, 29)


def test_the_predicted_rows_and_only_they_are_quarantined(tmp_path):
    source = _tiny_source(
        tmp_path / "src",
        "E1,7,2019/12/31,B1,100.0,13.0,113.0,有效发票\n"
        "E1,8,2020/1/2,B2,-2.0,0.26,-1.74,有效发票\n"
        "E1,9,2020/1/3,B1,10.0,-1.3,8.7,有效发票\n"
        "E2,7,2020/2/3,B1,-5.0,-0.65,-5.65,作废发票\n"
        "E2,8,2020/2/4,B1,5.0,0.65,5.65,作废发票\n",
    )
    batch = convert_cumcm(source, tmp_path / "out")
    assert batch.expected_quarantined == {
        "red_letter_positive_tax": 1,
        "valid_negative": 1,
    }
    report = ingest_batch(batch.records_dir, Settings(home=tmp_path / "home"))
    table = report.tables["vat_invoice"]
    assert table.rows_in == batch.rows == 6
    assert table.quarantined == batch.expected_quarantined_total == 2
    assert table.loaded == 4  # both voided rows, whatever their sign
    assert set(table.reasons) == {"above_max", "below_min"}


def test_malformed_content_is_listed_and_nothing_written(tmp_path):
    source = _tiny_source(
        tmp_path / "src",
        "E1,8,2019-12-31,B1,100.0,13.0,113.0,有效发票\n"
        "E1,9,2019/12/31,B1,abc,13.0,113.0,红冲发票\n"
        "E9,9,2019/12/31,B1,1.0,0.1,1.1,有效发票\n",
    )
    with pytest.raises(DataContractError, match="4 problem") as info:
        convert_cumcm(source, tmp_path / "out")
    for part in (
        "'2019-12-31'",
        "金额 values not numbers: 'abc'",
        "'红冲发票'",
        "'E9'",
    ):
        assert part in info.value.message
    assert not (tmp_path / "out").exists()


def test_missing_files_are_named(tmp_path):
    (tmp_path / "src").mkdir()
    with pytest.raises(DataContractError, match="lacks 'attach1_enterprises.csv.gz'"):
        convert_cumcm(tmp_path / "src", tmp_path / "out")


def test_other_files_in_the_batch_folder_are_refused(tmp_path):
    source = _tiny_source(tmp_path / "src", "")
    (tmp_path / "out" / "records").mkdir(parents=True)
    (tmp_path / "out" / "records" / "old.parquet").write_bytes(b"")
    with pytest.raises(DataContractError, match="holds other files"):
        convert_cumcm(source, tmp_path / "out")


def test_the_command_converts_and_prints_counts(tmp_path):
    from typer.testing import CliRunner

    from credit_engine.cli import app

    source = _tiny_source(
        tmp_path / "src", "E1,7,2019/12/31,B1,100.0,13.0,113.0,有效发票\n"
    )
    runner = CliRunner()
    result = runner.invoke(
        app, ["adapt-cumcm", str(source), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "written │ 2" in text
    assert (
        "3 (2 graded: A 1 / B 0 / C 0 / D 1; defaulted 1, grade D 1; 1 to rate)" in text
    )
    assert (tmp_path / "out" / "records" / "vat_invoice.parquet").is_file()
    missing = runner.invoke(app, ["adapt-cumcm", str(tmp_path / "nowhere")])
    assert missing.exit_code == 2
    assert "does not exist or is not a folder" in " ".join(missing.output.split())


# ------------------------------------------------- the mapping does the same
MAPPING = CUMCM_DIR / "mapping.yaml"


def _mapped_rows(source: Path) -> pa.Table:
    """The typed rows the mapping hands to validation (before GX, dedup, lake)."""
    settings = Settings()
    contracts = load_contracts(settings.sources_dir)
    mapping = load_mapping(MAPPING, contracts, definitions_dir=settings.definitions_dir)
    (table,) = prepare_mapped_batch(source, mapping, contracts).tables
    chunks = list(iter_chunks(table, 2_000_000))
    assert not any(c.flagged for c in chunks)
    return pa.concat_tables([c.table for c in chunks])


def test_the_mapping_gives_the_adapters_rows_on_the_full_data(full):
    mapped = _mapped_rows(CUMCM_DIR)
    adapted = pq.read_table(full.invoices_path).replace_schema_metadata(None)
    assert mapped.num_rows == 1_099_441
    # Same values, same types, same order: the batch the adapter writes.
    assert mapped.equals(adapted)


def test_the_mapping_and_the_adapter_load_identical_lake_rows(tmp_path):
    rows = (
        "E1,7,2019/12/31,B1,100.0,13.0,113.0,有效发票\n"
        "E1,7,2020/1/1,B2,-50.0,-6.5,-56.5,有效发票\n"
        "E1,7,2020/1/1,B2,30.0,3.9,33.9, 作废发票\n"
        "E1,8,2020/1/2,B2,-2.0,0.26,-1.74,有效发票\n"
        "E2,7,2020/2/3,B1,-5.0,-0.65,-5.65,作废发票\n"
    )
    source = _tiny_source(tmp_path / "src", rows)
    batch = convert_cumcm(source, tmp_path / "out")
    by_adapter = Settings(home=tmp_path / "a")
    by_mapping = Settings(home=tmp_path / "b")
    ingest_batch(batch.records_dir, by_adapter)
    report = ingest_batch(source, by_mapping, mapping=MAPPING)
    assert report.tables["vat_invoice"].quarantined == 1  # red letter, positive tax

    def area(settings: Settings, quarantine: bool) -> pd.DataFrame:
        lake = Lake(settings.lake_dir, settings.quarantine_dir)
        files = lake.quarantine_files if quarantine else lake.table_files
        frame = pd.concat([pd.read_parquet(f) for f in files("vat_invoice")])
        drop = ["_batch_id", "_source_file", "_row_number"]
        return frame.drop(columns=[c for c in drop if c in frame]).reset_index(
            drop=True
        )

    # Same values, order and fingerprints (the batch ids differ: other files).
    pd.testing.assert_frame_equal(area(by_adapter, False), area(by_mapping, False))
    pd.testing.assert_frame_equal(area(by_adapter, True), area(by_mapping, True))
    # The mapping keeps the real provenance: the contest file and its row.
    q = Lake(by_mapping.lake_dir, by_mapping.quarantine_dir)
    (part,) = q.quarantine_files("vat_invoice")
    where = pd.read_parquet(part, columns=["_source_file", "_row_number"])
    assert where.to_dict("records") == [
        {"_source_file": "attach1_output_invoices.csv.gz", "_row_number": 3}
    ]
