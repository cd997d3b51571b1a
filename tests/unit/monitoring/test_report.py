from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from credit_engine.exceptions import DataContractError
from credit_engine.monitoring import (
    MODEL_KEYS,
    REPORT_KEYS,
    ModelMonitoring,
    MonitoringReport,
    build_report,
    monitor_model,
    monitor_overrides,
    render_html,
    write_report,
)
from tests.unit.monitoring.synthetic import HORIZON, Reference, Zone

REQUIRED_MODEL_KEYS = {
    "score_psi",
    "grade_psi",
    "csi",
    "backtest",
    "auc_initial",
    "auc_current",
    "auc_change_p",
    "estimated",
    "hhi",
    "migration",
    "early_outcomes",
}
DATA = {
    "customs_declarations": {"status": "green", "age_days": 2},
    "tax_filings": {"status": "amber", "age_days": 40},
}


@pytest.fixture(scope="module")
def report(
    calibrated: ModelMonitoring, calibrated_zone: Zone, limits
) -> MonitoringReport:
    overrides = monitor_overrides(
        calibrated_zone.decisions,
        thresholds=limits,
        observation_end=calibrated_zone.observation_end,
        horizon_days=HORIZON,
        outcomes=calibrated_zone.outcomes,
    )
    return build_report(
        calibrated_zone.observation_end,
        {"zone_pd": calibrated},
        thresholds=limits,
        overrides=overrides,
        data=DATA,
    )


def test_json_has_exactly_the_stable_keys(report: MonitoringReport):
    data = report.to_json_dict()
    assert (
        tuple(data) == REPORT_KEYS == ("as_of", "models", "overrides", "data", "status")
    )
    model = data["models"]["zone_pd"]
    assert tuple(model) == MODEL_KEYS
    assert REQUIRED_MODEL_KEYS <= set(model)
    assert data["as_of"] == "2024-12-31"
    assert data["status"] == "amber"  # the tax feed is late; everything else is green
    assert data["data"] == DATA
    assert model["role"] == "champion"
    assert model["status"] == "green"
    assert set(model["lights"]) == {
        "score_psi",
        "grade_psi",
        "csi",
        "backtest",
        "auc",
        "hhi",
        "migration",
        "estimated",
        "early_outcomes",
    }
    assert model["score_psi"]["edges"][0] == "-inf"
    assert len(model["estimated"]["by_cohort"]) == 24
    assert data["overrides"]["light"] == "green"
    json.dumps(data, allow_nan=False)  # plain JSON, no NaN


def test_same_seed_same_json(calibrated_zone: Zone, reference: Reference, limits):
    first_four = calibrated_zone.decisions["as_of"] <= calibrated_zone.as_ofs[3]

    def run(seed: int) -> dict:
        m = monitor_model(
            calibrated_zone.decisions.loc[first_four],
            reference.reference,
            observation_end=calibrated_zone.observation_end,
            thresholds=limits,
            seed=seed,
            outcomes=calibrated_zone.outcomes,
        )
        return build_report(
            dt.date(2025, 1, 1), {"m": m}, thresholds=limits
        ).to_json_dict()

    first, again = run(7), run(7)
    assert json.dumps(first, sort_keys=True) == json.dumps(again, sort_keys=True)
    other = run(8)["models"]["m"]["estimated"]["by_cohort"][0]
    assert (
        other["auc_lower"]
        != first["models"]["m"]["estimated"]["by_cohort"][0]["auc_lower"]
    )


def test_status_rule_caps_challengers_and_folds_data(
    calibrated: ModelMonitoring, limits
):
    red = dataclasses.replace(calibrated, status="red")
    champion_red = build_report(dt.date(2025, 1, 1), {"a": red}, thresholds=limits)
    assert champion_red.status == "red"
    challenger = dataclasses.replace(red, role="challenger")
    report = build_report(
        dt.date(2025, 1, 1), {"a": calibrated, "b": challenger}, thresholds=limits
    )
    assert report.status == "amber"  # challenger_cap
    report = build_report(
        dt.date(2025, 1, 1),
        {"a": calibrated},
        thresholds=limits,
        data={"x": {"status": "red"}},
    )
    assert report.status == "red"
    assert (
        build_report(dt.date(2025, 1, 1), {"a": calibrated}, thresholds=limits).status
        == "green"
    )
    with pytest.raises(DataContractError, match="need a status in"):
        build_report(dt.date(2025, 1, 1), {}, thresholds=limits, data={"x": {"age": 3}})


def test_model_parts_left_out_do_not_move_the_status(
    calibrated_zone: Zone, reference, limits
):
    rule = limits.status.model_copy(update={"model_parts": ("backtest",)})
    only_backtest = limits.model_copy(update={"status": rule})
    shifted = calibrated_zone.decisions.copy()
    shifted["pd"] = (shifted["pd"] * 3).clip(upper=0.99)  # a PSI alarm
    m = monitor_model(
        shifted,
        reference.reference,
        observation_end=calibrated_zone.observation_end,
        thresholds=only_backtest,
        seed=1,
    )
    assert m.lights["score_psi"] == "red"
    assert m.status == "green"


def test_write_report_writes_json_and_html_with_every_section(
    report: MonitoringReport, limits, tmp_path: Path
):
    paths = write_report(report, tmp_path / "out", limits)
    assert set(paths) == {"html", "json"}
    assert paths["html"].name == "monitoring.html"
    assert paths["json"].name == "monitoring.json"
    assert (
        json.loads(paths["json"].read_text(encoding="utf-8")) == report.to_json_dict()
    )
    html = paths["html"].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for anchor in (
        'id="status"',
        'id="stability"',
        'id="grades-1"',
        'id="backtest-1"',
        'id="auc-1"',
        'id="estimated-1"',
        'id="migration-1"',
        'id="csi-1"',
        'id="overrides"',
        'id="data"',
        'id="thresholds"',
    ):
        assert anchor in html, anchor
    assert (
        html.count("data:image/png;base64,") == 6
    )  # PSI, grades, AUC, estimate, 2 heat maps
    assert "tax_filings" in html
    assert "x_signal" in html
    assert html.count('class="grade-row"') == 7
    assert "<script" not in html


def test_html_of_a_first_cohort_explains_what_is_not_there_yet(
    calibrated_zone: Zone, reference: Reference, limits
):
    latest = calibrated_zone.decisions["as_of"] == calibrated_zone.as_ofs[-1]
    m = monitor_model(
        calibrated_zone.decisions.loc[latest],
        reference.reference,
        observation_end=calibrated_zone.observation_end,
        thresholds=limits,
        seed=1,
    )
    html = render_html(build_report(dt.date(2025, 1, 1), {"m": m}, thresholds=limits))
    assert "No cohort has matured yet" in html
    assert "A single cohort: no migration yet." in html
    assert "Overrides were not monitored." in html
    assert "No data freshness was given." in html
    assert 'id="thresholds"' not in html


def test_html_shows_a_source_never_delivered_and_informational_csi_apart(
    calibrated: ModelMonitoring, limits
):
    import dataclasses

    from credit_engine.monitoring import FeatureDrift

    drift = FeatureDrift(
        "customs_level__days_in_level", "numeric", 8.0, "red", 0.0, 0.0,
        counted=False, reason="a days counter that grows by a day per day",
    )  # fmt: skip
    csi = dataclasses.replace(
        calibrated.csi,
        features=(drift, *calibrated.csi.features),
        excluded={"x__age": "an age, excluded for the test"},
    )
    m = dataclasses.replace(calibrated, csi=csi)
    data = {
        **DATA,
        "court_judgment": {"status": "n/a", "freshness": "not_delivered",
                           "detail": "not delivered, not required",
                           "department": "SAMR", "cadence": "weekly",
                           "required": False},
    }  # fmt: skip
    report = build_report(dt.date(2025, 1, 1), {"m": m}, thresholds=limits, data=data)
    assert report.status == worst_light_of(report)  # the n/a row moves nothing
    html = render_html(report)
    assert "not delivered, not required" in html
    assert "no, informational: a days counter that grows by a day per day" in html
    assert "an age, excluded for the test" in html
    assert '<td class="n/a">' not in html


def worst_light_of(report: MonitoringReport) -> str:
    from credit_engine.monitoring import worst_light

    lights = [m.status for m in report.models.values()]
    lights += [e["status"] for e in DATA.values()]
    return worst_light(lights)
