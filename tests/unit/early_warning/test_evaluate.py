"""Evaluating the signals on hand-made records: what fires, when, with what evidence."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from credit_engine.config import Settings
from credit_engine.early_warning import (
    WARNING_FRAME_COLUMNS,
    evaluate_warnings,
    grade_notch,
    load_signal_book,
    rank_enterprises,
)
from credit_engine.features import FrameSources, load_definitions
from credit_engine.rules import RuleBook
from credit_engine.store import OperationalStore
from tests.conftest import make_valid_table
from tests.unit.store.factories import decision, make_run, uscc

ROOT = Path(__file__).resolve().parents[3]
RING, QUIET, DORMANT = uscc(101), uscc(102), uscc(103)
SEP = dt.date(2025, 9, 30)


def ts(day: str, hour: int = 9) -> pd.Timestamp:
    return pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=hour)


@pytest.fixture(scope="module")
def defs():
    return load_definitions(ROOT)


@pytest.fixture(scope="module")
def book(defs):
    return load_signal_book(ROOT, feature_columns=defs.resolve("warnings_v1").columns)


@pytest.fixture(scope="module")
def rulebook():
    return RuleBook.load(ROOT)


def rows(defs, table: str, records: list[dict]) -> pd.DataFrame:
    """Valid rows of ``table`` with the given columns set, one per record."""
    rng = np.random.default_rng(len(records))
    base = make_valid_table(defs.contracts[table], len(records), rng).to_pandas()
    base["source_record_id"] = [f"{table}-{i}" for i in range(len(records))]
    for column in {k for r in records for k in r}:
        base[column] = [
            r.get(column, base[column].iloc[i]) for i, r in enumerate(records)
        ]
    return base


@pytest.fixture(scope="module")
def tables(defs) -> dict[str, pd.DataFrame]:
    """Three enterprises: a refund surge after a change of legal representative,
    a quiet one newly on the abnormal list, and a dormant one bursting into
    activity."""
    registered = [
        {"uscc": u, "established_date": dt.date(2018, 1, 1), "status": "IN_BUSINESS",
         "effective_from": ts("2018-01-01"), "effective_to": None,
         "ingested_at": ts("2018-01-02")}
        for u in (RING, QUIET, DORMANT)
    ]  # fmt: skip
    claims = []
    for month in pd.date_range("2024-10-01", "2025-09-01", freq="MS"):
        filed = month + pd.Timedelta(days=9)
        for who, amount in (
            (
                RING,
                300_000.0
                if filed.month in (7, 8, 9) and filed.year == 2025
                else 50_000.0,
            ),
            (QUIET, 50_000.0),
        ):  # noqa: E501
            claims.append(
                {"uscc": who, "event_ts": filed.tz_localize("UTC"),
                 "ingested_at": filed.tz_localize("UTC") + pd.Timedelta(days=1),
                 "refund_claimed_cny": amount, "export_value_cny": amount * 8,
                 "status": "FILED"}
            )  # fmt: skip
    change = [
        {"uscc": RING, "field": "LEGAL_REP", "event_ts": ts("2025-08-15"),
         "ingested_at": ts("2025-08-16")}
    ]  # fmt: skip
    burst = [f"2025-09-{d:02d}" for d in range(2, 14, 2)]  # six in 60 days
    declarations = [
        {"uscc": DORMANT, "event_ts": ts(day), "ingested_at": ts(day, 20),
         "ie_flag": "E", "trade_mode": "0110", "value_cny": 80_000.0,
         "gross_weight_kg": 500.0}
        for day in ["2024-06-03", "2024-07-08", *burst]
    ]  # fmt: skip
    listed = [
        {"uscc": QUIET, "cause": "UNREACHABLE", "effective_from": ts("2025-09-01"),
         "effective_to": None, "removal_reason": None,
         "ingested_at": ts("2025-09-02")}
    ]  # fmt: skip
    return {
        "samr_registration": rows(defs, "samr_registration", registered),
        "export_refund_claim": rows(defs, "export_refund_claim", claims),
        "samr_change": rows(defs, "samr_change", change),
        "customs_declaration": rows(defs, "customs_declaration", declarations),
        "abnormal_list": rows(defs, "abnormal_list", listed),
    }


def evaluate(defs, book, rulebook, tables, as_of, store=None):
    sources = FrameSources(tables, defs.contracts)
    return evaluate_warnings(
        as_of, book=book, definitions=defs, sources=sources, rulebook=rulebook,
        store=store,
    )  # fmt: skip


def fired(evaluation) -> set[tuple[str, str]]:
    return set(
        zip(evaluation.warnings["uscc"], evaluation.warnings["signal"], strict=True)
    )


def test_each_pattern_fires_for_its_enterprise_with_its_numbers(
    defs, book, rulebook, tables
):
    ev = evaluate(defs, book, rulebook, tables, SEP)
    assert ev.enterprises == 3
    assert fired(ev) == {(RING, "EW-04"), (QUIET, "EW-02"), (DORMANT, "EW-07")}
    assert list(ev.warnings.columns) == list(WARNING_FRAME_COLUMNS)
    surge = ev.warnings.set_index("signal").loc["EW-04", "evidence"]
    values = surge["values"]
    assert values["ew_samr__key_changes_180d"] == 1
    assert values["ew_refunds__claimed_90d"] == 900_000
    assert values["ew_signals__refunds_prior_rate_90d"] == pytest.approx(
        450_000 * 90 / 275, rel=1e-5
    )
    assert (
        "ew_refunds__claimed_90d >= 2 × ew_signals__refunds_prior_rate_90d"
        in surge["rule"]
    )
    facts = ev.warnings.set_index("signal").loc["EW-02", "evidence"]["facts"]
    assert [(f["code"], f["since"]) for f in facts] == [
        ("SAMR_ABNORMAL_LIST", "2025-09-01")
    ]
    burst = ev.warnings.set_index("signal").loc["EW-07", "evidence"]["values"]
    assert (burst["ew_customs__count_60d"], burst["ew_signals__count_prior_180d"]) == (
        6,
        0,
    )
    assert ev.counts()["EW-04"] == 1
    assert ev.not_evaluated == {"EW-01": "no operational store given"}


def test_nothing_fires_before_the_change_of_legal_representative(
    defs, book, rulebook, tables
):
    ev = evaluate(defs, book, rulebook, tables, dt.date(2025, 8, 14))
    assert (RING, "EW-04") not in fired(ev)
    assert (QUIET, "EW-02") not in fired(ev)  # listed on 2025-09-01


def test_records_known_later_change_nothing(defs, book, rulebook, tables):
    later = {name: frame.copy() for name, frame in tables.items()}
    extra = rows(
        defs, "samr_change",
        [{"uscc": QUIET, "field": "ADDRESS", "event_ts": ts("2025-09-20"),
          "ingested_at": ts("2025-10-03")}],
    )  # fmt: skip
    extra["source_record_id"] = "late-change"
    later["samr_change"] = pd.concat([later["samr_change"], extra], ignore_index=True)
    a = evaluate(defs, book, rulebook, tables, SEP).warnings
    b = evaluate(defs, book, rulebook, later, SEP).warnings
    pd.testing.assert_frame_equal(a, b)
    c = evaluate(defs, book, rulebook, later, dt.date(2025, 10, 3)).warnings
    assert (
        c.loc[c["uscc"] == QUIET, "evidence"].iloc[0]["with"] == []
    )  # EW-04 needs a surge


def test_thresholds_come_from_the_file(defs, rulebook, tables, tmp_path):
    raw = yaml.safe_load((ROOT / "models/warnings/signals_v1.yaml").read_text("utf-8"))
    surge = next(s for s in raw["signals"] if s["code"] == "EW-04")
    surge["when"][1]["factor"] = 9.0  # 900k is not 9 × the prior rate
    folder = tmp_path / "models" / "warnings"
    folder.mkdir(parents=True)
    (folder / "signals_v1.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True))
    stricter = load_signal_book(tmp_path)
    assert (RING, "EW-04") not in fired(evaluate(defs, stricter, rulebook, tables, SEP))


def test_a_grade_jump_needs_two_stored_runs_and_two_grades(
    defs, book, rulebook, tables
):
    with OperationalStore("sqlite://") as store:
        store.create_schema()
        ev = evaluate(defs, book, rulebook, tables, SEP, store=store)
        assert "no stored rating run in the 31 days" in ev.not_evaluated["EW-01"]
        store.record_run(
            make_run(SEP),
            [decision(RING, tier="C", grade="G5", pd=0.09), decision(QUIET, grade="G3"),
             decision(DORMANT, grade="G4", pd=0.04)],
        )  # fmt: skip
        ev = evaluate(defs, book, rulebook, tables, SEP, store=store)
        assert (
            "no stored rating run within 45 days of 2025-07-02"
            in ev.not_evaluated["EW-01"]
        )
        assert ev.rating_date == SEP
        store.record_run(
            make_run(dt.date(2025, 6, 30)),
            [decision(RING, grade="G2"), decision(QUIET, grade="G2"),
             decision(DORMANT, grade="G3")],
        )  # fmt: skip
        ev = evaluate(defs, book, rulebook, tables, SEP, store=store)
    assert ev.not_evaluated == {}
    jumps = ev.warnings[ev.warnings["signal"] == "EW-01"]
    assert jumps["uscc"].tolist() == [RING]  # G2 -> G5; G2 -> G3 and G3 -> G4 are not
    evidence = jumps["evidence"].iloc[0]
    assert (evidence["grade_then"], evidence["grade_now"], evidence["notches"]) == (
        "G2",
        "G5",
        3,
    )
    assert (evidence["rated_then"], evidence["rated_now"]) == (
        "2025-06-30",
        "2025-09-30",
    )
    ring = ev.warnings[ev.warnings["uscc"] == RING]
    assert set(ring["signal"]) == {"EW-01", "EW-04"}
    assert ring["priority"].tolist() == [5.0, 5.0]  # 2 + 3, the enterprise's sum
    assert ring["tier"].tolist() == ["C", "C"]
    assert ev.warnings["uscc"].iloc[0] == RING  # the highest priority first


def test_ranking_sums_weights_per_enterprise_then_pd():
    frame = pd.DataFrame(
        {"uscc": ["a", "b", "b", "c", "d"],
         "signal": ["EW-04", "EW-02", "EW-05", "EW-04", "EW-04"],
         "weight": [3.0, 1.5, 1.5, 3.0, 3.0], "pd": [0.01, 0.5, 0.5, np.nan, 0.2]}
    )  # fmt: skip
    ranked = rank_enterprises(frame)
    assert ranked["uscc"].tolist() == ["b", "b", "d", "a", "c"]
    assert ranked["priority"].tolist() == [3.0, 3.0, 3.0, 3.0, 3.0]
    assert ranked["n_signals"].tolist() == [2, 2, 1, 1, 1]


def test_grades_as_numbers():
    assert [grade_notch(g) for g in ("G1", "G7", "GD")] == [1.0, 7.0, 8.0]
    assert np.isnan(grade_notch("A"))
    assert np.isnan(grade_notch(None))


def test_the_engine_home_setup_evaluates_an_empty_lake(tmp_path):
    from credit_engine.early_warning import WarningSetup

    setup = WarningSetup.load(Settings(home=tmp_path))
    ev = setup.evaluate(SEP)
    assert ev.enterprises == 0
    assert ev.warnings.empty
    assert ev.summary()["by_signal"]["EW-04"] == 0
