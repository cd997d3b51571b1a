"""Audit replay: what the API logs for a decision, and re-deriving it from the log.

:func:`decision_payload` is the payload of a ``decision`` entry of the audit
log: the decision and every input it was derived from (the model's feature row,
the model's rating, the statutory facts and the override in force).
:func:`replay_decision` loads the model, policy and reason catalogue versions
the decision names, re-rates the logged feature row, decides again and reports
every field that differs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from credit_engine.config import Settings
from credit_engine.decisioning import (
    Decision,
    DecisionContext,
    FactInForce,
    ModelRating,
    Override,
    Policy,
    ReasonCatalogue,
    decide,
    load_policy,
)
from credit_engine.exceptions import AuditError
from credit_engine.freshness import StaleSource
from credit_engine.jsonable import to_jsonable
from credit_engine.registry import LoadedModel, load_rating_model

__all__ = ["ReplayResult", "decision_payload", "replay_decision"]

_REL_TOL = 1e-9
_ABS_TOL = 1e-12


def decision_payload(
    decision: Decision,
    *,
    features: Mapping[str, float | None],
    facts: Sequence[FactInForce],
    override: Override | None,
    model_rating: ModelRating,
) -> dict[str, Any]:
    """Build the audit payload of a decision served: the decision and its inputs.

    Parameters
    ----------
    decision : Decision
        What was decided.
    features : mapping of str to float or None
        The feature row the model rated (its features and default flags).
    facts : sequence of FactInForce
        Statutory facts in force that the decision used.
    override : Override or None
        Supervisor override in force, if any.
    model_rating : ModelRating
        What the model said (grade, PD, score, default flag, reasons, and the
        feature values the policy rules read).

    Returns
    -------
    dict
        ``{"decision": decision.to_dict(), "inputs": {"features", "model_rating",
        "facts", "override"}}``, JSON-ready by
        :func:`credit_engine.jsonable.to_jsonable`: NaN is None, infinities
        ``"inf"``/``"-inf"`` (a replay re-rates them as infinities), numpy
        scalars plain numbers, dates ISO strings, tiers and layers their codes.

    Raises
    ------
    TypeError
        If a value has no JSON form (the message names where it is).
    """
    payload = {
        "decision": decision.to_dict(),
        "inputs": {
            "features": dict(features),
            "model_rating": rating_dict(model_rating),
            "facts": [f.to_dict() for f in facts],
            "override": override_dict(override),
        },
    }
    ready: dict[str, Any] = to_jsonable(payload, where="payload")
    return ready


def rating_dict(model_rating: ModelRating) -> dict[str, Any]:
    """Return ``inputs.model_rating`` of :func:`decision_payload` (not converted)."""
    return {
        "grade": model_rating.grade,
        "pd": model_rating.pd,
        "score": model_rating.score,
        "in_default": model_rating.in_default,
        "reasons": list(model_rating.reasons),
        "features": dict(model_rating.features),
    }


def override_dict(override: Override | None) -> dict[str, Any] | None:
    """Return ``inputs.override`` of :func:`decision_payload` (not converted)."""
    return None if override is None else dataclasses.asdict(override)


@dataclass(frozen=True)
class ReplayResult:
    """The outcome of :func:`replay_decision`.

    Attributes
    ----------
    ok : bool
        The re-derived decision and model rating equal the logged ones (floats
        within a relative 1e-9).
    differences : list of str
        One line per differing field: ``"decision.tier: logged 'A',
        re-derived 'B'"``.
    logged : dict
        ``{"decision": ..., "model_rating": ...}`` as logged.
    rederived : dict
        ``{"decision": ..., "model_rating": ...}`` as re-derived now.
    """

    ok: bool
    differences: list[str] = field(default_factory=list)
    logged: dict[str, Any] = field(default_factory=dict)
    rederived: dict[str, Any] = field(default_factory=dict)


def _section(data: Mapping[str, Any], name: str, keys: Sequence[str]) -> None:
    missing = [k for k in keys if k not in data]
    if missing:
        raise AuditError(
            f"The logged payload is not a decision: {name} lacks {missing[:5]}. "
            "Replay entries written by credit_engine.rating.decision_payload."
        )


def _numbers(a: Any, b: Any) -> bool:
    return (
        isinstance(a, int | float)
        and isinstance(b, int | float)
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    )


def _diff(path: str, logged: Any, now: Any, out: list[str]) -> None:
    """Append a line per leaf that differs between ``logged`` and ``now``."""
    if isinstance(logged, Mapping) and isinstance(now, Mapping):
        for key in list(logged) + [k for k in now if k not in logged]:
            sub = f"{path}.{key}"
            if key not in now:
                out.append(f"{sub}: logged {logged[key]!r}, missing when re-derived")
            elif key not in logged:
                out.append(f"{sub}: not logged, re-derived {now[key]!r}")
            else:
                _diff(sub, logged[key], now[key], out)
    elif isinstance(logged, list) and isinstance(now, list):
        if len(logged) != len(now):
            out.append(
                f"{path}: logged {len(logged)} items, re-derived {len(now)} "
                f"({_codes(logged)} vs {_codes(now)})"
            )
        for i, (a, b) in enumerate(zip(logged, now, strict=False)):
            _diff(f"{path}[{i}]", a, b, out)
    elif _numbers(logged, now):
        if not math.isclose(logged, now, rel_tol=_REL_TOL, abs_tol=_ABS_TOL):
            out.append(f"{path}: logged {logged!r}, re-derived {now!r}")
    elif logged != now or type(logged) is not type(now):
        out.append(f"{path}: logged {logged!r}, re-derived {now!r}")


def _codes(items: list[Any]) -> list[Any]:
    return [i.get("code", i) if isinstance(i, Mapping) else i for i in items]


def _rerate(
    loaded: LoadedModel,
    features: Mapping[str, Any],
    policy: Policy,
    logged_rating: Mapping[str, Any],
) -> ModelRating:
    row = {k: (np.nan if v is None else v) for k, v in features.items()}
    try:
        frame = pd.DataFrame([row], dtype=float)
        rated = loaded.model.rate(frame)
    except (ValueError, TypeError) as exc:
        raise AuditError(
            f"Cannot re-rate the logged feature row with {loaded.name} version "
            f"{loaded.version}: {exc}"
        ) from exc
    first = rated.iloc[0]
    reasons = tuple(
        None if pd.isna(first[c]) else str(first[c])
        for c in rated.columns
        if c.startswith("reason_")
    )
    # The policy reads features of the row; a feature the row lacks (not a
    # model input) is taken from what the logged rating recorded.
    logged_features = logged_rating.get("features") or {}
    policy_features = sorted(
        {r.when.feature for r in policy.rules if r.when.feature is not None}
    )
    values: dict[str, float | None] = {}
    for name in policy_features:
        value = features[name] if name in features else logged_features.get(name)
        values[name] = None if value is None or pd.isna(value) else float(value)
    return ModelRating(
        grade=str(first["grade"]),
        pd=float(first["proba_default"]),
        score=float(first["score"]),
        in_default=bool(first["in_default"]),
        reasons=reasons,
        features=values,
    )


def replay_decision(
    settings: Settings,
    payload: Mapping[str, Any],
    *,
    model: LoadedModel | None = None,
) -> ReplayResult:
    """Re-derive a logged decision from its logged inputs and compare.

    Loads the model version, policy version and reason catalogue the decision
    names, re-rates the logged feature row (the PD, score, grade and reasons
    must equal the logged model rating), rebuilds the facts and override,
    decides again at the logged date with the logged rule-set versions and
    compares every field of :meth:`Decision.to_dict`.

    Parameters
    ----------
    settings : Settings
        Engine settings (MLflow registry, definitions).
    payload : mapping
        The payload of a ``decision`` audit entry (:func:`decision_payload`).
    model : LoadedModel, optional
        The model to use if it is the version the decision names (saves
        loading it from the registry when replaying many decisions).

    Returns
    -------
    ReplayResult

    Raises
    ------
    AuditError
        If the payload is not a decision payload or its features cannot be
        rated.
    ModelNotFoundError
        If the model version is no longer registered.
    PolicyNotFoundError
        If the policy version no longer exists.
    """
    if not isinstance(payload, Mapping):
        raise AuditError(
            f"A decision payload is a mapping, got {type(payload).__name__}."
        )
    _section(payload, "the payload", ["decision", "inputs"])
    logged = payload["decision"]
    inputs = payload["inputs"]
    _section(
        logged,
        "the decision",
        ["uscc", "as_of", "model_name", "model_version", "policy_name",
         "policy_version", "rule_sets"],
    )  # fmt: skip
    _section(inputs, "the inputs", ["features", "model_rating", "facts", "override"])
    name, version = str(logged["model_name"]), str(logged["model_version"])
    if model is None or (model.name, str(model.version)) != (name, version):
        model = load_rating_model(settings, name, version=version)
    policy = load_policy(
        settings.definitions_dir,
        str(logged["policy_name"]),
        int(logged["policy_version"]),
    )
    catalogue = ReasonCatalogue.load(settings.definitions_dir)
    logged_rating = dict(inputs["model_rating"])
    rating = _rerate(model, inputs["features"], policy, logged_rating)
    try:
        facts = [FactInForce.from_dict(f) for f in inputs["facts"]]
        override = (
            None if inputs["override"] is None else Override(**inputs["override"])
        )
        as_of = dt.date.fromisoformat(str(logged["as_of"]))
        # Decisions logged before freshness was checked carry no marks.
        stale = tuple(
            StaleSource.from_dict(s) for s in logged.get("stale_sources") or ()
        )
    except (TypeError, ValueError, KeyError) as exc:
        raise AuditError(
            f"The logged facts, override, date or stale sources cannot be "
            f"rebuilt: {exc}."
        ) from exc
    context = DecisionContext(
        as_of=as_of,
        policy=policy,
        catalogue=catalogue,
        model_name=name,
        model_version=version,
        rule_sets={str(k): str(v) for k, v in dict(logged["rule_sets"]).items()},
        stale_sources=stale,
    )
    decision = decide(str(logged["uscc"]), rating, facts, override, context)
    rederived_decision = decision.to_dict()
    if "stale_sources" not in logged and not stale:
        del rederived_decision["stale_sources"]  # logged before the field existed
    rederived = {
        "decision": to_jsonable(rederived_decision, where="decision"),
        "model_rating": to_jsonable(
            {
                "grade": rating.grade,
                "pd": rating.pd,
                "score": rating.score,
                "in_default": rating.in_default,
                "reasons": list(rating.reasons),
                "features": dict(rating.features),
            }
        ),
    }
    logged_all = {"decision": dict(logged), "model_rating": logged_rating}
    differences: list[str] = []
    _diff("model_rating", logged_rating, rederived["model_rating"], differences)
    _diff("decision", logged_all["decision"], rederived["decision"], differences)
    return ReplayResult(
        ok=not differences,
        differences=differences,
        logged=logged_all,
        rederived=rederived,
    )
