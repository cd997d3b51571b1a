"""The regimes the engine implements, each declared once.

A regime's layer says which facts the engine can establish under it, the
parameters each fact needs, the parameters every rule set of the regime must
define, and the function that compiles its facts to SQL. :class:`RuleBook`
checks rule sets against it and :func:`statutory_facts` runs the builders.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from credit_engine.exceptions import ConfigurationError
from credit_engine.rules import _customs, _safe, _samr, _tax
from credit_engine.rules._spec import Regime
from credit_engine.rules._sqlkit import Context, FactSql

__all__ = ["REGIMES", "RegimeLayer", "regime_layer"]

ParamTypes = Mapping[str, tuple[type, ...]]
"""Parameter name to the Python types its value may have."""


@dataclass(frozen=True)
class RegimeLayer:
    """What the engine implements of one regime.

    Parameters
    ----------
    regime : Regime
        The regime.
    facts : mapping of str to mapping of str to tuple of type
        Fact codes the engine can establish, each with the parameters it needs
        and their accepted types.
    build : callable, optional
        Compiles the facts of the rule set in force to SQL (a
        :class:`~credit_engine.rules._sqlkit.Context` to a ``FactSql``);
        ``None`` for a regime that only supplies parameters to the others.
    params : mapping of str to tuple of type, optional
        Parameters every rule set of the regime must define, whatever its facts.
    absence : mapping of str to tuple of str, optional
        Facts inferred from the *absence* of records, each with the tables
        whose silence its SQL reads (counted only up to their watermark:
        :meth:`~credit_engine.rules._sqlkit.Context.evidence_day`). The rule
        sets must declare the same in ``inferred_from_absence``.
    """

    regime: Regime
    facts: Mapping[str, ParamTypes]
    build: Callable[[Context], FactSql] | None = None
    params: ParamTypes = field(default_factory=dict)
    absence: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


REGIMES: tuple[RegimeLayer, ...] = (
    RegimeLayer(
        Regime.CUSTOMS, _customs.FACTS, _customs.customs_sql, absence=_customs.ABSENCE
    ),
    RegimeLayer(Regime.TAX, _tax.FACTS, _tax.tax_sql),
    RegimeLayer(Regime.SAFE, _safe.FACTS, _safe.safe_sql),
    RegimeLayer(Regime.SAMR, _samr.FACTS, _samr.samr_sql, absence=_samr.ABSENCE),
    RegimeLayer(
        Regime.REPAIR,
        MappingProxyType({}),
        params=MappingProxyType({"serious_max_publicity_days": (int,)}),
    ),
)
"""Every regime, in the order its facts are compiled. REPAIR establishes no fact:
it supplies the publicity periods the TAX and SAMR layers use."""


def regime_layer(regime: Regime) -> RegimeLayer:
    """Return the layer of ``regime``.

    Raises
    ------
    ConfigurationError
        If the engine declares no layer for it.
    """
    for layer in REGIMES:
        if layer.regime is regime:
            return layer
    raise ConfigurationError(
        f"no regime layer for {regime.value}; declared: "
        f"{[r.regime.value for r in REGIMES]}. Add it to REGIMES in "
        "credit_engine/rules/_regimes.py."
    )
