from __future__ import annotations

import pytest

from credit_engine.exceptions import InvalidUsccError
from credit_engine.uscc import (
    USCC_WEIGHTS,
    check_character,
    is_valid_uscc,
    uscc_problem,
    valid_uscc_mask,
    validate_uscc,
)


def test_weights_are_powers_of_three_mod_31():
    assert USCC_WEIGHTS == (
        1,
        3,
        9,
        27,
        19,
        26,
        16,
        17,
        20,
        29,
        25,
        13,
        8,
        24,
        10,
        30,
        28,
    )


@pytest.mark.parametrize(
    "code",
    ["91110000600037341L", "91350100M000100Y43"],
)
def test_known_valid_codes(code):
    assert is_valid_uscc(code)
    assert validate_uscc(code) == code


def test_worked_example_of_the_standard_gives_check_character_3():
    assert check_character("91350100M000100Y4") == "3"


def test_wrong_check_character_names_the_expected_one():
    with pytest.raises(
        InvalidUsccError, match=r"has check character 'Z' .* require '3'"
    ):
        validate_uscc("91350100M000100Y4Z")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("9111000060003734", "has 16 characters"),
        ("91110000600O37341L", r"characters outside the GB 32100 set: 'O'"),
        ("9111000060003734l1", "lower-case letters must be upper-case"),
        (None, "must be a string"),
    ],
)
def test_malformed_codes_are_explained(code, message):
    assert not is_valid_uscc(code)
    assert uscc_problem(code) is not None
    with pytest.raises(InvalidUsccError, match=message):
        validate_uscc(code)


def test_letter_authority_codes_are_allowed_unlike_python_stdnum():
    body = "Y1350100M000100Y4"
    assert is_valid_uscc(body + check_character(body))


def test_vectorised_mask_handles_non_strings_and_non_ascii():
    codes = [
        "91110000600037341L",
        "91110000600037341X",
        None,
        12,
        "九1110000600037341L",
    ]
    assert valid_uscc_mask(codes).tolist() == [True, False, False, False, False]
