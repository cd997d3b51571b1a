from __future__ import annotations

import pyarrow as pa
import pytest

from credit_engine.config import Settings
from credit_engine.data import ColumnType, Department, RecordKind, load_contracts
from credit_engine.exceptions import ConfigurationError

MINIMAL_EVENT = """
name: thing
department: customs
kind: event
title: t
description: d
columns:
  - {name: uscc, type: uscc, required: true}
  - {name: source_record_id, type: string, required: true}
  - {name: event_ts, type: timestamp, required: true}
  - {name: ingested_at, type: timestamp, required: true}
"""


def _write(tmp_path, text, name="thing"):
    (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def test_the_shipped_contracts_cover_the_four_departments():
    contracts = load_contracts(Settings().sources_dir)
    assert len(contracts) >= 20
    assert {c.department for c in contracts.values()} == set(Department)
    required = {
        "customs_registration",
        "customs_credit_level",
        "customs_declaration",
        "customs_inspection",
        "customs_penalty",
        "customs_tax_bill",
        "tax_registration",
        "tax_filing",
        "vat_invoice",
        "export_refund_claim",
        "tax_credit_rating",
        "fx_transaction",
        "safe_classification",
        "samr_registration",
        "samr_change",
        "annual_report",
        "abnormal_list",
        "serious_violation_list",
        "admin_penalty",
    }
    assert required <= set(contracts)
    modes = contracts["customs_declaration"].column("trade_mode").values
    assert {"9610", "9710", "9810", "1210", "0110"} <= set(modes)
    for c in contracts.values():
        assert {"uscc", "source_record_id", "ingested_at"} <= set(c.column_names)
        assert all(col.description for col in c.columns), c.name


def test_a_minimal_contract_loads_with_arrow_types(tmp_path):
    contract = load_contracts(_write(tmp_path, MINIMAL_EVENT))["thing"]
    assert contract.kind is RecordKind.EVENT
    assert contract.arrow_schema().field("event_ts").type == pa.timestamp(
        "us", tz="UTC"
    )
    assert contract.column("uscc").type is ColumnType.USCC
    assert len(contract.fingerprint()) == 64


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("kind: event", "kind: state"),
            "must declare .*effective_from",
        ),
        (
            lambda t: t.replace("{name: uscc, type: uscc", "{name: uscc, type: string"),
            "column 'uscc' must have type 'uscc'",
        ),
        (
            lambda t: t + "  - {name: x, type: string, min: 3}\n",
            "bounds given for non-numeric",
        ),
        (
            lambda t: t + "  - {name: x, type: float, min: 3, max: 1}\n",
            "got min=3.0, max=1.0",
        ),
        (lambda t: t + "  - {name: x, type: string, colour: red}\n", "Extra inputs"),
        (lambda t: t + "  - {name: Bad, type: string}\n", "not snake_case"),
        (lambda t: t + "  - {name: x, type: string, pattern: '('}\n", "is not a regex"),
        (
            lambda t: t + "  - {name: x, type: string, pattern: '^(a|b)$'}\n",
            r"non-capturing groups \(\?:\.\.\.\)",
        ),
    ],
)
def test_malformed_contracts_fail_naming_the_file_and_field(tmp_path, edit, message):
    _write(tmp_path, edit(MINIMAL_EVENT))
    with pytest.raises(ConfigurationError, match=message) as info:
        load_contracts(tmp_path)
    assert "thing.yaml" in str(info.value)


def test_file_name_must_match_the_table_name(tmp_path):
    _write(tmp_path, MINIMAL_EVENT, name="other")
    with pytest.raises(ConfigurationError, match="must be named thing.yaml"):
        load_contracts(tmp_path)


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigurationError, match="No record contracts"):
        load_contracts(tmp_path)


def test_contract_reference_in_docs_is_up_to_date():
    from credit_engine.data._contract_docs import render_contracts_markdown

    settings = Settings()
    expected = render_contracts_markdown(load_contracts(settings.sources_dir)) + "\n"
    actual = (settings.definitions_dir / "docs" / "contracts.md").read_text("utf-8")
    assert actual == expected, (
        "docs/contracts.md is stale: run `credit-engine contracts --markdown "
        "docs/contracts.md`"
    )
