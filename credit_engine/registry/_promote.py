"""Promotion: move ``champion`` to a version only if the spec's gates pass."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.config import Settings
from credit_engine.exceptions import (
    CreditEngineError,
    ModelNotFoundError,
    PromotionRefusedError,
)
from credit_engine.registry._store import (
    CHALLENGER,
    CHAMPION,
    alias_version,
    download_run_artifact,
    load_rating_model,
    set_alias,
    version_run,
)

__all__ = [
    "OOT_ROWS_ARTIFACT",
    "GateResult",
    "PromotionResult",
    "ShadowPeriod",
    "promote",
]

OOT_ROWS_ARTIFACT = "reports/oot_rows.parquet"
"""Out-of-time rows a training run logs, to compare the champion on the same rows."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of one promotion gate."""

    gate: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class ShadowPeriod:
    """The shadow runs of a model version: how many, first and last rating date.

    The registry does not read the operational store; whoever promotes reads
    the version's shadow runs there and passes this (``credit-engine promote``
    does).

    Attributes
    ----------
    runs : int
        Rating dates with a shadow run of the version.
    first, last : datetime.date or None
        First and last of those dates (``None`` without runs).

    Examples
    --------
    >>> import datetime as dt
    >>> ShadowPeriod(3, dt.date(2026, 1, 31), dt.date(2026, 3, 31)).days
    59
    >>> ShadowPeriod(0, None, None).days
    0
    """

    runs: int
    first: dt.date | None
    last: dt.date | None

    @property
    def days(self) -> int:
        """Days from the first to the last shadow rating date (0 without runs)."""
        if self.first is None or self.last is None:
            return 0
        return (self.last - self.first).days


def shadow_gate(required: int, period: ShadowPeriod | None, version: str) -> GateResult:
    """Judge the ``min_shadow_days`` gate.

    Examples
    --------
    >>> import datetime as dt
    >>> shadow_gate(0, None, "2").passed
    True
    >>> shadow_gate(90, ShadowPeriod(2, dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
    ...             "2").detail
    'v2 has 2 shadow run(s), 2026-01-31 to 2026-02-28: 28 days vs 90 required'
    """
    if required <= 0:
        return GateResult("min_shadow_days", True, "off (min_shadow_days: 0)")
    if period is None:
        return GateResult(
            "min_shadow_days",
            False,
            f"{required} days of shadow runs required, but the shadow runs were not "
            "read (promote with `credit-engine promote`, which reads them from the "
            "operational store)",
        )
    if period.runs == 0:
        return GateResult(
            "min_shadow_days",
            False,
            f"v{version} has no shadow run; {required} days required (rate with "
            "`credit-engine rate --shadow`)",
        )
    return GateResult(
        "min_shadow_days",
        period.days >= required,
        f"v{version} has {period.runs} shadow run(s), {period.first} to "
        f"{period.last}: {period.days} days vs {required} required",
    )


@dataclass
class PromotionResult:
    """What a promotion did and why."""

    name: str
    version: str
    previous_champion: str | None
    promoted: bool
    gates: list[GateResult] = field(default_factory=list)

    def failed(self) -> list[GateResult]:
        """Gates that did not pass."""
        return [g for g in self.gates if not g.passed]

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "previous_champion": self.previous_champion,
            "promoted": self.promoted,
            "gates": [asdict(g) for g in self.gates],
        }


def _champion_auc_on(
    settings: Settings, name: str, champion: str, run_id: str
) -> tuple[float, int]:
    from sklearn.metrics import roc_auc_score

    with tempfile.TemporaryDirectory() as tmp:
        path = download_run_artifact(settings, run_id, OOT_ROWS_ARTIFACT, Path(tmp))
        rows = pd.read_parquet(path)
    loaded = load_rating_model(settings, name, alias=None, version=champion)
    missing = [c for c in loaded.model.input_columns() if c not in rows.columns]
    if missing:
        raise CreditEngineError(
            f"The champion (version {champion}) needs features the challenger's "
            f"out-of-time rows lack: {missing[:5]}. Compare them on a common "
            "feature set, or promote with --force and a reason."
        )
    proba = loaded.model.proba_default(rows)
    return float(roc_auc_score(rows["label"], proba)), len(rows)


def evaluate_gates(
    settings: Settings,
    name: str,
    version: str,
    gates: dict[str, Any],
    *,
    shadow: ShadowPeriod | None = None,
) -> tuple[list[GateResult], str | None]:
    """Check a version against its spec's gates and the current champion.

    ``shadow`` is the version's shadow period, for the ``min_shadow_days`` gate
    (versions trained before the gate existed have it off).

    Returns
    -------
    tuple
        The gate results and the current champion's version (or None).
    """
    run = version_run(settings, name, version)
    metrics = run.data.metrics
    auc, psi = metrics.get("oot_auc"), metrics.get("oot_psi")
    red = int(metrics.get("oot_red_grades", 0))
    results = [
        GateResult(
            "min_auc",
            auc is not None and auc >= gates["min_auc"],
            f"out-of-time AUC {auc:.4f} vs floor {gates['min_auc']:.2f}",
        ),
        GateResult(
            "max_psi",
            psi is not None and psi < gates["max_psi"],
            f"score PSI {psi:.4f} vs limit {gates['max_psi']:.2f}",
        ),
        GateResult(
            "calibration",
            gates["allow_red_grades"] or red == 0,
            f"{red} red calibration grade(s) out of time"
            + ("" if red == 0 or not gates["allow_red_grades"] else " (allowed)"),
        ),
    ]
    champion = alias_version(settings, name, CHAMPION)
    if champion is None:
        results.append(GateResult("vs_champion", True, "no champion yet"))
    elif champion == str(version):
        results.append(GateResult("vs_champion", True, "already the champion"))
    else:
        champ_auc, n = _champion_auc_on(settings, name, champion, run.info.run_id)
        floor = champ_auc - gates["max_auc_drop"]
        results.append(
            GateResult(
                "vs_champion",
                auc is not None and auc >= floor,
                f"AUC {auc:.4f} vs champion v{champion} {champ_auc:.4f} on the same "
                f"{n:,} out-of-time rows (tolerance {gates['max_auc_drop']:.3f})",
            )
        )
    required = int(gates.get("min_shadow_days", 0))
    if champion == str(version):
        results.append(GateResult("min_shadow_days", True, "already the champion"))
    else:
        results.append(shadow_gate(required, shadow, str(version)))
    return results, champion


def promote(
    settings: Settings,
    name: str,
    *,
    version: str | None = None,
    actor: str | None = None,
    reason: str = "",
    force: bool = False,
    shadow: ShadowPeriod | None = None,
) -> PromotionResult:
    """Move ``champion`` to ``version`` (default: the ``challenger``) if gates pass.

    Parameters
    ----------
    settings : Settings
        Engine settings.
    name : str
        Registered model name.
    version : str, optional
        Version to promote; the current challenger by default.
    actor : str, optional
        Who promotes (default: the OS user).
    reason : str
        Why; stored in the alias history with the gate results.
    force : bool, default=False
        Promote despite failed gates (needs a reason; recorded as forced).
    shadow : ShadowPeriod, optional
        The version's shadow runs, for the ``min_shadow_days`` gate; without
        it that gate fails when the spec turns it on.

    Returns
    -------
    PromotionResult
        Whether the alias moved and every gate's result.

    Raises
    ------
    ModelNotFoundError
        If there is no such version or challenger.
    PromotionRefusedError
        If a gate failed and ``force`` is not set; the message lists the failures.
    """
    if version is None:
        version = alias_version(settings, name, CHALLENGER)
        if version is None:
            raise ModelNotFoundError(
                f"Registered model {name!r} has no challenger; train one first or "
                "pass --version."
            )
    run = version_run(settings, name, version)
    gates = _gates_of(run)
    results, champion = evaluate_gates(
        settings, name, str(version), gates, shadow=shadow
    )
    result = PromotionResult(
        name=name,
        version=str(version),
        previous_champion=champion,
        promoted=False,
        gates=results,
    )
    failed = result.failed()
    if failed and not force:
        raise PromotionRefusedError(
            f"Version {version} of {name} was not promoted; failed gate(s): "
            + "; ".join(f"{g.gate}: {g.detail}" for g in failed)
            + ". Fix the model, or promote with --force and a --reason.",
            result,
        )
    if failed and not reason:
        raise PromotionRefusedError(
            "A forced promotion past failed gates needs a --reason for the record.",
            result,
        )
    note = reason or "gates passed"
    if failed:
        note = f"FORCED past failed gates: {note}"
    set_alias(
        settings,
        name,
        CHAMPION,
        str(version),
        actor=actor,
        reason=note,
        gates=[asdict(g) for g in results],
    )
    result.promoted = True
    return result


def _gates_of(run: Any) -> dict[str, Any]:
    """Return the gates the version's spec declared (logged by ``credit-engine train``).

    There are no fallback thresholds here: the model spec is their one home.
    """
    import json

    raw = run.data.params.get("gates")
    if raw is None:
        raise CreditEngineError(
            f"Run {run.info.run_id} logged no 'gates' parameter, so its promotion "
            "gates are unknown; register models with `credit-engine train`."
        )
    gates: dict[str, Any] = json.loads(raw)
    return gates
