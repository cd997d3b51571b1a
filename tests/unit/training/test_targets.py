"""Reading the target of ``evaluate``: order, kinds, rare levels, clear refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.exceptions import DataContractError
from credit_engine.training import encode_target


def _encode(values, **kwargs):
    kwargs.setdefault("min_rows", 1)
    return encode_target(pd.Series(values), column="target", **kwargs)


def test_integers_keep_their_natural_order_and_stay_integers():
    codes, enc = _encode([2, 0, 1, 3, 0, 2.0])
    assert enc.kind == "ordinal"
    assert enc.levels == [0, 1, 2, 3]
    assert enc.order_from == "integers"
    assert codes.tolist() == [2, 0, 1, 3, 0, 2]


def test_binary_words_put_the_event_second():
    codes, enc = _encode(["Bad", "good", "good", "Bad"])
    assert (enc.kind, enc.levels, enc.order_from) == (
        "binary", ["good", "Bad"], "yes/no words",
    )  # fmt: skip
    assert codes.tolist() == [1, 0, 0, 1]
    assert _encode(["是", "否", "否"])[1].levels == ["否", "是"]


def test_agency_letters_follow_the_rating_scale_with_modifiers():
    values = ["BBB-", "AAA", "A", "BB+", "D", "AA", "BBB", "A+", "CCC", "B"]
    _, enc = _encode(values)
    assert enc.order_from == "rating scale"
    assert enc.levels == [
        "AAA", "AA", "A+", "A", "BBB", "BBB-", "BB+", "B", "CCC", "D",
    ]  # fmt: skip
    # Contest grades A-D are the same scale.
    assert _encode(list("DCBA"))[1].levels == ["A", "B", "C", "D"]


def test_a_declared_order_wins_and_reports_values_no_row_holds():
    codes, enc = _encode(
        ["high", "low", "medium", "low"], order=["low", "medium", "high", "severe"]
    )
    assert enc.levels == ["low", "medium", "high"]
    assert enc.order_from == "declared"
    assert enc.absent == ["severe"]
    assert codes.tolist() == [2, 0, 1, 0]


def test_an_order_missing_a_value_is_refused_naming_the_value_and_the_fix():
    with pytest.raises(DataContractError, match="does not list") as caught:
        _encode(["low", "high", "medium"], order=["low", "high"])
    message = str(caught.value)
    assert "['medium']" in message
    assert "Add them to --order" in message
    with pytest.raises(DataContractError, match="more than once"):
        _encode(["a", "b"], order=["a", "b", "a"])


def test_text_of_unknown_order_asks_for_order():
    with pytest.raises(DataContractError, match="--order"):
        _encode(["low", "high", "medium"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, 1, 1], "needs at least two classes"),
        ([0.5, 1.5, 2.0], "non-integer numbers"),
        (list(range(25)), "at most 20"),
    ],
    ids=["one class", "continuous", "too many levels"],
)
def test_unusable_targets_are_refused_with_the_reason(values, message):
    with pytest.raises(DataContractError, match=message):
        _encode(values)


def test_rare_ordinal_levels_are_merged_into_their_smaller_neighbour():
    values = ["AAA"] * 30 + ["A"] * 40 + ["BB"] * 50 + ["CC"] * 3 + ["D"] * 2
    codes, enc = _encode(values, min_rows=5)
    assert enc.levels == ["AAA", "A", "BB", "CC/D"]
    assert enc.counts == [30, 40, 50, 5]
    assert enc.merged == [{"values": ["D"], "rows": 2, "into": "CC"}]
    assert set(codes[-5:]) == {3}


def test_a_rare_binary_class_cannot_be_merged_and_suggests_fewer_folds():
    with pytest.raises(DataContractError, match="Use --folds 3 or fewer"):
        _encode([0] * 50 + [1] * 3, min_rows=5)


def test_rows_without_target_are_left_out_and_counted():
    codes, enc = _encode([0, None, 1, np.nan, "", 1])
    assert codes.tolist() == [0, -1, 1, -1, -1, 1]
    assert enc.rows_without_target == 3
