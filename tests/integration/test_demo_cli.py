"""The demo command renders run_demo's typed results and exits 1 on failures.

``run_demo`` itself is tested in ``tests/unit/pipeline``; here it is replaced by
fakes that report chosen results, so that the rendering of every outcome
(including the rating step, which a small zone never reaches because its risk
model fails a gate) is checked quickly.
"""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

import credit_engine.pipeline
from credit_engine.cli import app
from credit_engine.exceptions import ModelNotFoundError, PromotionRefusedError
from credit_engine.pipeline import (
    DEMO_RATING_DATES,
    DemoResult,
    DemoStep,
    PromotionOutcome,
    RatingOutcome,
    StepPhase,
    rate_enterprises,
)
from credit_engine.registry import GateResult, PromotionResult
from credit_engine.store import OperationalStore
from credit_engine.vocabulary import Engine

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rating")]

runner = CliRunner()


def one_line(output: str) -> str:
    return re.sub(r"\s+", " ", output)


def fake_demo(steps):
    """A run_demo that reports ``steps``: (step, function filling the result)."""

    def run(settings, *, enterprises, seed, models, on_step, progress, engine):
        result = DemoResult(engine=engine)
        for step, fill in steps:
            on_step(step, StepPhase.STARTED, result)
            fill(result)
            on_step(step, StepPhase.FINISHED, result)
        return result

    return run


def test_a_refused_promotion_is_shown_with_its_gates_and_exits_1(tmp_path, monkeypatch):
    gates = PromotionResult(
        name="credit_engine.zone_risk_pd", version="1", previous_champion=None,
        promoted=False,
        gates=[GateResult("calibration", False, "1 red grade out of time"),
               GateResult("auc", True, "0.81 >= 0.70")],
    )  # fmt: skip
    promoted = PromotionResult(
        name="credit_engine.zone_scorecard_pd", version="3", previous_champion="2",
        promoted=True, gates=[GateResult("auc", True, "0.80 >= 0.70")],
    )  # fmt: skip

    def fill(result):
        result.promotions = [
            PromotionOutcome(
                name=gates.name, result=gates,
                error=PromotionRefusedError("failed gate(s): calibration", gates),
            ),
            PromotionOutcome(name=promoted.name, result=promoted),
            PromotionOutcome(
                name="credit_engine.other_pd", result=None,
                error=ModelNotFoundError("no challenger of credit_engine.other_pd"),
            ),
        ]  # fmt: skip

    monkeypatch.setattr(
        credit_engine.pipeline, "run_demo", fake_demo([(DemoStep.PROMOTE, fill)])
    )
    result = runner.invoke(app, ["demo", "--home", str(tmp_path)])
    assert result.exit_code == 1, result.output
    out = one_line(result.output)
    assert "5/8 promote the challengers through the gates" in out
    assert "Promotion gates: credit_engine.zone_risk_pd v1" in out
    assert "FAIL" in out
    assert "not promoted: failed gate(s): calibration" in out
    assert "promoted credit_engine.zone_scorecard_pd v3 to champion (was 2)" in out
    assert "not promoted: no challenger of credit_engine.other_pd" in out
    assert "demo finished in" in out


@pytest.fixture(scope="module")
def home(champion_home):
    """The shared champion home with a database of this module's own."""
    db = champion_home.home / "demo_cli_tests.db"
    return champion_home.model_copy(update={"database_url": f"sqlite:///{db}"})


def test_the_rating_step_shows_tiers_migrations_and_examples(home, monkeypatch):
    first_date, last_date = DEMO_RATING_DATES

    def rate_twice(result):
        first = rate_enterprises(home, first_date, actor="demo")
        last = rate_enterprises(home, last_date, actor="demo")
        matrix = OperationalStore.from_settings(home).migration_matrix(
            first_date, last_date
        )
        result.rating = RatingOutcome(first_date, last_date, first, last, matrix)

    monkeypatch.setattr(
        credit_engine.pipeline, "run_demo", fake_demo([(DemoStep.RATE, rate_twice)])
    )
    result = runner.invoke(app, ["demo", "--home", str(home.home)])
    assert result.exit_code == 0, result.output
    out = one_line(result.output)
    assert "6/8 rate every enterprise: statutory facts, policy, tiers" in out
    assert "Treatment tiers at 2026-06-30" in out
    assert "Which layer decided" in out
    assert "Tier migrations 2026-03-31 → 2026-06-30 (rows: from)" in out
    assert "rated at both dates:" in out
    assert "Example: " in out
    assert "Treatment tiers at 2026-03-31" not in out  # only the last run's tiers


def test_the_engine_comes_from_the_option_or_the_settings(tmp_path, monkeypatch):
    seen = []

    def run(settings, *, enterprises, seed, models, on_step, progress, engine):
        seen.append(engine)
        result = DemoResult(engine=engine)
        for step in (DemoStep.FEATURES, DemoStep.TRAIN):
            on_step(step, StepPhase.STARTED, result)
        return result

    monkeypatch.setattr(credit_engine.pipeline, "run_demo", run)
    monkeypatch.setenv("CREDIT_ENGINE_ENGINE", "spark")
    result = runner.invoke(app, ["demo", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    out = one_line(result.output)
    assert seen == [Engine.SPARK]
    assert "engine spark: ingestion, features and ratings run on Spark" in out
    assert "runs on: Spark " in out
    assert "runs on: this machine (model training has no Spark form)" in out
    result = runner.invoke(app, ["demo", "--engine", "duckdb", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen == [Engine.SPARK, Engine.DUCKDB]
    assert "runs on:" not in result.output
