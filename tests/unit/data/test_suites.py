from __future__ import annotations

import warnings

import pandas as pd
import pyarrow as pa
import pytest

from credit_engine.data import QuarantineReason
from credit_engine.data._suites import CheckKind, build_suite, plan_checks
from credit_engine.data._validate import SuiteRunner
from credit_engine.exceptions import IngestionError


def test_conditional_ranges_become_one_bounded_check_per_rule_and_side(contracts):
    checks = [
        c for c in plan_checks(contracts["vat_invoice"]) if c.column == "amount_cny"
    ]
    bounds = {
        (c.kind, c.bound, c.when)
        for c in checks
        if c.kind in (CheckKind.MIN, CheckKind.MAX)
    }
    assert bounds == {
        (CheckKind.MIN, 0.0, 'status=="VALID"'),
        (CheckKind.MAX, 1e9, 'status=="VALID"'),
        (CheckKind.MIN, -1e9, 'status=="RED_LETTER"'),
        (CheckKind.MAX, 0.0, 'status=="RED_LETTER"'),
        (CheckKind.MIN, -1e9, 'status=="VOID"'),  # a voided red-letter invoice
        (CheckKind.MAX, 1e9, 'status=="VOID"'),
    }


@pytest.mark.parametrize(
    ("table", "label"),
    [
        ("customs_declaration", "known_before_event:ingested_at"),
        ("customs_credit_level", "invalid_interval:effective_to"),
    ],
)
def test_time_order_check_follows_the_table_kind(contracts, table, label):
    pair = [c for c in plan_checks(contracts[table]) if c.kind is CheckKind.PAIR_GE]
    assert [c.label for c in pair] == [label]


def test_every_contract_rule_has_a_check(contracts):
    for contract in contracts.values():
        labels = {c.label for c in plan_checks(contract)}
        for col in contract.columns:
            assert (f"missing_required:{col.name}" in labels) is col.required
            assert (f"unknown_code:{col.name}" in labels) is (col.values is not None)
            assert (f"bad_format:{col.name}" in labels) is (col.pattern is not None)
            if col.type.value == "uscc":
                assert f"invalid_uscc:{col.name}" in labels


def test_gx_suite_carries_reason_and_column_in_meta(contracts):
    contract = contracts["vat_invoice"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        suite = build_suite(contract)
    assert not [w for w in caught if "row_condition" in str(w.message)]
    assert suite.name == "raw.vat_invoice"
    plan = plan_checks(contract)
    assert len(suite.expectations) == len(plan)
    metas = [(e.meta["reason"], e.meta["column"]) for e in suite.expectations]
    assert metas == [(c.code.value, c.column) for c in plan]
    conditional = [e for e in suite.expectations if e.row_condition is not None]
    assert len(conditional) == 18  # 3 columns x 3 rules x (min, max)


def _run_expectation(expectation, frame):
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    batch = (
        ctx.data_sources.add_pandas("t")
        .add_dataframe_asset("t")
        .add_batch_definition_whole_dataframe("t")
    )
    suite = ctx.suites.add(gx.ExpectationSuite(name="s"))
    suite.add_expectation(expectation)
    definition = ctx.validation_definitions.add(
        gx.ValidationDefinition(name="v", data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": frame},
        result_format={"result_format": "COMPLETE"},
    )
    return result.results[0]


def test_uscc_expectation_rejects_invalid_codes_and_ignores_nulls():
    from credit_engine.data._expectations import ExpectColumnValuesToBeValidUscc

    codes = [
        "91110000600037341L",
        "91110000600037341X",
        "91110000600037341l",
        "9111000060003734",
        None,
        "91110000600037341L",
    ]
    frame = pd.DataFrame({"uscc": pd.Series(codes, dtype="str")})
    result = _run_expectation(ExpectColumnValuesToBeValidUscc(column="uscc"), frame)
    assert not result.success
    assert result.result["unexpected_index_list"] == [1, 2, 3]
    assert result.result["unexpected_count"] == 3


def test_uscc_expectation_passes_valid_codes():
    from credit_engine.data._expectations import ExpectColumnValuesToBeValidUscc

    frame = pd.DataFrame({"uscc": ["91110000600037341L", "91350100M000100Y43"]})
    assert _run_expectation(
        ExpectColumnValuesToBeValidUscc(column="uscc"), frame
    ).success


def test_an_expectation_that_cannot_run_is_a_bug_not_a_pass(tmp_path, contracts):
    contract = contracts["samr_change"]
    runner = SuiteRunner([contract], tmp_path / "docs", "test")
    broken = pa.table({"uscc": ["91110000600037341L"]})  # no other columns
    with pytest.raises(IngestionError, match=r"could not evaluate .*This is a bug"):
        runner.validate("samr_change", broken, 0)


def test_reason_codes_used_by_checks_are_known(contracts):
    used = {c.code for contract in contracts.values() for c in plan_checks(contract)}
    assert used <= set(QuarantineReason)
    assert QuarantineReason.INVALID_TYPE not in used  # found by casting, not by GX
