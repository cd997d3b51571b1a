"""The decisions frame's pandera schema: every problem, counted, with examples."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from credit_engine.exceptions import StoreError
from credit_engine.store._decisions import decision_rows
from tests.unit.store.factories import decision, decisions_frame, make_run, uscc

SEP = dt.date(2025, 9, 30)


def message_of(rows) -> str:
    with pytest.raises(StoreError, match="Cannot record") as caught:
        decision_rows(make_run(SEP), rows)
    return str(caught.value)


def test_counts_are_complete_and_examples_capped_at_five():
    rows = [decision(uscc(i), "E") for i in range(7)]
    message = message_of(rows)
    assert (
        "tier must be one of ['A', 'B', 'C', 'D']: 7 row(s), e.g. "
        "['E', 'E', 'E', 'E', 'E'] at rows [0, 1, 2, 3, 4]"
    ) in message
    # model_tier follows tier in the factory: reported on its own line.
    assert "model_tier must be one of ['A', 'B', 'C', 'D']: 7 row(s)" in message


def test_values_pandera_cannot_hash_are_still_reported():
    rows = [
        decision(uscc(1), facts=[[1, 2]]),
        decision(uscc(2), measures=[1, "M_STD"]),
        decision(uscc(3), reasons={"R_GRADE": 1}),
        decision(uscc(4), pd=[0.1]),
    ]
    message = message_of(rows)
    assert "facts must be a list of dicts: 1 row(s), e.g. [[[1, 2]]] at rows [0]" in (
        message
    )
    assert "measures must be a list of strings: 1 row(s), e.g. [[1, 'M_STD']]" in (
        message
    )
    assert "reasons must be a list of strings: 1 row(s), e.g. [{'R_GRADE': 1}]" in (
        message
    )
    assert "pd must be a number (not null): 1 row(s), e.g. [[0.1]] at rows [3]" in (
        message
    )


def test_override_ids_must_be_integers_and_override_decisions_need_one():
    rows = [
        decision(uscc(1), "D", decided_by="OVERRIDE", override_id=1.5),
        decision(uscc(2), "D", decided_by="OVERRIDE", override_id="abc"),
        decision(uscc(3), "D", decided_by="OVERRIDE", override_id=None),
        decision(uscc(4), override_id=7),
    ]
    message = message_of(rows)
    assert (
        "override_id must be null or an integer: 2 row(s), e.g. [1.5, 'abc'] at "
        "rows [0, 1]"
    ) in message
    assert (
        "decided_by is OVERRIDE but override_id is missing: 3 row(s), e.g. "
        f"[{uscc(1)!r}, {uscc(2)!r}, {uscc(3)!r}] at rows [0, 1, 2]"
    ) in message


def test_per_row_run_columns_are_checked():
    frame = decisions_frame({uscc(1): "A", uscc(2): "B"})
    frame["model_name"] = ["credit_engine.sme_pd", ""]
    frame["policy_version"] = [2, "two"]
    frame["rule_sets"] = [{"CUSTOMS": "CUSTOMS_282"}, {"CUSTOMS": 282}]
    frame["as_of"] = [SEP, "not a date"]
    message = message_of(frame)
    for expected in (
        "model_name must be a non-empty string: 1 row(s), e.g. [''] at rows [1]",
        "policy_version must be an integer: 1 row(s), e.g. ['two'] at rows [1]",
        "rule_sets must map regime to rule-set id: 1 row(s), e.g. "
        "[{'CUSTOMS': 282}] at rows [1]",
        "as_of must equal the run's as_of 2025-09-30: 1 row(s), e.g. "
        "['not a date'] at rows [1]",
    ):
        assert expected in message, expected


def test_missing_values_are_named_per_column():
    frame = decisions_frame({uscc(1): "A", uscc(2): "B"})
    frame.loc[1, "tier"] = None
    frame.loc[0, "score"] = np.nan
    frame["green_channel"] = [True, None]
    message = message_of(frame)
    assert "tier is missing: 1 row(s), e.g. [nan] at rows [1]" in message
    assert "score must be a number (not null): 1 row(s), e.g. [nan] at rows [0]" in (
        message
    )
    assert "green_channel must be True or False: 1 row(s), e.g. [None]" in message


def test_a_valid_frame_converts_to_plain_python_values():
    frame = decisions_frame({uscc(2): "A", uscc(1): "D"})
    frame["measures"] = [np.array(["M_GREEN"]), ("M_STD",)]
    frame["override_id"] = pd.array([pd.NA, pd.NA], dtype="Int64")
    rows = decision_rows(make_run(SEP), frame)
    assert [r["uscc"] for r in rows] == [uscc(2), uscc(1)]
    assert rows[0]["measures"] == ["M_GREEN"]
    assert rows[1]["measures"] == ["M_STD"]
    assert rows[0]["override_id"] is None
    assert type(rows[0]["pd"]) is float
    assert type(rows[0]["green_channel"]) is bool
    assert rows[0]["as_of"] == SEP
    assert rows[0]["rule_sets"] == {"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2024"}
