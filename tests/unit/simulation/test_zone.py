"""Behaviour of the synthetic zone: contracts, determinism, volume, window, versions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from credit_engine.data import RecordKind
from credit_engine.simulation import DIRTY_KINDS, SimulationConfig, simulate_zone
from credit_engine.simulation import SimulationConfig as _Config
from credit_engine.simulation import _codes as codes
from credit_engine.simulation import _reference as ref
from credit_engine.uscc import valid_uscc_mask

SMALL_ZONE = _Config(enterprises=600, seed=7)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob("*.parquet"))
    }


def test_every_contract_table_is_written_with_its_schema(zone, contracts):
    # The simulator writes the simulated contracts, without extension columns
    # (fields real extracts may carry; optional sources it does not produce).
    simulated = {n: c.simulated_view() for n, c in contracts.items() if c.simulated}
    assert {n for n, c in contracts.items() if not c.simulated} >= {
        "court_judgment", "ip_right", "news_item"
    }  # fmt: skip
    written = {p.stem for p in Path(zone.out_dir).glob("*.parquet")}
    assert written == set(simulated)
    for name, contract in simulated.items():
        schema = pq.read_schema(Path(zone.out_dir) / f"{name}.parquet")
        assert schema.names == contract.column_names
        for spec in contract.columns:
            assert schema.field(spec.name).type == spec.type.arrow_type(), (
                name,
                spec.name,
            )


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(
    tmp_path, contracts
):
    config = SimulationConfig(
        enterprises=150, start="2024-01-01", end="2024-12-31", seed=3
    )
    first = simulate_zone(config, contracts, tmp_path / "a" / "r", tmp_path / "a" / "t")
    second = simulate_zone(
        config, contracts, tmp_path / "b" / "r", tmp_path / "b" / "t"
    )
    other = simulate_zone(
        config.model_copy(update={"seed": 4}),
        contracts,
        tmp_path / "c" / "r",
        tmp_path / "c" / "t",
    )
    assert _digest(first.out_dir) == _digest(second.out_dir)
    assert _digest(first.truth_dir) == _digest(second.truth_dir)
    assert _digest(first.out_dir) != _digest(other.out_dir)


def test_volume_is_about_300_records_per_enterprise_year_and_heavy_tailed(zone, tables):
    years = (SMALL_ZONE.end - SMALL_ZONE.start).days / 365.25
    per_year = zone.total_rows / SMALL_ZONE.enterprises / years
    assert 220 <= per_year <= 380
    counts = pd.concat([t["uscc"] for t in tables.values()]).value_counts()
    top = counts.head(max(1, len(counts) // 100)).sum() / counts.sum()
    assert top > 0.10, f"top 1% of enterprises hold only {top:.1%} of the records"


def test_events_lie_in_the_window_and_nothing_is_known_after_the_extract(
    clean, contracts
):
    start = pd.Timestamp(SMALL_ZONE.start, tz="UTC")
    extract = pd.Timestamp(SMALL_ZONE.end, tz="UTC") + pd.Timedelta(days=1)
    for name, frame in clean.items():
        known = frame["ingested_at"].dropna()
        assert (known < extract).all(), name
        if contracts[name].kind is RecordKind.EVENT:
            ts = frame["event_ts"].dropna()
            assert ((ts >= start) & (ts < extract)).all(), name
            ok = frame.dropna(subset=["event_ts", "ingested_at"])
            assert (ok["ingested_at"] >= ok["event_ts"]).all(), (
                f"{name} known before it happened"
            )


def test_some_records_arrive_late(clean):
    decl = clean["customs_declaration"]
    lag = (decl["ingested_at"] - decl["event_ts"]).dt.days
    share = (lag >= 30).mean()
    assert 0.005 < share < 0.05


def test_state_records_have_at_most_two_versions_the_second_closing_the_spell(
    clean, contracts
):
    for name, contract in contracts.items():
        if contract.kind is not RecordKind.STATE:
            continue
        frame = clean[name].sort_values("ingested_at")
        versions = frame.groupby(["uscc", "source_record_id"]).size()
        assert versions.max() <= 2, name
        twice = frame[frame.duplicated(["uscc", "source_record_id"], keep=False)]
        for _, pair in twice.groupby(["uscc", "source_record_id"]):
            first, last = pair.iloc[0], pair.iloc[-1]
            assert pd.isna(first["effective_to"]), name
            assert pd.notna(last["effective_to"]), name
            assert last["effective_to"] >= last["effective_from"], name


def test_dirty_rows_are_about_the_requested_rate_and_of_every_kind(zone, tables, truth):
    dirty = truth["dirty_rows"]
    assert set(dirty["kind"]) == set(DIRTY_KINDS)
    rate = len(dirty) / zone.total_rows
    assert 0.006 < rate < 0.014
    for _, row in dirty[dirty["kind"] == "bad_uscc"].iterrows():
        assert not valid_uscc_mask(
            [tables[row["table"]].at[row["row_number"], "uscc"]]
        )[0]


def test_clean_rows_all_carry_valid_usccs(clean):
    for name, frame in clean.items():
        assert valid_uscc_mask(frame["uscc"]).all(), name


def test_exact_duplicates_repeat_an_earlier_row(tables, truth):
    dups = truth["dirty_rows"].query("kind == 'exact_duplicate'")
    for name, group in dups.groupby("table"):
        frame = tables[name]
        dup_rows = frame.loc[group["row_number"]]
        earlier = frame.drop(index=group["row_number"])
        merged = dup_rows.merge(earlier, how="left", indicator=True)
        assert (merged["_merge"] == "both").all(), name


def test_code_tables_match_the_contracts(contracts):
    pairs = {
        ("customs_credit_level", "reason_code"): codes.CUSTOMS_REASONS,
        ("customs_credit_level", "credit_level"): ref.LEVEL_NAMES,
        ("safe_classification", "reason_code"): codes.SAFE_REASONS,
        ("safe_classification", "fx_class"): ref.SAFE_NAMES,
        ("tax_registration", "status"): codes.TAX_STATUS,
        ("samr_registration", "status"): codes.SAMR_STATUS,
        ("abnormal_list", "cause"): codes.ABNORMAL_CAUSES,
        ("abnormal_list", "removal_reason"): codes.ABNORMAL_REMOVAL,
        ("serious_violation_list", "cause"): codes.SERIOUS_CAUSES,
        ("serious_violation_list", "removal_reason"): codes.SERIOUS_REMOVAL,
        ("customs_penalty", "category"): codes.PENALTY_CATEGORIES,
        ("tax_violation", "violation_type"): codes.TAX_VIOLATIONS,
        ("tax_credit_rating", "level"): codes.TAX_LEVELS,
        ("admin_penalty", "matter"): codes.ADMIN_MATTERS,
        ("admin_penalty", "penalty_type"): codes.ADMIN_TYPES,
        ("samr_change", "field"): codes.CHANGE_FIELDS,
        ("customs_declaration", "currency"): ref.CURRENCIES,
    }
    for (table, column), names in pairs.items():
        assert set(names) <= set(contracts[table].column(column).values), (
            table,
            column,
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2025-01-01", "end": "2024-01-01"}, "end must be after start"),
        ({"enterprises": 0}, "greater than or equal to 1"),
        ({"dirty_rate": 0.9}, "less than or equal to 0.5"),
        ({"start": "2025-01-01", "end": "2025-01-20"}, "at least 60 days"),
    ],
)
def test_invalid_configuration_is_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        SimulationConfig(**kwargs)


def test_truth_is_written_apart_and_is_a_probability(zone, truth):
    assert Path(zone.truth_dir) != Path(zone.out_dir)
    monthly = truth["monthly"]
    assert monthly["p_adverse_12m"].between(0, 1).all()
    assert set(truth) >= {"monthly", "adverse_events", "enterprises", "dirty_rows"}
    assert np.isclose(
        monthly.groupby("as_of").size().max(), SMALL_ZONE.enterprises, rtol=0.2
    )
