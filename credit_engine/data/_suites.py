"""Great Expectations suites generated from the record contracts.

:func:`plan_checks` turns a contract into a list of :class:`Check` (no GX
involved, cheap to test); :func:`build_suite` turns those into a GX
``ExpectationSuite`` named ``raw.<table>``. Every expectation carries its reason
code and column in ``meta`` so failures map back to rows.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from credit_engine.data._contracts import (
    EVENT_TIME,
    VALID_FROM,
    VALID_TO,
    ColumnType,
    RecordKind,
    SourceContract,
)
from credit_engine.data._reasons import QuarantineReason

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.expectations.expectation import Expectation

__all__ = [
    "Check",
    "CheckKind",
    "build_suite",
    "plan_checks",
    "string_row_conditions",
    "suite_name",
]

KNOWLEDGE_TIME = "ingested_at"


class CheckKind(StrEnum):
    """Kind of row-level check, one GX expectation type each."""

    NOT_NULL = "not_null"
    USCC = "uscc"
    IN_SET = "in_set"
    MIN = "min"
    MAX = "max"
    REGEX = "regex"
    PAIR_GE = "pair_ge"


@dataclass(frozen=True)
class Check:
    """One expectation of a suite, before it is turned into a GX object.

    Parameters
    ----------
    kind : CheckKind
        What is checked.
    column : str
        Checked column (``column_A`` for pair checks).
    code : QuarantineReason
        Reason recorded on failing rows.
    value_set : tuple of str, optional
        Allowed codes (``IN_SET``).
    bound : float, optional
        Inclusive bound (``MIN`` / ``MAX``).
    when : str, optional
        Pandas row condition restricting a bound (or, for ``NOT_NULL``, the rows
        where a value is required: not those of the column's ``required_unless``).
    regex : str, optional
        Pattern (``REGEX``).
    other : str, optional
        ``column_B`` of a pair check; ``column >= other`` is expected.
    """

    kind: CheckKind
    column: str
    code: QuarantineReason
    value_set: tuple[str, ...] | None = None
    bound: float | None = None
    when: str | None = None
    regex: str | None = None
    other: str | None = None

    @property
    def label(self) -> str:
        """Reason label ``"<code>:<column>"`` of rows failing this check."""
        return f"{self.code.value}:{self.column}"


@contextlib.contextmanager
def string_row_conditions() -> Iterator[None]:
    """Silence GX's deprecation of string row conditions while building/running.

    Contract conditions are pandas query strings (``condition_parser="pandas"``);
    GX 1.9+ deprecates them in favour of Condition objects and warns every time
    an expectation is re-validated. Remove when contracts move to GX conditions
    (before GX 2.0).
    """
    with warnings.catch_warnings():
        for message in ("The condition_parser parameter", "Passing a string to the"):
            warnings.filterwarnings(
                "ignore", message=message, category=DeprecationWarning
            )
        yield


def suite_name(table: str) -> str:
    """Return the GX suite name of a table, ``raw.<table>``."""
    return f"raw.{table}"


def plan_checks(contract: SourceContract) -> list[Check]:
    """List the row-level checks of a contract, in a stable order.

    Parameters
    ----------
    contract : SourceContract
        Record contract of the table.

    Returns
    -------
    list of Check
        Not-null, USCC, allowed codes, bounds and pattern per column, then the
        time-order check of the table kind.
    """
    checks: list[Check] = []
    for col in contract.columns:
        name = col.name
        if col.required:
            unless = col.required_unless
            checks.append(
                Check(
                    CheckKind.NOT_NULL,
                    name,
                    QuarantineReason.MISSING_REQUIRED,
                    when=None if unless is None else f"~({unless})",
                )
            )
        if col.type is ColumnType.USCC:
            checks.append(Check(CheckKind.USCC, name, QuarantineReason.INVALID_USCC))
        if col.values is not None:
            checks.append(
                Check(
                    CheckKind.IN_SET,
                    name,
                    QuarantineReason.UNKNOWN_CODE,
                    value_set=col.values,
                )
            )
        for rule in col.range_rules:
            if rule.min is not None:
                checks.append(
                    Check(
                        CheckKind.MIN,
                        name,
                        QuarantineReason.BELOW_MIN,
                        bound=rule.min,
                        when=rule.when,
                    )
                )
            if rule.max is not None:
                checks.append(
                    Check(
                        CheckKind.MAX,
                        name,
                        QuarantineReason.ABOVE_MAX,
                        bound=rule.max,
                        when=rule.when,
                    )
                )
        if col.pattern is not None:
            checks.append(
                Check(
                    CheckKind.REGEX,
                    name,
                    QuarantineReason.BAD_FORMAT,
                    regex=col.pattern,
                )
            )
    if contract.kind is RecordKind.EVENT:
        checks.append(
            Check(
                CheckKind.PAIR_GE,
                KNOWLEDGE_TIME,
                QuarantineReason.KNOWN_BEFORE_EVENT,
                other=EVENT_TIME,
            )
        )
    else:
        checks.append(
            Check(
                CheckKind.PAIR_GE,
                VALID_TO,
                QuarantineReason.INVALID_INTERVAL,
                other=VALID_FROM,
            )
        )
    return checks


def _expectation(check: Check) -> Expectation:
    # GX's own modules (the package namespaces re-export without __all__).
    from great_expectations.expectations.core.expect_column_pair_values_a_to_be_greater_than_b import (  # noqa: E501
        ExpectColumnPairValuesAToBeGreaterThanB,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_between import (  # noqa: E501
        ExpectColumnValuesToBeBetween,
    )
    from great_expectations.expectations.core.expect_column_values_to_be_in_set import (  # noqa: E501
        ExpectColumnValuesToBeInSet,
    )
    from great_expectations.expectations.core.expect_column_values_to_match_regex import (  # noqa: E501
        ExpectColumnValuesToMatchRegex,
    )
    from great_expectations.expectations.core.expect_column_values_to_not_be_null import (  # noqa: E501
        ExpectColumnValuesToNotBeNull,
    )

    from credit_engine.data._expectations import ExpectColumnValuesToBeValidUscc

    classes: dict[CheckKind, type[Expectation]] = {
        CheckKind.NOT_NULL: ExpectColumnValuesToNotBeNull,
        CheckKind.USCC: ExpectColumnValuesToBeValidUscc,
        CheckKind.IN_SET: ExpectColumnValuesToBeInSet,
        CheckKind.MIN: ExpectColumnValuesToBeBetween,
        CheckKind.MAX: ExpectColumnValuesToBeBetween,
        CheckKind.REGEX: ExpectColumnValuesToMatchRegex,
        CheckKind.PAIR_GE: ExpectColumnPairValuesAToBeGreaterThanB,
    }
    args: dict[str, Any] = {
        "meta": {"reason": check.code.value, "column": check.column}
    }
    if check.kind is CheckKind.PAIR_GE:
        args.update(
            column_A=check.column,
            column_B=check.other,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        )
    else:
        args["column"] = check.column
    if check.kind is CheckKind.IN_SET:
        args["value_set"] = list(check.value_set or ())
    elif check.kind is CheckKind.MIN:
        args["min_value"] = check.bound
    elif check.kind is CheckKind.MAX:
        args["max_value"] = check.bound
    elif check.kind is CheckKind.REGEX:
        args["regex"] = check.regex
    if check.when is not None:
        args.update(row_condition=check.when, condition_parser="pandas")
    return classes[check.kind](**args)


def build_suite(contract: SourceContract) -> gx.ExpectationSuite:
    """Build the GX suite ``raw.<table>`` of a contract.

    Parameters
    ----------
    contract : SourceContract
        Record contract of the table.

    Returns
    -------
    great_expectations.ExpectationSuite
        One expectation per :class:`Check`, with ``meta={"reason": ..., "column":
        ...}``. Not yet added to a data context.
    """
    import great_expectations as gx

    with string_row_conditions():
        expectations = [_expectation(check) for check in plan_checks(contract)]
    # Passed to the constructor: add_expectation() would need an active context.
    return gx.ExpectationSuite(
        name=suite_name(contract.name),
        expectations=expectations,
        meta={"contract_sha256": contract.fingerprint()},
    )
