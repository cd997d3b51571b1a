"""Rating several dates: month ends of a range and batches of dates per query."""

from __future__ import annotations

import datetime as dt

import pytest

from credit_engine.exceptions import ConfigurationError
from credit_engine.rating import ROWS_PER_QUERY, date_batches, month_ends_between


def test_month_ends_between_cover_the_range_inclusively():
    got = month_ends_between(dt.date(2025, 1, 31), dt.date(2025, 4, 30))
    assert got == [
        dt.date(2025, 1, 31),
        dt.date(2025, 2, 28),
        dt.date(2025, 3, 31),
        dt.date(2025, 4, 30),
    ]
    assert month_ends_between(dt.date(2024, 2, 1), dt.date(2024, 2, 29)) == [
        dt.date(2024, 2, 29)
    ]
    assert month_ends_between(dt.date(2025, 3, 1), dt.date(2025, 3, 30)) == []
    with pytest.raises(ConfigurationError, match="before the first"):
        month_ends_between(dt.date(2025, 3, 1), dt.date(2025, 2, 1))


def test_date_batches_keep_each_query_under_the_row_budget():
    days = [dt.date(2025, m, 1) for m in range(1, 7)]
    counts = dict(zip(days, [100, 100, 100, 250, 100, 100], strict=True))
    batches = date_batches(counts, 300)
    assert [[d.month for d in b] for b in batches] == [[1, 2, 3], [4], [5, 6]]
    assert all(sum(counts[d] for d in b) <= 300 or len(b) == 1 for b in batches)
    assert date_batches({days[0]: 10_000}, 10) == [[days[0]]]  # too big: alone
    assert date_batches({}, 10) == []
    with pytest.raises(ConfigurationError, match="rows_per_query must be >= 1"):
        date_batches(counts, 0)


def test_the_default_budget_holds_three_dates_of_a_large_zone():
    assert len(date_batches(dict.fromkeys(
        [dt.date(2025, m, 1) for m in range(1, 13)], 100_000), ROWS_PER_QUERY)[0]
    ) == 3  # fmt: skip
