"""Source mappings as data: the YAML that maps a foreign layout onto the contracts.

A mapping file says, for each *source* (a set of files in one layout), which
contract tables it feeds and how each contract column is made from the source's
columns: renames, value maps (Chinese labels to codes), date formats and time
zone, unit scaling, constants, templates, identifier crosswalks and the rule that
says when the zone knew a record. The models here are strict (unknown keys are
errors); :func:`load_mapping` also checks the mapping against the contracts and
names the file, the source, the table and the column of every problem. What needs
the data (file names, column headers) is checked when a batch is read
(:mod:`credit_engine.data._mapping_read`); :mod:`credit_engine.data._mapping_load`
reads a file. See ``docs/bring-your-own-records.md``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

__all__ = [
    "ColumnMapping",
    "Crosswalk",
    "KnownAt",
    "SourceMapping",
    "SourceSpec",
    "TargetMapping",
    "Unpivot",
    "close_names",
]

Scalar = str | int | float | bool
_NAMESPACE = re.compile(r"^[0-9ABCDEFGHJKLMNPQRTUWXY]{1,4}$")
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")
_MAX_LISTED = 8


def close_names(name: str, candidates: list[str]) -> str:
    """Return a hint naming the candidates closest to ``name`` (or listing them).

    Examples
    --------
    >>> close_names("从业人员", ["从业人数", "资产总额"])
    " Did you mean '从业人数'?"
    """
    close = difflib.get_close_matches(name, candidates, n=2, cutoff=0.5)
    if close:
        return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
    shown = ", ".join(repr(c) for c in candidates[:_MAX_LISTED])
    more = f", ... ({len(candidates)} in all)" if len(candidates) > _MAX_LISTED else ""
    return f" Known: {shown}{more}." if candidates else ""


def _column_shorthand(value: Any) -> Any:
    # `employees: 从业人数` is `employees: {column: 从业人数}`; a list of names
    # is `{column: [a, b]}` (the first non-empty).
    if isinstance(value, (str, list)):
        return {"column": value}
    return value


class Case(BaseModel):
    """A conditional value: ``value`` where the SQL condition ``when`` holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str
    value: Scalar


class Repeats(BaseModel):
    """Number repeated identifiers: the k-th repeat of a value gets ``-<k>``.

    ``within`` lists the contract columns inside which repeats are counted
    (e.g. ``[uscc, direction]``); rows are taken in file order.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    within: tuple[str, ...] = ()


class VocabularyRef(BaseModel):
    """A value map taken from ``features/vocabularies/<name>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabulary: str


class KnownAt(BaseModel):
    """A rule deriving an instant (the knowledge time, or any timestamp).

    Rules
    -----
    ``end_of_period_plus``
        The end (23:59:59 in the mapping's time zone) of the last day of the
        period in contract column ``period_end`` (a year: 31 December; a
        ``YYYYMM`` period: its last day; a date or timestamp: that day), plus
        ``months`` (a month end stays a month end: 31 December + 6 months is
        30 June) and ``days``. "An annual report is known on 30 June of the
        following year" is ``{rule: end_of_period_plus, period_end: report_year,
        months: 6}``.
    ``event_ts_plus_days``
        The record's time column (``event_ts`` or ``effective_from``, or
        ``column``) plus ``days``.
    ``file_date``
        The end of the day given by the file name: ``pattern`` is a regular
        expression whose first group is parsed with ``format``.
    ``constant``
        The instant ``at`` (ISO 8601; without an offset, in the time zone).

    ``not_before`` names a contract column the result is never earlier than.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal["end_of_period_plus", "event_ts_plus_days", "file_date", "constant"]
    period_end: str | None = None
    months: int = 0
    days: int = 0
    column: str | None = None
    pattern: str | None = None
    format: str | None = None
    at: str | None = None
    timezone: str | None = None
    not_before: str | None = None

    @model_validator(mode="after")
    def _check(self) -> KnownAt:
        needs = {
            "end_of_period_plus": ["period_end"],
            "event_ts_plus_days": [],
            "file_date": ["pattern", "format"],
            "constant": ["at"],
        }[self.rule]
        missing = [k for k in needs if getattr(self, k) is None]
        if missing:
            raise ValueError(f"rule {self.rule!r} needs {missing}")
        if self.pattern is not None:
            _check_regex(self.pattern, "pattern")
        if self.at is not None:
            try:
                dt.datetime.fromisoformat(self.at)
            except ValueError as exc:
                raise ValueError(f"at {self.at!r} is not an ISO 8601 time") from exc
        if self.timezone is not None:
            _check_zone(self.timezone)
        return self

    def referenced(self, time_column: str) -> list[str]:
        """Contract columns the rule reads."""
        if self.rule == "end_of_period_plus":
            return [str(self.period_end)]
        if self.rule == "event_ts_plus_days":
            return [self.column or time_column]
        return []


def _check_regex(pattern: str, what: str) -> None:
    try:
        groups = re.compile(pattern).groups
    except re.error as exc:
        raise ValueError(
            f"{what} {pattern!r} is not a regular expression: {exc}"
        ) from exc
    if groups < 1:
        raise ValueError(f"{what} {pattern!r} needs a group (...) around the value")


def _check_zone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"time zone {name!r} is unknown; use an IANA name such as Asia/Shanghai"
        ) from exc


class ColumnMapping(BaseModel):
    """How one contract column is made from a source row.

    Exactly one origin: ``column`` (a source column, or a list of them: the
    first non-empty), ``constant``, ``template`` (``"{col}-{col2}"``, ``{_group}``
    for the unpivot group), ``hash_of`` (a stable id from source columns),
    ``file_name`` (a regular expression on the file name), ``expr`` (a DuckDB SQL
    expression over source columns) or ``derive`` (a :class:`KnownAt` rule). The
    unpivot key and group columns take their origin from ``unpivot`` and give
    only the steps below. Steps, in this order: ``cases`` (a value where an SQL
    condition holds), ``crosswalk`` (identifier to USCC), ``values`` (a value
    map, or ``{vocabulary: name}``; ``unmapped``: what to do with other values),
    parsing for the contract type (``date`` formats with ``timezone`` and
    ``end_of_day``; ``format`` to write a parsed date as text; ``scale``,
    ``percent`` and ``thousands`` for numbers), ``default`` when the source is
    empty, ``repeats`` (number repeated ids) and ``not_before`` (a time never
    earlier than another contract column's: a tax line filed before its due
    date, the record's time, is known from the due date on).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | tuple[str, ...] | None = None
    constant: Scalar | None = None
    template: str | None = None
    hash_of: tuple[str, ...] | None = None
    file_name: str | None = None
    expr: str | None = None
    derive: KnownAt | None = None
    cases: tuple[Case, ...] = ()
    crosswalk: str | None = None
    values: Annotated[
        VocabularyRef | dict[str, Scalar] | None, Field(union_mode="left_to_right")
    ] = None
    unmapped: Literal["quarantine", "keep", "null"] = "quarantine"
    date: tuple[str, ...] | None = None
    timezone: str | None = None
    end_of_day: bool = False
    format: str | None = None
    scale: float | None = None
    percent: bool = False
    thousands: str | None = None
    default: Scalar | None = None
    repeats: Repeats | None = None
    not_before: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _one_format(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        problems = []
        if len(self.origins) > 1:
            problems.append(f"give one of {self.origins}, not several")
        if self.file_name is not None:
            try:
                _check_regex(self.file_name, "file_name")
            except ValueError as exc:
                problems.append(str(exc))
        if self.timezone is not None:
            try:
                _check_zone(self.timezone)
            except ValueError as exc:
                problems.append(str(exc))
        if self.scale is not None and self.scale == 0:
            problems.append("scale must not be 0")
        if self.template is not None and not _TEMPLATE_FIELD.search(self.template):
            problems.append(
                f"template {self.template!r} names no column; write columns as {{name}}"
            )
        if (self.end_of_day or self.timezone) and not self.date:
            problems.append("'end_of_day' and 'timezone' need 'date' formats")
        if self.derive is not None and (self.date or self.values or self.cases):
            problems.append("a derived column takes no date, values or cases")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def origins(self) -> list[str]:
        """The origin keys given (one at most is valid)."""
        keys = ("column", "constant", "template", "hash_of", "file_name", "expr")
        given = [k for k in keys if getattr(self, k) is not None]
        return given + (["derive"] if self.derive is not None else [])

    @property
    def number_parsing(self) -> bool:
        """Whether the value is parsed as a number by the mapping."""
        return self.scale is not None or self.percent or self.thousands is not None

    def source_columns(self) -> list[str]:
        """Source columns named by the origin (SQL expressions aside)."""
        if isinstance(self.column, str):
            return [self.column]
        if self.column is not None:
            return list(self.column)
        if self.template is not None:
            return [f for f in _TEMPLATE_FIELD.findall(self.template) if f != "_group"]
        return list(self.hash_of or ())


ColumnEntry = Annotated[ColumnMapping, BeforeValidator(_column_shorthand)]


class Unpivot(BaseModel):
    """Wide to long: one output row per group of source columns.

    ``key`` is the contract column that receives the group's label (mapped by
    that column's entry in ``columns``, e.g. through a value map); ``groups``
    maps each label to ``{contract column: source column}``. A group whose
    source columns are all empty gives no row (``skip_empty``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    groups: dict[str, dict[str, str]]
    skip_empty: bool = True

    @model_validator(mode="after")
    def _check(self) -> Unpivot:
        if not self.groups:
            raise ValueError("unpivot needs at least one group")
        shapes = {tuple(sorted(g)) for g in self.groups.values()}
        if len(shapes) > 1:
            raise ValueError(
                "every unpivot group must fill the same contract columns; got "
                f"{sorted(shapes)}"
            )
        return self

    @property
    def value_columns(self) -> list[str]:
        """Contract columns the groups fill."""
        return sorted(next(iter(self.groups.values())))


class TargetMapping(BaseModel):
    """How one source feeds one contract table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str
    where: str | None = None
    unpivot: Unpivot | None = None
    known_at: KnownAt | None = None
    columns: dict[str, ColumnEntry] = Field(default_factory=dict)


class SourceSpec(BaseModel):
    """One source: files of one layout, read alike, feeding one or more tables.

    ``files`` are glob patterns relative to the batch folder (files matched by
    several patterns are read once, in pattern order then name order). CSV
    (optionally gzip-compressed, ``.csv.gz``) is read as text in ``encoding``
    (``utf-8``, ``gbk``, ``gb18030``, ``utf-16`` ...) with ``delimiter``, after
    ``skip_rows`` lines; an Excel workbook (``.xlsx``) is read from its sheet
    ``sheet`` (a name, or a 0-based position; the first by default) after
    ``skip_rows`` rows, every cell as text; Parquet keeps its types. Values listed in
    ``null_values`` (after trimming spaces) are empty.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    files: tuple[str, ...]
    format: Literal["csv", "parquet", "xlsx"] | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    skip_rows: int = Field(default=0, ge=0)
    sheet: str | int | None = None
    null_values: tuple[str, ...] = ("",)
    targets: tuple[TargetMapping, ...]

    @field_validator("files", mode="before")
    @classmethod
    def _one_pattern(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> SourceSpec:
        if not self.files:
            raise ValueError("give at least one file pattern")
        if not self.targets:
            raise ValueError("give at least one target table")
        if len(self.delimiter) != 1:
            raise ValueError(f"delimiter {self.delimiter!r} must be one character")
        try:
            "".encode(self.encoding)
        except LookupError as exc:
            raise ValueError(f"encoding {self.encoding!r} is unknown") from exc
        return self


class PseudoIds(BaseModel):
    """Pseudo-USCCs for anonymised ids (:func:`credit_engine.uscc.pseudo_uscc`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    namespace: str
    number: str | None = None

    @model_validator(mode="after")
    def _check(self) -> PseudoIds:
        if not _NAMESPACE.match(self.namespace):
            raise ValueError(
                f"namespace {self.namespace!r} must be 1 to 4 characters of the USCC "
                "alphabet (digits and A-Y without I, O, S, V, Z), e.g. 'XM'"
            )
        if self.number is not None:
            _check_regex(self.number, "number")
        return self


class Crosswalk(BaseModel):
    """Source identifier to USCC: a CSV file, or pseudo-USCCs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = None
    id: str = "id"
    uscc: str = "uscc"
    encoding: str = "utf-8"
    delimiter: str = ","
    pseudo: PseudoIds | None = None

    @model_validator(mode="after")
    def _check(self) -> Crosswalk:
        if (self.file is None) == (self.pseudo is None):
            raise ValueError("give either 'file' (a CSV crosswalk) or 'pseudo'")
        return self


class SourceMapping(BaseModel):
    """A mapping file: sources, crosswalks, time zone.

    Attributes
    ----------
    path : pathlib.Path or None
        The file it was read from (crosswalk files are relative to its folder).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    name: str | None = None
    description: str | None = None
    timezone: str = "Asia/Shanghai"
    crosswalks: dict[str, Crosswalk] = Field(default_factory=dict)
    sources: tuple[SourceSpec, ...]
    path: Annotated[Path | None, Field(exclude=True)] = None
    text: Annotated[str, Field(exclude=True)] = ""
    vocabularies: Annotated[dict[str, dict[str, str]], Field(exclude=True)] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _check(self) -> SourceMapping:
        _check_zone(self.timezone)
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names {dupes} appear more than once")
        if not self.sources:
            raise ValueError("give at least one source")
        return self

    def crosswalk_path(self, name: str) -> Path:
        """Absolute path of a file crosswalk (relative to the mapping's folder)."""
        file = Path(str(self.crosswalks[name].file))
        base = self.path.parent if self.path is not None else Path.cwd()
        return file if file.is_absolute() else base / file
