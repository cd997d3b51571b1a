"""A run's summary counts what its tables print, without keeping the decisions.

``credit-engine rate`` prints its tables from the summary (a run on Spark
streams its decisions into the store and keeps none): the counts per tier of
the green channel and of joint punishment, and the tiers' labels, must equal
those counted over the decisions themselves.
"""

from __future__ import annotations

import io

from rich.console import Console

from credit_engine.cli import _render_rating
from credit_engine.decisioning import FactInForce, ModelRating, decide
from credit_engine.rating import RatingResult, summarise
from credit_engine.rating._result import RunTally
from credit_engine.vocabulary import Tier
from tests.unit.rating.test_payload import zone_context

SERIOUS = FactInForce(
    "SAMR_SERIOUS_LIST", "SAMR", "SAMR_2021", since=zone_context().as_of,
    ceiling="D", joint_punishment=True, blocks_green_channel=True,
)  # fmt: skip


def _decisions():
    context = zone_context()
    grades = ["G1", "G1", "G2", "G5", "G7", "G3", "G1"]
    out = []
    for i, grade in enumerate(grades):
        rating = ModelRating(grade, 0.001 * (i + 1), 700.0 - 10 * i, False, (), {})
        facts = [SERIOUS] if i in (4, 6) else []
        out.append(decide(f"9135020{i:010d}X", rating, facts, None, context))
    return out


def test_the_summary_counts_green_channel_and_joint_punishment_per_tier():
    decisions = _decisions()
    tally = RunTally(decisions[0].as_of)
    for start in range(0, len(decisions), 3):  # in batches, as a stream comes
        tally.add(decisions[start : start + 3])
    summary = tally.summary()
    assert summary == summarise(decisions[0].as_of, decisions)
    for tier in Tier:
        mine = [d for d in decisions if d.tier == tier]
        assert summary["green_channel_by_tier"][tier.value] == sum(
            d.green_channel for d in mine
        )
        assert summary["joint_punishment_by_tier"][tier.value] == sum(
            d.joint_punishment for d in mine
        )
        if mine:
            assert summary["tier_labels"][tier.value] == mine[0].tier_label
    assert summary["joint_punishment"] == 2
    assert summary["joint_punishment_by_tier"]["D"] == 2
    assert sum(summary["green_channel_by_tier"].values()) == summary["green_channel"]


def test_the_rating_tables_print_from_the_summary_alone(monkeypatch):
    decisions = _decisions()
    summary = summarise(decisions[0].as_of, decisions)
    out = io.StringIO()
    monkeypatch.setattr(_render_rating, "console", Console(file=out, width=200))
    _render_rating.print_rating(RatingResult(7, [], summary, {}))
    text = out.getvalue()
    d_row = next(line for line in text.splitlines() if line.strip("│ ").startswith("D"))
    assert summary["tier_labels"]["D"]["en"] in d_row
    assert " 2 " in d_row  # both seriously listed enterprises, joint punishment
    assert f"{summary['rated']:,}" in text
