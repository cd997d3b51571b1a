"""The contracts' checks written for Spark (no Spark needed: SQL text only)."""

from __future__ import annotations

import pytest

from credit_engine.config import Settings
from credit_engine.data import load_contracts
from credit_engine.data._reasons import QuarantineReason
from credit_engine.data._spark_checks import (
    failure_condition,
    reconcile,
    spark_condition,
    sql_string,
)
from credit_engine.data._suites import Check, CheckKind, plan_checks
from credit_engine.exceptions import ConfigurationError, IngestionError


@pytest.mark.parametrize(
    ("pandas", "spark"),
    [
        ('status=="VALID"', "coalesce(`status` = 'VALID', false)"),
        ('status!="VALID"', "(NOT coalesce(`status` = 'VALID', false))"),
        (
            "~(financials_published == False)",
            "(NOT coalesce(`financials_published` = false, false))",
        ),
        (
            'filing_status not in ["CORRECTION", "REFUND"]',
            "(NOT coalesce(`filing_status` IN ('CORRECTION', 'REFUND'), false))",
        ),
        (
            "(a > 1) & (b <= 2.5)",
            "(coalesce(`a` > 1, false) AND coalesce(`b` <= 2.5, false))",
        ),
    ],
)
def test_row_conditions_translate_with_pandas_null_semantics(pandas, spark):
    assert spark_condition(pandas) == spark


@pytest.mark.parametrize("bad", ["f(x) == 1", "a == b", "a in b", "a +"])
def test_unsupported_conditions_are_refused_with_the_supported_forms(bad):
    with pytest.raises(ConfigurationError, match="condition"):
        spark_condition(bad)


def test_every_contract_condition_translates():
    contracts = load_contracts(Settings().sources_dir)
    conditions = [
        failure_condition(check)
        for contract in contracts.values()
        for check in plan_checks(contract)
    ]
    assert len(conditions) > 100
    assert any("RED_LETTER" in c for c in conditions)


def test_string_literals_are_escaped():
    assert sql_string("a'b\\c") == "'a\\'b\\\\c'"


def test_a_disagreement_with_gx_stops_the_run_naming_the_check():
    checks = [Check(CheckKind.NOT_NULL, "uscc", QuarantineReason.MISSING_REQUIRED)]
    reconcile("t", checks, {0: False}, {0: 2})
    reconcile("t", checks, {0: True}, {0: 0})
    with pytest.raises(IngestionError, match="not_null on 'uscc'.*passed.*2 row"):
        reconcile("t", checks, {0: True}, {0: 2})
    with pytest.raises(IngestionError, match="not_null on 'uscc'.*failed.*0 row"):
        reconcile("t", checks, {0: False}, {0: 0})
    with pytest.raises(IngestionError, match="not_null on 'uscc'"):
        reconcile("t", checks, {}, {0: 0})


def test_ingest_on_spark_names_an_invalid_mapping_before_spark_starts(
    tmp_path, monkeypatch
):
    from typer.testing import CliRunner

    import credit_engine.engines
    from credit_engine.cli import app

    # Whether or not this worker already runs a Spark session (the Spark
    # tests' one), the mapping is checked before any session is asked for.
    asked: list[object] = []
    monkeypatch.setattr(credit_engine.engines, "spark_session", asked.append)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("sources: {}\n", encoding="utf-8")
    (tmp_path / "in").mkdir()
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            str(tmp_path / "in"),
            "--engine",
            "spark",
            "--mapping",
            str(mapping),
            "--home",
            str(tmp_path / "home"),
        ],
    )
    assert result.exit_code != 0
    text = " ".join(result.output.split())
    assert "Invalid source mapping" in text
    assert "(top level): Input should be a valid tuple" in text
    assert asked == []
    assert not (tmp_path / "home" / "lake").exists()


def test_only_our_own_errors_from_a_task_are_raised_again():
    from credit_engine.data._spark_ingest import task_error
    from credit_engine.exceptions import DataContractError

    trace = (
        "An exception was thrown from the Python worker.\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 1, in run\n'
        "credit_engine.exceptions.DataContractError: Source 'a' → table 'b': the\n"
        "mapping could not be applied: bad cast. Check the SQL.\n"
        "\n\tat org.apache.spark.api.python.BasePythonRunner.next(...)\n"
    )
    found = task_error(RuntimeError(trace))
    assert isinstance(found, DataContractError)
    assert str(found) == (
        "Source 'a' → table 'b': the\nmapping could not be applied: bad cast. "
        "Check the SQL."
    )
    assert task_error(RuntimeError("ValueError: not ours")) is None
    assert task_error(RuntimeError("credit_engine.exceptions.Nope: x")) is None
    assert task_error(RuntimeError("credit_engine.exceptions.annotations: x")) is None
