"""Point-in-time correctness as properties (hypothesis), on the simulated zone.

For any rating date, records that happened or became known after it must never
change any feature: (1) dropping everything not known at as_of changes nothing;
(2) adding records, or new versions of records, known after as_of changes nothing.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_engine.config import Settings
from credit_engine.data import ColumnType, RecordKind
from credit_engine.features import FrameSources, build_feature_frame, load_definitions

pytestmark = pytest.mark.slow

as_of_dates = st.dates(min_value=dt.date(2024, 1, 31), max_value=dt.date(2026, 9, 15))


@pytest.fixture(scope="module")
def defs():
    return load_definitions(Settings().definitions_dir)


@pytest.fixture(scope="module")
def sample(clean):
    """The clean records of 40 enterprises of the small zone, and their USCCs."""
    usccs = sorted(clean["samr_registration"]["uscc"].unique())
    chosen = sorted(np.random.default_rng(11).choice(usccs, 40, replace=False))
    tables = {
        t: f[f["uscc"].isin(chosen)].reset_index(drop=True) for t, f in clean.items()
    }
    return tables, chosen


def _features(defs, tables, as_of, usccs):
    spine = pd.DataFrame({"uscc": usccs}).assign(as_of=as_of)
    sources = FrameSources(tables, defs.contracts)
    return build_feature_frame(spine, "credit_v1", definitions=defs, sources=sources)


def _cutoff(as_of: dt.date) -> pd.Timestamp:
    return pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)


def _known_only(defs, tables, as_of):
    cutoff = _cutoff(as_of)
    out = {}
    for name, frame in tables.items():
        keep = frame["ingested_at"] < cutoff
        time = defs.contracts[name].time_column
        keep &= frame[time] < cutoff
        out[name] = frame[keep]
    return out


def _future_rows(defs, name, frame, as_of, rng):
    """Copies of some rows, known after as_of, with other values; half are new
    versions of existing records (same key), half new records."""
    if frame.empty:
        return frame
    contract = defs.contracts[name]
    rows = frame.sample(n=min(len(frame), 25), random_state=int(rng.integers(1 << 31)))
    rows = rows.copy()
    k = len(rows)
    cutoff = _cutoff(as_of)
    later = cutoff + pd.to_timedelta(rng.integers(0, 400 * 86400, k), unit="s")
    rows["ingested_at"] = later
    time = contract.time_column
    moved = rng.random(k) < 0.5
    rows.loc[moved, time] = later[moved]
    if "effective_to" in rows:
        rows["effective_to"] = rows["ingested_at"] + pd.Timedelta(days=3)
    for spec in contract.columns:
        if spec.type in (ColumnType.FLOAT, ColumnType.INT) and spec.name in rows:
            rows[spec.name] = rows[spec.name] * 3 + 1
        if spec.values:
            rows[spec.name] = rng.choice(np.array(spec.values, dtype=object), k)
    fresh = rng.random(k) < 0.5
    rows.loc[fresh, "source_record_id"] = rows.loc[fresh, "source_record_id"] + "F"
    return pd.concat([frame, rows], ignore_index=True)


def _assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(as_of=as_of_dates)
def test_records_not_known_at_as_of_can_be_removed_without_effect(defs, sample, as_of):
    tables, usccs = sample
    full = _features(defs, tables, as_of, usccs)
    known = _features(defs, _known_only(defs, tables, as_of), as_of, usccs)
    _assert_same(full, known)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(as_of=as_of_dates, seed=st.integers(0, 2**32 - 1))
def test_adding_or_changing_records_after_as_of_never_changes_a_feature(
    defs, sample, as_of, seed
):
    rng = np.random.default_rng(seed)
    tables, usccs = sample
    before = _features(defs, tables, as_of, usccs)
    grown = {n: _future_rows(defs, n, f, as_of, rng) for n, f in tables.items()}
    after = _features(defs, grown, as_of, usccs)
    _assert_same(before, after)


def test_the_properties_have_teeth(defs, sample):
    """A record known on the rating date itself does change the features."""
    as_of = dt.date(2025, 6, 30)
    tables, usccs = sample
    before = _features(defs, tables, as_of, usccs)
    decl = tables["customs_declaration"]
    row = decl.iloc[[0]].copy()
    row["event_ts"] = row["ingested_at"] = pd.Timestamp("2025-06-30 12:00", tz="UTC")
    row["source_record_id"] = "X" + row["source_record_id"]
    grown = dict(tables, customs_declaration=pd.concat([decl, row], ignore_index=True))
    after = _features(defs, grown, as_of, usccs)
    with pytest.raises(AssertionError, match="count_90d"):
        _assert_same(before, after)
    assert defs.contracts["customs_declaration"].kind is RecordKind.EVENT
