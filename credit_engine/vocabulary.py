"""The engine's shared vocabulary: treatment tiers, deciding layers, departments.

Each term is defined here once and used everywhere it appears: pydantic models,
SQL CHECK constraints, API query parameters, policies and reports. Adding a tier
or a department is a change to this file (and to the data that uses it).

Examples
--------
>>> Tier("B") < Tier.C
True
>>> Tier.worst([Tier.A, None, "C"])
<Tier.C: 'C'>
>>> [str(t) for t in Tier]
['A', 'B', 'C', 'D']
>>> DecidedBy.STATUTORY.strength > DecidedBy.MODEL.strength
True
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["DecidedBy", "Department", "Engine", "Tier", "sql_in", "sql_literal"]


class Tier(StrEnum):
    """Treatment tier, from A (most trusted: lightest supervision) to D (least).

    In code, tiers order from best to worst (``Tier.A < Tier.D``) by their rank.
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"

    @property
    def rank(self) -> int:
        """0 for ``A`` (best) to 3 for ``D`` (worst)."""
        return _TIER_ORDER.index(self)

    # Order by rank, not by the letters (str's own comparison), so that renaming
    # a tier never reorders them.
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Tier):
            return NotImplemented
        return self.rank >= other.rank

    __hash__ = StrEnum.__hash__

    @classmethod
    def worst(cls, tiers: Iterable[Tier | str | None]) -> Tier | None:
        """Return the worst of ``tiers`` (``None`` entries ignored; ``None`` if empty).

        Raises
        ------
        ValueError
            If a value is not a tier.
        """
        kept = [cls(t) for t in tiers if t is not None]
        return max(kept) if kept else None

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the tier codes, best first: ``("A", "B", "C", "D")``."""
        return tuple(t.value for t in cls)


_TIER_ORDER: tuple[Tier, ...] = tuple(Tier)


class DecidedBy(StrEnum):
    """The layer that fixed a decision's tier, strongest first.

    Precedence is statutory > override > policy > model: a statutory ceiling
    binds an override, an override binds the zone policy, and the model grade
    decides alone only when nothing binds it.
    """

    STATUTORY = "STATUTORY"
    OVERRIDE = "OVERRIDE"
    POLICY = "POLICY"
    MODEL = "MODEL"

    @property
    def strength(self) -> int:
        """3 for ``STATUTORY`` (strongest) to 0 for ``MODEL``."""
        members = tuple(DecidedBy)
        return len(members) - 1 - members.index(self)

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the layer codes, strongest first."""
        return tuple(d.value for d in cls)


class Department(StrEnum):
    """The four departments whose records the engine reads."""

    CUSTOMS = "CUSTOMS"
    TAX = "TAX"
    SAFE = "SAFE"
    SAMR = "SAMR"

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the department codes."""
        return tuple(d.value for d in cls)


class Engine(StrEnum):
    """Where the heavy steps run: embedded DuckDB (the default) or Apache Spark.

    Examples
    --------
    >>> Engine("spark") is Engine.SPARK
    True
    >>> Engine.values()
    ('duckdb', 'spark')
    """

    DUCKDB = "duckdb"
    SPARK = "spark"

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the engine names, the default first."""
        return tuple(e.value for e in cls)


def sql_literal(text: str) -> str:
    """Quote ``text`` as an SQL string literal (the one quoting rule).

    Examples
    --------
    >>> sql_literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + text.replace("'", "''") + "'"


def sql_in(column: str, values: Iterable[str]) -> str:
    """Return an SQL ``column IN (...)`` condition over string ``values``.

    Used to generate CHECK constraints from the enums above, so that the
    database refuses exactly what the Python side refuses.

    Examples
    --------
    >>> sql_in("tier", Tier.values())
    "tier IN ('A', 'B', 'C', 'D')"
    """
    quoted = ", ".join(sql_literal(v) for v in values)
    return f"{column} IN ({quoted})"
