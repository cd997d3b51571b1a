"""Compute the zone statistics report: the lake, the store and the hooks."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from credit_engine.exceptions import ReportError
from credit_engine.zone_statistics._decisions import (
    DECISION_FIELDS,
    DecisionFigures,
    consecutive_pairs,
    representative_dates,
)
from credit_engine.zone_statistics._hooks import (
    WARNING_COLUMNS,
    FreshnessSource,
    WarningSource,
)
from credit_engine.zone_statistics._lake import LakeQueries, register_periods
from credit_engine.zone_statistics._periods import Period, periods_between
from credit_engine.zone_statistics._reference import ZoneReference
from credit_engine.zone_statistics._report import (
    SECTION_KEYS,
    Section,
    ZoneReport,
    ordered_sections,
)
from credit_engine.zone_statistics._supervision import (
    PunishmentNamer,
    freshness_tables,
    green_channel_tables,
    migration_tables,
    override_tables,
    punishment_tables,
    warning_tables,
)
from credit_engine.zone_statistics._tables import (
    declaration_tables,
    enterprise_tables,
    forex_tables,
    refund_tables,
    tier_tables,
)

if TYPE_CHECKING:
    from credit_engine.features import Sources

__all__ = ["BUILD_STEPS", "DecisionReader", "build_zone_report", "jp_prefix_names"]

BUILD_STEPS: tuple[str, ...] = ("prepare", *SECTION_KEYS)
"""The steps :func:`build_zone_report` reports to its ``progress`` callback."""

_LAKE_SECTIONS = ("enterprises", "declarations", "refunds", "forex")
_DECISION_SECTIONS = (
    "tiers",
    "green_channel",
    "joint_punishments",
    "migrations",
    "overrides",
)


class DecisionReader(Protocol):
    """What the report reads from the operational store (:class:`OperationalStore`)."""

    def runs(self) -> pd.DataFrame:
        """Every rating run (``as_of``, ``finished_at``, ...)."""

    def decisions_between(
        self,
        start: dt.date,
        end: dt.date,
        *,
        columns: Sequence[str],
        known_before: dt.datetime | None = None,
        joint_punishment: bool | None = None,
    ) -> pd.DataFrame:
        """Columns of the latest run of every rating date in ``[start, end]``."""

    def list_overrides(
        self, *, created_before: dt.datetime | None = None
    ) -> pd.DataFrame:
        """Every override created before an instant."""

    def overrides_in_force(
        self, as_of: dt.date, *, usccs: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Return the override in force at ``as_of`` per enterprise."""


def jp_prefix_names(policy_name: str, policy_version: int, code: str) -> str | None:
    """Fallback namer: a measure is a joint punishment if its code starts ``JP-``.

    The zone policies name their joint-punishment measures ``JP-nn`` (the
    policy check insists on it); the display name is then the code.

    Examples
    --------
    >>> jp_prefix_names("zone", 2, "JP-01"), jp_prefix_names("zone", 2, "ZS-03")
    ('JP-01', None)
    """
    return code if code.startswith("JP-") else None


def _unavailable(key: str, note: str) -> Section:
    return Section(key, available=False, note=note)


def _known_dates(runs: pd.DataFrame, cutoff: dt.datetime) -> list[dt.date]:
    if runs.empty:
        return []
    finished = pd.to_datetime(runs["finished_at"], utc=True)
    return sorted(
        {d for d, f in zip(runs["as_of"], finished, strict=True) if f < cutoff}
    )


class _Builder:
    """One report's computation (the state shared by its steps)."""

    def __init__(
        self,
        con: Any,
        lake: LakeQueries,
        periods: tuple[Period, ...],
        reference: ZoneReference,
        cutoff: dt.datetime,
    ) -> None:
        self.con = con
        self.lake = lake
        self.periods = periods
        self.reference = reference
        self.cutoff = cutoff

    def lake_section(self, key: str) -> Section:
        """Compute one of the sections of the lake (:data:`_LAKE_SECTIONS`)."""
        lake, con, periods, ref = self.lake, self.con, self.periods, self.reference
        if key == "enterprises":
            tables = enterprise_tables(lake.enterprises(con), periods, ref)
        elif key == "declarations":
            tables = declaration_tables(lake.declarations(con), periods, ref)
        elif key == "refunds":
            tables = refund_tables(lake.refunds(con), periods)
        else:
            tables = forex_tables(lake.forex(con))
        return Section(key, tables)

    def decision_sections(
        self, reader: DecisionReader, names: PunishmentNamer
    ) -> tuple[dict[str, Section], list[dt.date]]:
        known = _known_dates(reader.runs(), self.cutoff)
        first, last = self.periods[0].start, self.periods[-1].end
        inside = [d for d in known if first <= d <= last]
        before = [d for d in known if d < first]
        representative = representative_dates(self.periods, inside)
        pairs = consecutive_pairs(self.periods, [*before[-1:], *inside])
        start = before[-1] if before else first
        decisions = reader.decisions_between(
            start, last, columns=DECISION_FIELDS, known_before=self.cutoff
        )
        rep_days = set(representative.values())
        rated = decisions[decisions["as_of"].isin(rep_days)]
        figures = DecisionFigures(self.con, representative)
        figures.load(decisions, self.lake.main_modes(self.con, rated))
        totals = figures.totals()
        flagged = reader.decisions_between(
            min(rep_days, default=first),
            max(rep_days, default=first),
            columns=["measures", "policy_name", "policy_version"],
            known_before=self.cutoff,
            joint_punishment=True,
        )
        in_force = {
            p.label: len(reader.overrides_in_force(p.stock_date)) for p in self.periods
        }
        overrides = reader.list_overrides(created_before=self.cutoff)
        if "revoked_at" in overrides:
            revoked = pd.to_datetime(overrides["revoked_at"], utc=True)
            overrides = overrides.assign(
                revoked_at=revoked.where(revoked < self.cutoff)
            )
        note = (
            "No rating run in the range was finished before the knowledge cutoff."
            if not representative
            else ""
        )
        sections = {
            "tiers": Section(
                "tiers",
                tier_tables(figures.tiers(), representative, self.reference),
                note=note,
            ),
            "green_channel": Section(
                "green_channel", green_channel_tables(totals), note=note
            ),
            "joint_punishments": Section(
                "joint_punishments",
                punishment_tables(totals, flagged, representative, names),
                note=note,
            ),
            "migrations": Section(
                "migrations",
                migration_tables(figures.migrations(pairs)),
                note="" if pairs else "Fewer than two rating dates: no migration.",
            ),
            "overrides": Section(
                "overrides", override_tables(overrides, in_force, totals, self.periods)
            ),
        }
        return sections, sorted({*([start] if before else []), *inside})


def build_zone_report(  # noqa: PLR0913 - each source is a separate, optional input
    sources: Sources,
    *,
    start: dt.date,
    end: dt.date,
    period: str = "month",
    knowledge_date: dt.date | None = None,
    reference: ZoneReference | None = None,
    decisions: DecisionReader | None = None,
    punishment_names: PunishmentNamer = jp_prefix_names,
    warnings: WarningSource | None = None,
    freshness: FreshnessSource | None = None,
    progress: Callable[[str], None] | None = None,
    con: Any | None = None,
) -> ZoneReport:
    """Compute the zone statistics between two dates, per month or quarter.

    Parameters
    ----------
    sources : credit_engine.features.Sources
        The department records (the lake, or frames in tests).
    start, end : datetime.date
        First and last day of the report.
    period : {"month", "quarter"}, default="month"
        Period length.
    knowledge_date : datetime.date, optional
        Knowledge cutoff: what was ingested (runs finished, overrides
        recorded) by the end of this day, UTC. Default: today (UTC), so a
        report produced on day X counts what was known by X.
    reference : ZoneReference, optional
        District names and reported modes (default: no names, no listed modes).
    decisions : DecisionReader, optional
        The operational store; without it the decision sections are
        unavailable.
    punishment_names : callable, default=jp_prefix_names
        ``(policy_name, policy_version, code) -> name or None``: the display
        name of a joint-punishment measure, ``None`` for other measures.
    warnings : WarningSource, optional
        Early warnings; without it the section says there are none to show.
    freshness : FreshnessSource, optional
        Data freshness figures; without it the section is unavailable.
    progress : callable, optional
        Called with each name of :data:`BUILD_STEPS` once done.
    con : duckdb.DuckDBPyConnection, optional
        A connection to use; its session time zone must be UTC. Default: a
        new in-memory one.

    Returns
    -------
    ZoneReport

    Raises
    ------
    ReportError
        If ``end`` precedes ``start``, ``period`` is unknown or the report
        starts after its knowledge date.
    """
    started = time.perf_counter()
    knowledge = knowledge_date or dt.datetime.now(dt.UTC).date()
    if start > knowledge:
        raise ReportError(
            f"The report starts on {start.isoformat()}, after its knowledge date "
            f"{knowledge.isoformat()}: nothing of it can be known yet. Give an "
            "earlier --from or a later --known-at."
        )
    periods = periods_between(start, end, period, knowledge_date=knowledge)
    ref = reference or ZoneReference()
    own = con is None
    connection: Any = _connect() if con is None else con
    report_progress = progress or (lambda _step: None)
    try:
        sources.register(connection, list(sources.contracts))
        register_periods(connection, periods)
        lake = LakeQueries(sources.contracts, periods, period, knowledge, ref)
        cutoff = _end_of_day(knowledge)
        builder = _Builder(connection, lake, periods, ref, cutoff)
        sections: list[Section] = []
        lake.prepare(connection)
        report_progress("prepare")
        for key in _LAKE_SECTIONS:
            sections.append(builder.lake_section(key))
            report_progress(key)
        rating_dates: list[dt.date] = []
        if decisions is None:
            sections += [
                _unavailable(k, "No operational store given: no decisions to count.")
                for k in _DECISION_SECTIONS
            ]
        else:
            found, rating_dates = builder.decision_sections(decisions, punishment_names)
            sections += [found[k] for k in _DECISION_SECTIONS]
        for key in _DECISION_SECTIONS:
            report_progress(key)
        sections.append(_warnings_section(warnings, periods, start, end, cutoff))
        report_progress("warnings")
        sections.append(_freshness_section(freshness, knowledge))
        report_progress("freshness")
    finally:
        if own:
            connection.close()
    return ZoneReport(
        start=start,
        end=end,
        period=period,
        knowledge_date=knowledge,
        periods=periods,
        sections=ordered_sections(sections),
        generated_at=dt.datetime.now(dt.UTC),
        lake_state=sources.lineage(),
        rating_dates=tuple(rating_dates),
        elapsed_seconds=time.perf_counter() - started,
    )


def _connect() -> Any:
    """Open an in-memory DuckDB connection with a UTC session (bucketing needs it)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    return con


def _end_of_day(day: dt.date) -> dt.datetime:
    """Return the end of ``day``, UTC (the first instant not known)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)


def _warnings_section(
    source: WarningSource | None,
    periods: Sequence[Period],
    start: dt.date,
    end: dt.date,
    cutoff: dt.datetime,
) -> Section:
    if source is None:
        return _unavailable(
            "warnings",
            "No early-warning data: the store has no warnings table (the early-"
            "warning module is not installed).",
        )
    frame = source(start, end, cutoff)
    missing = [c for c in WARNING_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportError(
            f"The warning source returned no columns {missing}; it must return "
            f"{list(WARNING_COLUMNS)} (see "
            "credit_engine.zone_statistics.WarningSource)."
        )
    return Section("warnings", warning_tables(frame, periods))


def _freshness_section(source: FreshnessSource | None, knowledge: dt.date) -> Section:
    if source is None:
        return _unavailable(
            "freshness",
            "No data-freshness figures: the freshness monitor is not wired to "
            "this report.",
        )
    return Section("freshness", freshness_tables(source(knowledge)))
