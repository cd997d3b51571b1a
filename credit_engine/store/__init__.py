"""The operational store: rating runs, decisions, overrides, audit log, API keys.

One SQLAlchemy code path serves SQLite (the default, a file under the engine home)
and PostgreSQL (production, through psycopg 3). A rating run and all its
decisions are written in one transaction; recording another run for the same
rating date supersedes the earlier one in every query. A run is *served* (the
zone's decisions) or *shadow* (another model version's decisions on the same
inputs, :class:`RunRole`): shadow runs are never a date's latest run, so they
never change what is served or shown as the zone's decisions; monitoring reads
them per model version (:meth:`OperationalStore.model_cohorts`). Overrides are
point-in-time: what was in force at a date is what was known by the end of that
day.

Schema
------
Every table of the store (``rating_runs``, ``decisions``, ``overrides``,
``audit_log``, ``audit_head``, ``api_keys``, ``console_accounts``,
``console_sessions``, ``warnings``, ``warning_occurrences``) is declared once, on
:data:`metadata`; the audit and auth packages import theirs from here. Alembic
migrations shipped in the package (``credit_engine/store/migrations``, driven
from code by :func:`alembic_config`, no ``alembic.ini``) bring a database to it:
:meth:`OperationalStore.create_schema`, which every command and the API call at
start, runs ``upgrade head`` under a lock, and stamps a store made by release
0.1.0 at the baseline revision first. To change the schema, change
:mod:`credit_engine.store._schema` and add a revision (``rev_id`` the next
four-digit number; see :func:`alembic_config`); the tests check that the
revisions produce exactly :data:`metadata` on both backends.

Repositories and the unit of work
---------------------------------
Four repositories hold the queries: :class:`RatingRunRepository` (record a run
with its decisions, list runs and dates), :class:`DecisionRepository` (decisions
at a date, latest decision, history, migration matrix, counts, override rate)
and :class:`OverrideRepository` (add, revoke, in force at a date, history),
:class:`WarningRepository` (early warnings: record an evaluation date, list,
read, acknowledge, close).
None of them opens a connection or commits: each works on the connection of a
:class:`UnitOfWork`, which is one transaction. So several repositories, and
other writers such as the audit log, can commit together or not at all::

    with store.unit_of_work("record an override") as uow:
        override_id = uow.overrides.add_override(uscc, "D", reason, actor, day)
        uow.connection.execute(other_table.insert(), row)   # same transaction
    # committed here; rolled back if the block raised

:class:`OperationalStore` is the facade the rest of the engine uses: each of its
methods opens a unit of work (reads: a connection rolled back at the end) and
delegates to one repository. The audit log opens its transactions through
:meth:`OperationalStore.unit_of_work` (``immediate=True``), and
:func:`credit_engine.audit.record_override` writes the override through that
unit of work's :class:`OverrideRepository`.

Examples
--------
>>> import datetime as dt
>>> from credit_engine.store import OperationalStore
>>> store = OperationalStore("sqlite://")
>>> store.create_schema()
>>> store.rating_dates()
[]
>>> store.dispose()
"""

from __future__ import annotations

from credit_engine.exceptions import (
    NoRatingsError,
    OverrideError,
    OverrideNotFoundError,
    StoreError,
)
from credit_engine.store._decisions import (
    DECISION_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    RUN_COLUMNS,
    RatingRun,
)
from credit_engine.store._engine import normalize_url, safe_url
from credit_engine.store._json import EncodedJSON, JSONText
from credit_engine.store._migrations import (
    BASELINE_REVISION,
    SCHEMA_REVISION,
    SchemaRevision,
    alembic_config,
    current_revision,
    head_revision,
    revision_history,
    schema_differences,
    upgrade_schema,
)
from credit_engine.store._overrides import IN_FORCE_COLUMNS
from credit_engine.store._repo_decisions import COHORT_COLUMNS, DecisionRepository
from credit_engine.store._repo_overrides import OverrideRepository
from credit_engine.store._repo_runs import RatingRunRepository
from credit_engine.store._repo_warnings import (
    FIRING_COLUMNS,
    OPEN_STATUSES,
    WARNING_DTYPES,
    RecordedWarnings,
    WarningRepository,
)
from credit_engine.store._schema import (
    AUDIT_HEAD_ID,
    NAMING_CONVENTION,
    Role,
    RunRole,
    UTCDateTime,
    WarningStatus,
    api_keys,
    audit_head,
    audit_log,
    console_accounts,
    console_sessions,
    decisions,
    metadata,
    overrides,
    rating_runs,
    warning_occurrences,
    warnings_table,
)
from credit_engine.store._store import OperationalStore
from credit_engine.store._unit_of_work import UnitOfWork

# --- console (issue 13): the console's read queries ---
from credit_engine.store._zone_queries import PAGE_COLUMNS, ZoneQueries  # noqa: E402,I001

# --- end console ---

__all__ = [
    "AUDIT_HEAD_ID",
    "BASELINE_REVISION",
    "COHORT_COLUMNS",
    "DECISION_COLUMNS",
    "FIRING_COLUMNS",
    "IN_FORCE_COLUMNS",
    "NAMING_CONVENTION",
    "OPEN_STATUSES",
    "OPTIONAL_COLUMNS",
    "PAGE_COLUMNS",
    "REQUIRED_COLUMNS",
    "RUN_COLUMNS",
    "SCHEMA_REVISION",
    "DecisionRepository",
    "EncodedJSON",
    "JSONText",
    "NoRatingsError",
    "OperationalStore",
    "OverrideError",
    "OverrideNotFoundError",
    "OverrideRepository",
    "RatingRun",
    "RatingRunRepository",
    "Role",
    "RunRole",
    "SchemaRevision",
    "StoreError",
    "UTCDateTime",
    "UnitOfWork",
    "ZoneQueries",
    "RecordedWarnings",
    "WARNING_DTYPES",
    "WarningRepository",
    "WarningStatus",
    "alembic_config",
    "api_keys",
    "audit_head",
    "audit_log",
    "console_accounts",
    "console_sessions",
    "current_revision",
    "decisions",
    "head_revision",
    "metadata",
    "normalize_url",
    "safe_url",
    "overrides",
    "rating_runs",
    "revision_history",
    "schema_differences",
    "upgrade_schema",
    "warning_occurrences",
    "warnings_table",
]
