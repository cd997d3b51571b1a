"""Unified Social Credit Code (统一社会信用代码) checks, GB 32100-2015.

The code has 18 characters drawn from a 31-character set (digits and upper-case
letters without I, O, Z, S, V). Position 1 is the registration-authority code,
position 2 the entity category, positions 3-8 the administrative division,
positions 9-17 the organisation code and position 18 a check character::

    C18 = (31 - sum(C_i * W_i for i in 1..17) mod 31) mod 31,  W_i = 3**(i-1) mod 31

Unlike python-stdnum, positions 1-8 are not required to be digits: the standard
allows the letter authority codes ``A``, ``N`` and ``Y``.

Examples
--------
>>> is_valid_uscc("91110000600037341L")
True
>>> check_character("91350100M000100Y4")
'3'
>>> validate_uscc("91350100M000100Y4Z")
Traceback (most recent call last):
...
credit_engine.exceptions.InvalidUsccError: ... require '3'. ...
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from credit_engine.exceptions import InvalidUsccError

__all__ = [
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "USCC_WEIGHTS",
    "check_character",
    "is_valid_uscc",
    "uscc_problem",
    "valid_uscc_mask",
    "validate_uscc",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 characters of GB 32100-2015, in value order 0-30."""

USCC_LENGTH = 18
USCC_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
"""Weights W_1..W_17 = 3**(i-1) mod 31: 1, 3, 9, 27, 19, 26, 16, 17, 20, ..."""

_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
# Lookup table from byte value to character value; -1 marks a byte outside the set.
_BYTE_VALUE = np.full(256, -1, dtype=np.int16)
for _ch, _v in _VALUE.items():
    _BYTE_VALUE[ord(_ch)] = _v
_WEIGHTS_ARRAY = np.array(USCC_WEIGHTS, dtype=np.int64)


def check_character(body: str) -> str:
    """Return the check character for the first 17 characters of a USCC.

    Parameters
    ----------
    body : str
        The first 17 characters (authority, category, division, organisation code).

    Returns
    -------
    str
        The 18th character that makes the code valid.

    Raises
    ------
    InvalidUsccError
        If ``body`` is not 17 characters of the USCC alphabet.

    Examples
    --------
    >>> check_character("91110000600037341")
    'L'
    """
    if len(body) != USCC_LENGTH - 1 or any(ch not in _VALUE for ch in body):
        raise InvalidUsccError(
            f"Cannot compute a USCC check character for {body!r}: expected 17 "
            f"characters from {USCC_ALPHABET!r}, got {len(body)} characters."
        )
    total = sum(_VALUE[ch] * w for ch, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: object) -> str | None:
    """Describe why ``code`` is not a valid USCC, or return ``None`` if it is.

    Parameters
    ----------
    code : object
        Candidate value; anything that is not a ``str`` is a problem.

    Returns
    -------
    str or None
        A sentence naming what is wrong (length, bad characters, or the expected
        check character), or ``None`` for a valid code.

    Examples
    --------
    >>> uscc_problem("91110000600037341L") is None
    True
    >>> print(uscc_problem("91110000600037341X"))
    USCC '91110000600037341X' has check character 'X' but its first 17 characters
    require 'L'.
    """
    if not isinstance(code, str):
        return f"USCC must be a string of {USCC_LENGTH} characters, got {code!r}."
    if len(code) != USCC_LENGTH:
        return (
            f"USCC {code!r} has {len(code)} characters; a USCC has exactly "
            f"{USCC_LENGTH}."
        )
    bad = sorted({ch for ch in code[:-1] if ch not in _VALUE})
    if bad:
        hint = (
            " (lower-case letters must be upper-case)"
            if any(ch.upper() in _VALUE for ch in bad)
            else ""
        )
        return (
            f"USCC {code!r} contains characters outside the GB 32100 set: "
            f"{', '.join(repr(ch) for ch in bad)}; allowed are digits and upper-case "
            f"letters except I, O, Z, S, V{hint}."
        )
    expected = check_character(code[:-1])
    if code[-1] != expected:
        return (
            f"USCC {code!r} has check character {code[-1]!r} but its first 17 "
            f"characters require {expected!r}."
        )
    return None


def is_valid_uscc(code: object) -> bool:
    """Return whether ``code`` is a valid USCC.

    Parameters
    ----------
    code : object
        Candidate value.

    Returns
    -------
    bool
        ``True`` when the length, character set and check character are right.
    """
    return uscc_problem(code) is None


def validate_uscc(code: object) -> str:
    """Return ``code`` unchanged if it is a valid USCC, else raise.

    Parameters
    ----------
    code : object
        Candidate value.

    Returns
    -------
    str
        The validated code.

    Raises
    ------
    InvalidUsccError
        With a message naming the problem and, for a wrong check character,
        the expected one.
    """
    problem = uscc_problem(code)
    if problem is not None:
        raise InvalidUsccError(problem + " Correct the code at its source record.")
    assert isinstance(code, str)
    return code


def valid_uscc_mask(codes: Iterable[object]) -> npt.NDArray[np.bool_]:
    """Vectorised validity check for many candidate codes.

    Parameters
    ----------
    codes : iterable of object
        Candidate values; ``None``, NaN and non-strings are invalid.

    Returns
    -------
    numpy.ndarray of bool
        ``True`` where the value is a valid USCC.

    Examples
    --------
    >>> valid_uscc_mask(["91110000600037341L", "91110000600037341X", None]).tolist()
    [True, False, False]
    """
    values = list(codes)
    mask = np.zeros(len(values), dtype=bool)
    idx = [i for i, v in enumerate(values) if isinstance(v, str) and len(v) == 18]
    if not idx:
        return mask
    raw = "".join(str(values[i]) for i in idx)
    try:
        data = raw.encode("ascii")
    except UnicodeEncodeError:
        # Non-ASCII content: fall back to the exact per-code check.
        for i in idx:
            mask[i] = is_valid_uscc(values[i])
        return mask
    chars = _BYTE_VALUE[np.frombuffer(data, dtype=np.uint8)].reshape(len(idx), 18)
    in_set = (chars >= 0).all(axis=1)
    total = (chars[:, :17].astype(np.int64) * _WEIGHTS_ARRAY).sum(axis=1)
    expected = (31 - total % 31) % 31
    mask[np.asarray(idx)] = in_set & (chars[:, 17] == expected)
    return mask
