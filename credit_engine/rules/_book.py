"""The rule book: every rule-set version, checked, selected by rating date."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from credit_engine.exceptions import ConfigurationError
from credit_engine.rules._regimes import regime_layer
from credit_engine.rules._spec import (
    FactSpec,
    Regime,
    RuleSet,
    check_fact_params,
    check_versions,
    describe,
)

__all__ = ["RuleBook"]


def _read(path: Path) -> RuleSet:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"Cannot read rule set {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"Rule set {path} must hold a YAML mapping.")
    try:
        rs = RuleSet.model_validate(raw)
    except ValidationError as exc:
        lines = [
            f"  - {'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}"
            for e in exc.errors()[:5]
        ]
        more = exc.error_count() - len(lines)
        if more > 0:
            lines.append(f"  ... and {more} more")
        raise ConfigurationError(
            f"Invalid rule set {path}:\n" + "\n".join(lines)
        ) from exc
    if rs.id.lower() != path.stem:
        raise ConfigurationError(
            f"{path} defines rule set {rs.id!r}; name the file {rs.id.lower()}.yaml."
        )
    return rs


class RuleBook:
    """Every version of every regime's rules, checked as a whole.

    Parameters
    ----------
    rule_sets : iterable of RuleSet
        The rule sets; usually read by :meth:`load`.

    Raises
    ------
    ConfigurationError
        If the versions of a regime overlap or leave a gap, a regime has no
        rule set, a rule set defines a fact the engine does not implement, or a
        parameter a fact needs is missing or of the wrong type (see
        :data:`~credit_engine.rules.REGIMES`).

    Examples
    --------
    >>> from credit_engine.config import default_definitions_dir
    >>> book = RuleBook.load(default_definitions_dir())
    >>> book.versions(dt.date(2026, 3, 31))["CUSTOMS"]
    'CUSTOMS_251'
    >>> book.versions(dt.date(2026, 4, 1))["CUSTOMS"]
    'CUSTOMS_282'
    >>> book.fact("CUSTOMS_ADV_CERT", dt.date(2025, 1, 1)).inspection_factor_cap
    0.2
    """

    def __init__(self, rule_sets: Iterable[RuleSet]) -> None:
        sets = sorted(rule_sets, key=lambda r: (r.regime.value, r.effective_from))
        check_versions(sets)
        problems = []
        for rs in sets:
            layer = regime_layer(rs.regime)
            problems += check_fact_params(rs, layer.facts, layer.params, layer.absence)
        if problems:
            raise ConfigurationError("Invalid rule book: " + "; ".join(problems) + ".")
        self._sets = tuple(sets)

    @classmethod
    def load(cls, definitions_dir: Path) -> RuleBook:
        """Read and check ``<definitions_dir>/rules/*.yaml``.

        Parameters
        ----------
        definitions_dir : pathlib.Path
            Folder holding ``rules/`` (the repository root in a checkout; see
            :func:`credit_engine.config.default_definitions_dir` and
            ``Settings.definitions_dir``).

        Returns
        -------
        RuleBook

        Raises
        ------
        ConfigurationError
            If the folder holds no rule set, a file is malformed (the message
            names the file and the fields) or the rule book is inconsistent.
        """
        folder = Path(definitions_dir) / "rules"
        paths = sorted(folder.glob("*.yaml"))
        if not paths:
            raise ConfigurationError(
                f"No rule sets (*.yaml) found in {folder}; set "
                "CREDIT_ENGINE_DEFINITIONS_DIR to the folder holding rules/."
            )
        return cls(_read(p) for p in paths)

    @property
    def rule_sets(self) -> tuple[RuleSet, ...]:
        """All rule sets, by regime and effective date."""
        return self._sets

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the rule sets' content (for lineage of decisions)."""
        digest = hashlib.sha256()
        for rs in self._sets:
            digest.update(rs.model_dump_json().encode())
        return digest.hexdigest()

    def get(self, rule_set_id: str) -> RuleSet:
        """Return the rule set with id ``rule_set_id``.

        Raises
        ------
        ConfigurationError
            If there is none.
        """
        for rs in self._sets:
            if rs.id == rule_set_id:
                return rs
        raise ConfigurationError(
            f"unknown rule set {rule_set_id!r}; rule sets: "
            f"{[r.id for r in self._sets]}."
        )

    def in_force(self, as_of: dt.date) -> dict[str, RuleSet]:
        """Return the rule set of each regime in force on the rating date ``as_of``.

        Parameters
        ----------
        as_of : datetime.date
            Rating date.

        Returns
        -------
        dict of str to RuleSet
            Regime (``CUSTOMS``, ``TAX``, ``SAFE``, ``SAMR``, ``REPAIR``) to the
            rule set whose ``[effective_from, effective_to)`` holds ``as_of``.

        Raises
        ------
        ConfigurationError
            Naming the regime and the date if no version covers ``as_of``.
        """
        if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
            raise ConfigurationError(
                f"as_of must be a datetime.date (a rating date); got {as_of!r}."
            )
        out: dict[str, RuleSet] = {}
        for regime in Regime:
            versions = [r for r in self._sets if r.regime is regime]
            found = [r for r in versions if r.contains(as_of)]
            if not found:
                raise ConfigurationError(
                    f"No {regime.value} rule set is in force on {as_of.isoformat()}; "
                    f"versions: {describe(versions)}. Add a version covering that "
                    "date under rules/ or rate a later date."
                )
            out[regime.value] = found[0]
        return out

    def versions(self, as_of: dt.date) -> dict[str, str]:
        """Regime to the id of the rule set in force on ``as_of``."""
        return {k: v.id for k, v in self.in_force(as_of).items()}

    def fact(self, code: str, as_of: dt.date) -> FactSpec:
        """Return the definition of fact ``code`` in force on ``as_of``.

        Raises
        ------
        ConfigurationError
            If no rule set in force on ``as_of`` defines ``code``.
        """
        in_force = self.in_force(as_of)
        for rs in in_force.values():
            if code in rs.facts:
                return rs.facts[code]
        raise ConfigurationError(
            f"fact {code!r} is not defined by the rule sets in force on "
            f"{as_of.isoformat()} ({', '.join(r.id for r in in_force.values())})."
        )

    def fact_codes(self) -> set[str]:
        """Return every fact code some rule set defines."""
        return {code for rs in self._sets for code in rs.facts}

    def absence_tables(self) -> dict[str, tuple[str, ...]]:
        """Return each fact inferred from missing records, with those tables.

        From the rule sets' ``inferred_from_absence``: the tables whose
        silence a fact reads, so whose staleness would otherwise assert it.

        Examples
        --------
        >>> from credit_engine.config import default_definitions_dir
        >>> book = RuleBook.load(default_definitions_dir())
        >>> book.absence_tables()["SAMR_ABNORMAL_ESCALATION_DUE"]
        ('abnormal_list',)
        """
        out: dict[str, set[str]] = {}
        for rs in self._sets:
            for code, spec in rs.facts.items():
                if spec.inferred_from_absence:
                    out.setdefault(code, set()).update(spec.inferred_from_absence)
        return {code: tuple(sorted(t)) for code, t in sorted(out.items())}

    def joint_punishment_codes(self) -> set[str]:
        """Return the facts marked as a legally grounded serious-dishonesty list.

        Only these may carry joint punishment (国办发〔2020〕49号); a policy that
        punishes jointly on anything else is refused.
        """
        return {
            code
            for rs in self._sets
            for code, spec in rs.facts.items()
            if spec.joint_punishment
        }

    def __repr__(self) -> str:
        return f"RuleBook({', '.join(r.id for r in self._sets)})"
