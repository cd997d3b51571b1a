"""Figures of the stored decisions on the mini zone: tiers, migrations, overrides."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from credit_engine.zone_statistics import (
    build_zone_report,
    consecutive_pairs,
    jp_prefix_names,
    migration_summary,
    periods_between,
    representative_dates,
)
from tests.unit.zone_statistics.conftest import END, KNOWN, START

MAR, JUN = dt.date(2026, 3, 31), dt.date(2026, 6, 30)


def build(mini_zone, reference, store, **kwargs):
    kwargs.setdefault("knowledge_date", KNOWN)
    return build_zone_report(
        mini_zone, start=START, end=END, reference=reference, decisions=store, **kwargs
    )


@pytest.fixture(scope="module")
def report(mini_zone, reference, rated_store):
    return build(mini_zone, reference, rated_store)


def cells(frame, *columns):
    return [tuple(r) for r in frame.loc[:, list(columns)].itertuples(index=False)]


def test_each_period_shows_its_latest_rating_date():
    months = periods_between(START, END)
    dates = [dt.date(2025, 12, 31), dt.date(2026, 3, 15), MAR, JUN]
    assert representative_dates(months, dates) == {"2026-03": MAR, "2026-06": JUN}
    quarters = periods_between(START, END, "quarter")
    assert representative_dates(quarters, dates) == {"2026-Q1": MAR, "2026-Q2": JUN}
    assert consecutive_pairs(quarters, dates) == [
        ("2026-Q1", dt.date(2025, 12, 31), dt.date(2026, 3, 15)),
        ("2026-Q1", dt.date(2026, 3, 15), MAR),
        ("2026-Q2", MAR, JUN),
    ]


def test_tier_distribution_and_deciding_layer(report):
    tiers = report.table("tiers").frame
    assert cells(tiers, "period", "tier", "enterprises", "as_of")[:4] == [
        ("2026-03", "A", 1, MAR), ("2026-03", "B", 0, MAR),
        ("2026-03", "C", 1, MAR), ("2026-03", "D", 1, MAR),
    ]  # fmt: skip
    june = tiers.query("period == '2026-06'")
    assert june["enterprises"].tolist() == [0, 1, 1, 1]
    assert june["share"].round(4).tolist() == [0.0, 0.3333, 0.3333, 0.3333]
    layers = cells(
        report.table("decided_by").frame, "period", "decided_by", "enterprises"
    )
    assert layers == [
        ("2026-03", "STATUTORY", 1), ("2026-03", "POLICY", 1), ("2026-03", "MODEL", 1),
        ("2026-06", "OVERRIDE", 1), ("2026-06", "MODEL", 2),
    ]  # fmt: skip


def test_tiers_by_district_main_mode_and_role(report):
    district = report.table("tiers_by_district").frame.query("period == '2026-03'")
    assert cells(district, "district", "tier", "enterprises") == [
        ("110105", "D", 1), ("350203", "A", 1), ("350206", "C", 1),
    ]  # fmt: skip
    modes = report.table("tiers_by_main_mode").frame.query("period == '2026-03'")
    # E1: 9610 (100) > 9710 (50) > 0110 (30); E2: 1210; E3 never declared.
    assert cells(modes, "main_mode", "tier", "enterprises") == [
        ("1210", "C", 1), ("9610", "A", 1), ("none", "D", 1),
    ]  # fmt: skip
    roles = report.table("tiers_by_cbec_role").frame.query("period == '2026-06'")
    assert cells(roles, "cbec_role", "tier") == [
        ("ECOMMERCE_ENTERPRISE", "B"),
        ("NO_CUSTOMS_REGISTRATION", "C"),
        ("NO_CUSTOMS_REGISTRATION", "D"),
    ]


def test_green_channel_and_joint_punishments_by_measure(report):
    green = report.table("green_channel").frame
    assert cells(green, "period", "rated", "green_channel") == [
        ("2026-03", 3, 1), ("2026-06", 3, 0),
    ]  # fmt: skip
    punished = report.table("joint_punishments").frame
    assert punished["joint_punishment"].tolist() == [1, 0]
    by_measure = report.table("joint_punishments_by_measure").frame
    # ZS-03 rides along on the decision but is not a joint punishment.
    assert cells(by_measure, "period", "measure", "enterprises") == [
        ("2026-03", "JP-02", 1)
    ]


def test_policy_names_decide_which_measures_are_joint_punishments(
    mini_zone, reference, rated_store
):
    named = build(
        mini_zone, reference, rated_store,
        punishment_names=lambda name, version, code: (
            f"{name} v{version} {code}" if code == "ZS-03" else None
        ),
    )  # fmt: skip
    by_measure = named.table("joint_punishments_by_measure").frame
    assert cells(by_measure, "measure", "measure_name") == [("ZS-03", "zone v2 ZS-03")]
    assert jp_prefix_names("zone", 2, "JP-09") == "JP-09"


def test_migrations_between_consecutive_rating_dates(report):
    matrix = report.table("migrations").frame
    assert cells(matrix, "period", "from_as_of", "to_as_of", "from_tier", "to_tier",
                 "enterprises") == [
        ("2026-03", dt.date(2025, 12, 31), MAR, "A", "A", 1),
        ("2026-03", dt.date(2025, 12, 31), MAR, "B", "D", 1),
        ("2026-03", dt.date(2025, 12, 31), MAR, "new", "C", 1),
        ("2026-06", MAR, JUN, "A", "B", 1),
        ("2026-06", MAR, JUN, "C", "C", 1),
        ("2026-06", MAR, JUN, "D", "gone", 1),
        ("2026-06", MAR, JUN, "new", "D", 1),
    ]  # fmt: skip
    summary = report.table("migration_summary").frame
    assert cells(summary, "period", "rated_both", "unchanged", "upgrades",
                 "downgrades", "new", "gone") == [
        ("2026-03", 2, 1, 0, 1, 1, 0),
        ("2026-06", 2, 1, 0, 1, 1, 1),
    ]  # fmt: skip


def test_migration_summary_counts_moves_by_tier_rank():
    frame = pd.DataFrame(
        {
            "period": "p", "from_as_of": MAR, "to_as_of": JUN,
            "from_tier": ["D", "B", "A", "new"], "to_tier": ["A", "B", "D", "gone"],
            "enterprises": [2, 5, 3, 1],
        }
    )  # fmt: skip
    got = migration_summary(frame).iloc[0]
    assert (got.upgrades, got.downgrades, got.unchanged, got.rated_both) == (
        2,
        3,
        5,
        10,
    )
    assert migration_summary(frame.iloc[:0]).empty


def test_overrides_recorded_revoked_and_in_force(report):
    overrides = report.table("overrides").frame
    assert cells(
        overrides, "period", "recorded", "revoked", "in_force", "decided_by_override"
    ) == [
        ("2026-01", 0, 0, 0, 0), ("2026-02", 1, 0, 1, 0), ("2026-03", 0, 0, 1, 0),
        ("2026-04", 0, 0, 1, 0), ("2026-05", 0, 1, 0, 0), ("2026-06", 1, 0, 1, 1),
    ]  # fmt: skip


def test_runs_finished_after_the_knowledge_cutoff_are_left_out(
    mini_zone, reference, rated_store
):
    early = build(mini_zone, reference, rated_store, knowledge_date=JUN)
    assert early.rating_dates == (dt.date(2025, 12, 31), MAR)
    assert early.table("tiers").frame["period"].unique().tolist() == ["2026-03"]
    assert early.table("overrides").frame["in_force"].tolist()[-1] == 1


def test_without_a_store_the_decision_sections_say_so(mini_zone, reference):
    report = build_zone_report(
        mini_zone, start=START, end=END, knowledge_date=KNOWN, reference=reference
    )
    for key in (
        "tiers",
        "green_channel",
        "joint_punishments",
        "migrations",
        "overrides",
    ):
        assert not report.sections[key].available
        assert "No operational store" in report.sections[key].note
