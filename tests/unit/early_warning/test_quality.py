"""Precision at the top of the queue and lead time, on hand-made truth."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from credit_engine.early_warning import (
    HISTORY_COLUMNS,
    load_truth,
    month_ends,
    warning_history,
    warning_quality,
)
from credit_engine.exceptions import ConfigurationError

D = dt.date


def history(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(HISTORY_COLUMNS))


@pytest.fixture
def ring_truth(tmp_path):
    pd.DataFrame(
        {
            "scenario": ["refund_ring"] * 3 + ["shock"],
            "kind": ["refund_ring"] * 3 + ["sector_shock"],
            "uscc": ["m1", "m2", "m3", "x"],
            "start_date": [D(2025, 7, 1), D(2025, 7, 1), D(2025, 7, 1), D(2025, 5, 1)],
            "first_statutory_date": [D(2026, 2, 1), None, D(2025, 12, 1), None],
        }
    ).to_parquet(tmp_path / "scenarios.parquet")
    pd.DataFrame(
        {
            "uscc": ["m1", "o1", "o2"],
            "effective_date": [D(2026, 2, 1), D(2026, 1, 15), D(2024, 1, 1)],
        }
    ).to_parquet(tmp_path / "adverse_events.parquet")
    return tmp_path


def test_precision_and_lead_time_against_a_ring(ring_truth):
    h = history(
        [
            (D(2025, 6, 30), "m1", "EW-08", 2.5, 0.1),  # before its scheme: not lead
            (D(2025, 10, 31), "m1", "EW-04", 7.5, 0.1),
            (D(2025, 10, 31), "m1", "EW-08", 7.5, 0.1),
            (D(2025, 11, 30), "m3", "EW-04", 3.0, 0.2),
            (D(2025, 11, 30), "o1", "EW-09", 5.0, 0.3),
            (D(2025, 11, 30), "o2", "EW-09", 2.0, 0.3),
            (D(2025, 12, 31), "o3", "EW-02", 1.5, np.nan),
        ]
    )
    truth = load_truth(ring_truth)
    assert truth.kind == "refund_ring"
    assert sorted(truth.targets["uscc"]) == ["m1", "m2", "m3"]
    q = warning_quality(h, truth, top=3)
    assert q.queue["uscc"].tolist() == ["m1", "o1", "m3", "o2", "o3"]
    assert q.precision_at_top == pytest.approx(2 / 3)
    assert q.precision_at_top_adverse == 1.0  # o1's event came 46 days after
    assert (q.targets, q.caught, q.caught_in_top) == (3, 2, 2)
    # m1: 2025-10-31 -> 2026-02-01 (93 days); m3: 2025-11-30 -> 2025-12-01 (1 day)
    assert q.lead_days == [1, 93]
    assert q.median_lead_days == 47.0
    assert q.share_lead_60 == 0.5
    assert q.by_signal["EW-04"] == {"enterprises": 2, "targets": 2}
    assert q.recall == pytest.approx(2 / 3)
    assert (q.caught_ahead, q.recall_ahead) == (2, pytest.approx(2 / 3))
    assert q.precision_warned == pytest.approx(2 / 5)
    summary = q.summary()
    assert summary["dates"] == ["2025-06-30", "2025-12-31"]
    assert summary["median_lead_days"] == 47.0
    assert summary["recall"] == 0.6667
    assert summary["caught_ahead_of_statutory"] == 2


def test_a_first_warning_after_the_fact_is_caught_but_not_ahead(ring_truth):
    h = history(
        [
            (D(2026, 2, 28), "m1", "EW-02", 1.5, 0.1),  # the fact came 2026-02-01
            (D(2025, 8, 31), "m2", "EW-04", 3.0, 0.1),  # no fact known: ahead
        ]
    )
    q = warning_quality(h, load_truth(ring_truth), top=2)
    assert (q.caught, q.caught_ahead) == (2, 1)
    assert q.lead_days == [-27]
    assert q.recall_ahead == pytest.approx(1 / 3)


def test_without_a_ring_the_refund_fraudsters_are_the_targets(tmp_path):
    pd.DataFrame(
        {"uscc": ["f1", "f2", "n1"], "refund_fraud": [True, True, False]}
    ).to_parquet(tmp_path / "enterprises.parquet")
    pd.DataFrame(
        {"uscc": ["f1", "f1"], "effective_date": [D(2024, 1, 1), D(2025, 9, 1)]}
    ).to_parquet(tmp_path / "adverse_events.parquet")
    truth = load_truth(tmp_path, since=D(2025, 1, 1))
    assert truth.kind == "refund_fraud"
    firsts = dict(
        zip(truth.targets["uscc"], truth.targets["first_statutory_date"], strict=True)
    )
    assert firsts == {"f1": D(2025, 9, 1), "f2": None}
    q = warning_quality(history([(D(2025, 6, 30), "f1", "EW-03", 2.0, 0.1)]), truth)
    assert (q.precision_at_top, q.lead_days) == (1.0, [63])


def test_no_measurable_lead_is_nan_not_zero(ring_truth):
    q = warning_quality(
        history([(D(2025, 8, 31), "o1", "EW-09", 2.0, 0.1)]), load_truth(ring_truth)
    )
    assert np.isnan(q.median_lead_days)
    assert q.summary()["median_lead_days"] is None
    assert q.precision_at_top == 0.0
    assert (q.recall, q.recall_ahead, q.precision_warned) == (0.0, 0.0, 0.0)


def test_a_folder_without_truth_is_named(tmp_path):
    with pytest.raises(ConfigurationError, match="not a simulator truth folder"):
        load_truth(tmp_path)


def test_history_stacks_each_dates_firings():
    class Ev:
        def __init__(self, day):
            self.warnings = pd.DataFrame(
                {"uscc": ["a"], "signal": ["EW-04"], "priority": [3.0], "pd": [None]}
            )

    seen = []
    h = warning_history(Ev, month_ends(D(2025, 11, 5), D(2026, 1, 31)),
                        progress=lambda d, e: seen.append(d))  # fmt: skip
    assert h["as_of"].tolist() == [D(2025, 11, 30), D(2025, 12, 31), D(2026, 1, 31)]
    assert seen == h["as_of"].tolist()
    assert list(h.columns) == list(HISTORY_COLUMNS)
