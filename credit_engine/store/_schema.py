"""Tables of the operational store in SQLAlchemy Core, for SQLite and PostgreSQL.

Only portable types are used: ``JSON`` for lists and dicts, ``Date`` for rating
dates, :class:`UTCDateTime` (``DateTime(timezone=True)``, always aware UTC) for
instants, ``Float``, ``String``, ``Boolean`` and integer keys. Allowed values
(tiers, deciders) are CHECK constraints generated from the same constants the
Python validation uses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

__all__ = [
    "DECIDED_BY",
    "TIERS",
    "UTCDateTime",
    "decisions",
    "metadata",
    "overrides",
    "rating_runs",
]

TIERS: tuple[str, ...] = ("A", "B", "C", "D")
"""Treatment tiers, best first."""

DECIDED_BY: tuple[str, ...] = ("STATUTORY", "OVERRIDE", "POLICY", "MODEL")
"""What fixed a decision's tier: a statutory ceiling, a manual override, the
treatment policy or the model grade alone."""

# Named constraints keep future Alembic migrations deterministic across backends.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
"""The store's tables; later stages add audit-log and API-key tables to it."""


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
_BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """``DateTime(timezone=True)`` that only takes and returns aware UTC datetimes.

    PostgreSQL stores ``timestamptz``; SQLite has no time-zone type, so values are
    converted to UTC before the zone is dropped and read back as UTC. Naive
    datetimes are refused rather than guessed.

    Examples
    --------
    >>> UTCDateTime().process_result_value(dt.datetime(2025, 1, 2, 3, 4), None)
    datetime.datetime(2025, 1, 2, 3, 4, tzinfo=datetime.timezone.utc)
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Convert an aware datetime to UTC (naive UTC for SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"Naive datetime {value.isoformat()} cannot be stored: pass a "
                "timezone-aware datetime, e.g. datetime.now(datetime.UTC)."
            )
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(
        self, value: Any | None, dialect: Dialect | None
    ) -> dt.datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        if value is None:
            return None
        if not isinstance(value, dt.datetime):  # pragma: no cover - driver bug
            raise TypeError(f"expected a datetime from the driver, got {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


rating_runs = Table(
    "rating_runs",
    metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_name", String(200), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("rule_sets", JSON, nullable=False),
    Column("lake_state", String(200), nullable=False),
    Column("n_rated", Integer, nullable=False),
    Column("summary", JSON, nullable=False),
    CheckConstraint("n_rated >= 0", name="n_rated"),
    CheckConstraint("finished_at >= started_at", name="finished_after_start"),
)
"""One row per rating run: what was rated, when, by whom and with what."""

overrides = Table(
    "overrides",
    metadata,
    Column("override_id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False, index=True),
    Column("tier", String(1), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("effective_to", Date, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    CheckConstraint(_in("tier", TIERS), name="tier"),
    CheckConstraint("length(reason) > 0", name="reason"),
    CheckConstraint("length(actor) > 0", name="actor"),
    CheckConstraint(
        "effective_to IS NULL OR effective_to > effective_from", name="interval"
    ),
)
"""Manual tier overrides: who set which tier for whom, why, and for how long.

``effective_to`` is an exclusive end; a revoked override keeps its row (with
``revoked_at``, ``revoked_by`` and ``revoke_reason``) so that past decisions stay
explainable."""

decisions = Table(
    "decisions",
    metadata,
    Column("decision_id", _BigId, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        Integer,
        ForeignKey("rating_runs.run_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("uscc", String(18), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("tier", String(1), nullable=False),
    Column("grade", String(4), nullable=False),
    Column("pd", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("in_default", Boolean, nullable=False),
    Column("green_channel", Boolean, nullable=False),
    Column("decided_by", String(16), nullable=False),
    Column("statutory_ceiling", String(1), nullable=True),
    Column("model_tier", String(1), nullable=False),
    Column("inspection_rate_factor", Float, nullable=False),
    Column("joint_punishment", Boolean, nullable=False),
    Column("joint_incentive", Boolean, nullable=False),
    Column("measures", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("facts", JSON, nullable=False),
    Column(
        "override_id",
        Integer,
        ForeignKey("overrides.override_id"),
        nullable=True,
    ),
    Column("model_name", String(200), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("policy_name", String(200), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("rule_sets", JSON, nullable=False),
    # One decision per enterprise per run; its index also serves run_id lookups.
    UniqueConstraint("run_id", "uscc"),
    Index(None, "as_of", "uscc"),
    Index(None, "uscc", "as_of"),
    CheckConstraint(_in("tier", TIERS), name="tier"),
    CheckConstraint(_in("model_tier", TIERS), name="model_tier"),
    CheckConstraint(
        f"statutory_ceiling IS NULL OR {_in('statutory_ceiling', TIERS)}",
        name="statutory_ceiling",
    ),
    CheckConstraint(_in("decided_by", DECIDED_BY), name="decided_by"),
)
"""One row per enterprise per rating run: tier, grade, PD, measures and why.

The model, policy and rule-set identifiers are repeated on every row so that a
decision explains itself without its run."""
