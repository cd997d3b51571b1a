"""Reads for the zone statistics: decisions of several dates, every override."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from credit_engine.exceptions import StoreError
from tests.unit.store.factories import T0, decision, make_run, uscc

MAR, JUN, SEP = dt.date(2026, 3, 31), dt.date(2026, 6, 30), dt.date(2026, 9, 30)


def _record(store, as_of, tiers, *, finished_at=None, **fields):
    run = make_run(
        as_of,
        started_at=T0,
        finished_at=finished_at or T0 + dt.timedelta(minutes=5),
    )
    rows = [decision(uscc(n), tier, **fields) for n, tier in tiers.items()]
    return store.record_run(run, pd.DataFrame(rows))


def test_decisions_between_reads_the_latest_run_of_each_date_in_range(store):
    _record(store, MAR, {1: "A", 2: "B"})
    _record(store, MAR, {1: "C", 2: "B"})  # supersedes the first MAR run
    _record(store, JUN, {1: "D", 3: "A"})
    _record(store, SEP, {1: "A"})  # out of range
    frame = store.decisions_between(MAR, JUN, columns=["tier", "green_channel"])
    assert list(frame.columns) == ["as_of", "uscc", "tier", "green_channel"]
    got = list(zip(frame["as_of"], frame["uscc"], frame["tier"], strict=True))
    assert got == [
        (MAR, uscc(1), "C"),
        (MAR, uscc(2), "B"),
        (JUN, uscc(1), "D"),
        (JUN, uscc(3), "A"),
    ]
    assert frame["green_channel"].tolist() == [False, False, False, True]


def test_a_run_finished_after_the_knowledge_cutoff_is_not_used(store):
    _record(store, MAR, {1: "A"}, finished_at=T0 + dt.timedelta(minutes=5))
    late = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    _record(store, MAR, {1: "D"}, finished_at=late)
    before = store.decisions_between(
        MAR, MAR, columns=["tier"], known_before=late - dt.timedelta(seconds=1)
    )
    assert before["tier"].tolist() == ["A"]
    after = store.decisions_between(MAR, MAR, columns=["tier"], known_before=None)
    assert after["tier"].tolist() == ["D"]
    nothing = store.decisions_between(MAR, MAR, columns=["tier"], known_before=T0)
    assert nothing.empty
    assert list(nothing.columns) == ["as_of", "uscc", "tier"]


def test_decisions_between_filters_joint_punishment_and_decodes_measures(store):
    run = make_run(MAR)
    rows = [
        decision(uscc(1), "D", joint_punishment=True, measures=["ZS-03", "JP-01"]),
        decision(uscc(2), "B"),
    ]
    store.record_run(run, pd.DataFrame(rows))
    frame = store.decisions_between(
        MAR, MAR, columns=["measures", "policy_name"], joint_punishment=True
    )
    assert frame["uscc"].tolist() == [uscc(1)]
    assert frame["measures"].tolist() == [["ZS-03", "JP-01"]]
    assert frame["policy_name"].tolist() == ["treatment"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"columns": ["tier", "colour"]}, r"Unknown decision columns \['colour'\]"),
        (
            {"columns": ["tier"], "known_before": dt.datetime(2026, 7, 1)},
            "known_before must be timezone-aware",
        ),
    ],
)
def test_decisions_between_refuses_bad_arguments(store, kwargs, message):
    with pytest.raises(StoreError, match=message):
        store.decisions_between(MAR, JUN, **kwargs)


def test_list_overrides_returns_every_override_created_before_an_instant(store):
    early = dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC)
    later = dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC)
    first = store.add_override(
        uscc(1), "D", "fraud case", "officer.li", dt.date(2026, 2, 1), created_at=early
    )
    store.add_override(
        uscc(2), "C", "audit", "officer.wu", dt.date(2026, 5, 1), created_at=later
    )
    store.revoke_override(first, "officer.li", "case closed", revoked_at=later)
    every = store.list_overrides()
    assert every["uscc"].tolist() == [uscc(1), uscc(2)]
    assert every["revoked_by"].tolist()[0] == "officer.li"
    assert store.list_overrides(created_before=later)["uscc"].tolist() == [uscc(1)]
