"""Rating runs and decisions: round trip, latest-run semantics, queries, validation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from credit_engine.exceptions import NoRatingsError, StoreError
from credit_engine.store import DECISION_COLUMNS, RatingRun
from tests.unit.store.factories import (
    T0,
    decision,
    decisions_frame,
    make_run,
    uscc,
)

SEP = dt.date(2025, 9, 30)
AUG = dt.date(2025, 8, 31)
OCT = dt.date(2025, 10, 31)


def test_a_run_and_its_decisions_round_trip_with_json_decoded(store):
    rows = [
        decision(uscc(2), "A", measures=["M_GREEN", "M_FAST"], grade="G1"),
        decision(
            uscc(1),
            "D",
            decided_by="STATUTORY",
            statutory_ceiling="D",
            model_tier="B",
            in_default=True,
            joint_punishment=True,
            reasons=["R_STATUTORY", "R_TAX_ARREARS"],
            facts=[{"code": "R_TAX_ARREARS", "amount": 12000.5, "months": [1, 2]}],
            inspection_rate_factor=3.0,
            grade="GD",
            pd=1.0,
        ),
    ]
    run_id = store.record_run(make_run(SEP), rows)
    got = store.decisions_at(SEP)

    assert list(got.columns) == list(DECISION_COLUMNS)
    assert got["uscc"].tolist() == [uscc(1), uscc(2)]  # ordered by USCC
    assert (got["run_id"] == run_id).all()
    first = got.iloc[0]
    assert first["as_of"] == SEP
    assert first["tier"] == "D"
    assert first["statutory_ceiling"] == "D"
    assert first["model_tier"] == "B"
    assert first["decided_by"] == "STATUTORY"
    assert first["in_default"]
    assert first["joint_punishment"]
    assert first["pd"] == 1.0
    assert first["inspection_rate_factor"] == 3.0
    assert first["reasons"] == ["R_STATUTORY", "R_TAX_ARREARS"]
    assert first["facts"] == [
        {"code": "R_TAX_ARREARS", "amount": 12000.5, "months": [1, 2]}
    ]
    assert first["rule_sets"] == {"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2024"}
    assert first["model_name"] == "credit_engine.sme_pd"
    assert first["policy_version"] == 2
    second = got.iloc[1]
    assert second["measures"] == ["M_GREEN", "M_FAST"]
    assert pd.isna(second["statutory_ceiling"])
    assert pd.isna(second["override_id"])
    assert got["override_id"].dtype == "Int64"
    assert got["pd"].dtype == "float64"
    assert got["green_channel"].dtype == bool


def test_a_frame_and_a_list_of_mappings_are_stored_alike(store):
    store.record_run(make_run(AUG), decisions_frame({uscc(1): "A", uscc(2): "C"}))
    store.record_run(make_run(SEP), [decision(uscc(1), "A"), decision(uscc(2), "C")])
    left = store.decisions_at(AUG).drop(columns=["decision_id", "run_id", "as_of"])
    right = store.decisions_at(SEP).drop(columns=["decision_id", "run_id", "as_of"])
    pd.testing.assert_frame_equal(left, right)


def test_the_latest_run_of_a_date_supersedes_the_earlier_ones(store):
    first = store.record_run(
        make_run(SEP), decisions_frame({uscc(1): "A", uscc(2): "B"})
    )
    second = store.record_run(
        make_run(SEP, model_version="4"), decisions_frame({uscc(1): "C", uscc(3): "D"})
    )
    assert second > first
    got = store.decisions_at(SEP)
    assert got["uscc"].tolist() == [uscc(1), uscc(3)]
    assert got["tier"].tolist() == ["C", "D"]
    assert (got["model_version"] == "4").all()
    # The superseded run stays on record.
    assert store.runs()["run_id"].tolist() == [first, second]
    assert store.runs()["n_rated"].tolist() == [2, 2]
    # An enterprise only in the superseded run has no decision at that date.
    assert store.latest_decision(uscc(2)) is None
    assert store.decision_history(uscc(2)).empty


def test_runs_lists_every_run_with_aware_utc_times(store):
    local = dt.timezone(dt.timedelta(hours=8))
    run = make_run(
        SEP,
        started_at=dt.datetime(2025, 10, 1, 10, 0, tzinfo=local),
        finished_at=dt.datetime(2025, 10, 1, 10, 7, 30, tzinfo=local),
        summary={"tiers": {"A": 1, "B": 0}, "seconds": 450.0},
    )
    run_id = store.record_run(run, [decision(uscc(1), "A")])
    runs = store.runs()
    assert runs["run_id"].tolist() == [run_id]
    assert str(runs["started_at"].dtype) == "datetime64[us, UTC]"
    assert runs.loc[0, "started_at"] == pd.Timestamp("2025-10-01 02:00", tz="UTC")
    assert runs.loc[0, "finished_at"] == pd.Timestamp("2025-10-01 02:07:30", tz="UTC")
    assert runs.loc[0, "as_of"] == SEP
    assert runs.loc[0, "summary"] == {"tiers": {"A": 1, "B": 0}, "seconds": 450.0}
    assert runs.loc[0, "rule_sets"] == {"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2024"}
    assert runs.loc[0, "n_rated"] == 1
    assert runs.loc[0, "lake_state"] == "commit-0042"


def test_rating_dates_are_distinct_and_ordered(store):
    assert store.rating_dates() == []
    for as_of in (SEP, AUG, SEP, OCT):
        store.record_run(make_run(as_of), [decision(uscc(1))])
    assert store.rating_dates() == [AUG, SEP, OCT]


def test_history_has_one_row_per_date_from_its_latest_run_oldest_first(store):
    store.record_run(make_run(SEP), decisions_frame({uscc(1): "B"}))
    store.record_run(make_run(AUG), decisions_frame({uscc(1): "A", uscc(2): "A"}))
    store.record_run(make_run(SEP), decisions_frame({uscc(1): "C"}))  # supersedes
    store.record_run(make_run(OCT), decisions_frame({uscc(2): "D"}))

    history = store.decision_history(uscc(1))
    assert history["as_of"].tolist() == [AUG, SEP]
    assert history["tier"].tolist() == ["A", "C"]
    assert list(history.columns) == list(DECISION_COLUMNS)
    assert store.decision_history(uscc(3)).empty
    assert list(store.decision_history(uscc(3)).columns) == list(DECISION_COLUMNS)


def test_latest_decision_takes_the_latest_date_then_the_latest_run(store):
    store.record_run(make_run(OCT), decisions_frame({uscc(1): "B"}))
    store.record_run(make_run(SEP), decisions_frame({uscc(1): "A"}))
    store.record_run(make_run(OCT), decisions_frame({uscc(1): "D"}))
    latest = store.latest_decision(uscc(1))
    assert latest is not None
    assert latest["as_of"] == OCT
    assert latest["tier"] == "D"
    assert latest["measures"] == ["M_STD"]
    assert latest["facts"] == [{"code": "R_GRADE", "grade": "G3", "pd": 0.02}]
    assert set(latest) == set(DECISION_COLUMNS)
    assert store.latest_decision(uscc(99)) is None


def test_decisions_at_filters_and_pages_deterministically(store):
    tiers = {uscc(i): "ABCD"[i % 4] for i in range(20)}
    store.record_run(make_run(SEP), decisions_frame(tiers))

    only_b = store.decisions_at(SEP, tier="B")
    assert only_b["uscc"].tolist() == [uscc(i) for i in range(20) if i % 4 == 1]
    green = store.decisions_at(SEP, green_channel=True)
    assert set(green["tier"]) == {"A"}
    assert len(store.decisions_at(SEP, green_channel=False)) == 15
    picked = store.decisions_at(SEP, usccs=[uscc(7), uscc(3), uscc(3), uscc(42)])
    assert picked["uscc"].tolist() == [uscc(3), uscc(7)]
    assert store.decisions_at(SEP, usccs=[]).empty

    pages = [store.decisions_at(SEP, limit=6, offset=o) for o in (0, 6, 12, 18)]
    assert [len(p) for p in pages] == [6, 6, 6, 2]
    assert pd.concat(pages)["uscc"].tolist() == sorted(tiers)
    assert store.decisions_at(SEP, tier="A", limit=2, offset=1)["uscc"].tolist() == [
        uscc(4),
        uscc(8),
    ]


def test_decisions_at_handles_more_usccs_than_one_in_list_holds(store):
    tiers = {uscc(i): "B" for i in range(2500)}
    store.record_run(make_run(SEP), decisions_frame(tiers))
    wanted = [uscc(i) for i in range(0, 2500, 2)] + [
        uscc(10_000 + i) for i in range(500)
    ]
    got = store.decisions_at(SEP, usccs=wanted)
    assert got["uscc"].tolist() == sorted(uscc(i) for i in range(0, 2500, 2))
    paged = store.decisions_at(SEP, usccs=wanted, limit=10, offset=1245)
    assert paged["uscc"].tolist() == sorted(uscc(i) for i in range(0, 2500, 2))[1245:]


def test_decisions_at_a_date_without_runs_names_the_dates_that_have_some(store):
    with pytest.raises(NoRatingsError, match="no rating runs yet"):
        store.decisions_at(SEP)
    store.record_run(make_run(AUG), [decision(uscc(1))])
    store.record_run(make_run(OCT), [decision(uscc(1))])
    with pytest.raises(
        NoRatingsError,
        match=r"No rating run was recorded for 2025-09-30: dates with ratings: "
        r"2025-08-31, 2025-10-31",
    ) as caught:
        store.decisions_at(SEP)
    assert caught.value.available == (AUG, OCT)
    assert caught.value.as_of == SEP
    assert caught.value.http_status == 404


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tier": "E"}, r"tier must be one of \['A', 'B', 'C', 'D'\] or None, got 'E'"),
        ({"limit": -1}, "limit must be None or an int >= 0, got -1"),
        ({"offset": -5}, "offset must be an int >= 0, got -5"),
        ({"usccs": "91350200000000001X"}, "wrap it in a list"),
    ],
)
def test_decisions_at_rejects_bad_arguments(store, kwargs, message):
    store.record_run(make_run(SEP), [decision(uscc(1))])
    with pytest.raises(StoreError, match=message):
        store.decisions_at(SEP, **kwargs)


def test_dates_may_be_given_as_midnight_timestamps(store):
    store.record_run(make_run(SEP), [decision(uscc(1))])
    assert len(store.decisions_at(pd.Timestamp("2025-09-30"))) == 1
    with pytest.raises(StoreError, match="as_of must be a datetime.date"):
        store.decisions_at(pd.Timestamp("2025-09-30 13:00"))


def test_override_rate_is_the_share_of_override_decisions(store):
    oid = store.add_override(
        uscc(1), "D", "fraud case 117", "officer.li", SEP, created_at=T0
    )
    rows = [
        decision(uscc(1), "D", decided_by="OVERRIDE", override_id=oid),
        decision(uscc(2)),
        decision(uscc(3)),
        decision(uscc(4)),
    ]
    store.record_run(make_run(SEP), rows)
    assert store.override_rate(SEP) == pytest.approx(0.25)
    assert store.decisions_at(SEP).loc[0, "override_id"] == oid
    store.record_run(make_run(OCT), [])
    assert store.override_rate(OCT) == 0.0
    with pytest.raises(NoRatingsError, match="2025-08-31"):
        store.override_rate(AUG)


def test_an_empty_run_is_recorded_and_supersedes_earlier_runs(store):
    store.record_run(make_run(SEP), [decision(uscc(1))])
    run_id = store.record_run(make_run(SEP), [])
    assert store.decisions_at(SEP).empty
    assert store.runs().set_index("run_id").loc[run_id, "n_rated"] == 0


# ---------------------------------------------------------------- validation
def test_missing_and_unknown_columns_are_named(store):
    frame = decisions_frame({uscc(1): "A"}).drop(columns=["tier", "facts"])
    frame["proba_default"] = 0.1
    with pytest.raises(
        StoreError,
        match=r"missing required columns \['tier', 'facts'\] and unknown columns "
        r"\['proba_default'\]",
    ):
        store.record_run(make_run(SEP), frame)
    assert store.rating_dates() == []


def test_every_bad_value_is_reported_at_once_and_nothing_is_written(store):
    rows = [
        decision(uscc(1), "E"),
        decision(uscc(2), decided_by="ROBOT"),
        decision(uscc(3), pd=1.5),
        decision("91350200000000001X"),
        decision(uscc(1)),
        decision(uscc(4), decided_by="OVERRIDE"),
        decision(uscc(5), statutory_ceiling="Z", measures="M_STD"),
        decision(uscc(6), in_default=None, grade="G12345"),
    ]
    with pytest.raises(StoreError, match="Cannot record 8 decisions") as caught:
        store.record_run(make_run(SEP), rows)
    message = str(caught.value)
    for expected in (
        "Cannot record 8 decisions for 2025-09-30",
        "tier must be one of ['A', 'B', 'C', 'D']: 1 row(s), e.g. ['E'] at rows [0]",
        "decided_by must be one of ['STATUTORY', 'OVERRIDE', 'POLICY', 'MODEL']: "
        "1 row(s), e.g. ['ROBOT']",
        "pd must be in [0, 1]: 1 row(s), e.g. [1.5]",
        "uscc is not a valid GB 32100 code: 1 row(s), e.g. ['91350200000000001X']",
        "uscc appears more than once in the run: 1 row(s)",
        "decided_by is OVERRIDE but override_id is missing",
        "statutory_ceiling must be null or one of",
        "measures must be a list of strings",
        "in_default must be True or False",
        "grade must have at most 4 characters",
        "nothing was written",
    ):
        assert expected in message, expected
    assert store.rating_dates() == []


def test_as_of_in_the_frame_must_match_the_run(store):
    frame = decisions_frame({uscc(1): "A"})
    frame["as_of"] = AUG
    with pytest.raises(
        StoreError, match=r"as_of must equal the run's as_of 2025-09-30"
    ):
        store.record_run(make_run(SEP), frame)
    frame["as_of"] = SEP
    store.record_run(make_run(SEP), frame)
    assert store.decisions_at(SEP)["as_of"].tolist() == [SEP]


def test_per_row_model_columns_override_the_run_values(store):
    frame = decisions_frame({uscc(1): "A", uscc(2): "B"})
    frame["model_name"] = ["credit_engine.sme_pd", "credit_engine.large_pd"]
    frame["model_version"] = ["3", "9"]
    store.record_run(make_run(SEP), frame)
    got = store.decisions_at(SEP)
    assert got["model_name"].tolist() == [
        "credit_engine.sme_pd",
        "credit_engine.large_pd",
    ]
    assert got["model_version"].tolist() == ["3", "9"]
    assert got["policy_name"].tolist() == ["treatment", "treatment"]


def test_decisions_must_cite_existing_overrides_of_the_same_enterprise(store):
    oid = store.add_override(
        uscc(2), "D", "fraud case 117", "officer.li", SEP, created_at=T0
    )
    rows = [
        decision(uscc(1), "D", decided_by="OVERRIDE", override_id=12345),
        decision(uscc(3), "D", decided_by="OVERRIDE", override_id=oid),
    ]
    with pytest.raises(
        StoreError,
        match=rf"override_id \[12345\] \(1 in all\) do not exist; record overrides "
        rf"with add_override\(\).*override {oid} is for {uscc(2)}, not {uscc(3)}",
    ):
        store.record_run(make_run(SEP), rows)
    assert store.runs().empty


def test_a_failure_in_a_later_chunk_rolls_back_the_whole_run(store):
    # The first 10,000 rows are sent before the bad one: all must disappear.
    rows = [decision(uscc(i)) for i in range(10_001)]
    rows[-1]["facts"] = [{"when": dt.date(2025, 1, 1)}]
    with pytest.raises(
        StoreError,
        match=r"Cannot record the rating run of 2025-09-30: a value could not be "
        r"encoded \(Object of type date is not JSON serializable\)",
    ):
        store.record_run(make_run(SEP), rows)
    assert store.runs().empty
    assert store.rating_dates() == []


def test_facts_that_json_cannot_encode_are_named(store):
    rows = [decision(uscc(1), facts=[{"when": dt.date(2025, 1, 1)}])]
    with pytest.raises(StoreError, match="not JSON serializable"):
        store.record_run(make_run(SEP), rows)
    assert store.runs().empty


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("started_at", dt.datetime(2025, 10, 1), "started_at must be a timezone-aware"),
        (
            "finished_at",
            T0 - dt.timedelta(seconds=1),
            "finished_at must not precede started_at",
        ),
        ("actor", " ", "actor must be a non-empty string"),
        ("policy_version", "2", "policy_version must be an int"),
        ("rule_sets", {"CUSTOMS": 282}, "rule_sets must map regime names"),
        ("as_of", dt.datetime(2025, 9, 30), "as_of must be a datetime.date"),
    ],
)
def test_a_rating_run_checks_its_fields(field, value, message):
    fields = {**dataclasses.asdict(make_run(SEP)), field: value}
    with pytest.raises(StoreError, match=message):
        RatingRun(**fields)


def test_record_run_wants_a_rating_run(store):
    with pytest.raises(StoreError, match="run must be a RatingRun, got dict"):
        store.record_run({"as_of": SEP}, [])  # type: ignore[arg-type]


def test_a_rating_run_is_frozen():
    run = make_run(SEP)
    assert isinstance(run, RatingRun)
    with pytest.raises(AttributeError, match="cannot assign"):
        run.actor = "someone else"  # type: ignore[misc]
