"""Quarantine reasons: why a row was sent to quarantine.

A quarantined row carries one label ``"<code>:<column>"`` per problem found, e.g.
``"unknown_code:trade_mode"``; reports count rows per code. The last four codes
come from source mappings (``credit-engine ingest DIR --mapping FILE``): rows the
mapping could not place, labelled with the contract column they were meant for.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["QuarantineReason", "reason_label"]


class QuarantineReason(StrEnum):
    """Why a row was quarantined.

    Examples
    --------
    >>> QuarantineReason.UNKNOWN_CODE.describe()
    'A code column holds a value outside the allowed list.'
    >>> reason_label(QuarantineReason.BELOW_MIN, "amount_cny")
    'below_min:amount_cny'
    """

    MISSING_REQUIRED = "missing_required"
    INVALID_TYPE = "invalid_type"
    INVALID_USCC = "invalid_uscc"
    UNKNOWN_CODE = "unknown_code"
    BELOW_MIN = "below_min"
    ABOVE_MAX = "above_max"
    BAD_FORMAT = "bad_format"
    KNOWN_BEFORE_EVENT = "known_before_event"
    INVALID_INTERVAL = "invalid_interval"
    KEY_CONFLICT = "key_conflict"
    UNMAPPED_VALUE = "unmapped_value"
    UNPARSEABLE_DATE = "unparseable_date"
    UNKNOWN_IDENTIFIER = "unknown_identifier"
    NOT_A_NUMBER = "not_a_number"

    def describe(self) -> str:
        """Return a one-line description of the reason, for reports."""
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[QuarantineReason, str] = {
    QuarantineReason.MISSING_REQUIRED: "A required column is empty.",
    QuarantineReason.INVALID_TYPE: (
        "A value cannot be converted to the column type (e.g. text in a number "
        "column, an impossible date); the original is kept in _raw_values."
    ),
    QuarantineReason.INVALID_USCC: (
        "A Unified Social Credit Code fails the GB 32100-2015 length, character "
        "set or check-character test."
    ),
    QuarantineReason.UNKNOWN_CODE: (
        "A code column holds a value outside the allowed list."
    ),
    QuarantineReason.BELOW_MIN: "A number is below the minimum the contract allows.",
    QuarantineReason.ABOVE_MAX: "A number is above the maximum the contract allows.",
    QuarantineReason.BAD_FORMAT: "A value does not match the pattern of its column.",
    QuarantineReason.KNOWN_BEFORE_EVENT: (
        "ingested_at is earlier than event_ts: the zone cannot have known the "
        "record before it happened."
    ),
    QuarantineReason.INVALID_INTERVAL: "effective_to is earlier than effective_from.",
    QuarantineReason.KEY_CONFLICT: (
        "Another row with the same key (and the same ingested_at, in a versioned "
        "table) but different content was loaded first, in this batch or earlier."
    ),
    QuarantineReason.UNMAPPED_VALUE: (
        "A source value is not in the value map of the source mapping (a label the "
        "mapping does not translate to a contract code)."
    ),
    QuarantineReason.UNPARSEABLE_DATE: (
        "A source date or time matches none of the formats the source mapping declares."
    ),
    QuarantineReason.UNKNOWN_IDENTIFIER: (
        "A source identifier is not in the mapping's crosswalk (no USCC for it), or "
        "does not have the form its pseudo-USCC rule expects."
    ),
    QuarantineReason.NOT_A_NUMBER: (
        "A source value the mapping scales or converts to a number is not a number."
    ),
}


def reason_label(code: QuarantineReason, column: str) -> str:
    """Return the per-row label ``"<code>:<column>"`` stored in ``_reasons``."""
    return f"{code.value}:{column}"
