"""Reason codes: stable codes per department for the adverse factors of a decision.

Model reasons are features (``<view>__<feature>``); the catalogue
``features/reason_codes.yaml`` maps each to a code with Chinese and English
text, by feature where a finer code exists, else by view. Statutory reasons
are the fact codes of the rule sets, with their own texts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from credit_engine.exceptions import ConfigurationError
from credit_engine.freshness import StaleSource, knowledge_date
from credit_engine.vocabulary import DecidedBy, Department

__all__ = [
    "STALE_REASON_CODE",
    "Reason",
    "ReasonCatalogue",
    "ReasonCatalogueEntry",
    "stale_reason",
]

STALE_REASON_CODE = "DATA-STALE"
"""Reason of a decision rated while a required source was beyond its allowed lag."""

_DEPARTMENT_ZH = {
    "CUSTOMS": "海关",
    "TAX": "税务",
    "SAFE": "外汇管理",
    "SAMR": "市场监管",
}

DEPARTMENTS = (*Department.values(), "CROSS")
"""Departments a catalogue entry may name: the four, or ``CROSS`` for several."""


class ReasonCatalogueEntry(BaseModel):
    """One entry of the reason-code catalogue: a code, its department and texts.

    Not to be confused with the quarantine reasons of :mod:`credit_engine.data`
    (why ingestion set a record aside).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^(CUS|TAX|SAFE|SAMR|XD)-[0-9]{2}$")
    department: str
    zh: str
    en: str


@dataclass(frozen=True)
class Reason:
    """An adverse factor given with a decision.

    Attributes
    ----------
    code : str
        Stable code (``CUS-03``, or a statutory fact code such as
        ``CUSTOMS_DISHONEST``).
    department : str
        Department whose records it comes from.
    zh, en : str
        Text in Chinese and English.
    source : str
        The layer it comes from, a :class:`~credit_engine.vocabulary.DecidedBy`
        value: ``STATUTORY`` (a fact in force), ``OVERRIDE``, ``POLICY`` (a zone
        rule) or ``MODEL`` (a model factor).
    detail : str or None
        The feature, or the fact's date and details.
    """

    code: str
    department: str
    zh: str
    en: str
    source: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "code": self.code,
            "department": self.department,
            "zh": self.zh,
            "en": self.en,
            "source": self.source,
            "detail": self.detail,
        }


class ReasonCatalogue:
    """The feature-to-reason-code catalogue.

    Parameters
    ----------
    views : mapping of str to ReasonCatalogueEntry
        Code of each feature view.
    features : mapping of str to ReasonCatalogueEntry
        Finer codes of single features (``<view>__<feature>``).
    """

    def __init__(
        self,
        views: Mapping[str, ReasonCatalogueEntry],
        features: Mapping[str, ReasonCatalogueEntry],
    ) -> None:
        self.views = dict(views)
        self.features = dict(features)
        seen: dict[str, ReasonCatalogueEntry] = {}
        for entry in [*self.views.values(), *self.features.values()]:
            if entry.department not in DEPARTMENTS:
                raise ConfigurationError(
                    f"Reason code {entry.code} has department {entry.department!r}; "
                    f"expected one of {DEPARTMENTS}."
                )
            other = seen.setdefault(entry.code, entry)
            if other != entry:
                raise ConfigurationError(
                    f"Reason code {entry.code} is defined twice with different "
                    f"texts or departments: {other} vs {entry}. A code has one "
                    "meaning; give the second factor its own code."
                )

    @classmethod
    def load(cls, definitions_dir: Path) -> ReasonCatalogue:
        """Read ``features/reason_codes.yaml`` under ``definitions_dir``."""
        path = Path(definitions_dir) / "features" / "reason_codes.yaml"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            views = {
                k: ReasonCatalogueEntry(**v)
                for k, v in (raw.get("views") or {}).items()
            }
            feats = {
                k: ReasonCatalogueEntry(**v)
                for k, v in (raw.get("features") or {}).items()
            }
        except FileNotFoundError as exc:
            raise ConfigurationError(f"Reason-code catalogue missing: {path}") from exc
        except (yaml.YAMLError, ValidationError, AttributeError, TypeError) as exc:
            raise ConfigurationError(
                f"Invalid reason-code catalogue {path}: {exc}"
            ) from exc
        return cls(views, feats)

    def lookup(self, feature: str) -> ReasonCatalogueEntry:
        """Return the code of a model feature (by feature, else by its view).

        Raises
        ------
        ConfigurationError
            If neither the feature nor its view has a code.
        """
        entry = self.features.get(feature)
        if entry is None:
            entry = self.views.get(feature.split("__", 1)[0])
        if entry is None:
            raise ConfigurationError(
                f"Feature {feature!r} has no reason code: add its view or the "
                "feature to features/reason_codes.yaml."
            )
        return entry

    def missing(self, features: Iterable[str]) -> list[str]:
        """Features that have no reason code (for a completeness check)."""
        return [
            f
            for f in features
            if f not in self.features and f.split("__", 1)[0] not in self.views
        ]

    def model_reasons(self, features: Iterable[str | None], k: int) -> list[Reason]:
        """Return the first ``k`` distinct codes of a row's ranked model reasons."""
        out: list[Reason] = []
        seen: set[str] = set()
        for feature in features:
            if feature is None or len(out) >= k:
                continue
            entry = self.lookup(feature)
            if entry.code in seen:
                continue
            seen.add(entry.code)
            out.append(
                Reason(
                    entry.code,
                    entry.department,
                    entry.zh,
                    entry.en,
                    DecidedBy.MODEL.value,
                    feature,
                )
            )
        return out


def stale_reason(stale: Sequence[StaleSource], as_of: dt.date) -> Reason:
    """Return the ``DATA-STALE`` reason of a decision rated on stale sources.

    Parameters
    ----------
    stale : sequence of StaleSource
        The required tables beyond their allowed lag at ``as_of`` (not empty).
    as_of : datetime.date
        Rating date.

    Returns
    -------
    Reason
        Code ``DATA-STALE``, source ``POLICY`` (the zone's freshness policy),
        department the one department stale or ``CROSS``; the text names the
        departments and the date the model's grade rests on, the detail each
        table with its last delivery, age and allowed lag.

    Examples
    --------
    >>> mark = dt.datetime(2026, 9, 30, 10, tzinfo=dt.UTC)
    >>> r = stale_reason([StaleSource("customs_tax_bill", "CUSTOMS", mark, 65, 3)],
    ...                  dt.date(2026, 12, 4))
    >>> r.code, r.department
    ('DATA-STALE', 'CUSTOMS')
    >>> r.detail
    'customs_tax_bill: last delivered 2026-09-30, 65 days ago (3 allowed)'

    """
    departments = sorted({s.department for s in stale})
    basis = knowledge_date(stale, as_of).isoformat()
    names_en = ", ".join(departments)
    names_zh = "、".join(_DEPARTMENT_ZH.get(d, d) for d in departments)
    zh = (
        f"数据不新鲜：{names_zh}的数据超过允许的延迟；不依据其缺失记录认定不利事实，"
        f"模型评级依据截至{basis}的数据"
    )
    en = (
        f"Stale data: {names_en} records are beyond their allowed lag; no adverse "
        f"fact is inferred from their missing records and the model grades what "
        f"the lake knew on {basis}"
    )

    def one(s: StaleSource) -> str:
        if s.watermark_date is None:
            return f"{s.table}: never delivered"
        return (
            f"{s.table}: last delivered {s.watermark_date.isoformat()}, "
            f"{s.age_days} days ago ({s.allowed_lag_days} allowed)"
        )

    return Reason(
        STALE_REASON_CODE,
        departments[0] if len(departments) == 1 else "CROSS",
        zh,
        en,
        DecidedBy.POLICY.value,
        "; ".join(one(s) for s in stale),
    )
