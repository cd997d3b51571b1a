"""Small-cell suppression of the shared CSV files."""

from __future__ import annotations

import pandas as pd
import pytest

from credit_engine.zone_statistics import StatTable, suppress_small_cells


def by_district(values: dict[str, tuple[int, float]]) -> StatTable:
    frame = pd.DataFrame(
        {
            "period": ["2026-01"] * len(values),
            "district": list(values),
            "enterprises": [n for n, _ in values.values()],
            "value_cny": [v for _, v in values.values()],
        }
    )
    return StatTable(
        "t", "t", frame, ("period", "district"), ("enterprises", "value_cny"),
        {"enterprises": "enterprises", "value_cny": "enterprises"},
    )  # fmt: skip


def test_a_small_cell_and_one_complementary_cell_are_blanked():
    table = by_district({"a": (120, 9.0), "b": (3, 1.0), "c": (40, 5.0), "d": (0, 0.0)})
    shared = suppress_small_cells(table, 5)
    assert shared["enterprises"].tolist()[0] == 120
    assert shared["enterprises"].isna().tolist() == [False, True, True, False]
    # The value rests on the same enterprises: blanked with them.
    assert shared["value_cny"].isna().tolist() == [False, True, True, False]
    assert shared["suppressed"].tolist() == [False, True, True, False]
    assert str(shared["enterprises"].dtype) == "Int64"  # counts stay integers


def test_two_small_cells_need_no_complement_and_zero_is_not_small():
    table = by_district({"a": (120, 9.0), "b": (3, 1.0), "c": (2, 5.0), "d": (0, 0.0)})
    shared = suppress_small_cells(table, 5)
    assert shared["suppressed"].tolist() == [False, True, True, False]


@pytest.mark.parametrize("min_cell", [0, 1])
def test_a_threshold_of_zero_or_one_keeps_every_figure(min_cell):
    table = by_district({"a": (120, 9.0), "b": (1, 1.0)})
    shared = suppress_small_cells(table, min_cell)
    assert shared["enterprises"].tolist() == [120, 1]
    assert not shared["suppressed"].any()


def test_each_enterprise_count_guards_itself():
    frame = pd.DataFrame(
        {"period": ["2026-01", "2026-02"], "registered": [900, 910], "new": [3, 12]}
    )
    table = StatTable(
        "e", "e", frame, ("period",), ("registered", "new"),
        {"registered": "registered", "new": "new"},
    )  # fmt: skip
    shared = suppress_small_cells(table)
    assert shared["registered"].tolist() == [900, 910]
    assert shared["new"].isna().tolist() == [True, False]
