"""Precedence, green channel, measures, inspection and reasons of one decision."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from credit_engine.config import default_definitions_dir
from credit_engine.decisioning import (
    DecisionContext,
    Disclosure,
    FactInForce,
    ModelRating,
    Override,
    ReasonCatalogue,
    decide,
    load_policy,
)
from credit_engine.freshness import StaleSource
from credit_engine.vocabulary import DecidedBy, Tier

AS_OF = dt.date(2026, 6, 30)
USCC = "91350200MA2XYZ0001"
DEFS = default_definitions_dir()


@pytest.fixture(scope="module")
def context() -> DecisionContext:
    return DecisionContext(
        as_of=AS_OF,
        policy=load_policy(DEFS, "zone", 1),
        catalogue=ReasonCatalogue.load(DEFS),
        model_name="credit_engine.zone_risk_pd",
        model_version="3",
        rule_sets={"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2025"},
    )


def fact(code: str, **effects: object) -> FactInForce:
    department = code.split("_", 1)[0]
    return FactInForce(
        code=code,
        department=department,
        rule_set=f"{department}_X",
        since=dt.date(2025, 1, 1),
        zh=f"{code} zh",
        en=f"{code} en",
        **effects,  # type: ignore[arg-type]
    )


TRUSTED = [
    fact("TAX_LEVEL_A", favourable=True),
    fact("CUSTOMS_ADV_CERT", favourable=True, inspection_factor_cap=0.2),
    fact("SAFE_CLASS_A", favourable=True),
]
DISHONEST = fact(
    "CUSTOMS_DISHONEST", ceiling="D", blocks_green_channel=True, inspection_min_rate=0.8
)
SERIOUS = fact(
    "SAMR_SERIOUS_LIST", ceiling="D", joint_punishment=True, blocks_green_channel=True
)


def rating(grade: str = "G1", **features: float | None) -> ModelRating:
    return ModelRating(
        grade=grade,
        pd=0.004,
        score=720.0,
        in_default=grade == "GD",
        reasons=(
            "customs_penalties__count_365d",
            "customs_penalties__amount_365d",
            None,
        ),
        features={"samr_registration__age_years": 8.0, **features},
    )


def test_model_grade_maps_to_tier_when_nothing_else_applies(context):
    d = decide(USCC, rating("G3"), [], None, context)
    assert (d.tier, d.decided_by, d.model_tier) == ("B", DecidedBy.MODEL, "B")
    assert d.statutory_ceiling is None
    assert not d.green_channel


def test_trusted_enterprise_in_top_band_gets_green_channel_and_incentives(context):
    d = decide(USCC, rating("G1"), TRUSTED, None, context)
    assert d.tier == "A"
    assert d.green_channel
    codes = {m.code for m in d.measures}
    assert {"GC-01", "JI-01", "JI-02", "ZI-01"} <= codes
    assert d.joint_incentive
    assert not d.joint_punishment
    # Certified: the regular rate times at most 0.2, below the tier's 0.5.
    assert d.inspection_rate_factor == pytest.approx(0.2)


def test_green_channel_needs_every_group_and_the_top_band(context):
    assert not decide(USCC, rating("G1"), TRUSTED[:2], None, context).green_channel
    d = decide(USCC, rating("G3"), TRUSTED, None, context)
    assert d.tier == "B"
    assert not d.green_channel


@pytest.mark.parametrize("adverse", [DISHONEST, SERIOUS])
@pytest.mark.parametrize("grade", ["G1", "G2", "G3"])
def test_dishonest_or_serious_listed_never_a_nor_green_channel(context, adverse, grade):
    d = decide(USCC, rating(grade), [*TRUSTED, adverse], None, context)
    assert d.tier == "D"
    assert d.decided_by == DecidedBy.STATUTORY
    assert not d.green_channel
    assert not d.joint_incentive
    assert d.reasons[0].code == adverse.code
    assert d.reasons[0].source == "STATUTORY"


def test_statutory_ceiling_beats_an_override(context):
    override = Override(7, "A", "Verified by on-site inspection", "supervisor-1")
    d = decide(USCC, rating("G5"), [DISHONEST], override, context)
    assert (d.tier, d.decided_by) == ("D", DecidedBy.STATUTORY)
    assert d.override_id == 7


def test_override_beats_policy_and_model_both_ways(context):
    up = Override(1, "A", "Appeal upheld", "supervisor-1")
    d = decide(USCC, rating("G6", samr_registration__age_years=0.5), [], up, context)
    assert (d.tier, d.decided_by) == ("A", DecidedBy.OVERRIDE)
    assert any(r.source == "OVERRIDE" and r.zh == "Appeal upheld" for r in d.reasons)
    down = Override(2, "C", "Smuggling case under investigation", "supervisor-2")
    d = decide(USCC, rating("G1"), TRUSTED, down, context)
    assert (d.tier, d.decided_by) == ("C", DecidedBy.OVERRIDE)
    assert not d.green_channel


def test_policy_rule_caps_the_model_and_says_so(context):
    young = rating("G1", samr_registration__age_years=0.4)
    d = decide(USCC, young, TRUSTED, None, context)
    assert (d.tier, d.decided_by) == ("B", DecidedBy.POLICY)
    assert not d.green_channel
    assert any(r.code == "POL-03" for r in d.reasons)
    # The rule does not fire on a missing age (unknown is not young).
    unknown = rating("G1", samr_registration__age_years=None)
    assert decide(USCC, unknown, TRUSTED, None, context).tier == "A"
    # A fact-based rule: new taxpayers are not yet trusted.
    d = decide(USCC, rating("G1"), [fact("TAX_LEVEL_M")], None, context)
    assert (d.tier, d.decided_by) == ("B", DecidedBy.POLICY)


def test_worse_model_tier_is_not_attributed_to_a_looser_bound(context):
    d = decide(USCC, rating("G7"), [fact("SAFE_CLASS_B", ceiling="B")], None, context)
    assert (d.tier, d.decided_by) == ("D", DecidedBy.MODEL)
    assert d.statutory_ceiling == "B"


def test_joint_punishment_only_from_a_serious_list(context):
    d = decide(USCC, rating("G7"), [DISHONEST], None, context)
    assert not d.joint_punishment
    assert not any(m.code.startswith("JP") for m in d.measures)
    d = decide(USCC, rating("G7"), [SERIOUS], None, context)
    assert d.joint_punishment
    assert "JP-03" in {m.code for m in d.measures}


def test_dishonest_inspection_rate_is_at_least_eighty_percent(context):
    d = decide(USCC, rating("G7"), [DISHONEST], None, context)
    assert d.inspection_rate >= 0.8
    assert d.inspection_rate_factor == pytest.approx(0.8 / 0.03)
    regular = decide(USCC, rating("G3"), [], None, context)
    assert regular.inspection_rate == pytest.approx(0.03)


def test_model_reasons_are_stable_codes_deduplicated(context):
    d = decide(USCC, rating("G4"), [], None, context)
    model = [r for r in d.reasons if r.source == "MODEL"]
    # Two features of the same view give one code.
    assert [r.code for r in model] == ["CUS-03"]
    assert model[0].department == "CUSTOMS"
    assert model[0].zh
    assert model[0].en


def test_unknown_grade_is_a_configuration_error(context):
    with pytest.raises(Exception, match="maps no tier to grade 'G9'"):
        decide(USCC, rating("G9"), [], None, context)


def test_disclosure_filters_fields_by_clearance(context):
    d = decide(USCC, rating("G1"), TRUSTED, None, context)
    public = d.disclosed(Disclosure.PUBLIC, context.policy)
    shared = d.disclosed(Disclosure.SHARED, context.policy)
    internal = d.disclosed(Disclosure.INTERNAL, context.policy)
    assert "green_channel" in public
    assert "tier" not in public
    assert "pd" not in public
    assert {"tier", "reasons"} <= set(shared)
    assert "pd" not in shared
    assert set(internal) == set(d.to_dict())


def test_store_record_holds_codes_and_versions(context):
    record = decide(USCC, rating("G1"), TRUSTED, None, context).to_record()
    assert record["measures"] == ["GC-01", "JI-01", "JI-02", "ZI-01"]
    assert (record["policy_name"], record["policy_version"]) == ("zone", 1)
    assert record["rule_sets"] == {"CUSTOMS": "CUSTOMS_282", "TAX": "TAX_2025"}
    assert record["facts"][0]["since"] == "2025-01-01"


def test_reason_catalogue_covers_every_feature_of_every_set():
    from credit_engine.features import load_definitions

    definitions = load_definitions(DEFS)
    catalogue = ReasonCatalogue.load(DEFS)
    for name in definitions.sets:
        assert catalogue.missing(definitions.resolve(name).columns) == [], name


def test_policy_loading_errors_name_the_problem(tmp_path: Path):
    from credit_engine.exceptions import ConfigurationError, PolicyNotFoundError

    with pytest.raises(PolicyNotFoundError, match="available: zone v1, zone v2"):
        load_policy(DEFS, "zone", 9)
    folder = tmp_path / "models" / "policies"
    folder.mkdir(parents=True)
    text = (DEFS / "models" / "policies" / "zone_v1.yaml").read_text(encoding="utf-8")
    (folder / "zone_v2.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="must match them"):
        load_policy(tmp_path, "zone", 2)
    bad = text.replace("GD: D}", "GD: C}")
    (folder / "zone_v1.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(ConfigurationError, match="GD"):
        load_policy(tmp_path, "zone", 1)


def test_policy_refuses_joint_punishment_without_a_legal_list(context):
    from credit_engine.exceptions import ConfigurationError

    grounded = {"CUSTOMS_SERIOUS_DISHONEST", "TAX_MAJOR_VIOLATION", "SAMR_SERIOUS_LIST"}
    known = context.policy.fact_codes() | {"CUSTOMS_DISHONEST"}
    context.policy.check_facts(known, grounded)
    with pytest.raises(ConfigurationError, match="legally grounded"):
        context.policy.check_facts(known, grounded - {"SAMR_SERIOUS_LIST"})
    with pytest.raises(ConfigurationError, match="no rule set defines"):
        context.policy.check_facts(known - {"SAFE_CLASS_A"}, grounded)


def test_tiers_and_layers_are_the_vocabulary_and_plain_codes_outside(context):
    override = Override(3, "C", "Case under review", "supervisor-1")
    assert override.tier is Tier.C
    d = decide(USCC, rating("G7"), [DISHONEST], override, context)
    assert (d.tier, d.model_tier, d.statutory_ceiling) == (Tier.D, Tier.D, Tier.D)
    assert d.decided_by is DecidedBy.STATUTORY
    assert DISHONEST.ceiling is Tier.D
    # JSON and store rows carry the codes as plain strings.
    for row in (d.to_dict(), d.to_record()):
        for key in ("tier", "model_tier", "statutory_ceiling", "decided_by"):
            assert type(row[key]) is str, key
    assert d.to_dict()["facts"][0]["ceiling"] == "D"
    assert FactInForce.from_dict(DISHONEST.to_dict()) == DISHONEST


def test_a_tier_that_is_not_one_is_refused_naming_the_field():
    with pytest.raises(ValueError, match=r"FactInForce.ceiling must be a tier.*'E'"):
        fact("CUSTOMS_DISHONEST", ceiling="E")
    with pytest.raises(ValueError, match=r"Override.tier must be a tier.*'Z'"):
        Override(1, "Z", "reason", "actor")  # type: ignore[arg-type]


# ------------------------------------------------------------- stale sources
STALE = (
    StaleSource(
        "customs_tax_bill", "CUSTOMS", dt.datetime(2026, 3, 31, 10, tzinfo=dt.UTC),
        91, 3,
    ),
    StaleSource(
        "tax_filing", "TAX", dt.datetime(2026, 4, 20, 9, tzinfo=dt.UTC), 71, 35
    ),
)  # fmt: skip


def test_a_decision_on_stale_sources_is_marked_and_says_why_first(context):
    stale = dataclasses.replace(context, stale_sources=STALE)
    d = decide(USCC, rating("G1"), TRUSTED, None, stale)
    fresh = decide(USCC, rating("G1"), TRUSTED, None, context)
    # The mark changes no tier, channel or measure: the data layers already
    # kept stale data from asserting anything.
    assert (d.tier, d.green_channel, d.measures) == (
        fresh.tier, fresh.green_channel, fresh.measures,
    )  # fmt: skip
    assert d.stale_sources == STALE
    assert fresh.stale_sources == ()
    first = d.reasons[0]
    assert (first.code, first.department, first.source) == (
        "DATA-STALE", "CROSS", "POLICY",
    )  # fmt: skip
    assert "CUSTOMS, TAX" in first.en
    assert "2026-03-31" in first.en
    assert "海关、税务" in first.zh
    assert first.detail == (
        "customs_tax_bill: last delivered 2026-03-31, 91 days ago (3 allowed); "
        "tax_filing: last delivered 2026-04-20, 71 days ago (35 allowed)"
    )
    assert [r.code for r in d.reasons[1:]] == [r.code for r in fresh.reasons]
    one = decide(USCC, rating("G1"), [], None, dataclasses.replace(
        context, stale_sources=STALE[:1]))  # fmt: skip
    assert one.reasons[0].department == "CUSTOMS"


def test_every_reader_sees_the_stale_marks_whatever_the_policy(context):
    d = decide(
        USCC, rating("G3"), [], None, dataclasses.replace(context, stale_sources=STALE)
    )
    assert "stale_sources" not in context.policy.disclosure
    public = d.disclosed(Disclosure.PUBLIC, context.policy)
    assert public["stale_sources"] == [s.to_dict() for s in STALE]
    assert "grade" not in public
    record = d.to_record()
    assert record["stale_sources"] == [s.to_dict() for s in STALE]
    assert d.to_dict()["stale_sources"][0]["watermark"] == "2026-03-31T10:00:00+00:00"
