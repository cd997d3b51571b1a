"""Zone statistics (统计监测): the pilot zone's figures per month or quarter.

The statistical-monitoring system of a CBEC comprehensive pilot zone (one of
its "six systems", DOMAIN.md §0) reports, for zone supervisors:

- **enterprises**: registered and active at each period end, new and
  deregistered, by district (characters 3-8 of the USCC, named by
  ``features/reference/districts.yaml``), by cross-border e-commerce role and
  by the departments that hold records on them;
- **declarations**: count and CNY value by supervision mode (9610, 9710, 9810,
  1210, 1239, 0110, other), direction, district and CBEC role; export refunds
  claimed (tax) and FX received and paid (SAFE);
- **decisions** of the operational store: tier distribution, green channel,
  joint punishments (by measure), deciding layer, overrides, tier migrations
  between consecutive rating dates, tiers by district, main supervision mode
  and role;
- **early warnings** raised and closed, and **data freshness**, through hooks
  (:data:`WarningSource`, :data:`FreshnessSource`) that show "no data" until
  wired.

Point in time
-------------
A report has a knowledge date ``X``: it counts what was known by the end of
``X`` (UTC), records ingested, rating runs finished and overrides recorded
then; by default ``X`` is the day it is produced, and it says so. Flows are
counted by their event date within the period, as known at ``X`` (a re-run
later may add late-arriving records); stocks are read at each period's end
as known then (:mod:`credit_engine.point_in_time`). Every lake query is one
DuckDB query per section, never one per enterprise.

Layout
------
:func:`build_zone_report` computes a :class:`ZoneReport` (data classes, no
I/O) from a :class:`~credit_engine.features.Sources` and a
:class:`DecisionReader` (the :class:`~credit_engine.store.OperationalStore`);
:func:`zone_report_from_settings` wires an engine home;
:func:`render_html` renders the page and :func:`write_zone_report` writes
``zone_report.html``, ``zone_report.json`` and one CSV per table, where
cells resting on fewer than five enterprises are blanked
(:func:`suppress_small_cells`).

Importing this package is cheap: DuckDB, matplotlib, Jinja and YAML are
imported only when a report is computed or rendered.
"""

from __future__ import annotations

from credit_engine.zone_statistics._build import (
    BUILD_STEPS,
    DecisionReader,
    build_zone_report,
    jp_prefix_names,
)
from credit_engine.zone_statistics._decisions import (
    MIGRATION_FROM,
    MIGRATION_TO,
    consecutive_pairs,
    migration_summary,
    representative_dates,
)
from credit_engine.zone_statistics._disclosure import (
    DEFAULT_MIN_CELL,
    SUPPRESSED_COLUMN,
    suppress_small_cells,
)
from credit_engine.zone_statistics._hooks import (
    CLOSED_STATUSES,
    WARNING_COLUMNS,
    WARNINGS_TABLE,
    FreshnessSource,
    WarningSource,
    store_warning_source,
    warnings_frame,
)
from credit_engine.zone_statistics._html import render_html
from credit_engine.zone_statistics._lake import (
    EXIT_STATUSES,
    NO_CUSTOMS_ROLE,
    LakeQueries,
)
from credit_engine.zone_statistics._periods import (
    PERIOD_KINDS,
    Period,
    period_of,
    periods_between,
)
from credit_engine.zone_statistics._reference import (
    NO_MODE,
    OTHER_MODE,
    Name,
    ZoneReference,
    district_of,
    load_reference,
)
from credit_engine.zone_statistics._report import (
    DISCLOSURE,
    SECTION_KEYS,
    Section,
    StatTable,
    ZoneReport,
)
from credit_engine.zone_statistics._supervision import PunishmentNamer
from credit_engine.zone_statistics._wiring import (
    lake_freshness_source,
    policy_punishment_namer,
    zone_report_from_settings,
)
from credit_engine.zone_statistics._write import (
    CSV_DIR,
    HTML_NAME,
    JSON_NAME,
    report_payload,
    write_zone_report,
)

__all__ = [
    "BUILD_STEPS",
    "CLOSED_STATUSES",
    "CSV_DIR",
    "DEFAULT_MIN_CELL",
    "DISCLOSURE",
    "EXIT_STATUSES",
    "HTML_NAME",
    "JSON_NAME",
    "MIGRATION_FROM",
    "MIGRATION_TO",
    "NO_CUSTOMS_ROLE",
    "NO_MODE",
    "OTHER_MODE",
    "PERIOD_KINDS",
    "SECTION_KEYS",
    "SUPPRESSED_COLUMN",
    "WARNINGS_TABLE",
    "WARNING_COLUMNS",
    "DecisionReader",
    "FreshnessSource",
    "LakeQueries",
    "Name",
    "Period",
    "PunishmentNamer",
    "Section",
    "StatTable",
    "WarningSource",
    "ZoneReference",
    "ZoneReport",
    "build_zone_report",
    "consecutive_pairs",
    "district_of",
    "jp_prefix_names",
    "load_reference",
    "migration_summary",
    "period_of",
    "periods_between",
    "policy_punishment_namer",
    "render_html",
    "report_payload",
    "representative_dates",
    "store_warning_source",
    "suppress_small_cells",
    "warnings_frame",
    "write_zone_report",
    "lake_freshness_source",
    "zone_report_from_settings",
]
