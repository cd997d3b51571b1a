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

import hashlib
import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from credit_engine.exceptions import InvalidUsccError

__all__ = [
    "PSEUDO_PREFIX",
    "USCC_ALPHABET",
    "USCC_LENGTH",
    "USCC_WEIGHTS",
    "check_character",
    "is_valid_uscc",
    "pseudo_uscc",
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


PSEUDO_PREFIX = "9199"
"""Positions 1-4 of every pseudo-USCC: authority 9, category 1, province 99.

No province has code 99 in GB/T 2260, so a pseudo-USCC can never be the code of
a real enterprise, nor of one of the simulated Xiamen zone (``3502xx``).
"""

_PSEUDO_NAMESPACE_MAX = 4


def pseudo_uscc(namespace: str, source_id: str, *, number: str | None = None) -> str:
    """Return a valid, fictitious USCC standing for an anonymised source id.

    Deterministic (same namespace and id, same code), one to one within a
    namespace (numbered ids always; hashed ids unless two hash alike, which the
    caller detects), and never the code of a real enterprise: positions 3-4 are
    the province ``99``, which GB/T 2260 does not assign.

    Parameters
    ----------
    namespace : str
        1 to 4 characters of the USCC alphabet naming the data set (``CUMC`` for
        the CUMCM 2020 C data); written at positions 9 onwards so the source of
        a code can be read from it.
    source_id : str
        The anonymised id as the source gives it (spaces around are ignored).
    number : str, optional
        A regular expression whose first group captures a number in the id
        (``^E([0-9]+)$`` for ``E1`` ... ``E425``). *Numbered* codes are
        ``91 990000 <namespace> <number, zero-padded to fill position 17>
        <check>``. Without ``number`` the code is *hashed*: ``91 99 <4 digits
        1000-9999> <namespace> <characters>``, the digits and characters drawn
        from SHA-256 of ``namespace`` and the id (about 2.6e11 codes for a
        4-character namespace, 2.5e14 for a 2-character one).

    Returns
    -------
    str
        The 18-character code, valid under GB 32100-2015.

    Raises
    ------
    InvalidUsccError
        If the namespace is not 1-4 USCC characters, the id is empty, or (with
        ``number``) the id does not match or its number does not fit.

    Examples
    --------
    >>> pseudo_uscc("CUMC", "E1", number=r"^E([0-9]+)$")
    '91990000CUMC000019'
    >>> pseudo_uscc("XM", "a3f9c2")
    '91992151XMM235UN06'
    """
    if not (
        1 <= len(namespace) <= _PSEUDO_NAMESPACE_MAX
        and all(ch in _VALUE for ch in namespace)
    ):
        raise InvalidUsccError(
            f"Pseudo-USCC namespace {namespace!r} must be 1 to 4 characters of "
            f"{USCC_ALPHABET!r}."
        )
    text = source_id.strip() if isinstance(source_id, str) else ""
    if not text:
        raise InvalidUsccError(
            f"Cannot make a pseudo-USCC of the empty id {source_id!r}."
        )
    width = 9 - len(namespace)
    if number is not None:
        match = re.search(number, text)
        digits = match.group(1) if match else None
        if digits is None or not digits.isdigit() or len(str(int(digits))) > width:
            raise InvalidUsccError(
                f"Id {text!r} does not give a number of at most {width} digits "
                f"through the pattern {number!r}."
            )
        body = f"{PSEUDO_PREFIX}0000{namespace}{int(digits):0{width}d}"
        return body + check_character(body)
    value = int.from_bytes(
        hashlib.sha256(f"{namespace}\x1f{text}".encode()).digest()[:16], "big"
    )
    value, district = divmod(value, 9000)
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 31)
        chars.append(USCC_ALPHABET[digit])
    body = f"{PSEUDO_PREFIX}{district + 1000}{namespace}{''.join(chars)}"
    return body + check_character(body)
