"""Statutory rule layers per regime, versioned by effective date.

Each department's rules live in ``rules/*.yaml``, one file per version of a
regime (``CUSTOMS_251``, ``CUSTOMS_282``, ``TAX_2014``, ``TAX_2025``,
``SAFE_2012``, ``SAMR_2021``, ``REPAIR_NDRC58``, ``REPAIR_NDRC2026``), each
valid for the rating dates ``[effective_from, effective_to)``. A
:class:`RuleBook` loads and checks them and picks the version in force at a
rating date; :func:`statutory_facts` turns the lake's records into the
*statutory facts* in force at that date (a customs dishonest level, a tax D, a
serious-list entry ...), point in time, each with the effects its rule set
gives it: a ceiling on the treatment tier, joint punishment, exclusion from the
green channel, bounds on the inspection rate. :data:`REGIMES` declares each
regime once: the facts the engine implements under it, their parameters and the
function that compiles them to SQL. A fact's department and ceiling are
:class:`credit_engine.vocabulary.Department` and
:class:`credit_engine.vocabulary.Tier`.

The facts are the department's statutory categories and what the engine
infers from their records; the ML risk score is advisory and never overrides
them (DOMAIN.md §8.3).

On Apache Spark, :func:`statutory_facts_spark` runs the same compiled query
(transpiled to Spark SQL) and returns a lazy Spark DataFrame.
"""

from __future__ import annotations

from credit_engine.rules._book import RuleBook
from credit_engine.rules._evaluate import (
    FACT_COLUMNS,
    statutory_facts,
    statutory_facts_sql,
)
from credit_engine.rules._regimes import REGIMES, RegimeLayer, regime_layer
from credit_engine.rules._spark import facts_frame, statutory_facts_spark
from credit_engine.rules._spec import (
    Certainty,
    FactSpec,
    Param,
    Regime,
    RuleSet,
)

__all__ = [
    "FACT_COLUMNS",
    "REGIMES",
    "Certainty",
    "FactSpec",
    "Param",
    "Regime",
    "RegimeLayer",
    "RuleBook",
    "RuleSet",
    "facts_frame",
    "regime_layer",
    "statutory_facts",
    "statutory_facts_spark",
    "statutory_facts_sql",
]
