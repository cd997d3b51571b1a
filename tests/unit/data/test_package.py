from __future__ import annotations

import subprocess
import sys

import credit_engine.data as data


def test_import_is_cheap_and_side_effect_free():
    code = (
        "import sys, credit_engine.data; "
        "heavy = [m for m in ('great_expectations', 'duckdb', 'matplotlib', 'jinja2', "
        "'pandas') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
    assert out.stderr == ""


def test_public_api_is_explicit():
    expected = {
        "SourceContract",
        "ColumnSpec",
        "RangeRule",
        "ColumnType",
        "Department",
        "Disclosure",
        "RecordKind",
        "load_contracts",
        "QuarantineReason",
        "ingest_batch",
        "IngestReport",
        "TableReport",
        "Lake",
        "write_ingest_html",
    }
    assert expected <= set(data.__all__)
    for name in data.__all__:
        assert getattr(data, name).__module__.startswith("credit_engine.data")
