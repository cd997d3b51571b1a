"""The rule book: shipped rule sets, selection by date, and every load error."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from credit_engine.config import Settings
from credit_engine.exceptions import ConfigurationError
from credit_engine.features import to_spark
from credit_engine.rules import (
    REGIMES,
    Certainty,
    Regime,
    RuleBook,
    regime_layer,
    statutory_facts_sql,
)
from credit_engine.vocabulary import Tier

ROOT = Settings().definitions_dir
FULL_FACT = {
    "zh": "x",
    "en": "x",
    "department": "TAX",
    "ceiling": None,
    "joint_punishment": False,
    "blocks_green_channel": False,
    "favourable": False,
    "inspection_factor_cap": None,
    "inspection_min_rate": None,
    "certainty": "U",
    "note": "",
}


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    return tmp_path


def _edit(root: Path, name: str, change) -> None:
    path = root / "rules" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_shipped_rule_book_has_every_version_of_the_brief(rulebook):
    ids = {r.id: (r.effective_from, r.effective_to) for r in rulebook.rule_sets}
    assert ids == {
        "CUSTOMS_251": (dt.date(2021, 11, 1), dt.date(2026, 4, 1)),
        "CUSTOMS_282": (dt.date(2026, 4, 1), None),
        "TAX_2014": (dt.date(2014, 10, 1), dt.date(2025, 7, 1)),
        "TAX_2025": (dt.date(2025, 7, 1), None),
        "SAFE_2012": (dt.date(2012, 8, 1), None),
        "SAMR_2021": (dt.date(2021, 9, 1), None),
        "REPAIR_NDRC58": (dt.date(2023, 5, 1), dt.date(2026, 4, 1)),
        "REPAIR_NDRC2026": (dt.date(2026, 4, 1), None),
    }
    assert len(rulebook.fingerprint) == 64
    assert rulebook.fingerprint == RuleBook.load(ROOT).fingerprint


@pytest.mark.parametrize(
    ("as_of", "customs", "tax", "repair"),
    [
        ("2025-06-30", "CUSTOMS_251", "TAX_2014", "REPAIR_NDRC58"),
        ("2025-07-01", "CUSTOMS_251", "TAX_2025", "REPAIR_NDRC58"),
        ("2026-03-31", "CUSTOMS_251", "TAX_2025", "REPAIR_NDRC58"),
        ("2026-04-01", "CUSTOMS_282", "TAX_2025", "REPAIR_NDRC2026"),
    ],
)
def test_the_version_in_force_changes_on_its_effective_date(
    rulebook, as_of, customs, tax, repair
):
    versions = rulebook.versions(dt.date.fromisoformat(as_of))
    assert versions == {
        "CUSTOMS": customs,
        "TAX": tax,
        "SAFE": "SAFE_2012",
        "SAMR": "SAMR_2021",
        "REPAIR": repair,
    }
    assert rulebook.in_force(dt.date.fromisoformat(as_of))["CUSTOMS"].id == customs


def test_a_date_before_every_version_names_the_regime_and_the_date(rulebook, contracts):
    with pytest.raises(ConfigurationError, match=r"No CUSTOMS rule set .* 2021-10-31"):
        rulebook.in_force(dt.date(2021, 10, 31))
    with pytest.raises(ConfigurationError, match=r"No REPAIR rule set .* 2023-04-30"):
        statutory_facts_sql(rulebook, dt.date(2023, 4, 30), contracts=contracts)
    with pytest.raises(ConfigurationError, match="must be a datetime.date"):
        rulebook.in_force(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))


def test_fact_returns_the_definition_in_force(rulebook):
    cap_251 = rulebook.fact("CUSTOMS_ADV_CERT", dt.date(2026, 3, 31))
    assert cap_251.inspection_factor_cap == 0.2
    assert cap_251.favourable
    assert cap_251.ceiling is None
    cert = rulebook.fact("CUSTOMS_CERT", dt.date(2026, 4, 1))
    assert cert.inspection_factor_cap == 0.5
    assert cert.certainty is Certainty.U
    with pytest.raises(ConfigurationError, match=r"'CUSTOMS_CERT' is not defined .*"):
        rulebook.fact("CUSTOMS_CERT", dt.date(2026, 3, 31))
    assert rulebook.fact("SAMR_SERIOUS_LIST", dt.date(2025, 1, 1)).ceiling is Tier.D
    assert rulebook.get("TAX_2025").param("d_retention_excluded_direct_d_codes") == [
        10,
        11,
    ]
    with pytest.raises(ConfigurationError, match="unknown rule set 'TAX_1999'"):
        rulebook.get("TAX_1999")
    with pytest.raises(ConfigurationError, match="has no parameter 'nope'"):
        rulebook.get("TAX_2025").param("nope")


def test_the_shipped_facts_and_effects_match_the_brief(rulebook):
    on = dt.date(2026, 4, 1)
    f = {
        code: spec
        for rs in rulebook.in_force(on).values()
        for code, spec in rs.facts.items()
    }
    assert set(f) == {c for layer in REGIMES for c in layer.facts}
    joint = {c for c, s in f.items() if s.joint_punishment}
    assert joint == {
        "CUSTOMS_SERIOUS_DISHONEST",
        "TAX_MAJOR_VIOLATION",
        "SAMR_SERIOUS_LIST",
    }
    ceilings = {c: s.ceiling.value for c, s in f.items() if s.ceiling}
    assert ceilings == {
        "CUSTOMS_DISHONEST": "D",
        "CUSTOMS_SERIOUS_DISHONEST": "D",
        "TAX_LEVEL_D": "D",
        "TAX_D_RETENTION": "B",
        "TAX_MAJOR_VIOLATION": "D",
        "TAX_ABNORMAL_HOUSEHOLD": "C",
        "SAFE_CLASS_B": "B",
        "SAFE_CLASS_C": "D",
        "SAMR_SERIOUS_LIST": "D",
        "SAMR_ABNORMAL_LIST": "B",
        "SAMR_ABNORMAL_ESCALATION_DUE": "C",
        "SAMR_NOT_IN_BUSINESS": "D",
    }
    favourable = {c for c, s in f.items() if s.favourable}
    assert favourable == {
        "CUSTOMS_ADV_CERT",
        "CUSTOMS_CERT",
        "TAX_LEVEL_A",
        "TAX_LEVEL_B",
        "SAFE_CLASS_A",
    }
    assert not favourable & {c for c, s in f.items() if s.blocks_green_channel}
    assert f["CUSTOMS_DISHONEST"].inspection_min_rate == 0.8
    assert not f["CUSTOMS_REPAIR_DUE"].blocks_green_channel
    assert all(s.zh and s.en and s.note for s in f.values())
    # Under Order 251 the certified (CERT) tier does not exist.
    assert "CUSTOMS_CERT" not in rulebook.get("CUSTOMS_251").facts


def test_every_unconfirmed_number_is_a_parameter_with_its_certainty(rulebook):
    customs = rulebook.get("CUSTOMS_251").params
    assert customs["fine_overdue_min_cny"].certainty is Certainty.U
    assert customs["fine_overdue_days"].value == 180
    assert customs["supervision_ratio_broker"].value == 0.0005
    assert (
        rulebook.get("REPAIR_NDRC2026").params["serious_max_publicity_days"].value
        == 1095
    )
    assert all(
        p.certainty is Certainty.U for p in rulebook.get("CUSTOMS_282").params.values()
    )
    assert rulebook.get("REPAIR_NDRC58").facts == {}


def test_the_tables_the_rules_read_are_read_by_their_contracts(rulebook, contracts):
    """The rules take each table's time column and versioning from its contract."""
    for as_of in (dt.date(2025, 6, 30), dt.date(2026, 4, 1)):
        sql, tables = statutory_facts_sql(rulebook, as_of, contracts=contracts)
        assert tables, as_of
        for name in tables:
            contract = contracts[name]
            assert list(contract.key) == ["uscc", "source_record_id"], name
            assert f"t.{contract.time_column} < TIMESTAMPTZ" in sql, name
        versioned = [n for n in tables if contracts[n].is_versioned]
        assert "customs_declaration" in tables
        assert not contracts["customs_declaration"].is_versioned
        assert versioned
    without = {n: c for n, c in contracts.items() if n != "tax_credit_rating"}
    with pytest.raises(
        ConfigurationError,
        match=r"TAX rules read table 'tax_credit_rating', which has no contract",
    ):
        statutory_facts_sql(rulebook, dt.date(2026, 4, 1), contracts=without)


def test_each_regime_is_declared_once_with_its_builder_and_facts(rulebook):
    assert [layer.regime for layer in REGIMES] == list(Regime)
    for layer in REGIMES:
        assert regime_layer(layer.regime) is layer
        if layer.regime is Regime.REPAIR:
            assert layer.build is None
            assert layer.facts == {}
            assert set(layer.params) == {"serious_max_publicity_days"}
            continue
        assert callable(layer.build), layer.regime
        assert layer.params == {}, layer.regime
        # Every fact a shipped rule set defines is one the layer implements.
        shipped = {
            code
            for rs in rulebook.rule_sets
            if rs.regime is layer.regime
            for code in rs.facts
        }
        assert shipped <= set(layer.facts), layer.regime
        assert all(code.startswith(layer.regime.value) for code in layer.facts)


# ------------------------------------------------------------------- errors
def test_overlapping_versions_are_refused(tmp_path):
    root = _copy(tmp_path)
    _edit(root, "customs_251", lambda d: d.update(effective_to="2026-05-01"))
    with pytest.raises(
        ConfigurationError,
        match=r"CUSTOMS: CUSTOMS_251 \[2021-11-01, 2026-05-01\) "
        r"overlaps CUSTOMS_282",
    ):
        RuleBook.load(root)


def test_an_open_version_followed_by_another_overlaps(tmp_path):
    root = _copy(tmp_path)
    _edit(root, "tax_2014", lambda d: d.update(effective_to=None))
    with pytest.raises(
        ConfigurationError, match=r"TAX_2014 \[2014-10-01, open\) overlaps"
    ):
        RuleBook.load(root)


def test_a_gap_between_versions_is_refused(tmp_path):
    root = _copy(tmp_path)
    _edit(root, "repair_ndrc58", lambda d: d.update(effective_to="2026-03-01"))
    with pytest.raises(ConfigurationError, match="gap between REPAIR_NDRC58"):
        RuleBook.load(root)


def test_an_unknown_ceiling_is_refused_naming_the_file_and_field(tmp_path):
    root = _copy(tmp_path)
    _edit(
        root,
        "safe_2012",
        lambda d: d["facts"]["SAFE_CLASS_B"].update(ceiling="E"),
    )
    with pytest.raises(
        ConfigurationError,
        match=r"safe_2012\.yaml:\n  - facts\.SAFE_CLASS_B\.ceiling: Input should be "
        r"'A', 'B', 'C' or 'D'",
    ):
        RuleBook.load(root)


@pytest.mark.parametrize(
    ("name", "change", "message"),
    [
        (
            "samr_2021",
            lambda d: d["params"]["abnormal_escalation_days"].update(certainty="X"),
            r"params\.abnormal_escalation_days\.certainty: Input should be 'C', 'S' "
            r"or 'U'",
        ),
        ("samr_2021", lambda d: d.update(colour="red"), "colour: Extra inputs"),
        (
            "safe_2012",
            lambda d: d["facts"]["SAFE_CLASS_A"].pop("note"),
            r"facts\.SAFE_CLASS_A\.note: Field required",
        ),
        (
            "tax_2025",
            lambda d: d["facts"]["TAX_LEVEL_A"].update(inspection_factor_cap=1.5),
            "inspection_factor_cap: Input should be less than or equal to 1",
        ),
        (
            "tax_2025",
            lambda d: d.update(effective_to="2025-01-01"),
            "effective_to must be after effective_from",
        ),
        (
            "tax_2025",
            lambda d: d["facts"]["TAX_LEVEL_A"].update(department="SAFE"),
            r"facts \['TAX_LEVEL_A'\] must have department 'TAX'",
        ),
        (
            "repair_ndrc58",
            lambda d: d["facts"].update(X=FULL_FACT),
            "a REPAIR rule set has parameters only",
        ),
        (
            "samr_2021",
            lambda d: d.update(id="SAMR-2021"),
            "must look like 'SAMR_<VERSION>'",
        ),
    ],
)
def test_malformed_rule_sets_are_refused(tmp_path, name, change, message):
    root = _copy(tmp_path)
    _edit(root, name, change)
    with pytest.raises(ConfigurationError, match=message):
        RuleBook.load(root)


def test_a_fact_the_engine_does_not_implement_is_refused(tmp_path):
    root = _copy(tmp_path)

    def add(d):
        d["facts"]["SAFE_CLASS_D"] = dict(d["facts"]["SAFE_CLASS_C"])

    _edit(root, "safe_2012", add)
    with pytest.raises(
        ConfigurationError,
        match=r"SAFE_2012: the engine does not implement .*SAFE_CLASS_D",
    ):
        RuleBook.load(root)


def test_a_missing_or_mistyped_parameter_is_refused(tmp_path):
    root = _copy(tmp_path)
    _edit(root, "customs_282", lambda d: d["params"].pop("tax_overdue_days"))
    _edit(
        root,
        "tax_2014",
        lambda d: d["params"]["refund_fraud_clean_years"].update(value="three"),
    )
    _edit(
        root, "repair_ndrc2026", lambda d: d["params"].pop("serious_max_publicity_days")
    )
    with pytest.raises(ConfigurationError, match="Invalid rule book") as info:
        RuleBook.load(root)
    message = str(info.value)
    assert "CUSTOMS_282: missing parameter(s) ['tax_overdue_days']" in message
    assert (
        "TAX_2014: parameter 'refund_fraud_clean_years' must be int; got 'three'"
        in (message)
    )
    assert "REPAIR_NDRC2026: missing parameter(s) ['serious_max_publicity_days']" in (
        message
    )


def test_a_bad_parameter_value_is_refused_when_compiled(tmp_path, contracts):
    root = _copy(tmp_path)
    _edit(
        root,
        "tax_2025",
        lambda d: d["params"]["d_retention_scope"].update(value="SOME"),
    )
    book = RuleBook.load(root)
    with pytest.raises(
        ConfigurationError,
        match=r"d_retention_scope' must be one of \['ANY', 'DIRECT_D_ONLY'\]",
    ):
        statutory_facts_sql(book, dt.date(2025, 8, 1), contracts=contracts)


def test_file_names_follow_ids_and_every_regime_is_needed(tmp_path):
    root = _copy(tmp_path)
    (root / "rules/safe_2012.yaml").rename(root / "rules/safe.yaml")
    with pytest.raises(ConfigurationError, match="name the file safe_2012.yaml"):
        RuleBook.load(root)
    (root / "rules/safe.yaml").unlink()
    with pytest.raises(
        ConfigurationError, match=r"no rule set for regime\(s\) \['SAFE'\]"
    ):
        RuleBook.load(root)
    with pytest.raises(ConfigurationError, match="No rule sets"):
        RuleBook.load(tmp_path / "nowhere")
    (root / "rules/tax_2014.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must hold a YAML mapping"):
        RuleBook.load(root)


def test_duplicate_ids_are_refused(rulebook):
    sets = list(rulebook.rule_sets)
    with pytest.raises(
        ConfigurationError, match=r"duplicate rule-set ids \['SAFE_2012'\]"
    ):
        RuleBook([*sets, rulebook.get("SAFE_2012")])
    assert {r.regime for r in sets} == set(Regime)


@pytest.mark.parametrize("as_of", ["2025-06-30", "2026-04-01"])
def test_the_compiled_sql_transpiles_to_spark(rulebook, contracts, as_of):
    sql, _ = statutory_facts_sql(
        rulebook, dt.date.fromisoformat(as_of), contracts=contracts
    )
    spark = to_spark(sql)
    assert "QUALIFY" not in spark.upper()
    assert "ROW_NUMBER()" in spark.upper()
