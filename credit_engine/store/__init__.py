"""The operational store: rating runs, decisions and manual overrides.

One SQLAlchemy code path serves SQLite (the default, a file under the engine home)
and PostgreSQL (production, through psycopg 3). A rating run and all its
decisions are written in one transaction; recording another run for the same
rating date supersedes the earlier one in every query. Overrides are
point-in-time: what was in force at a date is what was known by the end of that
day. Later stages add their tables (audit log, API keys) to :data:`metadata`.

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
from credit_engine.store._engine import normalize_url
from credit_engine.store._overrides import IN_FORCE_COLUMNS
from credit_engine.store._schema import (
    DECIDED_BY,
    TIERS,
    UTCDateTime,
    decisions,
    metadata,
    overrides,
    rating_runs,
)
from credit_engine.store._store import OperationalStore

__all__ = [
    "DECIDED_BY",
    "DECISION_COLUMNS",
    "IN_FORCE_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "RUN_COLUMNS",
    "TIERS",
    "NoRatingsError",
    "OperationalStore",
    "OverrideError",
    "OverrideNotFoundError",
    "RatingRun",
    "StoreError",
    "UTCDateTime",
    "decisions",
    "metadata",
    "normalize_url",
    "overrides",
    "rating_runs",
]
