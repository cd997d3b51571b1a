"""Manual overrides: point-in-time rules of overrides_in_force, validation, revoking."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from credit_engine.exceptions import (
    InvalidUsccError,
    OverrideError,
    OverrideNotFoundError,
)
from credit_engine.store import IN_FORCE_COLUMNS
from tests.unit.store.factories import uscc

SEP = dt.date(2025, 9, 30)
END_OF_SEP = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)  # first instant after SEP
EARLY = dt.datetime(2025, 6, 1, 9, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def add(store, code, tier="D", *, created_at=EARLY, **kwargs):
    kwargs.setdefault("effective_from", dt.date(2025, 6, 1))
    return store.add_override(
        code, tier, "fraud case 117", "officer.li", created_at=created_at, **kwargs
    )


def in_force(store, as_of=SEP, **kwargs):
    frame = store.overrides_in_force(as_of, **kwargs)
    found = dict(zip(frame["uscc"], frame["override_id"], strict=True))
    # The one-enterprise query of the scoring API agrees on every scenario.
    known = kwargs.get("known_before")
    for code in kwargs.get("usccs") or [uscc(n) for n in range(1, 7)]:
        one = store.override_in_force(code, as_of, known_before=known)
        assert (one["override_id"] if one else None) == found.get(code), code
    return found


def test_an_override_round_trips_with_its_columns(store):
    oid = add(store, uscc(1), "A", effective_to=dt.date(2026, 1, 1))
    frame = store.overrides_in_force(SEP)
    assert list(frame.columns) == list(IN_FORCE_COLUMNS)
    row = frame.iloc[0]
    assert row["override_id"] == oid
    assert row["uscc"] == uscc(1)
    assert row["tier"] == "A"
    assert row["reason"] == "fraud case 117"
    assert row["actor"] == "officer.li"
    assert row["effective_from"] == dt.date(2025, 6, 1)
    assert row["effective_to"] == dt.date(2026, 1, 1)
    assert row["created_at"] == pd.Timestamp(EARLY)
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"


def test_an_override_created_after_the_end_of_as_of_is_not_in_force(store):
    at_the_end = add(store, uscc(1), created_at=END_OF_SEP - SECOND)
    add(store, uscc(2), created_at=END_OF_SEP)
    # 07:00 in Xiamen on Oct 1 is 23:00 UTC on Sep 30: the UTC day decides.
    xiamen = dt.timezone(dt.timedelta(hours=8))
    late_local = add(
        store, uscc(3), created_at=dt.datetime(2025, 10, 1, 7, 0, tzinfo=xiamen)
    )
    assert in_force(store) == {uscc(1): at_the_end, uscc(3): late_local}
    assert set(in_force(store, SEP + dt.timedelta(days=1))) == {
        uscc(1),
        uscc(2),
        uscc(3),
    }


def test_a_later_knowledge_cutoff_counts_overrides_recorded_after_as_of(store):
    # The live service decides at the lake's freshness date, before today: an
    # override recorded today (effective from that date) must govern it.
    today = END_OF_SEP + dt.timedelta(days=60)
    recorded_today = add(store, uscc(1), created_at=today, effective_from=SEP)
    revoked = add(store, uscc(2), created_at=EARLY)
    store.revoke_override(revoked, "officer.li", "appeal upheld", revoked_at=today)
    assert in_force(store) == {uscc(2): revoked}  # point in time: as known at SEP
    now = today + SECOND
    assert in_force(store, known_before=now) == {uscc(1): recorded_today}


def test_revoking_before_the_end_of_as_of_removes_it_and_after_keeps_it(store):
    revoked_early = add(store, uscc(1))
    revoked_at_end = add(store, uscc(2))
    revoked_later = add(store, uscc(3))
    store.revoke_override(
        revoked_early, "officer.wu", "case closed", revoked_at=END_OF_SEP - SECOND
    )
    store.revoke_override(
        revoked_at_end, "officer.wu", "case closed", revoked_at=END_OF_SEP
    )
    store.revoke_override(
        revoked_later,
        "officer.wu",
        "case closed",
        revoked_at=END_OF_SEP + dt.timedelta(days=10),
    )
    assert in_force(store) == {uscc(2): revoked_at_end, uscc(3): revoked_later}
    assert in_force(store, SEP - dt.timedelta(days=1)) == {
        uscc(1): revoked_early,
        uscc(2): revoked_at_end,
        uscc(3): revoked_later,
    }
    assert in_force(store, dt.date(2025, 10, 31)) == {}


def test_effective_to_is_an_exclusive_end_and_effective_from_inclusive(store):
    ends_on_sep = add(store, uscc(1), effective_to=SEP)
    ends_after = add(store, uscc(2), effective_to=SEP + dt.timedelta(days=1))
    starts_on_sep = add(store, uscc(3), effective_from=SEP)
    add(store, uscc(4), effective_from=SEP + dt.timedelta(days=1))
    assert in_force(store) == {uscc(2): ends_after, uscc(3): starts_on_sep}
    assert in_force(store, SEP - dt.timedelta(days=1)) == {
        uscc(1): ends_on_sep,
        uscc(2): ends_after,
    }


def test_the_most_recently_created_override_wins(store):
    older = add(store, uscc(1), "A", created_at=EARLY)
    newer = add(store, uscc(1), "D", created_at=EARLY + dt.timedelta(days=30))
    # Created later but only known after the end of SEP: does not count yet.
    add(store, uscc(1), "B", created_at=END_OF_SEP + dt.timedelta(hours=1))
    frame = store.overrides_in_force(SEP)
    assert frame["override_id"].tolist() == [newer]
    assert store.override_in_force(uscc(1), SEP)["tier"] == "D"
    assert frame["tier"].tolist() == ["D"]
    # Revoking the newer one brings the older one back.
    store.revoke_override(
        newer, "officer.wu", "appeal upheld", revoked_at=EARLY + dt.timedelta(days=60)
    )
    assert in_force(store) == {uscc(1): older}


def test_overrides_in_force_is_ordered_and_filtered_by_uscc(store):
    ids = {uscc(i): add(store, uscc(i)) for i in (5, 1, 3)}
    assert list(in_force(store)) == [uscc(1), uscc(3), uscc(5)]
    assert in_force(store, usccs=[uscc(5), uscc(1), uscc(9)]) == {
        uscc(1): ids[uscc(1)],
        uscc(5): ids[uscc(5)],
    }
    assert store.overrides_in_force(SEP, usccs=[]).empty
    many = [uscc(i) for i in range(2500)]
    assert list(in_force(store, usccs=many)) == [uscc(1), uscc(3), uscc(5)]


def test_nothing_in_force_gives_an_empty_frame_with_the_columns(store):
    frame = store.overrides_in_force(SEP)
    assert frame.empty
    assert list(frame.columns) == list(IN_FORCE_COLUMNS)


def test_created_at_defaults_to_now(store):
    before = dt.datetime.now(dt.UTC)
    store.add_override(uscc(1), "C", "watch list", "officer.li", dt.date.today())
    created = store.overrides_in_force(dt.date.today())["created_at"].iloc[0]
    assert before - dt.timedelta(seconds=1) <= created <= dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"tier": "E"}, r"tier must be one of \['A', 'B', 'C', 'D'\], got 'E'"),
        ({"reason": "  "}, "reason must be a non-empty string, got '  '"),
        ({"actor": ""}, "actor must be a non-empty string, got ''"),
        (
            {"effective_to": dt.date(2025, 6, 1)},
            r"effective_to \(exclusive end\) must be after effective_from, got "
            r"effective_from=2025-06-01, effective_to=2025-06-01",
        ),
        (
            {"effective_to": dt.date(2025, 5, 1)},
            "effective_from=2025-06-01, effective_to=2025-05-01",
        ),
        (
            {"effective_from": dt.datetime(2025, 6, 1, tzinfo=dt.UTC)},
            "effective_from must be a datetime.date",
        ),
        (
            {"created_at": dt.datetime(2025, 6, 1)},
            "created_at must be timezone-aware",
        ),
    ],
)
def test_add_override_rejects_bad_input(store, kwargs, message):
    args = {
        "uscc": uscc(1),
        "tier": "D",
        "reason": "fraud case 117",
        "actor": "officer.li",
        "effective_from": dt.date(2025, 6, 1),
        "created_at": EARLY,
        **kwargs,
    }
    with pytest.raises(OverrideError, match=message) as caught:
        store.add_override(**args)
    assert caught.value.http_status == 422
    assert caught.value.code == "invalid_override"
    assert store.overrides_in_force(SEP).empty


def test_add_override_lists_every_problem_at_once(store):
    with pytest.raises(
        OverrideError, match=r"tier must be one of .*; reason must be a non-empty"
    ):
        store.add_override(uscc(1), "X", "", "officer.li", SEP)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("91350200000000001X", "has check character 'X' but its first 17"),
        ("9135020000000000", "has 16 characters"),
        ("91350200000000o01X", "characters outside the GB 32100 set"),
    ],
)
def test_add_override_rejects_a_malformed_uscc(store, code, message):
    with pytest.raises(InvalidUsccError, match=message):
        store.add_override(code, "D", "fraud case 117", "officer.li", SEP)


def test_revoking_an_unknown_override_is_a_404(store):
    with pytest.raises(
        OverrideNotFoundError, match=r"No override with override_id=42"
    ) as caught:
        store.revoke_override(42, "officer.wu", "case closed")
    assert caught.value.http_status == 404
    assert isinstance(caught.value, OverrideError)


def test_an_override_cannot_be_revoked_twice(store):
    oid = add(store, uscc(1))
    store.revoke_override(oid, "officer.wu", "case closed", revoked_at=END_OF_SEP)
    with pytest.raises(
        OverrideError,
        match=rf"Override {oid} was already revoked at 2025-10-01T00:00:00\+00:00 by "
        "officer.wu",
    ):
        store.revoke_override(oid, "officer.zhao", "again")


@pytest.mark.parametrize(
    ("actor", "reason", "revoked_at", "message"),
    [
        ("", "case closed", None, "actor must be a non-empty string"),
        ("officer.wu", " ", None, "reason must be a non-empty string"),
        ("officer.wu", "case closed", dt.datetime(2025, 10, 1), "timezone-aware"),
        (
            "officer.wu",
            "case closed",
            EARLY - SECOND,
            r"before it was created: got revoked_at=2025-06-01T08:59:59\+00:00, "
            r"created_at=2025-06-01T09:00:00\+00:00",
        ),
    ],
)
def test_revoke_override_rejects_bad_input(store, actor, reason, revoked_at, message):
    oid = add(store, uscc(1))
    with pytest.raises(OverrideError, match=message):
        store.revoke_override(oid, actor, reason, revoked_at=revoked_at)
    assert in_force(store) == {uscc(1): oid}
