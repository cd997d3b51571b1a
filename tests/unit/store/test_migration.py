"""Tier migration matrix between two rating dates, computed in the database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import event

from credit_engine.exceptions import NoRatingsError
from tests.unit.store.factories import decisions_frame, make_run, uscc

AUG = dt.date(2025, 8, 31)
SEP = dt.date(2025, 9, 30)
OCT = dt.date(2025, 10, 31)

ROWS = ["A", "B", "C", "D", "new"]
COLUMNS = ["A", "B", "C", "D", "gone"]


def expected(cells: dict[tuple[str, str], int]) -> pd.DataFrame:
    frame = pd.DataFrame(
        0,
        index=pd.Index(ROWS, name="from"),
        columns=pd.Index(COLUMNS, name="to"),
        dtype="int64",
    )
    for (row, column), count in cells.items():
        frame.loc[row, column] = count
    return frame


@pytest.fixture
def two_dates(store):
    # Superseded runs first: they must not count.
    store.record_run(
        make_run(AUG), decisions_frame({uscc(i): "D" for i in range(1, 12)})
    )
    store.record_run(
        make_run(AUG),
        decisions_frame(
            {uscc(1): "A", uscc(2): "A", uscc(3): "B", uscc(4): "C", uscc(5): "D",
             uscc(6): "B", uscc(9): "A"}
        ),
    )  # fmt: skip
    store.record_run(make_run(SEP), decisions_frame({uscc(1): "D", uscc(20): "A"}))
    store.record_run(
        make_run(SEP),
        decisions_frame(
            {uscc(1): "A", uscc(2): "B", uscc(3): "B", uscc(4): "D", uscc(5): "D",
             uscc(7): "A", uscc(8): "C", uscc(9): "C"}
        ),
    )  # fmt: skip
    return store


def test_the_matrix_counts_moves_new_and_gone_from_the_latest_runs(two_dates):
    got = two_dates.migration_matrix(AUG, SEP)
    want = expected(
        {
            ("A", "A"): 1,  # uscc 1
            ("A", "B"): 1,  # uscc 2
            ("A", "C"): 1,  # uscc 9
            ("B", "B"): 1,  # uscc 3
            ("B", "gone"): 1,  # uscc 6
            ("C", "D"): 1,  # uscc 4
            ("D", "D"): 1,  # uscc 5
            ("new", "A"): 1,  # uscc 7
            ("new", "C"): 1,  # uscc 8
        }
    )
    pd.testing.assert_frame_equal(got, want)
    assert int(got.loc[["A", "B", "C", "D"]].to_numpy().sum()) == 7  # rated in AUG
    assert int(got.drop(columns="gone").to_numpy().sum()) == 8  # rated in SEP


def test_the_reverse_direction_swaps_new_and_gone(two_dates):
    got = two_dates.migration_matrix(SEP, AUG)
    assert got.loc["new", "B"] == 1  # uscc 6 was only rated in AUG
    assert got.loc["A", "gone"] == 1  # uscc 7
    assert got.loc["C", "gone"] == 1  # uscc 8
    assert got.loc["C", "A"] == 1  # uscc 9


def test_the_same_date_on_both_sides_is_diagonal(two_dates):
    got = two_dates.migration_matrix(SEP, SEP)
    diagonal = {t: int(got.loc[t, t]) for t in "ABCD"}
    assert diagonal == {"A": 2, "B": 2, "C": 2, "D": 2}
    assert int(got.to_numpy().sum()) == 8
    assert got["gone"].sum() == 0
    assert got.loc["new"].sum() == 0


def test_the_matrix_is_counted_in_sql_without_loading_decisions(two_dates):
    seen: list[str] = []

    def log(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(two_dates.engine, "before_cursor_execute", log)
    try:
        two_dates.migration_matrix(AUG, SEP)
    finally:
        event.remove(two_dates.engine, "before_cursor_execute", log)
    counting = [s for s in seen if "count(" in s.lower()]
    assert len(counting) == 2
    assert all("JOIN" in s.upper() or "EXISTS" in s.upper() for s in counting)
    assert not any("facts" in s for s in seen)


def test_a_date_without_ratings_is_named_with_the_available_dates(two_dates):
    with pytest.raises(
        NoRatingsError,
        match=r"No rating run was recorded for 2025-10-31: dates with ratings: "
        r"2025-08-31, 2025-09-30; pick one of them",
    ) as caught:
        two_dates.migration_matrix(SEP, OCT)
    assert caught.value.code == "no_ratings"
    assert caught.value.available == (AUG, SEP)
    with pytest.raises(NoRatingsError, match="recorded for 2025-10-31"):
        two_dates.migration_matrix(OCT, SEP)


def test_an_empty_store_says_that_it_has_no_runs(store):
    with pytest.raises(NoRatingsError, match="the store has no rating runs yet"):
        store.migration_matrix(AUG, SEP)
