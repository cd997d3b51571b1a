"""The early-warning signals as data: ``models/warnings/signals_v<N>.yaml``.

A :class:`SignalBook` lists the signals of one version. Each signal has a
stable code (``EW-01`` ...), a department (or ``CROSS``), zh/en names and
explanations, a weight (its share of an enterprise's priority) and a kind:

* ``feature_rule``: conditions on point-in-time feature values of the book's
  feature set (``features/sets``), every clause of ``when`` and, if given, at
  least one alternative of ``any_of``;
* ``grade_jump``: the stored master-scale grade worsened by ``notches`` or
  more against the stored run closest to ``lag_days`` before;
* ``statutory_fact``: an adverse statutory fact (``credit_engine.rules``) in
  force at the date whose ``since`` lies in the last ``window_days``.

Every number is in the file; loading checks the file strictly (unknown fields,
wrong types, duplicate codes, features the set does not compute) and names the
file, the signal and the problem.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Department

__all__ = [
    "Alternative",
    "Clause",
    "FactEffect",
    "FeatureRuleSignal",
    "GradeJumpSignal",
    "Op",
    "Signal",
    "SignalBook",
    "SignalKind",
    "StatutoryFactSignal",
    "Text",
    "load_signal_book",
    "signal_book_versions",
]

_CODE = re.compile(r"^EW-\d{2}$")
_FILE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)_v(?P<version>\d+)\.yaml$")
CROSS = "CROSS"
"""Department of a signal that combines several departments' records."""


class SignalKind(StrEnum):
    """How a signal is evaluated."""

    FEATURE_RULE = "feature_rule"
    GRADE_JUMP = "grade_jump"
    STATUTORY_FACT = "statutory_fact"


class Op(StrEnum):
    """Comparison of a clause (a null value never satisfies one)."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="


class FactEffect(StrEnum):
    """Effects that make a statutory fact adverse for the ``statutory_fact`` kind."""

    CEILING = "ceiling"
    BLOCKS_GREEN_CHANNEL = "blocks_green_channel"
    JOINT_PUNISHMENT = "joint_punishment"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """A text in Chinese and English."""

    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Clause(_Strict):
    """``feature op value`` or ``feature op factor × other``.

    Parameters
    ----------
    feature : str
        A feature column of the book's feature set (``view__feature``).
    op : Op
        The comparison.
    value : float, optional
        The threshold.
    other : str, optional
        Another feature column, compared times ``factor``.
    factor : float, default=1.0
        Multiplies ``other``.
    """

    feature: str
    op: Op
    value: float | None = None
    other: str | None = None
    factor: float = 1.0

    @model_validator(mode="after")
    def _one_side(self) -> Clause:
        if (self.value is None) == (self.other is None):
            raise ValueError("give exactly one of 'value' and 'other'")
        if self.value is not None and self.factor != 1.0:
            raise ValueError("'factor' multiplies 'other'; it has no use with 'value'")
        return self

    def describe(self) -> str:
        """Return the clause as people read it, e.g. ``a >= 3 × b``."""
        right = (
            f"{self.value:g}"
            if self.value is not None
            else (
                self.other if self.factor == 1.0 else f"{self.factor:g} × {self.other}"
            )
        )
        return f"{self.feature} {self.op.value} {right}"

    def features(self) -> list[str]:
        """Feature columns the clause reads."""
        return [self.feature] + ([self.other] if self.other else [])


class Alternative(_Strict):
    """One alternative of ``any_of``: a name and clauses that must all hold."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    when: tuple[Clause, ...] = Field(min_length=1)


class _SignalBase(_Strict):
    code: str
    department: Department | Literal["CROSS"]
    weight: float = Field(gt=0, le=100)
    name: Text
    explanation: Text

    @model_validator(mode="after")
    def _code(self) -> _SignalBase:
        if not _CODE.match(self.code):
            raise ValueError(f"code {self.code!r} must look like 'EW-01'")
        return self


class FeatureRuleSignal(_SignalBase):
    """A condition on point-in-time feature values at the evaluation date.

    Fires when every clause of ``when`` holds and, if ``any_of`` is given, every
    clause of at least one alternative. ``evidence`` lists further features
    shown with the warning (the clauses' features always are).
    """

    kind: Literal["feature_rule"]
    when: tuple[Clause, ...] = ()
    any_of: tuple[Alternative, ...] = ()
    evidence: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _has_conditions(self) -> FeatureRuleSignal:
        if not self.when and not self.any_of:
            raise ValueError("a feature rule needs 'when' clauses or 'any_of'")
        names = [a.name for a in self.any_of]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate alternative names in any_of: {names}")
        return self

    def features(self) -> list[str]:
        """Every feature column the signal reads or shows, in order, once."""
        cols = [f for c in self.when for f in c.features()]
        cols += [f for a in self.any_of for c in a.when for f in c.features()]
        cols += list(self.evidence)
        return list(dict.fromkeys(cols))


class GradeJumpSignal(_SignalBase):
    """The stored grade worsened by ``notches`` within about ``lag_days``.

    The current grade is that of the latest stored rating run on or before the
    evaluation date, at most ``current_max_age_days`` old; the earlier one that
    of the stored run closest to ``lag_days`` before the current run, within
    ``tolerance_days``. Without either run the signal is not evaluated (no
    warning, never a false alarm).
    """

    kind: Literal["grade_jump"]
    notches: int = Field(ge=1, le=7)
    lag_days: int = Field(gt=0, le=730)
    tolerance_days: int = Field(ge=0, le=365)
    current_max_age_days: int = Field(ge=0, le=365)


class StatutoryFactSignal(_SignalBase):
    """A new adverse statutory fact: in force at the date, ``since`` recent.

    A fact is adverse when it has one of ``effects`` (a tier ceiling, a bar on
    the green channel, joint punishment) and its code is not in
    ``exclude_codes`` (e.g. ``TAX_LEVEL_M``, the level of a new taxpayer);
    favourable facts never count.
    """

    kind: Literal["statutory_fact"]
    window_days: int = Field(gt=0, le=730)
    effects: tuple[FactEffect, ...] = Field(min_length=1)
    exclude_codes: tuple[str, ...] = ()


Signal = Annotated[
    FeatureRuleSignal | GradeJumpSignal | StatutoryFactSignal,
    Field(discriminator="kind"),
]


class SignalBook(_Strict):
    """One version of the early-warning signals.

    Parameters
    ----------
    name : str
        Book name (the file is ``<name>_v<version>.yaml``).
    version : int
        Version; stored with every warning it raises.
    description : str
        What the book is for.
    feature_set : str
        The feature set (``features/sets``) the feature rules read.
    priority : str
        How an enterprise's priority is formed (documentation shown in reports).
    signals : list of Signal
        The signals, each with a unique code.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    description: str
    feature_set: str
    priority: str
    signals: tuple[Signal, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> SignalBook:
        codes = [s.code for s in self.signals]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate signal codes {dupes}")
        return self

    @property
    def codes(self) -> list[str]:
        """The signal codes, in file order."""
        return [s.code for s in self.signals]

    def signal(
        self, code: str
    ) -> FeatureRuleSignal | GradeJumpSignal | StatutoryFactSignal:
        """Return the signal with ``code``.

        Raises
        ------
        KeyError
            Naming the known codes.
        """
        for s in self.signals:
            if s.code == code:
                return s
        raise KeyError(f"unknown signal {code!r}; known: {', '.join(self.codes)}")

    def feature_rules(self) -> list[FeatureRuleSignal]:
        """Return the signals of kind ``feature_rule``."""
        return [s for s in self.signals if isinstance(s, FeatureRuleSignal)]

    def feature_columns(self) -> list[str]:
        """Every feature column the feature rules read or show, once."""
        return list(
            dict.fromkeys(f for s in self.feature_rules() for f in s.features())
        )


def _folder(definitions_dir: Path) -> Path:
    return Path(definitions_dir) / "models" / "warnings"


def signal_book_versions(definitions_dir: Path, name: str = "signals") -> list[int]:
    """Return the versions of book ``name`` under ``models/warnings``, oldest first."""
    versions = []
    for path in _folder(definitions_dir).glob(f"{name}_v*.yaml"):
        match = _FILE.match(path.name)
        if match and match["name"] == name:
            versions.append(int(match["version"]))
    return sorted(versions)


def _errors(exc: ValidationError) -> str:
    lines = [
        f"  - {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
        for e in exc.errors()[:8]
    ]
    more = len(exc.errors()) - 8
    return "\n".join(lines) + (f"\n  ... and {more} more" if more > 0 else "")


def load_signal_book(
    definitions_dir: Path,
    name: str = "signals",
    version: int | None = None,
    *,
    feature_columns: list[str] | None = None,
) -> SignalBook:
    """Load and check ``models/warnings/<name>_v<version>.yaml``.

    Parameters
    ----------
    definitions_dir : pathlib.Path
        Folder holding ``models/warnings`` (``Settings.definitions_dir``).
    name : str, default="signals"
        Book name.
    version : int, optional
        Version (default: the latest).
    feature_columns : list of str, optional
        Columns of the book's feature set; when given, every feature a rule
        reads or shows must be one of them.

    Returns
    -------
    SignalBook

    Raises
    ------
    ConfigurationError
        Naming the file and each problem: no such book or version, invalid
        YAML, a field that is unknown or of the wrong type, a duplicate code, a
        feature the set does not compute.
    """
    folder = _folder(definitions_dir)
    versions = signal_book_versions(definitions_dir, name)
    if not versions:
        raise ConfigurationError(
            f"No early-warning signals {name!r} under {folder}: expected a file "
            f"{name}_v1.yaml there."
        )
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise ConfigurationError(
            f"No version {chosen} of the signals {name!r} under {folder}; versions: "
            f"{', '.join(map(str, versions))}."
        )
    path = folder / f"{name}_v{chosen}.yaml"
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{path} must hold a YAML mapping.")
    try:
        book = SignalBook.model_validate(raw)
    except ValidationError as exc:
        raise ConfigurationError(f"Invalid signals {path}:\n{_errors(exc)}") from exc
    if (book.name, book.version) != (name, chosen):
        raise ConfigurationError(
            f"{path} declares name {book.name!r} version {book.version}; the file "
            f"name says {name!r} version {chosen}: make them agree."
        )
    if feature_columns is not None:
        known = set(feature_columns)
        problems = [
            f"signal {s.code}: unknown feature {f!r}"
            for s in book.feature_rules()
            for f in s.features()
            if f not in known
        ]
        if problems:
            raise ConfigurationError(
                f"Invalid signals {path}: "
                + "; ".join(problems[:8])
                + f". The feature set {book.feature_set!r} computes: "
                + ", ".join(sorted(known)[:60])
                + ("..." if len(known) > 60 else "")
                + "; add the feature to the set (features/sets) or fix the name."
            )
    return book
