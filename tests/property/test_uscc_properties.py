"""Property tests of the GB 32100-2015 check (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from credit_engine.uscc import (
    USCC_ALPHABET,
    check_character,
    is_valid_uscc,
    uscc_problem,
    valid_uscc_mask,
)

bodies = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(bodies)
def test_body_plus_its_check_character_is_valid(body):
    assert is_valid_uscc(body + check_character(body))


@given(bodies, st.sampled_from(USCC_ALPHABET))
def test_any_other_check_character_is_rejected_naming_the_right_one(body, ch):
    expected = check_character(body)
    code = body + ch
    assert is_valid_uscc(code) == (ch == expected)
    if ch != expected:
        assert f"require {expected!r}" in uscc_problem(code)


@given(bodies, st.integers(0, 16), st.sampled_from(USCC_ALPHABET))
def test_every_single_character_substitution_is_detected(body, pos, ch):
    code = body + check_character(body)
    changed = code[:pos] + ch + code[pos + 1 :]
    assert is_valid_uscc(changed) == (changed == code)


@given(bodies, st.integers(0, 15))
def test_adjacent_transpositions_of_different_characters_are_detected(body, pos):
    code = body + check_character(body)
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    if swapped != code:
        assert not is_valid_uscc(swapped)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.text(max_size=20),
            bodies.map(lambda b: b + check_character(b)),
        )
    )
)
def test_vectorised_mask_agrees_with_the_scalar_check(values):
    assert valid_uscc_mask(values).tolist() == [is_valid_uscc(v) for v in values]
