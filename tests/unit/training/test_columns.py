"""Planning a plain table's columns: conversions, categories, and what is dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from credit_engine.exceptions import DataContractError
from credit_engine.training import plan_columns


def test_mixed_applications_are_converted_and_the_unusable_listed(zoo):
    frame, target, _ = zoo.make_table("applications", n=400)
    plan = plan_columns(frame, exclude={target})
    assert plan.dropped == {
        "customer_name": "identifier (a distinct text per row)",
        "notes": "all values missing",
    }
    kinds = {c.name: c.kind for c in plan.columns}
    assert kinds["income"] == "numeric_text"  # "12,345"
    assert kinds["utilisation"] == "numeric_text"  # "42.0%"
    assert kinds["applied_on"] == "date"
    assert kinds["homeowner"] == "boolean"
    assert plan.categorical == ["region", "industry"]
    x = plan.transform(frame)
    assert list(x.columns) == plan.features
    assert x.dtypes.map(lambda d: d.kind == "f").all()
    assert x["income"].min() > 0
    assert x["applied_on"].between(18_000, 20_000).all()  # days since 1970
    assert set(x["homeowner"].unique()) == {0.0, 1.0}
    assert x["region"].between(0, 7).all()
    assert "applied_on" in plan.converted()


def test_ratio_table_drops_its_id_empty_and_constant_columns(zoo):
    frame, target, _ = zoo.make_table("bankruptcy", n=300, p=12)
    plan = plan_columns(frame, exclude={target})
    assert plan.dropped == {
        "company_id": "identifier (a distinct integer per row)",
        "net_income_flag": "constant (one value, none missing)",
        "unused_ratio": "all values missing",
    }
    assert plan.features == [f"ratio_{i:02d}" for i in range(12)]


def test_unseen_categories_are_missing_and_rare_ones_share_a_code():
    frame = pd.DataFrame(
        {"city": [f"c{i % 80}" for i in range(400)] + ["c0"] * 400, "y": 0}
    )
    plan = plan_columns(frame, exclude={"y"})
    (column,) = plan.columns
    assert column.kind == "categorical"
    assert len(column.categories) == 51
    assert column.categories[-1] == "(other)"
    rated = plan.transform(pd.DataFrame({"city": ["c0", "never seen", None]}))
    assert rated["city"].iloc[0] == column.categories.index("c0")
    assert np.isnan(rated["city"].iloc[2])
    # An unseen value is not among the kept categories: the (other) code.
    assert rated["city"].iloc[1] == column.categories.index("(other)")


def test_a_value_with_missing_rows_is_kept_for_its_missingness():
    frame = pd.DataFrame({"flag": [1.0, None] * 20, "y": [0, 1] * 20})
    assert plan_columns(frame, exclude={"y"}).features == ["flag"]


def test_a_feature_set_s_columns_are_never_taken_for_identifiers():
    frame = pd.DataFrame({"count_id": np.arange(50), "y": [0, 1] * 25})
    assert plan_columns(frame, exclude={"y"}).dropped
    assert plan_columns(frame, only=["count_id"], identifiers=False).features == [
        "count_id"
    ]


def test_rows_to_rate_must_carry_the_feature_columns():
    frame = pd.DataFrame({"a": np.arange(40.0) % 7, "b": np.arange(40.0) % 3})
    plan = plan_columns(frame)
    with pytest.raises(DataContractError, match=r"rate.csv lacks 1 feature.*\['b'\]"):
        plan.transform(frame[["a"]], where="rate.csv")
