from __future__ import annotations

import pytest

from credit_engine.data import QuarantineReason

SPEC_CODES = [
    "missing_required",
    "invalid_type",
    "invalid_uscc",
    "unknown_code",
    "below_min",
    "above_max",
    "bad_format",
    "known_before_event",
    "invalid_interval",
    "key_conflict",
]
# Rows a source mapping cannot place (credit-engine ingest --mapping).
MAPPING_CODES = [
    "unmapped_value",
    "unparseable_date",
    "unknown_identifier",
    "not_a_number",
]


def test_the_ten_reason_codes_of_the_spec_then_the_mapping_codes():
    assert [code.value for code in QuarantineReason] == SPEC_CODES + MAPPING_CODES


@pytest.mark.parametrize("code", list(QuarantineReason))
def test_every_code_has_a_one_line_description(code):
    text = code.describe()
    assert text.endswith(".")
    assert "\n" not in text
    assert 10 < len(text) < 200


def test_codes_are_strings():
    assert QuarantineReason("unknown_code") is QuarantineReason.UNKNOWN_CODE
    assert f"{QuarantineReason.BELOW_MIN}:amount" == "below_min:amount"
