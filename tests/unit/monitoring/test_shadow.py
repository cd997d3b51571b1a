"""Shadow scoring: the tier-agreement matrix of a challenger against the champion."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pandas as pd
import pytest

from credit_engine.exceptions import DataContractError
from credit_engine.jsonable import to_jsonable
from credit_engine.monitoring import (
    MODEL_KEYS,
    NO_FEATURES,
    NO_REFERENCES,
    ModelMonitoring,
    TierAgreement,
    build_report,
    monitor_model,
    render_html,
    tier_agreement,
)

JUN, SEP = "2026-06-30", "2026-09-30"


def frame(rows):
    return pd.DataFrame(rows, columns=["uscc", "as_of", "tier", "grade", "pd"])


CHAMPION = frame([
    ("a", JUN, "A", "G1", 0.01), ("b", JUN, "B", "G3", 0.05),
    ("a", SEP, "A", "G1", 0.01), ("b", SEP, "B", "G3", 0.05),
    ("c", SEP, "C", "G5", 0.15), ("d", SEP, "D", "G7", 0.40),
    ("e", SEP, "B", "G4", 0.08),
])  # fmt: skip
CHALLENGER = frame([
    ("a", JUN, "A", "G1", 0.01), ("b", JUN, "C", "G5", 0.12),
    ("a", SEP, "D", "G7", 0.45), ("b", SEP, "B", "G3", 0.05),
    ("c", SEP, "B", "G4", 0.07), ("d", SEP, "D", "G7", 0.50),
    ("f", SEP, "A", "G2", 0.02),
])  # fmt: skip


def test_the_matrix_counts_champion_tier_by_challenger_tier_at_the_latest_date():
    got = tier_agreement(
        CHAMPION, CHALLENGER, champion_version="1", challenger_version="2"
    )
    assert got.as_of == dt.date(2026, 9, 30)
    assert got.tiers == ("A", "B", "C", "D")
    assert got.counts == ((0, 0, 0, 1), (0, 1, 0, 0), (0, 1, 0, 0), (0, 0, 0, 1))
    assert got.n == 4
    assert got.agreement == pytest.approx(0.5)
    assert (got.stricter, got.more_lenient) == (1, 1)
    assert (got.only_champion, got.only_challenger) == (1, 1)  # e and f
    assert got.changes_total == 2
    # Largest move first: a goes A -> D (3 steps), then c C -> B.
    assert [(c.uscc, c.steps) for c in got.changes] == [("a", 3), ("c", -1)]
    first = got.changes[0]
    assert (first.champion_grade, first.challenger_grade) == ("G1", "G7")
    assert (first.champion_pd, first.challenger_pd) == (0.01, 0.45)
    assert [(p.as_of.isoformat(), p.n, p.agreement) for p in got.by_date] == [
        (JUN, 2, 0.5),
        (SEP, 4, 0.5),
    ]
    assert (got.champion_version, got.challenger_version) == ("1", "2")


def test_weighted_kappa_is_one_for_identical_tiers_and_lower_for_far_moves():
    same = tier_agreement(CHAMPION, CHAMPION)
    assert same.agreement == 1.0
    assert same.kappa == pytest.approx(1.0)
    assert same.changes == ()
    moved = tier_agreement(CHAMPION, CHALLENGER)
    assert moved.kappa is not None
    assert moved.kappa < 0.5


def test_the_list_of_changes_is_limited_but_the_count_is_not():
    got = tier_agreement(CHAMPION, CHALLENGER, limit=1)
    assert len(got.changes) == 1
    assert got.changes_total == 2
    with pytest.raises(ValueError, match="limit must be >= 0"):
        tier_agreement(CHAMPION, CHALLENGER, limit=-1)


def test_grades_and_pds_are_optional():
    got = tier_agreement(
        CHAMPION[["uscc", "as_of", "tier"]], CHALLENGER[["uscc", "as_of", "tier"]]
    )
    assert got.changes[0].champion_grade is None
    assert got.changes[0].challenger_pd is None


@pytest.mark.parametrize(
    ("champion", "challenger", "message"),
    [
        (CHAMPION.drop(columns="tier"), CHALLENGER, r"champion frame lacks \['tier'\]"),
        (CHAMPION, CHALLENGER.assign(tier="E"), r"tiers \['E'\]"),
        (pd.concat([CHAMPION, CHAMPION]), CHALLENGER, "repeats"),
        (CHAMPION.iloc[:2].assign(as_of="2025-01-31"), CHALLENGER, "share no rating"),
    ],
)
def test_bad_frames_are_refused_with_a_reason(champion, challenger, message):
    with pytest.raises(DataContractError, match=message):
        tier_agreement(champion, challenger)


def test_the_agreement_travels_in_the_models_json_and_html(
    calibrated: ModelMonitoring, limits
):
    agreement = tier_agreement(CHAMPION, CHALLENGER)
    challenger = dataclasses.replace(calibrated, role="challenger", shadow=agreement)
    report = build_report(
        dt.date(2026, 9, 30),
        {"m": calibrated, "m@challenger": challenger},
        thresholds=limits,
    )
    data = json.loads(json.dumps(report.to_json_dict()))
    assert MODEL_KEYS[-1] == "shadow"
    assert data["models"]["m"]["shadow"] is None
    shadow = data["models"]["m@challenger"]["shadow"]
    assert shadow["counts"] == [[0, 0, 0, 1], [0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]
    assert shadow["changes"][0]["uscc"] == "a"
    html = render_html(report)
    assert "Shadow scoring: tiers against the champion" in html
    assert "Shadow decisions are never served." in html
    assert isinstance(agreement, TierAgreement)
    assert to_jsonable(agreement)["as_of"] == SEP


def test_csi_is_unavailable_with_its_reason_without_references_or_features(
    calibrated_zone, reference, limits
):
    plain = dataclasses.replace(reference.reference, features=())
    without_refs = monitor_model(
        calibrated_zone.decisions, plain,
        observation_end=calibrated_zone.observation_end, thresholds=limits, seed=1,
        features=calibrated_zone.features,
    )  # fmt: skip
    assert without_refs.csi.unavailable == NO_REFERENCES
    assert without_refs.lights["csi"] == "green"
    without_frame = monitor_model(
        calibrated_zone.decisions, reference.reference,
        observation_end=calibrated_zone.observation_end, thresholds=limits, seed=1,
    )  # fmt: skip
    assert without_frame.csi.unavailable == NO_FEATURES
    html = render_html(build_report(dt.date(2026, 1, 1), {"m": without_refs},
                                    thresholds=limits))  # fmt: skip
    assert "CSI unavailable: the model version holds no frozen feature" in html
    assert without_refs.to_json_dict()["csi"]["unavailable"] == NO_REFERENCES
