"""Spark SQL text shared by the ingestion checks and the USCC expectation.

A leaf module (no other ``credit_engine.data`` import), so that the Great
Expectations metric and the Spark checks can both use it without a cycle.
"""

from __future__ import annotations

from credit_engine.uscc import USCC_ALPHABET, USCC_LENGTH, USCC_WEIGHTS

__all__ = ["sql_string", "uscc_valid_sql"]


def sql_string(value: str) -> str:
    r"""Return a Spark SQL string literal.

    Examples
    --------
    >>> sql_string("it's")
    "'it\\'s'"
    """
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def uscc_valid_sql(column: str) -> str:
    """Return a Spark SQL test that ``column`` is a valid USCC (GB 32100-2015).

    The same test as :func:`credit_engine.uscc.valid_uscc_mask`: 18 characters
    of the code alphabet and the right check character. Null on a null value.
    """
    col = f"`{column}`"
    alphabet = sql_string(USCC_ALPHABET)
    chars = "".join(USCC_ALPHABET)
    total = " + ".join(
        f"(instr({alphabet}, substr({col}, {i + 1}, 1)) - 1) * {w}"
        for i, w in enumerate(USCC_WEIGHTS)
    )
    check = f"substr({alphabet}, ((31 - ({total}) % 31) % 31) + 1, 1)"
    return (
        f"(char_length({col}) = {USCC_LENGTH} "
        f"AND {col} rlike {sql_string('^[' + chars + ']+$')} "
        f"AND substr({col}, {USCC_LENGTH}, 1) = {check})"
    )
