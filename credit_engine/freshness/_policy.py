"""The freshness policy as data: ``features/freshness.yaml`` parsed and checked.

For every contract table the policy says how often its department delivers it
(the *cadence*) and how many days after its latest delivery it may still be
used without being marked stale (the *allowed lag*). Defaults are given per
department; every table is listed, with the reason for its numbers, and the
numbers that are conventions rather than law are marked so.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credit_engine.data import Department as ContractDepartment
from credit_engine.data import SourceContract
from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Department

__all__ = [
    "POLICY_FILE",
    "Cadence",
    "FreshnessPolicy",
    "SourcePolicy",
    "department_of",
    "load_freshness_policy",
]

POLICY_FILE = Path("features") / "freshness.yaml"
"""Where the policy lives, relative to the definitions folder."""

_DEPARTMENTS: Mapping[ContractDepartment, Department] = {
    ContractDepartment.CUSTOMS: Department.CUSTOMS,
    ContractDepartment.TAX: Department.TAX,
    ContractDepartment.FOREX: Department.SAFE,
    ContractDepartment.MARKET: Department.SAMR,
}


def department_of(contract: SourceContract) -> Department:
    """Return the department (CUSTOMS, TAX, SAFE, SAMR) a contract declares.

    Examples
    --------
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> department_of(load_contracts(Settings().sources_dir)["fx_transaction"])
    <Department.SAFE: 'SAFE'>
    """
    return _DEPARTMENTS[contract.department]


def _add_months(day: dt.date, months: int) -> dt.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class Cadence(StrEnum):
    """How often a department delivers a table to the zone."""

    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"

    @property
    def max_gap_days(self) -> int:
        """Longest gap in days between two on-time deliveries (31 for monthly)."""
        return {"daily": 1, "weekly": 7, "monthly": 31, "quarterly": 92}.get(
            self.value, 366
        )

    def next_after(self, day: dt.date) -> dt.date:
        """Return the day the delivery after one on ``day`` is expected.

        Examples
        --------
        >>> Cadence.MONTHLY.next_after(dt.date(2026, 1, 31))
        datetime.date(2026, 2, 28)
        >>> Cadence.WEEKLY.next_after(dt.date(2026, 9, 30))
        datetime.date(2026, 10, 7)
        """
        if self is Cadence.DAILY:
            return day + dt.timedelta(days=1)
        if self is Cadence.WEEKLY:
            return day + dt.timedelta(days=7)
        months = {"monthly": 1, "quarterly": 3}.get(self.value, 12)
        return _add_months(day, months)


_Days = Annotated[int, Field(ge=0, le=3660, strict=True)]
_Note = Annotated[str, Field(min_length=1, strict=True)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _DepartmentDefault(_Entry):
    cadence: Cadence
    allowed_lag_days: _Days
    convention: Annotated[bool, Field(strict=True)]
    note: _Note


class _TableEntry(_Entry):
    cadence: Cadence | None = None
    allowed_lag_days: _Days | None = None
    convention: Annotated[bool | None, Field(strict=True)] = None
    required: Annotated[bool, Field(strict=True)] = True
    delivered_with: Annotated[str | None, Field(min_length=1, strict=True)] = None
    note: _Note


class _PolicyFile(_Entry):
    version: Annotated[int, Field(ge=1, strict=True)]
    departments: dict[Department, _DepartmentDefault]
    tables: dict[str, _TableEntry]


@dataclass(frozen=True)
class SourcePolicy:
    """The freshness policy of one table, department defaults applied.

    Attributes
    ----------
    table : str
        Contract table.
    department : Department
        Department that delivers it (from its contract).
    cadence : Cadence
        How often it is delivered.
    allowed_lag_days : int
        Days after the latest delivery during which the table is still usable;
        later it is stale.
    convention : bool
        The numbers are a convention of the zone (not set by law or contract).
    required : bool
        Rating needs the table: when it is stale, decisions are marked and it
        bounds the freshness date. ``False`` only reports it.
    note : str
        Why these numbers.
    delivered_with : str or None
        A quiet table that comes in the same delivery as this (dense) table of
        its department: a day without a new record of it is not a day without
        a delivery, so its last delivery is the later of its own latest
        record and this table's. ``None``: judged by its own records.
    """

    table: str
    department: Department
    cadence: Cadence
    allowed_lag_days: int
    convention: bool
    required: bool
    note: str
    delivered_with: str | None = None


@dataclass(frozen=True)
class FreshnessPolicy:
    """Cadence and allowed lag of every contract table (``features/freshness.yaml``).

    Build it with :func:`load_freshness_policy` (or :meth:`from_mapping`).

    Attributes
    ----------
    version : int
        Version of the policy file.
    sources : mapping of str to SourcePolicy
        Per table, sorted by name.
    path : pathlib.Path or None
        File it was read from.
    """

    version: int
    sources: Mapping[str, SourcePolicy]
    path: Path | None = None

    def __getitem__(self, table: str) -> SourcePolicy:
        try:
            return self.sources[table]
        except KeyError:
            raise ConfigurationError(
                f"The freshness policy {self.path or '(in memory)'} has no table "
                f"{table!r}; it covers {sorted(self.sources)}."
            ) from None

    @classmethod
    def from_mapping(
        cls,
        raw: Any,
        contracts: Mapping[str, SourceContract],
        *,
        path: Path | None = None,
    ) -> FreshnessPolicy:
        """Check a parsed policy file against the contracts and resolve defaults.

        Parameters
        ----------
        raw : mapping
            The parsed YAML.
        contracts : mapping of str to SourceContract
            Every contract table must be covered; no other table is accepted.
        path : pathlib.Path, optional
            The file (for messages).

        Raises
        ------
        ConfigurationError
            Naming the file and every offending table or field: a malformed
            entry, a table without an entry, an entry for an unknown table, a
            lag shorter than the cadence's longest gap between deliveries.
        """
        where = str(path) if path is not None else "(in memory)"
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                f"Freshness policy {where} must be a YAML mapping with version, "
                f"departments and tables; got {type(raw).__name__}."
            )
        try:
            parsed = _PolicyFile.model_validate(raw)
        except ValidationError as exc:
            lines = [
                f"  - {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
                for e in exc.errors()[:8]
            ]
            more = exc.error_count() - len(lines)
            if more > 0:
                lines.append(f"  ... and {more} more")
            raise ConfigurationError(
                f"Invalid freshness policy {where}:\n" + "\n".join(lines)
            ) from exc
        problems = []
        missing = sorted(set(contracts) - set(parsed.tables))
        if missing:
            problems.append(
                f"tables {missing} have contracts but no entry; add one per table "
                "with a note saying why its cadence and lag fit"
            )
        unknown = sorted(set(parsed.tables) - set(contracts))
        if unknown:
            problems.append(
                f"tables {unknown} have no record contract (known tables: "
                f"{sorted(contracts)}); remove them or fix their names"
            )
        sources: dict[str, SourcePolicy] = {}
        for table in sorted(set(parsed.tables) & set(contracts)):
            department = department_of(contracts[table])
            resolved = _resolve(
                table,
                parsed.tables[table],
                department,
                parsed.departments.get(department),
            )
            if isinstance(resolved, str):
                problems.append(resolved)
            else:
                sources[table] = resolved
        for department, default in parsed.departments.items():
            if default.allowed_lag_days < default.cadence.max_gap_days:
                problems.append(
                    f"departments.{department.value}: allowed_lag_days "
                    f"{default.allowed_lag_days} is shorter than the "
                    f"{default.cadence.value} cadence's longest gap "
                    f"({default.cadence.max_gap_days} days)"
                )
        problems += _carrier_problems(sources)
        if problems:
            raise ConfigurationError(
                f"Invalid freshness policy {where}:\n"
                + "\n".join(f"  - {p}" for p in problems)
            )
        return cls(parsed.version, dict(sources), path)


def _resolve(
    table: str,
    entry: _TableEntry,
    department: Department,
    default: _DepartmentDefault | None,
) -> SourcePolicy | str:
    """Apply the department default to a table's entry; a problem as text."""
    cadence = entry.cadence
    lag = entry.allowed_lag_days
    convention = entry.convention
    if cadence is None or lag is None or convention is None:
        if default is None:
            return (
                f"tables.{table}: no department default for {department.value} "
                "to inherit from; give cadence, allowed_lag_days and convention"
            )
        cadence = cadence or default.cadence
        lag = default.allowed_lag_days if lag is None else lag
        convention = default.convention if convention is None else convention
    if lag < cadence.max_gap_days:
        return (
            f"tables.{table}: allowed_lag_days {lag} is shorter than the "
            f"{cadence.value} cadence's longest gap between deliveries "
            f"({cadence.max_gap_days} days); the table would be stale while on time"
        )
    return SourcePolicy(
        table=table,
        department=department,
        cadence=cadence,
        allowed_lag_days=lag,
        convention=convention,
        required=entry.required,
        note=entry.note,
        delivered_with=entry.delivered_with,
    )


def _carrier_problems(sources: Mapping[str, SourcePolicy]) -> list[str]:
    """Check that each carrier is a table of the same department, uncarried."""
    problems = []
    for name, rule in sources.items():
        carrier = rule.delivered_with
        if carrier is None:
            continue
        if carrier not in sources:
            problems.append(
                f"tables.{name}: delivered_with {carrier!r} is not a table of the "
                "policy"
            )
        elif sources[carrier].department is not rule.department:
            problems.append(
                f"tables.{name}: delivered_with {carrier!r} belongs to "
                f"{sources[carrier].department.value}, not {rule.department.value}; "
                "a delivery carries one department's tables"
            )
        elif sources[carrier].delivered_with is not None or carrier == name:
            problems.append(
                f"tables.{name}: delivered_with {carrier!r}, which is itself "
                "delivered with another table; name a table judged by its own "
                "records"
            )
    return problems


def load_freshness_policy(
    definitions_dir: Path, contracts: Mapping[str, SourceContract]
) -> FreshnessPolicy:
    """Read and check ``<definitions_dir>/features/freshness.yaml``.

    Parameters
    ----------
    definitions_dir : pathlib.Path
        Folder holding ``features/`` (``Settings.definitions_dir``).
    contracts : mapping of str to SourceContract
        The record contracts (``load_contracts``); the policy must cover
        exactly their tables.

    Returns
    -------
    FreshnessPolicy

    Raises
    ------
    ConfigurationError
        If the file is missing, unreadable or invalid (the message names the
        file and the tables).

    Examples
    --------
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> s = Settings()
    >>> policy = load_freshness_policy(s.definitions_dir, load_contracts(s.sources_dir))
    >>> policy["tax_filing"].cadence, policy["tax_filing"].allowed_lag_days
    (<Cadence.MONTHLY: 'monthly'>, 35)
    """
    path = Path(definitions_dir) / POLICY_FILE
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"Freshness policy missing: {path}. Every contract table needs a "
            "cadence and an allowed lag there (see docs/monitoring.md)."
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read freshness policy {path}: {exc}") from exc
    return FreshnessPolicy.from_mapping(raw, contracts, path=path)
