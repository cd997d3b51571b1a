"""The signals file: the shipped one loads strictly; every mistake is named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from credit_engine.config import Settings
from credit_engine.early_warning import (
    FeatureRuleSignal,
    GradeJumpSignal,
    StatutoryFactSignal,
    WarningSetup,
    load_signal_book,
    signal_book_versions,
)
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import load_definitions

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "models" / "warnings" / "signals_v1.yaml"


@pytest.fixture(scope="module")
def columns() -> list[str]:
    return load_definitions(ROOT).resolve("warnings_v1").columns


def write_book(tmp_path: Path, raw: dict, name: str = "signals_v1.yaml") -> Path:
    folder = tmp_path / "models" / "warnings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return tmp_path


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text("utf-8"))


def test_the_shipped_signals_load_against_their_feature_set(columns):
    book = load_signal_book(ROOT, feature_columns=columns)
    assert (book.name, book.version, book.feature_set) == ("signals", 1, "warnings_v1")
    assert book.codes == [f"EW-0{i}" for i in range(1, 10)]
    kinds = {s.code: type(s) for s in book.signals}
    assert kinds["EW-01"] is GradeJumpSignal
    assert kinds["EW-02"] is StatutoryFactSignal
    assert all(kinds[c] is FeatureRuleSignal for c in book.codes[2:])
    assert signal_book_versions(ROOT) == [1]
    for s in book.signals:
        assert all((s.name.zh, s.name.en, s.explanation.zh, s.explanation.en))


def test_the_seven_required_patterns_are_there():
    book = load_signal_book(ROOT)
    jump = book.signal("EW-01")
    assert isinstance(jump, GradeJumpSignal)
    assert (jump.notches, jump.lag_days) == (2, 90)
    facts = book.signal("EW-02")
    assert isinstance(facts, StatutoryFactSignal)
    assert {e.value for e in facts.effects} == {
        "ceiling",
        "blocks_green_channel",
        "joint_punishment",
    }
    reads = {s.code: " ".join(s.features()) for s in book.feature_rules()}
    assert "ew_refunds__claimed_180d" in reads["EW-03"]  # refunds vs goods vs funds
    assert "funds_over_goods_180d" in reads["EW-03"]
    assert "ew_samr__key_changes_180d" in reads["EW-04"]  # surge after a change
    assert "refunds_prior_rate_90d" in reads["EW-04"]
    assert "discrepancy_share_jump" in reads["EW-05"]
    assert all(f"shift_{m}" in reads["EW-06"] for m in ("0110", "9610", "9710"))
    assert "count_prior_180d" in reads["EW-07"]  # dormant, then a burst


def test_the_setup_loads_the_latest_version_checked_against_the_set():
    setup = WarningSetup.load(Settings())
    assert setup.book.version == 1
    assert set(setup.book.feature_columns()) <= set(
        setup.definitions.resolve("warnings_v1").columns
    )


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda r: r["signals"][3].update(colour="red"), r"colour.*Extra inputs"),
        (lambda r: r["signals"][3]["when"][0].update(op="=>"), r"when\.0\.op"),
        (lambda r: r["signals"][4].update(code="EW-04"), "duplicate signal codes"),
        (lambda r: r["signals"][4].update(code="W5"), "must look like 'EW-01'"),
        (lambda r: r["signals"][4].update(weight=0), "weight"),
        (lambda r: r["signals"][4].update(department="POLICE"), "department"),
        (lambda r: r["signals"][0].update(notches=0), "notches"),
        (lambda r: r["signals"][0].update(kind="crystal_ball"), "kind"),
        (lambda r: r["signals"][3]["when"][0].update(other="x"), "exactly one of"),
        (lambda r: r["signals"][3].update(when=[]), "needs 'when' clauses or 'any_of'"),
        (lambda r: r.update(version=2), "declares name 'signals' version 2"),
    ],
)
def test_mistakes_are_named(tmp_path, change, match):
    raw = shipped()
    change(raw)
    root = write_book(tmp_path, raw)
    with pytest.raises(ConfigurationError, match=match) as err:
        load_signal_book(root)
    assert "signals_v1.yaml" in str(err.value)


def test_an_unknown_feature_is_named_with_the_set(tmp_path, columns):
    raw = shipped()
    raw["signals"][3]["when"][0]["feature"] = "ew_refunds__claimed_7d"
    root = write_book(tmp_path, raw)
    with pytest.raises(ConfigurationError, match="unknown feature") as err:
        load_signal_book(root, feature_columns=columns)
    message = str(err.value)
    assert "signal EW-04: unknown feature 'ew_refunds__claimed_7d'" in message
    assert "warnings_v1" in message


def test_missing_books_and_versions_are_named(tmp_path):
    with pytest.raises(ConfigurationError, match="expected a file signals_v1.yaml"):
        load_signal_book(tmp_path)
    root = write_book(tmp_path, shipped())
    with pytest.raises(ConfigurationError, match="No version 3 .* versions: 1"):
        load_signal_book(root, version=3)
    (tmp_path / "models" / "warnings" / "signals_v2.yaml").write_text("- a list\n")
    with pytest.raises(ConfigurationError, match="must hold a YAML mapping"):
        load_signal_book(root)
    assert signal_book_versions(root) == [1, 2]


def test_a_clause_reads_as_people_write_it():
    book = load_signal_book(ROOT)
    surge = book.signal("EW-04")
    assert isinstance(surge, FeatureRuleSignal)
    assert surge.when[1].describe() == (
        "ew_refunds__claimed_90d >= 2 × ew_signals__refunds_prior_rate_90d"
    )
    with pytest.raises(KeyError, match="known: EW-01"):
        book.signal("EW-99")
