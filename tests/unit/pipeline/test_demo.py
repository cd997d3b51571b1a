"""The demo as a library call: typed results per step, failures as data, no output."""

from __future__ import annotations

import contextlib
import datetime as dt

import pandas as pd
import pytest

from credit_engine.config import Settings
from credit_engine.data import IngestReport
from credit_engine.pipeline import (
    DEMO_FEATURE_DATES,
    DEMO_MONITOR_DATE,
    DEMO_RATING_DATES,
    DemoResult,
    DemoStep,
    FeatureSnapshot,
    PromotionOutcome,
    RatingOutcome,
    StepPhase,
    month_ends,
    run_demo,
)
from credit_engine.simulation import SimulationSummary, ZoneAudit

ENTERPRISES = 200


class RecordingProgress:
    """A PipelineProgress that records what it was told."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    @contextlib.contextmanager
    def simulation(self, total):
        self.events.append(("simulation", total))
        yield lambda done, total: self.events.append(("simulated", done))

    @contextlib.contextmanager
    def ingestion(self):
        events = self.events

        class Callback:
            def start(self, table, total_rows):
                events.append(("ingest", table))

            def advance(self, table, rows):
                pass

            def done(self, table):
                pass

        yield Callback()

    @contextlib.contextmanager
    def features(self, feature_set, steps):
        self.events.append(("features", feature_set))
        self.feature_steps = steps
        yield lambda: self.events.append(("feature step", None))

    @contextlib.contextmanager
    def training(self, name):
        self.events.append(("training", name))
        yield lambda text: None

    @contextlib.contextmanager
    def rating(self):
        self.events.append(("rating", None))
        yield lambda text: None


def steps_of(calls):
    return [(step, phase) for step, phase, _ in calls]


def test_the_feature_dates_are_twelve_month_ends():
    assert DEMO_FEATURE_DATES[0] == dt.date(2024, 10, 31)
    assert DEMO_FEATURE_DATES[-1] == dt.date(2025, 9, 30)
    assert list(DEMO_FEATURE_DATES) == month_ends(dt.date(2024, 10, 1), 12)


def test_steps_are_numbered_and_titled():
    assert [s.value for s in DemoStep] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert DemoStep.SIMULATE.title == "simulate the default zone"


@pytest.mark.slow
def test_run_demo_without_models_returns_typed_results_and_prints_nothing(
    tmp_path, capsys
):
    settings = Settings(home=tmp_path / "home")
    calls: list[tuple[DemoStep, StepPhase, DemoResult]] = []
    progress = RecordingProgress()
    result = run_demo(
        settings, enterprises=ENTERPRISES, models=False,
        on_step=lambda *a: calls.append(a), progress=progress,
    )  # fmt: skip

    assert steps_of(calls) == [
        (step, phase)
        for step in (DemoStep.SIMULATE, DemoStep.INGEST, DemoStep.FEATURES)
        for phase in (StepPhase.STARTED, StepPhase.FINISHED)
    ]
    assert all(r is result for _, _, r in calls)  # one result, filled as it goes
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err == ""

    assert isinstance(result.simulation, SimulationSummary)
    assert result.simulation.enterprises == ENTERPRISES
    assert result.simulation.out_dir == settings.home / "zone" / "records"
    assert (settings.home / "zone" / "records_truth" / "manifest.json").is_file()

    assert isinstance(result.ingest, IngestReport)
    assert not result.ingest.already_ingested
    assert len(result.ingest.tables) == 20
    assert (settings.reports_dir / "latest-ingest.json").is_file()
    assert isinstance(result.self_check, ZoneAudit)
    assert result.self_check.ok
    assert result.self_check.clean_rows_rejected == 0

    snapshot = result.features
    assert isinstance(snapshot, FeatureSnapshot)
    assert snapshot.path == settings.home / "features" / "credit_v1_monthly.parquet"
    assert snapshot.path.is_file()
    assert snapshot.lineage["feature_set"] == "credit_v1"
    assert snapshot.lineage["as_of"] == [d.isoformat() for d in DEMO_FEATURE_DATES]
    assert sorted(snapshot.frame["as_of"].unique()) == list(DEMO_FEATURE_DATES)
    assert len(pd.read_parquet(snapshot.path)) == len(snapshot.frame)

    assert result.trained == []
    assert result.promotions == []
    assert result.rating is None
    assert result.ok
    assert result.failures() == []

    told = [kind for kind, _ in progress.events]
    assert ("simulation", ENTERPRISES) in progress.events
    assert ("simulated", ENTERPRISES) in progress.events
    assert told.count("ingest") == 20
    # every step the feature build announces is reported, no more
    assert told.count("feature step") == progress.feature_steps == 3
    assert "training" not in told


def test_failures_are_data():
    class Refused(Exception):
        message = "gate calibration failed"

    result = DemoResult(
        promotions=[
            PromotionOutcome(name="m1", result=None),
            PromotionOutcome(name="m2", result=None, error=Refused()),
        ]
    )
    assert not result.ok
    assert result.failures() == ["m2 not promoted: gate calibration failed"]
    assert [p.promoted for p in result.promotions] == [True, False]


@pytest.mark.slow
def test_run_demo_with_models_trains_promotes_and_reports_refusals(tmp_path, capsys):
    settings = Settings(home=tmp_path / "home")
    calls: list[tuple[DemoStep, StepPhase, DemoResult]] = []
    result = run_demo(
        settings, enterprises=ENTERPRISES, on_step=lambda *a: calls.append(a)
    )
    assert capsys.readouterr().out == ""

    names = sorted(t.registered.name for t in result.trained)
    assert names == ["credit_engine.zone_risk_pd", "credit_engine.zone_scorecard_pd"]
    assert [p.name for p in result.promotions] == [
        t.registered.name for t in result.trained
    ]
    for outcome in result.promotions:
        assert isinstance(outcome, PromotionOutcome)
        assert outcome.promoted == (outcome.error is None)
        if outcome.result is not None:
            assert outcome.result.gates
    ran = [s for s, phase in steps_of(calls) if phase is StepPhase.FINISHED]
    if result.ok:
        assert ran == list(DemoStep)
        assert isinstance(result.rating, RatingOutcome)
        assert (result.rating.first_date, result.rating.last_date) == (
            DEMO_RATING_DATES
        )
        assert result.rating.last.summary["rated"] > 0
        assert int(result.rating.migrations.to_numpy().sum()) > 0
        # the last step raised and stored the early warnings at the monitoring date
        assert result.warnings is not None
        assert result.warnings.evaluation.as_of == DEMO_MONITOR_DATE
        assert result.warnings.evaluation.enterprises > 0
    else:  # a refused promotion stops before rating, as data, not as an error
        assert ran == list(DemoStep)[:5]
        assert result.rating is None
        assert any(not p.promoted for p in result.promotions)
        assert result.failures()
