"""Freshness at a date: each table fresh, late or stale, and the freshness date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from credit_engine.freshness._policy import Cadence, FreshnessPolicy, SourcePolicy
from credit_engine.freshness._watermarks import TableWatermark, Watermarks
from credit_engine.jsonable import to_jsonable
from credit_engine.vocabulary import Department

__all__ = [
    "NOT_DELIVERED",
    "NOT_DELIVERED_TEXT",
    "DepartmentFreshness",
    "FreshnessReport",
    "FreshnessStatus",
    "StaleSource",
    "TableFreshness",
    "assess_freshness",
    "default_serving_date",
    "freshness_date",
    "freshness_lights",
    "knowledge_date",
]

NOT_DELIVERED = "n/a"
"""``status`` of an optional table never delivered, in the monitoring ``data``.

Not a light: such a table reads "not delivered, not required"
(:data:`NOT_DELIVERED_TEXT`). A zone may simply not have that source, so it
neither colours the monitoring status nor is listed as a finding."""

NOT_DELIVERED_TEXT = "not delivered, not required"
"""How an optional table that never delivered reads in the monitoring report."""


class FreshnessStatus(StrEnum):
    """How current a table is at a date, best first.

    ``fresh``: its next delivery is not yet due; ``late``: due but still within
    the allowed lag; ``stale``: beyond the allowed lag (or never delivered).
    """

    FRESH = "fresh"
    LATE = "late"
    STALE = "stale"

    @property
    def rank(self) -> int:
        """0 for fresh, 1 for late, 2 for stale."""
        return list(FreshnessStatus).index(self)

    @property
    def light(self) -> str:
        """Traffic light of the monitoring report: green, amber or red."""
        return ("green", "amber", "red")[self.rank]

    @classmethod
    def worst(cls, statuses: Iterable[FreshnessStatus]) -> FreshnessStatus:
        """Return the worst status (fresh if there is none)."""
        return max(statuses, key=lambda s: s.rank, default=cls.FRESH)


@dataclass(frozen=True)
class StaleSource:
    """A required table that is stale at a rating date: what a decision is marked with.

    Attributes
    ----------
    table : str
        Contract table.
    department : str
        Its department (CUSTOMS, TAX, SAFE, SAMR).
    watermark : datetime.datetime or None
        Its latest delivery known at the date (``None``: never delivered).
    age_days : int or None
        Days from the watermark date to the date.
    allowed_lag_days : int
        The policy's allowed lag.

    Examples
    --------
    >>> s = StaleSource("customs_tax_bill", "CUSTOMS",
    ...                 dt.datetime(2026, 9, 30, 10, tzinfo=dt.UTC), 65, 3)
    >>> StaleSource.from_dict(s.to_dict()) == s
    True
    >>> s.since
    datetime.date(2026, 10, 4)
    """

    table: str
    department: str
    watermark: dt.datetime | None
    age_days: int | None
    allowed_lag_days: int

    @property
    def watermark_date(self) -> dt.date | None:
        """UTC date of the watermark."""
        w = self.watermark
        return None if w is None else w.astimezone(dt.UTC).date()

    @property
    def since(self) -> dt.date | None:
        """First day the table is stale (``None`` if never delivered)."""
        day = self.watermark_date
        return None if day is None else day + dt.timedelta(self.allowed_lag_days + 1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the watermark as an ISO instant)."""
        return {
            "table": self.table,
            "department": self.department,
            "watermark": None if self.watermark is None else self.watermark.isoformat(),
            "age_days": self.age_days,
            "allowed_lag_days": self.allowed_lag_days,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StaleSource:
        """Rebuild from :meth:`to_dict` (stored decisions, audit replay)."""
        mark = data.get("watermark")
        age = data.get("age_days")
        return cls(
            table=str(data["table"]),
            department=str(data["department"]),
            watermark=None if mark is None else dt.datetime.fromisoformat(str(mark)),
            age_days=None if age is None else int(age),
            allowed_lag_days=int(data["allowed_lag_days"]),
        )


def knowledge_date(stale: Sequence[StaleSource], at: dt.date) -> dt.date:
    """Return the date whose knowledge a rating at ``at`` may rest on.

    With stale sources, the last date on which every stale source had still
    delivered: the earliest of their watermark dates (a source never
    delivered does not move it). Without, ``at`` itself.

    Examples
    --------
    >>> s = StaleSource("t", "TAX", dt.datetime(2026, 9, 29, 8, tzinfo=dt.UTC), 9, 3)
    >>> knowledge_date([s], dt.date(2026, 10, 8))
    datetime.date(2026, 9, 29)
    >>> knowledge_date([], dt.date(2026, 10, 8))
    datetime.date(2026, 10, 8)
    """
    days = [s.watermark_date for s in stale if s.watermark_date is not None]
    return min([*days, at])


@dataclass(frozen=True)
class TableFreshness:
    """One table at a date: its watermark against its policy.

    Attributes
    ----------
    table, department : str, Department
        The table and its department.
    status : FreshnessStatus
        fresh, late or stale, judged by ``delivered``.
    watermark : datetime.datetime or None
        Latest ``ingested_at`` of the table's records known at the knowledge
        date.
    delivered : datetime.datetime or None
        Its last delivery: ``watermark``, or the later of it and the
        watermark of the table it is delivered with (``delivered_with``). The
        age and status are judged by it, and the silence of the table is
        evidence up to it.
    delivered_with : str or None
        The dense table whose deliveries carry this quiet one.
    latest_event_at : datetime.datetime or None
        Latest valid time known.
    rows : int
        Record versions known.
    age_days : int or None
        Days from the watermark date to the date (``None``: never delivered).
    cadence : Cadence
        Expected cadence.
    allowed_lag_days : int
        Allowed lag.
    expected_next : datetime.date or None
        When the next delivery is due (watermark date + cadence).
    stale_since : datetime.date or None
        First day the table is (or will be) stale without a new delivery.
    required, convention : bool
        From the policy.
    batches : int or None
        Committed batches carrying the table (lake only).
    last_batch_at : datetime.datetime or None
        Commit time of the latest of them.
    """

    table: str
    department: Department
    status: FreshnessStatus
    watermark: dt.datetime | None
    latest_event_at: dt.datetime | None
    rows: int
    age_days: int | None
    cadence: Cadence
    allowed_lag_days: int
    expected_next: dt.date | None
    stale_since: dt.date | None
    required: bool
    convention: bool
    batches: int | None = None
    last_batch_at: dt.datetime | None = None
    delivered: dt.datetime | None = None
    delivered_with: str | None = None

    def stale_source(self) -> StaleSource:
        """Return this table as a decision's stale-source mark."""
        return StaleSource(
            self.table,
            self.department.value,
            self.delivered,
            self.age_days,
            self.allowed_lag_days,
        )


@dataclass(frozen=True)
class DepartmentFreshness:
    """A department's required tables rolled up: its worst status.

    Attributes
    ----------
    department : Department
        The department.
    status : FreshnessStatus
        Worst status of its required tables.
    tables : tuple of str
        Its tables.
    stale_tables : tuple of str
        Those that are stale.
    oldest_watermark : datetime.datetime or None
        Oldest watermark of its required tables.
    """

    department: Department
    status: FreshnessStatus
    tables: tuple[str, ...]
    stale_tables: tuple[str, ...]
    oldest_watermark: dt.datetime | None


@dataclass(frozen=True)
class FreshnessReport:
    """Every table and department at a date, and the lake's freshness date.

    Attributes
    ----------
    at : datetime.date
        The date judged (a rating or serving date, or today).
    as_of : datetime.date or None
        Knowledge date of the watermarks (``None``: the lake as it stands).
    status : FreshnessStatus
        Worst status of the required tables.
    freshness_date : datetime.date or None
        Latest date at which no required table is stale, by these watermarks
        (:func:`freshness_date`); ``None`` if a required table was never
        delivered.
    tables : mapping of str to TableFreshness
        Per table.
    departments : mapping of Department to DepartmentFreshness
        Per department.
    policy_version : int
        Version of the freshness policy.
    lineage : str
        The data state read.
    """

    at: dt.date
    as_of: dt.date | None
    status: FreshnessStatus
    freshness_date: dt.date | None
    tables: Mapping[str, TableFreshness]
    departments: Mapping[Department, DepartmentFreshness]
    policy_version: int
    lineage: str = ""

    @property
    def stale_sources(self) -> tuple[StaleSource, ...]:
        """The required tables stale at :attr:`at`, by department and table."""
        stale = [
            t
            for t in self.tables.values()
            if t.required and t.status is FreshnessStatus.STALE
        ]
        stale.sort(key=lambda t: (t.department.value, t.table))
        return tuple(t.stale_source() for t in stale)

    @property
    def knowledge_date(self) -> dt.date:
        """What the model may grade at :attr:`at` (see :func:`knowledge_date`)."""
        return knowledge_date(self.stale_sources, self.at)

    def evidence(self) -> dict[str, dt.datetime | None]:
        """Table to its last delivery: how far its silence is evidence.

        What the rule layers take as watermarks
        (``statutory_facts(..., watermarks=report.evidence())``).
        """
        return {name: t.delivered for name, t in self.tables.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``freshness --report-json``)."""
        data = {
            "at": self.at,
            "as_of": self.as_of,
            "status": self.status.value,
            "freshness_date": self.freshness_date,
            "policy_version": self.policy_version,
            "departments": {
                d.value: {
                    "status": f.status.value,
                    "tables": list(f.tables),
                    "stale_tables": list(f.stale_tables),
                    "oldest_watermark": f.oldest_watermark,
                }
                for d, f in self.departments.items()
            },
            "tables": {
                name: {
                    "department": t.department.value,
                    "status": t.status.value,
                    "watermark": t.watermark,
                    "delivered": t.delivered,
                    "delivered_with": t.delivered_with,
                    "latest_event_at": t.latest_event_at,
                    "rows": t.rows,
                    "age_days": t.age_days,
                    "cadence": t.cadence.value,
                    "allowed_lag_days": t.allowed_lag_days,
                    "expected_next_delivery": t.expected_next,
                    "stale_since": t.stale_since,
                    "required": t.required,
                    "convention": t.convention,
                    "batches": t.batches,
                    "last_batch_at": t.last_batch_at,
                }
                for name, t in self.tables.items()
            },
        }
        ready: dict[str, Any] = to_jsonable(data, where="freshness")
        return ready


def _delivered(
    watermarks: Watermarks, policy: FreshnessPolicy, table: str
) -> dt.datetime | None:
    """Return a table's last delivery: its own watermark or its carrier's."""
    own = watermarks.tables[table].latest_ingested_at
    carrier = policy[table].delivered_with
    if carrier is None or carrier not in watermarks.tables:
        return own
    moments = [own, watermarks.tables[carrier].latest_ingested_at]
    known = [m for m in moments if m is not None]
    return max(known, default=None)


def _day(moment: dt.datetime | None) -> dt.date | None:
    return None if moment is None else moment.astimezone(dt.UTC).date()


def _table(
    mark: TableWatermark,
    policy: SourcePolicy,
    at: dt.date,
    delivered: dt.datetime | None,
) -> TableFreshness:
    day = _day(delivered)
    if day is None:
        status = FreshnessStatus.STALE
        age = expected = since = None
    else:
        age = max((at - day).days, 0)
        expected = policy.cadence.next_after(day)
        since = day + dt.timedelta(days=policy.allowed_lag_days + 1)
        if at <= expected:
            status = FreshnessStatus.FRESH
        elif at < since:
            status = FreshnessStatus.LATE
        else:
            status = FreshnessStatus.STALE
    return TableFreshness(
        table=mark.table,
        department=mark.department,
        status=status,
        watermark=mark.latest_ingested_at,
        latest_event_at=mark.latest_event_at,
        rows=mark.rows,
        age_days=age,
        cadence=policy.cadence,
        allowed_lag_days=policy.allowed_lag_days,
        expected_next=expected,
        stale_since=since,
        required=policy.required,
        convention=policy.convention,
        batches=mark.batches,
        last_batch_at=mark.last_batch_at,
        delivered=delivered,
        delivered_with=policy.delivered_with,
    )


def freshness_date(watermarks: Watermarks, policy: FreshnessPolicy) -> dt.date | None:
    """Return the lake's freshness date: the latest date no required table is stale.

    For every required table, the UTC date of its last delivery (its latest
    ``ingested_at`` known, or its carrier's if later, see
    :attr:`SourcePolicy.delivered_with`) plus its allowed lag is the last day
    it is not stale; the freshness date is the earliest of these. Rating or serving on
    or before it marks no decision; after it, at least one required table is
    stale and every decision carries it.

    Parameters
    ----------
    watermarks : Watermarks
        The tables' watermarks (:func:`lake_watermarks`).
    policy : FreshnessPolicy
        Allowed lags (:func:`load_freshness_policy`).

    Returns
    -------
    datetime.date or None
        ``None`` if a required table has no record at all (there is no date at
        which the lake is complete).

    Raises
    ------
    ConfigurationError
        If a table of the watermarks has no policy entry.
    """
    ends = _ends(watermarks, policy)
    if any(end is None for end in ends.values()):
        return None
    return min((e for e in ends.values() if e is not None), default=None)


def _ends(watermarks: Watermarks, policy: FreshnessPolicy) -> dict[str, dt.date | None]:
    """Map each required table to its last day not stale (None: never delivered)."""
    ends: dict[str, dt.date | None] = {}
    for name in watermarks.tables:
        rule = policy[name]
        if rule.required:
            day = _day(_delivered(watermarks, policy, name))
            ends[name] = (
                None if day is None else day + dt.timedelta(rule.allowed_lag_days)
            )
    return ends


def assess_freshness(
    watermarks: Watermarks, policy: FreshnessPolicy, at: dt.date
) -> FreshnessReport:
    """Judge every table and department at ``at`` against the policy.

    Parameters
    ----------
    watermarks : Watermarks
        The tables' watermarks, normally known at ``at``
        (``lake_watermarks(lake, contracts, as_of=at)``).
    policy : FreshnessPolicy
        Cadence and allowed lag per table.
    at : datetime.date
        The date judged.

    Returns
    -------
    FreshnessReport

    Raises
    ------
    ConfigurationError
        If a table of the watermarks has no policy entry.
    """
    tables = {
        name: _table(mark, policy[name], at, _delivered(watermarks, policy, name))
        for name, mark in sorted(watermarks.tables.items())
    }
    departments = {}
    for department in Department:
        own = [t for t in tables.values() if t.department is department]
        if not own:
            continue
        required = [t for t in own if t.required]
        marks = [t.delivered for t in required if t.delivered is not None]
        departments[department] = DepartmentFreshness(
            department=department,
            status=FreshnessStatus.worst(t.status for t in required),
            tables=tuple(t.table for t in own),
            stale_tables=tuple(
                t.table for t in required if t.status is FreshnessStatus.STALE
            ),
            oldest_watermark=(
                None if len(marks) < len(required) else min(marks, default=None)
            ),
        )
    return FreshnessReport(
        at=at,
        as_of=watermarks.as_of,
        status=FreshnessStatus.worst(t.status for t in tables.values() if t.required),
        freshness_date=freshness_date(watermarks, policy),
        tables=tables,
        departments=departments,
        policy_version=policy.version,
        lineage=watermarks.lineage,
    )


def _light(table: TableFreshness) -> str:
    """Return a table's light: by its status, an optional table at most amber.

    An optional table that never delivered has none (:data:`NOT_DELIVERED`).
    """
    if not table.required and table.delivered is None:
        return NOT_DELIVERED
    light = table.status.light
    return "amber" if light == "red" and not table.required else light


def _light_entry(table: TableFreshness) -> dict[str, Any]:
    light = _light(table)
    entry: dict[str, Any] = {
        "status": light,
        "freshness": (
            "not_delivered" if light == NOT_DELIVERED else table.status.value
        ),
        "department": table.department.value,
        "age_days": table.age_days,
        "allowed_lag_days": table.allowed_lag_days,
        "cadence": table.cadence.value,
        "watermark": table.watermark,
        "delivered": table.delivered,
        "expected_next_delivery": table.expected_next,
        "stale_since": table.stale_since,
        "required": table.required,
    }
    if light == NOT_DELIVERED:
        entry["detail"] = NOT_DELIVERED_TEXT
    return entry


def freshness_lights(report: FreshnessReport) -> dict[str, dict[str, Any]]:
    """Freshness per table for the monitoring report's ``data`` section.

    Each table's light is its status against its own cadence and allowed lag
    (fresh green, late amber, stale red), not one age band for all tables: a
    daily feed five days old is stale while a yearly publication five months
    old is on time. An optional table (``required: false``) is at most amber:
    it marks no decision, so it does not turn the report red. An optional table
    that never delivered anything known at the date (a zone without court
    judgments, say) has no light at all: its ``status`` is
    :data:`NOT_DELIVERED` (``"n/a"``; it does not colour the report and is no
    finding), its ``freshness`` ``"not_delivered"`` and its ``detail`` "not
    delivered, not required". A required table never delivered stays red.

    Parameters
    ----------
    report : FreshnessReport
        :func:`assess_freshness` at the monitoring date.

    Returns
    -------
    dict
        ``{table: {"status": "green"|"amber"|"red"|"n/a", "freshness":
        "fresh"|"late"|"stale"|"not_delivered", "department", "age_days",
        "allowed_lag_days", "cadence", "watermark", "delivered",
        "expected_next_delivery", "stale_since", "required"}}`` (plus
        ``"detail"`` for an optional table never delivered), JSON-ready.
    """
    out = {name: _light_entry(t) for name, t in report.tables.items()}
    ready: dict[str, dict[str, Any]] = to_jsonable(out, where="data")
    return ready


def default_serving_date(
    watermarks: Watermarks, policy: FreshnessPolicy, today: dt.date
) -> tuple[dt.date, str]:
    """Return the date a service should serve by default, and why.

    The lake's freshness date (:func:`freshness_date`), so that no decision
    served rests on a stale source; today if that is earlier (a current lake
    is never served at a future date); today as well if a required table was
    never delivered (there is no freshness date; decisions are marked).

    Parameters
    ----------
    watermarks : Watermarks
        The lake's watermarks as it stands (``lake_watermarks(lake, contracts)``).
    policy : FreshnessPolicy
        Allowed lags.
    today : datetime.date
        Today's date (UTC).

    Returns
    -------
    date : datetime.date
        The serving date.
    why : str
        One line saying why, naming the table that bounds the freshness date.

    Examples
    --------
    >>> from credit_engine.freshness._policy import SourcePolicy
    >>> from credit_engine.freshness._watermarks import TableWatermark
    >>> from credit_engine.vocabulary import Department
    >>> mark = TableWatermark("customs_declaration", Department.CUSTOMS,
    ...                       dt.datetime(2026, 9, 30, 23, tzinfo=dt.UTC), None, 9)
    >>> rule = SourcePolicy("customs_declaration", Department.CUSTOMS,
    ...                     Cadence.DAILY, 3, True, True, "daily")
    >>> policy = FreshnessPolicy(1, {"customs_declaration": rule})
    >>> marks = Watermarks(None, {"customs_declaration": mark})
    >>> default_serving_date(marks, policy, dt.date(2026, 12, 4))[0]
    datetime.date(2026, 10, 3)
    """
    all_ends = _ends(watermarks, policy)
    never = sorted(name for name, end in all_ends.items() if end is None)
    if never:
        return today, (
            f"today: the lake has no freshness date, required tables {never} were "
            "never delivered (decisions are marked with them)"
        )
    ends = {name: end for name, end in all_ends.items() if end is not None}
    if not ends:
        return today, "today: no required table in the freshness policy"
    bound = min(ends, key=lambda n: (ends[n], n))
    mark = watermarks.tables[bound]
    detail = (
        f"{bound} ({mark.department.value}) last delivered "
        f"{_day(_delivered(watermarks, policy, bound))}, "
        f"{policy[bound].allowed_lag_days} days allowed"
    )
    if ends[bound] >= today:
        return today, (
            f"today: every required source is within its allowed lag (freshness "
            f"date {ends[bound]}: {detail})"
        )
    return ends[bound], f"the lake's freshness date ({detail})"
