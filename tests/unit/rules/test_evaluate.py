"""statutory_facts as a whole: output contract, filters, and the simulated zone
(consistency with the feature engine and the raw tables, point in time)."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_engine.config import Settings
from credit_engine.features import (
    FrameSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
)
from credit_engine.rules import FACT_COLUMNS, statutory_facts, statutory_facts_sql

# pyarrow reads tz-aware pandas columns through Series.values, which pandas 3.1
# deprecates; the zone fixtures are plain pandas frames.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")

ZONE_DATES = [dt.date(2025, 6, 30), dt.date(2026, 3, 31), dt.date(2026, 9, 30)]


# ------------------------------------------------------------- the contract
def _scenario(r):
    r.level("ADV_CERT", "2022-05-01", reason="AEO_CERTIFIED")
    r.rating(2024, "A", "2025-04-20")
    r.safe("A", "2013-01-01")
    r.level("DISHONEST", "2025-01-10", uscc=r.B, reason="ART22_4_TAX_OVERDUE")
    r.serious("2024-09-01", uscc=r.B)
    r.abnormal("2025-03-01", uscc=r.C)
    r.bill("2025-01-10", uscc=r.C)


def test_the_frame_has_the_documented_columns_types_and_order(records):
    _scenario(records)
    frame = records.facts("2025-06-30")
    assert tuple(frame.columns) == FACT_COLUMNS
    assert list(frame["uscc"]) == sorted(frame["uscc"])
    assert frame.groupby("uscc")["code"].apply(lambda s: list(s) == sorted(s)).all()
    assert frame["code"].tolist() == [
        "CUSTOMS_ADV_CERT",
        "SAFE_CLASS_A",
        "TAX_LEVEL_A",
        "CUSTOMS_DISHONEST",
        "SAMR_SERIOUS_LIST",
        "CUSTOMS_ART22_PENDING",
        "SAMR_ABNORMAL_LIST",
    ]
    assert all(isinstance(v, dt.date) for v in frame["since"])
    assert all(v is None or isinstance(v, dt.date) for v in frame["until"])
    assert all(v is None or isinstance(v, str) for v in frame["detail"])
    assert all(v is None or v in "ABCD" for v in frame["ceiling"])
    for col in ("joint_punishment", "blocks_green_channel", "favourable"):
        assert frame[col].dtype == bool
    assert frame["inspection_factor_cap"].dtype == "float64"
    assert set(frame["department"]) == {"CUSTOMS", "TAX", "SAFE", "SAMR"}
    assert frame.loc[frame["code"] == "CUSTOMS_ADV_CERT", "zh"].item() == (
        "海关高级认证企业(AEO)"
    )


def test_runs_are_deterministic_and_the_uscc_filter_selects_rows(records):
    _scenario(records)
    full = records.facts("2025-06-30")
    pd.testing.assert_frame_equal(full, records.facts("2025-06-30"))
    one = records.facts("2025-06-30", usccs=[records.B])
    expected = full[full["uscc"] == records.B].reset_index(drop=True)
    pd.testing.assert_frame_equal(one, expected)
    none = records.facts("2025-06-30", usccs=[])
    assert none.empty
    assert tuple(none.columns) == FACT_COLUMNS


def test_a_given_connection_is_used_and_left_open(records):
    _scenario(records)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")  # the SQL does not depend on it
    frame = records.facts("2025-06-30", con=con)
    pd.testing.assert_frame_equal(frame, records.facts("2025-06-30"))
    assert con.execute("SELECT count(*) FROM customs_credit_level").fetchall() == [(2,)]
    con.close()


def test_the_query_reads_only_the_tables_it_needs(rulebook, contracts):
    sql, tables = statutory_facts_sql(
        rulebook, dt.date(2026, 4, 1), ["X"], contracts=contracts
    )
    assert "customs_declaration" in tables
    assert "vat_invoice" not in tables
    assert "vat_invoice" not in sql
    assert sql.count("uscc IN ('X')") >= len(tables)


# ------------------------------------------------------- the simulated zone
@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


@pytest.fixture(scope="module")
def zone_facts(clean, contracts, rulebook):
    # The zone's tables without the rows the simulator made dirty: what the
    # lake holds after ingestion (dirty rows are quarantined).
    sources = FrameSources(clean, contracts)
    return {d: statutory_facts(sources, d, rulebook=rulebook) for d in ZONE_DATES}


@pytest.fixture(scope="module")
def zone_features(clean, defs):
    sources = FrameSources(clean, defs.contracts)
    spine = enterprise_spine(sources, defs, ZONE_DATES)
    refs = [
        "customs_level:level_ord",
        "tax_level:level_ord",
        "safe_class:class_ord",
        "abnormal_list:active",
        "serious_list:active",
        "customs_tax_bills:max_days_overdue",
        "customs_penalties:fines_unpaid_180d",
    ]
    resolved = defs.resolve_features(refs)
    return build_feature_frame(spine, resolved, definitions=defs, sources=sources)


def _codes(facts: pd.DataFrame, prefix: str, values) -> pd.Series:
    """The level facts ``prefix + value`` per firm (at most one per firm)."""
    sub = facts[facts["code"].isin([prefix + v for v in values])]
    assert not sub["uscc"].duplicated().any(), f"two {prefix}* levels for one firm"
    return sub.set_index("uscc")["code"].str.removeprefix(prefix)


@pytest.mark.parametrize("as_of", ZONE_DATES)
def test_zone_levels_agree_with_the_feature_engine(
    zone_facts, zone_features, rulebook, as_of
):
    facts = zone_facts[as_of]
    feats = zone_features[zone_features["as_of"] == as_of].set_index("uscc")
    assert not facts.duplicated(["uscc", "code"]).any()
    versions = rulebook.versions(as_of)
    assert set(facts["rule_set"]) <= set(versions.values())

    customs = {5: "ADV_CERT", 4: "CERT", 2: "DISHONEST", 1: "SERIOUS_DISHONEST"}
    if versions["CUSTOMS"] == "CUSTOMS_251":
        del customs[4]
    expected = feats["customs_level__level_ord"].map(customs).dropna()
    got = _codes(facts, "CUSTOMS_", customs.values())
    pd.testing.assert_series_equal(
        got.sort_index(), expected.sort_index(), check_names=False
    )
    assert (expected == "DISHONEST").sum() > 0  # the zone has dishonest firms

    tax = feats["tax_level__level_ord"].map({5: "A", 4: "B", 3: "M", 2: "C", 1: "D"})
    got = _codes(facts, "TAX_LEVEL_", "ABMCD")
    pd.testing.assert_series_equal(
        got.sort_index(), tax.dropna().sort_index(), check_names=False
    )
    safe = feats["safe_class__class_ord"].map({3: "A", 2: "B", 1: "C"})
    got = _codes(facts, "SAFE_CLASS_", "ABC")
    pd.testing.assert_series_equal(
        got.sort_index(), safe.dropna().sort_index(), check_names=False
    )
    listed = set(feats.index[feats["abnormal_list__active"] == 1])
    assert set(facts.loc[facts["code"] == "SAMR_ABNORMAL_LIST", "uscc"]) == listed
    serious = set(facts.loc[facts["code"] == "SAMR_SERIOUS_LIST", "uscc"])
    assert serious <= set(feats.index[feats["serious_list__active"] == 1])

    # Art. 22(4)/(5) pending situations: the overdue features of firms that
    # customs has not (yet) made dishonest.
    dishonest = set(expected.index[expected.isin(["DISHONEST", "SERIOUS_DISHONEST"])])
    pending = facts[facts["code"] == "CUSTOMS_ART22_PENDING"].set_index("uscc")
    items = pending["detail"].str.split(";")
    overdue = feats["customs_tax_bills__max_days_overdue"] > 90
    assert set(items.index[items.map(lambda i: "ART22_4" in i)]) == (
        set(feats.index[overdue]) - dishonest
    )
    fines = feats["customs_penalties__fines_unpaid_180d"] > 0
    assert set(items.index[items.map(lambda i: "ART22_5" in i)]) == (
        set(feats.index[fines]) - dishonest
    )


@pytest.mark.parametrize("as_of", ZONE_DATES)
def test_zone_facts_are_consistent_with_each_other(zone_facts, as_of):
    facts = zone_facts[as_of]
    by_firm = facts.groupby("uscc")["code"].apply(set)
    dishonest = {"CUSTOMS_DISHONEST", "CUSTOMS_SERIOUS_DISHONEST"}
    for codes in by_firm:
        assert not ("CUSTOMS_ART22_PENDING" in codes and codes & dishonest)
        assert "CUSTOMS_REPAIR_DUE" not in codes or codes & dishonest
        assert not {"TAX_D_RETENTION", "TAX_LEVEL_D"} <= codes
    joint = facts[facts["joint_punishment"]]
    assert set(joint["code"]) <= {
        "CUSTOMS_SERIOUS_DISHONEST",
        "TAX_MAJOR_VIOLATION",
        "SAMR_SERIOUS_LIST",
    }
    assert (facts["since"] <= as_of).all()
    ended = facts["until"].notna()
    assert (facts.loc[ended, "until"] > as_of).all()


def test_zone_serious_list_facts_match_the_raw_table(clean, zone_facts, rulebook):
    """Recompute SAMR_SERIOUS_LIST with pandas from the raw records."""
    as_of = ZONE_DATES[-1]
    cutoff = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    days = rulebook.in_force(as_of)["REPAIR"].param("serious_max_publicity_days")
    raw = clean["serious_violation_list"]
    raw = raw[(raw["ingested_at"] < cutoff) & (raw["effective_from"] < cutoff)]
    latest = (
        raw.sort_values("ingested_at")
        .groupby(["uscc", "source_record_id"], as_index=False)
        .last()
    )
    active = latest[latest["effective_to"].isna() | (latest["effective_to"] >= cutoff)]
    listed = active["effective_from"].dt.tz_convert("UTC").dt.date
    young = active[listed + pd.Timedelta(days=days) > as_of]
    facts = zone_facts[as_of]
    got = set(facts.loc[facts["code"] == "SAMR_SERIOUS_LIST", "uscc"])
    assert got == set(young["uscc"])
    assert got, "the zone should have serious-list entries"


# ----------------------------------------------------------- point in time
@pytest.fixture(scope="module")
def sample(clean):
    """The clean records of 60 enterprises of the small zone, dishonest ones first."""
    levels = clean["customs_credit_level"]
    bad = sorted(levels.loc[levels["credit_level"] == "DISHONEST", "uscc"].unique())
    others = sorted(set(clean["samr_registration"]["uscc"]) - set(bad))
    rng = np.random.default_rng(5)
    chosen = set(bad[:20]) | set(rng.choice(others, 40, replace=False))
    return {
        t: f[f["uscc"].isin(chosen)].reset_index(drop=True) for t, f in clean.items()
    }


def _future(frame: pd.DataFrame, time: str, as_of: dt.date, rng) -> pd.DataFrame:
    """Copies of some rows known only after as_of: half new versions of existing
    records (same key), half new records, with the valid time moved too."""
    if frame.empty:
        return frame
    rows = frame.sample(n=min(len(frame), 30), random_state=int(rng.integers(1 << 31)))
    rows = rows.copy()
    cutoff = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    later = cutoff + pd.to_timedelta(rng.integers(0, 400 * 86400, len(rows)), unit="s")
    rows["ingested_at"] = later
    moved = rng.random(len(rows)) < 0.5
    rows.loc[moved, time] = later[moved]
    if "effective_to" in rows:
        rows["effective_to"] = rows["ingested_at"]  # closes spells after as_of
    for col in ("paid_date", "due_date"):
        if col in rows:
            rows[col] = as_of - dt.timedelta(days=400)
    fresh = rng.random(len(rows)) < 0.5
    rows.loc[fresh, "source_record_id"] = rows.loc[fresh, "source_record_id"] + "F"
    return pd.concat([frame, rows], ignore_index=True)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    as_of=st.dates(min_value=dt.date(2024, 1, 31), max_value=dt.date(2026, 9, 15)),
    seed=st.integers(0, 2**32 - 1),
)
def test_records_known_after_as_of_never_change_the_facts(
    sample, contracts, rulebook, as_of, seed
):
    rng = np.random.default_rng(seed)
    before = statutory_facts(FrameSources(sample, contracts), as_of, rulebook=rulebook)
    grown = {
        name: _future(frame, contracts[name].time_column, as_of, rng)
        for name, frame in sample.items()
    }
    after = statutory_facts(FrameSources(grown, contracts), as_of, rulebook=rulebook)
    pd.testing.assert_frame_equal(before, after)


def test_the_point_in_time_property_has_teeth(sample, contracts, rulebook):
    """A version known on the rating date itself does change the facts."""
    as_of = dt.date(2025, 6, 30)
    before = statutory_facts(FrameSources(sample, contracts), as_of, rulebook=rulebook)
    firm = before.loc[before["code"] == "CUSTOMS_DISHONEST", "uscc"].iloc[0]
    levels = sample["customs_credit_level"]
    mine = levels[(levels["uscc"] == firm) & (levels["credit_level"] == "DISHONEST")]
    row = mine.sort_values("effective_from").iloc[[-1]].copy()
    row["effective_to"] = row["ingested_at"] = pd.Timestamp(
        "2025-06-30 12:00", tz="UTC"
    )
    grown = dict(sample, customs_credit_level=pd.concat([levels, row]))
    after = statutory_facts(FrameSources(grown, contracts), as_of, rulebook=rulebook)
    gone = before[(before["uscc"] == firm) & (before["code"] == "CUSTOMS_DISHONEST")]
    assert len(gone) == 1
    assert firm not in set(after.loc[after["code"] == "CUSTOMS_DISHONEST", "uscc"])
