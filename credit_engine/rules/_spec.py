"""Pydantic models of the rule-set files (``rules/*.yaml``) and their checks.

A rule set is one version of one regime's statutory rules, valid for the rating
dates ``[effective_from, effective_to)``. It holds the *parameters* the engine's
SQL uses (every threshold, with how certain it is) and the *facts* it can
establish, each with its effects (ceiling tier, joint punishment, green channel,
inspection bounds). The files are data: loading them never executes code.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Department, Tier

__all__ = [
    "Certainty",
    "FactSpec",
    "Param",
    "ParamValue",
    "Regime",
    "RuleSet",
    "check_fact_params",
    "check_versions",
    "describe",
]

_ID = re.compile(r"^([A-Z]+)_([A-Z0-9]+)$")
_PARAM = re.compile(r"^[a-z][a-z0-9_]*$")
_CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


class Regime(StrEnum):
    """A body of statutory rules, versioned by effective date."""

    CUSTOMS = "CUSTOMS"
    TAX = "TAX"
    SAFE = "SAFE"
    SAMR = "SAMR"
    REPAIR = "REPAIR"
    """NDRC cross-department credit repair: publicity periods used by the others."""


class Certainty(StrEnum):
    """How well a rule is sourced (the tags of DOMAIN.md).

    ``C`` confirmed in a retrieved source, ``S`` only a weak secondary source,
    ``U`` unconfirmed (background knowledge or indirect evidence).
    """

    C = "C"
    S = "S"
    U = "U"


ParamValue = bool | int | float | str | dt.date | list[int] | list[str]
"""Value of a parameter: a number, a flag, a code, a date or a list of codes."""


class Param(BaseModel):
    """One parameter of a rule set (a threshold, a period, a scope).

    Parameters
    ----------
    value : bool, int, float, str, datetime.date or list
        The value the engine uses.
    certainty : Certainty
        ``C``, ``S`` or ``U`` as in DOMAIN.md.
    note : str
        Where the value comes from and what it means.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: ParamValue
    certainty: Certainty
    note: str


class FactSpec(BaseModel):
    """A statutory fact a rule set can establish, and its effects.

    Parameters
    ----------
    zh, en : str
        Text of the fact in Chinese and English (shown to supervisors).
    department : Department
        Department whose records establish it.
    ceiling : Tier or None
        Best treatment tier the fact allows; ``None`` for no bound.
    joint_punishment : bool
        The fact puts the enterprise on a legally grounded list subject to
        cross-department joint punishment (国办发〔2020〕49号).
    blocks_green_channel : bool
        The fact excludes the enterprise from the green channel.
    favourable : bool
        The fact is a favourable status (certification, A level, class A).
    inspection_factor_cap : float or None
        Upper bound on the inspection rate as a factor of the regular rate
        (``0.2``: at most 20 % *of* the regular average).
    inspection_min_rate : float or None
        Lower bound on the share of declarations inspected.
    certainty : Certainty
        How well the fact's rule is sourced.
    note : str
        Legal basis and how the engine establishes the fact.
    inferred_from_absence : list of str, optional
        Tables whose *missing* records the fact is inferred from (no payment
        version of a bill: unpaid; no removal: still listed). Their silence
        counts only up to their watermark, so a stale feed asserts nothing
        (:mod:`credit_engine.freshness`); the engine checks that the list
        names exactly the tables its SQL reads that way.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    department: Department
    ceiling: Tier | None
    joint_punishment: bool
    blocks_green_channel: bool
    favourable: bool
    inspection_factor_cap: float | None = Field(gt=0.0, le=1.0)
    inspection_min_rate: float | None = Field(ge=0.0, le=1.0)
    certainty: Certainty
    note: str
    inferred_from_absence: tuple[str, ...] = ()


class RuleSet(BaseModel):
    """One version of a regime's rules, in force on ``[effective_from, effective_to)``.

    Parameters
    ----------
    id : str
        ``<REGIME>_<VERSION>``, e.g. ``CUSTOMS_251``.
    regime : Regime
        The regime it belongs to.
    title_zh, title_en : str
        The instrument(s), in Chinese and English.
    effective_from : datetime.date
        First rating date it applies to.
    effective_to : datetime.date or None
        First rating date it no longer applies to (exclusive); ``None`` while open.
    sources : list of str
        Citations of DOMAIN.md sections with their ``[C]``/``[S]``/``[U]`` tags.
    params : dict of str to Param
        Every number the engine uses for this regime.
    facts : dict of str to FactSpec
        The facts it can establish, by code.

    Examples
    --------
    >>> rs = RuleSet.model_validate({
    ...     "id": "SAFE_2012", "regime": "SAFE", "title_zh": "货物贸易外汇管理",
    ...     "title_en": "Goods-trade FX", "effective_from": "2012-08-01",
    ...     "effective_to": None, "sources": [], "params": {}, "facts": {}})
    >>> rs.contains(dt.date(2025, 1, 1))
    True
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    regime: Regime
    title_zh: str
    title_en: str
    effective_from: dt.date
    effective_to: dt.date | None
    sources: tuple[str, ...]
    params: dict[str, Param]
    facts: dict[str, FactSpec]

    @model_validator(mode="after")
    def _check(self) -> RuleSet:
        problems = []
        match = _ID.match(self.id)
        if match is None or match.group(1) != self.regime.value:
            problems.append(
                f"id {self.id!r} must look like '{self.regime.value}_<VERSION>' "
                "(upper-case letters and digits)"
            )
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            problems.append(
                f"effective_to must be after effective_from; got "
                f"effective_from={self.effective_from}, "
                f"effective_to={self.effective_to}"
            )
        bad_params = sorted(p for p in self.params if not _PARAM.match(p))
        if bad_params:
            problems.append(f"parameter names must be snake_case; got {bad_params}")
        bad_codes = sorted(c for c in self.facts if not _CODE.match(c))
        if bad_codes:
            problems.append(f"fact codes must be UPPER_SNAKE_CASE; got {bad_codes}")
        if self.regime is Regime.REPAIR and self.facts:
            problems.append("a REPAIR rule set has parameters only, no facts")
        if self.regime is not Regime.REPAIR:
            other = sorted(
                c for c, f in self.facts.items() if f.department.value != self.regime
            )
            if other:
                problems.append(
                    f"facts {other} must have department {self.regime.value!r} "
                    "(the regime of the rule set)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def contains(self, as_of: dt.date) -> bool:
        """Whether the rule set applies to the rating date ``as_of``."""
        return self.effective_from <= as_of and (
            self.effective_to is None or as_of < self.effective_to
        )

    def param(self, name: str) -> ParamValue:
        """Return the value of parameter ``name``.

        Raises
        ------
        ConfigurationError
            If the rule set has no such parameter.
        """
        if name not in self.params:
            raise ConfigurationError(
                f"rule set {self.id} has no parameter {name!r}; it has "
                f"{sorted(self.params)}. Add it to rules/{self.id.lower()}.yaml."
            )
        return self.params[name].value


def _period(rs: RuleSet) -> str:
    end = rs.effective_to.isoformat() if rs.effective_to else "open"
    return f"{rs.id} [{rs.effective_from.isoformat()}, {end})"


def check_versions(rule_sets: Iterable[RuleSet]) -> None:
    """Check that the versions of each regime tile time without gap or overlap.

    Parameters
    ----------
    rule_sets : iterable of RuleSet
        All rule sets of a rule book.

    Raises
    ------
    ConfigurationError
        Naming the rule sets for duplicate ids, overlapping or non-contiguous
        effective ranges, or a regime with no rule set.
    """
    sets = list(rule_sets)
    ids = [r.id for r in sets]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    problems = [f"duplicate rule-set ids {dupes}"] if dupes else []
    by_regime: dict[Regime, list[RuleSet]] = {}
    for rs in sets:
        by_regime.setdefault(rs.regime, []).append(rs)
    missing = [r.value for r in Regime if r not in by_regime]
    if missing:
        problems.append(f"no rule set for regime(s) {missing}")
    for regime in Regime:
        ordered = sorted(by_regime.get(regime, []), key=lambda r: r.effective_from)
        for prev, nxt in zip(ordered, ordered[1:], strict=False):
            if prev.effective_to is None or prev.effective_to > nxt.effective_from:
                problems.append(
                    f"{regime.value}: {_period(prev)} overlaps {_period(nxt)}; "
                    f"set {prev.id}'s effective_to to {nxt.effective_from.isoformat()}"
                )
            elif prev.effective_to < nxt.effective_from:
                problems.append(
                    f"{regime.value}: gap between {_period(prev)} and {_period(nxt)}; "
                    "versions of a regime must be contiguous (effective_to of one = "
                    "effective_from of the next)"
                )
    if problems:
        raise ConfigurationError("Invalid rule book: " + "; ".join(problems) + ".")


def check_fact_params(
    rs: RuleSet,
    known: Mapping[str, Mapping[str, tuple[type, ...]]],
    required: Mapping[str, tuple[type, ...]],
    absence: Mapping[str, Sequence[str]] | None = None,
) -> list[str]:
    """Problems of a rule set against what the engine implements.

    Parameters
    ----------
    rs : RuleSet
        The rule set to check.
    known : mapping of str to mapping of str to tuple of type
        Fact codes the engine implements for ``rs.regime``, each with the
        parameters it needs and their accepted types.
    required : mapping of str to tuple of type
        Parameters every rule set of ``rs.regime`` must define.
    absence : mapping of str to sequence of str, optional
        Per fact code, the tables whose missing records its SQL reads; each
        fact's ``inferred_from_absence`` must list exactly those.

    Returns
    -------
    list of str
        One line per problem (empty when the rule set is usable).
    """
    problems = []
    for code in sorted(set(rs.facts) & set(known)):
        declared = sorted(rs.facts[code].inferred_from_absence)
        implemented = sorted((absence or {}).get(code, ()))
        if declared != implemented:
            problems.append(
                f"{rs.id}: fact {code} is inferred from the absence of records in "
                f"{implemented or 'no table'} but declares inferred_from_absence: "
                f"{declared}; list exactly the tables whose silence it reads"
            )
    unknown = sorted(set(rs.facts) - set(known))
    if unknown:
        problems.append(
            f"{rs.id}: the engine does not implement fact(s) {unknown}; "
            f"{rs.regime.value} facts are {sorted(known)}"
        )
    needed: dict[str, tuple[type, ...]] = dict(required)
    for code in sorted(set(rs.facts) & set(known)):
        needed.update(known[code])
    absent = sorted(n for n in needed if n not in rs.params)
    if absent:
        problems.append(f"{rs.id}: missing parameter(s) {absent}")
    for name in sorted(set(needed) & set(rs.params)):
        value = rs.params[name].value
        types = needed[name]
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            problems.append(
                f"{rs.id}: parameter {name!r} must be "
                f"{' or '.join(t.__name__ for t in types)}; got {value!r}"
            )
    return problems


def describe(rule_sets: Sequence[RuleSet]) -> str:
    """One line per rule set: id and effective range (for messages)."""
    return ", ".join(_period(r) for r in rule_sets)
