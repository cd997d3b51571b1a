"""Decide many enterprises at once from frames (ratings, facts, overrides)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from credit_engine.decisioning._decide import (
    Decision,
    DecisionContext,
    FactInForce,
    ModelRating,
    Override,
    decide,
)
from credit_engine.decisioning._policy import Policy
from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Tier

__all__ = [
    "decide_frame",
    "facts_by_uscc",
    "model_ratings",
    "overrides_by_uscc",
    "policy_features",
]


def _date(value: Any) -> dt.date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def _opt_float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _opt_str(value: Any) -> str | None:
    return (
        None
        if value is None or (not isinstance(value, str) and pd.isna(value))
        else str(value)
    )


def _opt_tier(value: Any) -> Tier | None:
    code = _opt_str(value)
    return None if code is None else Tier(code)


def facts_by_uscc(
    facts: pd.DataFrame, texts: Mapping[str, tuple[str, str]] | None = None
) -> dict[str, list[FactInForce]]:
    """Group the long facts frame of :func:`credit_engine.rules.statutory_facts`.

    Parameters
    ----------
    facts : pandas.DataFrame
        One row per fact in force (``uscc``, ``code``, ``department``,
        ``rule_set``, ``since``, ``until``, ``detail`` and the effect columns).
    texts : mapping of str to (str, str), optional
        Chinese and English text per fact code (default: the ``zh``/``en``
        columns of ``facts`` if present).

    Returns
    -------
    dict of str to list of FactInForce
    """
    out: dict[str, list[FactInForce]] = {}
    if facts.empty:
        return out
    has_text = {"zh", "en"} <= set(facts.columns)
    records: list[dict[str, Any]] = facts.to_dict("records")  # type: ignore[assignment]
    for r in records:
        zh, en = (
            texts[r["code"]]
            if texts is not None and r["code"] in texts
            else ((str(r["zh"]), str(r["en"])) if has_text else (r["code"], r["code"]))
        )
        since = _date(r["since"])
        assert since is not None, f"fact {r['code']} of {r['uscc']} has no since date"
        out.setdefault(str(r["uscc"]), []).append(
            FactInForce(
                code=str(r["code"]),
                department=str(r["department"]),
                rule_set=str(r["rule_set"]),
                since=since,
                until=_date(r.get("until")),
                detail=_opt_str(r.get("detail")),
                ceiling=_opt_tier(r.get("ceiling")),
                joint_punishment=bool(r.get("joint_punishment", False)),
                blocks_green_channel=bool(r.get("blocks_green_channel", False)),
                favourable=bool(r.get("favourable", False)),
                inspection_factor_cap=_opt_float(r.get("inspection_factor_cap")),
                inspection_min_rate=_opt_float(r.get("inspection_min_rate")),
                zh=zh,
                en=en,
            )
        )
    return out


def overrides_by_uscc(overrides: pd.DataFrame) -> dict[str, Override]:
    """Index the overrides in force (from the operational store) by enterprise."""
    if overrides.empty:
        return {}
    records: list[dict[str, Any]] = overrides.to_dict("records")  # type: ignore[assignment]
    return {
        str(r["uscc"]): Override(
            int(r["override_id"]),
            Tier(str(r["tier"])),
            str(r["reason"]),
            str(r["actor"]),
        )
        for r in records
    }


def policy_features(policy: Policy) -> list[str]:
    """Return the feature columns the policy's rules read, sorted."""
    return sorted({r.when.feature for r in policy.rules if r.when.feature is not None})


def model_ratings(
    ratings: pd.DataFrame, policy: Policy
) -> Iterator[tuple[str, ModelRating]]:
    """Turn a rating frame into ``(uscc, ModelRating)`` pairs, in row order.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``uscc`` plus the output of :meth:`credit_engine.modeling.RatingModel.rate`
        (``proba_default``, ``score``, ``grade``, ``in_default``, ``reason_*``) and
        the feature columns the policy rules read.
    policy : Policy
        The policy (its rules say which features to carry).

    Raises
    ------
    ConfigurationError
        If a feature the policy reads is not in the frame.
    """
    reason_cols = sorted(
        (c for c in ratings.columns if c.startswith("reason_")),
        key=lambda c: int(c.split("_")[1]),
    )
    feature_cols = policy_features(policy)
    missing = [c for c in feature_cols if c not in ratings.columns]
    if missing:
        raise ConfigurationError(
            f"Policy {policy.label} reads features {missing} that the rating "
            "frame lacks; add them to the model's feature set or change the rule."
        )
    cols = ["uscc", "grade", "proba_default", "score", "in_default"]
    frame = ratings[cols + reason_cols + feature_cols]
    n_r = len(reason_cols)
    for values in frame.itertuples(index=False, name=None):
        uscc, grade, pd_, score, in_default = values[:5]
        reasons = tuple(_opt_str(r) for r in values[5 : 5 + n_r])
        features = {
            c: _opt_float(v)
            for c, v in zip(feature_cols, values[5 + n_r :], strict=True)
        }
        yield (
            str(uscc),
            ModelRating(
                str(grade),
                float(pd_),
                float(score),
                bool(in_default),
                reasons,
                features,
            ),
        )


def decide_frame(
    ratings: pd.DataFrame,
    facts: Mapping[str, Sequence[FactInForce]],
    overrides: Mapping[str, Override],
    context: DecisionContext,
) -> list[Decision]:
    """Decide every enterprise of a rating frame.

    Parameters
    ----------
    ratings : pandas.DataFrame
        ``uscc`` plus the output of :meth:`credit_engine.modeling.RatingModel.rate`
        (``proba_default``, ``score``, ``grade``, ``in_default``, ``reason_*``) and
        the feature columns the policy rules read.
    facts : mapping of str to sequence of FactInForce
        Facts in force per enterprise (:func:`facts_by_uscc`).
    overrides : mapping of str to Override
        Override in force per enterprise (:func:`overrides_by_uscc`).
    context : DecisionContext
        Policy, catalogue and versions of the run.

    Returns
    -------
    list of Decision
        In the order of ``ratings``.
    """
    return [
        decide(uscc, rating, facts.get(uscc, ()), overrides.get(uscc), context)
        for uscc, rating in model_ratings(ratings, context.policy)
    ]
