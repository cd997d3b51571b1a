"""Record contracts: the YAML files in ``features/sources`` parsed and checked.

A contract describes one table that a department shares with the zone: its
columns, their types and allowed values, and its time semantics. The same contract
drives the simulator (what to write), the Great Expectations suite (what to
check) and the lake schema (what to store).
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_engine.exceptions import ConfigurationError

__all__ = [
    "ColumnSpec",
    "ColumnType",
    "Department",
    "Disclosure",
    "RangeRule",
    "RecordKind",
    "SourceContract",
    "load_contracts",
]

IDENTITY_COLUMNS = ("uscc", "source_record_id", "ingested_at")
EVENT_TIME = "event_ts"
VALID_FROM = "effective_from"
VALID_TO = "effective_to"


class Department(StrEnum):
    """Department that owns a table."""

    CUSTOMS = "customs"
    TAX = "tax"
    FOREX = "forex"
    MARKET = "market"


class RecordKind(StrEnum):
    """Time semantics of a table.

    ``event`` rows happened at ``event_ts``; ``state`` rows hold from
    ``effective_from`` until ``effective_to`` (open-ended when null).
    """

    EVENT = "event"
    STATE = "state"


class Disclosure(StrEnum):
    """Who may see a field (分类监管、部门共享、有序公开)."""

    PUBLIC = "public"
    SHARED = "shared"
    INTERNAL = "internal"


class ColumnType(StrEnum):
    """Logical column types and their storage types."""

    STRING = "string"
    USCC = "uscc"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    DATE = "date"
    TIMESTAMP = "timestamp"

    def arrow_type(self) -> pa.DataType:
        """Return the Parquet/Arrow storage type of this logical type."""
        return _ARROW_TYPES[self]


_ARROW_TYPES: dict[ColumnType, pa.DataType] = {
    ColumnType.STRING: pa.string(),
    ColumnType.USCC: pa.string(),
    ColumnType.INT: pa.int64(),
    ColumnType.FLOAT: pa.float64(),
    ColumnType.BOOL: pa.bool_(),
    ColumnType.DATE: pa.date32(),
    ColumnType.TIMESTAMP: pa.timestamp("us", tz="UTC"),
}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class RangeRule(BaseModel):
    """Inclusive numeric bounds, optionally restricted to rows matching ``when``.

    Parameters
    ----------
    min, max : float, optional
        Inclusive bounds; at least one is given.
    when : str, optional
        Row condition in pandas query syntax, e.g. ``status!="RED_LETTER"``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = None
    max: float | None = None
    when: str | None = None

    @model_validator(mode="after")
    def _check(self) -> RangeRule:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"got min={self.min}, max={self.max}; min must be <= max")
        return self


class ColumnSpec(BaseModel):
    """One column of a record contract.

    Parameters
    ----------
    name : str
        Column name, ``snake_case``.
    type : ColumnType
        Logical type.
    required : bool, default=False
        A null value sends the row to quarantine (``missing_required``).
    description : str
        What the column means, for people.
    values : list of str, optional
        Allowed codes (``unknown_code`` otherwise).
    min, max : float, optional
        Inclusive bounds (``below_min`` / ``above_max`` otherwise).
    when : str, optional
        Row condition (pandas query syntax) restricting where ``min``/``max``
        apply, e.g. ``status!="RED_LETTER"``.
    ranges : list of RangeRule, optional
        Further conditional bounds, for columns whose range depends on the row
        (a red-letter invoice is negative, any other is not).
    pattern : str, optional
        Regular expression the value must match (``bad_format`` otherwise).
    disclosure : Disclosure, optional
        Overrides the table's disclosure level for this field.
    required_unless : str, optional
        Row condition (pandas query syntax) under which a null is allowed in a
        ``required`` column, e.g. ``financials_published == False``: the report
        says the value was not published, so its absence is not a defect.
    extension : bool, default=False
        The column was added to the contract after its first release, for fields
        real extracts carry but the zone simulator does not produce. Extension
        columns are optional; the simulator writes none of them; and a row with
        no value in any extension column keeps the fingerprint it had before
        they existed, so records sent again are still recognised as duplicates.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: ColumnType
    required: bool = False
    description: str = ""
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    when: str | None = None
    ranges: tuple[RangeRule, ...] = ()
    pattern: str | None = None
    unit: str | None = None
    disclosure: Disclosure | None = None
    required_unless: str | None = None
    extension: bool = False

    @model_validator(mode="after")
    def _check(self) -> ColumnSpec:
        problems = []
        if self.required_unless is not None and not self.required:
            problems.append("'required_unless' only applies to a required column")
        if self.extension and self.required:
            problems.append(
                "an extension column cannot be required: records written before it "
                "existed (and the simulator's) do not have it"
            )
        if not _NAME.match(self.name):
            problems.append(f"name {self.name!r} is not snake_case")
        numeric = self.type in (ColumnType.INT, ColumnType.FLOAT)
        bounded = self.min is not None or self.max is not None or self.ranges
        if bounded and not numeric:
            problems.append(f"bounds given for non-numeric type {self.type.value!r}")
        if self.min is not None and self.max is not None and self.min > self.max:
            problems.append(f"got min={self.min}, max={self.max}; min must be <= max")
        if self.when is not None and self.min is None and self.max is None:
            problems.append("'when' only applies to min/max, but neither is given")
        if self.values is not None and self.type is not ColumnType.STRING:
            problems.append("'values' is only allowed for type 'string'")
        if self.pattern is not None:
            try:
                groups = re.compile(self.pattern).groups
            except re.error as exc:
                problems.append(f"pattern {self.pattern!r} is not a regex: {exc}")
            else:
                if groups:
                    problems.append(
                        f"pattern {self.pattern!r} has capturing groups; write them "
                        "as non-capturing groups (?:...)"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def range_rules(self) -> tuple[RangeRule, ...]:
        """All bounds of the column: the ``min``/``max`` shorthand, then ``ranges``."""
        if self.min is None and self.max is None:
            return self.ranges
        return (RangeRule(min=self.min, max=self.max, when=self.when), *self.ranges)


class SourceContract(BaseModel):
    """Contract of one department table.

    Parameters
    ----------
    name : str
        Table name; input files are matched to it by file stem.
    department : Department
        Owning department.
    kind : RecordKind
        ``event`` (needs ``event_ts``) or ``state`` (needs ``effective_from`` and
        ``effective_to``).
    title : str
        Short human title (with the Chinese term).
    description : str
        What one row is.
    key : list of str
        Columns identifying a record.
    versioned : bool, optional
        Whether a record is updated by later versions (same key, later
        ``ingested_at``): a fine re-sent when paid, a spell re-sent when it ends.
        State tables always are; event tables default to ``False``, and then a
        second row with the same key but other content is a key conflict.
    disclosure : Disclosure
        Default disclosure level of the table's fields.
    columns : list of ColumnSpec
        The columns, including the identity and time columns.
    simulated : bool, default=True
        Whether the zone simulator produces the table. Sources a zone may or may
        not have (court judgments, trademarks and patents, public-opinion news)
        are ``false``: the simulator writes no file for them.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    department: Department
    kind: RecordKind
    title: str
    description: str
    key: tuple[str, ...] = ("uscc", "source_record_id")
    versioned: bool | None = None
    disclosure: Disclosure = Disclosure.SHARED
    columns: tuple[ColumnSpec, ...]
    simulated: bool = True
    path: Annotated[Path | None, Field(exclude=True)] = None

    @model_validator(mode="after")
    def _check(self) -> SourceContract:
        names = [c.name for c in self.columns]
        problems = []
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            problems.append(f"duplicate columns {dupes}")
        required = list(IDENTITY_COLUMNS)
        required += (
            [EVENT_TIME]
            if self.kind is RecordKind.EVENT
            else [
                VALID_FROM,
                VALID_TO,
            ]
        )
        missing = [n for n in required if n not in names]
        if missing:
            problems.append(
                f"a {self.kind.value} table must declare {required}; missing {missing}"
            )
        wrong_kind_col = VALID_FROM if self.kind is RecordKind.EVENT else EVENT_TIME
        if wrong_kind_col in names:
            problems.append(
                f"column {wrong_kind_col!r} does not belong in a "
                f"{self.kind.value} table"
            )
        types = {c.name: c.type for c in self.columns}
        expected_types = {
            "uscc": ColumnType.USCC,
            "source_record_id": ColumnType.STRING,
            "ingested_at": ColumnType.TIMESTAMP,
            EVENT_TIME: ColumnType.TIMESTAMP,
            VALID_FROM: ColumnType.TIMESTAMP,
            VALID_TO: ColumnType.TIMESTAMP,
        }
        for col, typ in expected_types.items():
            if col in types and types[col] is not typ:
                problems.append(
                    f"column {col!r} must have type {typ.value!r}, "
                    f"got {types[col].value!r}"
                )
        if self.kind is RecordKind.STATE and self.versioned is False:
            problems.append(
                "a state table is always versioned: its spells are re-sent when they "
                "end; remove 'versioned: false'"
            )
        key = set(self.key)
        unknown_key = [k for k in self.key if k not in names]
        if unknown_key:
            problems.append(f"key columns {unknown_key} are not declared columns")
        extension_key = [c.name for c in self.columns if c.extension and c.name in key]
        if extension_key:
            problems.append(f"key columns {extension_key} cannot be extension columns")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def is_versioned(self) -> bool:
        """Whether records get later versions (always for state tables)."""
        return self.kind is RecordKind.STATE or bool(self.versioned)

    @property
    def version_key(self) -> tuple[str, ...]:
        """Columns that identify one version of a record.

        The key plus ``ingested_at`` for versioned tables, the key alone otherwise.
        """
        return (*self.key, "ingested_at") if self.is_versioned else self.key

    @property
    def column_names(self) -> list[str]:
        """Names of all columns, in contract order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """Names of the columns that must be present and non-null."""
        return [c.name for c in self.columns if c.required]

    @property
    def extension_columns(self) -> list[str]:
        """Names of the extension columns (added after the first release)."""
        return [c.name for c in self.columns if c.extension]

    def simulated_view(self) -> SourceContract:
        """Return the contract as the zone simulator writes it: no extension columns.

        Examples
        --------
        >>> from credit_engine.config import Settings
        >>> full = load_contracts(Settings().sources_dir)["annual_report"]
        >>> len(full.simulated_view().columns) < len(full.columns)
        True
        """
        if not self.extension_columns:
            return self
        kept = tuple(c for c in self.columns if not c.extension)
        return self.model_copy(update={"columns": kept})

    @property
    def time_column(self) -> str:
        """The valid-time column: ``event_ts`` or ``effective_from``."""
        return EVENT_TIME if self.kind is RecordKind.EVENT else VALID_FROM

    def column(self, name: str) -> ColumnSpec:
        """Return the spec of column ``name``.

        Raises
        ------
        KeyError
            If the contract has no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    def arrow_schema(self) -> pa.Schema:
        """Arrow schema of the table as stored in extracts and the lake.

        Every field is nullable: ``required`` is enforced by validation (a null
        sends the row to quarantine), not by the storage type.
        """
        return pa.schema([pa.field(c.name, c.type.arrow_type()) for c in self.columns])

    def disclosure_of(self, name: str) -> Disclosure:
        """Disclosure level of column ``name`` (column override or table default)."""
        return self.column(name).disclosure or self.disclosure

    def fingerprint(self) -> str:
        """SHA-256 of the contract content, for lineage."""
        payload = self.model_dump_json(exclude={"path"})
        return hashlib.sha256(payload.encode()).hexdigest()


def _format_validation_error(path: Path, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        lines.append(f"  - {where}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        lines.append(f"  ... and {more} more")
    return f"Invalid record contract {path}:\n" + "\n".join(lines)


def _load_one(path: Path) -> SourceContract:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read record contract {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(
            f"Record contract {path} must be a YAML mapping, got {type(raw).__name__}."
        )
    try:
        contract = SourceContract.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise ConfigurationError(_format_validation_error(path, exc)) from exc
    if contract.name != path.stem:
        raise ConfigurationError(
            f"Record contract {path} declares name {contract.name!r}; the file must "
            f"be named {contract.name}.yaml so input files can be matched to it."
        )
    return contract


def load_contracts(sources_dir: Path) -> dict[str, SourceContract]:
    """Load and check every record contract in ``sources_dir``.

    Parameters
    ----------
    sources_dir : pathlib.Path
        Folder of ``*.yaml`` contracts (usually ``features/sources``).

    Returns
    -------
    dict of str to SourceContract
        Contracts by table name, sorted by name.

    Raises
    ------
    ConfigurationError
        If the folder holds no contract or a contract is malformed; the message
        names the file and the offending fields.
    """
    paths = sorted(Path(sources_dir).glob("*.yaml"))
    if not paths:
        raise ConfigurationError(
            f"No record contracts (*.yaml) found in {sources_dir}; set "
            "CREDIT_ENGINE_DEFINITIONS_DIR to the folder holding features/sources."
        )
    contracts = [_load_one(p) for p in paths]
    return {c.name: c for c in contracts}
