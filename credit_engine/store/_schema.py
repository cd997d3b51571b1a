"""Every table of the operational store, in SQLAlchemy Core, for SQLite and PostgreSQL.

This module is the one place the store's schema is declared: rating runs,
decisions and overrides (this package), the audit log and its head
(:mod:`credit_engine.audit`) and the API keys (:mod:`credit_engine.auth`). Those
packages import their tables from :mod:`credit_engine.store`; the Alembic
revisions under ``credit_engine/store/migrations`` bring a database to it.

Only portable types are used: ``JSON`` for lists and dicts, ``Date`` for rating
dates, :class:`UTCDateTime` (``DateTime(timezone=True)``, always aware UTC) for
instants, ``Float``, ``String``, ``Boolean`` and integer keys. Allowed values
(tiers, deciding layers, roles) are CHECK constraints generated from the same
enums the Python validation uses (:mod:`credit_engine.vocabulary`, :class:`Role`).
Every constraint and index is named by :data:`NAMING_CONVENTION`, so that
migrations address them identically on both backends. Changing anything here
needs a new revision: see :mod:`credit_engine.store`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CHAR,
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
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

from credit_engine.vocabulary import DecidedBy, Tier, sql_in

__all__ = [
    "AUDIT_HEAD_ID",
    "NAMING_CONVENTION",
    "Role",
    "RunRole",
    "UTCDateTime",
    "WarningStatus",
    "api_keys",
    "audit_head",
    "audit_log",
    "console_accounts",
    "console_sessions",
    "decisions",
    "metadata",
    "overrides",
    "rating_runs",
    "warning_occurrences",
    "warnings_table",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""How constraints and indexes are named (deterministic across backends)."""

metadata = MetaData(naming_convention=NAMING_CONVENTION)
"""The store's tables: all six, whichever packages are imported."""

AUDIT_HEAD_ID = 1
"""Key of the single row of ``audit_head``."""


class Role(StrEnum):
    """What an API key may do (the API checks the role per route)."""

    SUPERVISOR = "supervisor"
    """Zone supervisors: read decisions, record and revoke overrides."""
    INSPECTION_SYSTEM = "inspection_system"
    """Customs and department systems: score enterprises, read tiers."""
    DATA_SCIENTIST = "data_scientist"
    """Model owners: models, monitoring, the audit log."""
    ADMIN = "admin"
    """Operators: keys, model reloads, everything else."""
    AUDITOR = "auditor"
    """Auditors: read what supervisors read and the audit log; change nothing."""


# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY (and
# makes it the rowid: no second index to maintain).
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


# ------------------------------------------------------------- rating runs
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


# ------------------------------------------- run roles (revision 0004_shadow_runs)
class RunRole(StrEnum):
    """Whether a rating run's decisions are served or only recorded beside them."""

    SERVED = "served"
    """Decided by the policy's champion: the zone's decisions (API, history...)."""
    SHADOW = "shadow"
    """Decided by another model version (a challenger) on the same inputs, for
    comparison and monitoring only: never served, never the zone's decisions."""


rating_runs.append_column(
    Column(
        "role",
        String(8),
        nullable=False,
        server_default=RunRole.SERVED.value,
        default=RunRole.SERVED.value,
    )
)
rating_runs.append_constraint(
    CheckConstraint(sql_in("role", [str(r) for r in RunRole]), name="role")
)
Index(None, rating_runs.c.role, rating_runs.c.as_of)
# ------------------------------------------- end of run roles (0004_shadow_runs)

# --------------------------------------------------------------- overrides
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
    CheckConstraint(sql_in("tier", Tier.values()), name="tier"),
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

# --------------------------------------------------------------- decisions
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
    # --- data freshness (revision 0002_freshness) ---------------------------
    # The stale sources a decision rests on ({table, department, watermark,
    # age_days, allowed_lag_days} each); NULL on rows written before 0002,
    # read as an empty list.
    Column("stale_sources", JSON, nullable=True),
    # --- end data freshness --------------------------------------------------
    # One decision per enterprise per run; its index also serves run_id lookups.
    UniqueConstraint("run_id", "uscc"),
    Index(None, "as_of", "uscc"),
    Index(None, "uscc", "as_of"),
    CheckConstraint(sql_in("tier", Tier.values()), name="tier"),
    CheckConstraint(sql_in("model_tier", Tier.values()), name="model_tier"),
    CheckConstraint(
        f"statutory_ceiling IS NULL OR {sql_in('statutory_ceiling', Tier.values())}",
        name="statutory_ceiling",
    ),
    CheckConstraint(sql_in("decided_by", DecidedBy.values()), name="decided_by"),
)
"""One row per enterprise per rating run: tier, grade, PD, measures and why.

The model, policy and rule-set identifiers are repeated on every row so that a
decision explains itself without its run."""

# --------------------------------------------------------------- audit log
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", _BigId, primary_key=True, autoincrement=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("subject", String(200), nullable=True),
    # JSON (not JSONB) keeps the text as sent: floats read back identically on
    # both backends (tested), so the hash is recomputed from the decoded payload.
    Column("payload", JSON, nullable=False),
    Column("prev_hash", CHAR(64), nullable=False),
    Column("entry_hash", CHAR(64), nullable=False),
    CheckConstraint("seq >= 1", name="seq"),
    CheckConstraint("length(kind) > 0", name="kind"),
    CheckConstraint("length(actor) > 0", name="actor"),
    Index(None, "subject", "seq"),
    Index(None, "kind", "seq"),
)
"""The audit log's hash-chained entries, one row per ``seq`` (1, 2, 3 ... without
gaps): what happened, to whom, by whom, when (see :mod:`credit_engine.audit`)."""

audit_head = Table(
    "audit_head",
    metadata,
    Column("head_id", SmallInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", CHAR(64), nullable=False),
    # ---- issue 14 (hardening), revision 0006_hardening ----------------------
    # True once every change to the covered tables is logged with row digests
    # (credit_engine.audit coverage); false on stores upgraded with older rows
    # until the first write records them in a coverage_baseline entry.
    Column("coverage_started", Boolean, nullable=False, server_default=false()),
    # ---- end issue 14 ---------------------------------------------------------
    CheckConstraint(f"head_id = {AUDIT_HEAD_ID}", name="single_row"),
    CheckConstraint("seq >= 0", name="seq"),
)
"""The newest ``seq`` of the audit log and its ``entry_hash``: one row
(``head_id`` = :data:`AUDIT_HEAD_ID`; ``seq`` 0 for an empty log), updated in
the same transaction as every append, so that deleting the newest entries is
detected too."""

# ---------------------------------------------------------------- API keys
api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("key_prefix", String(16), nullable=False),
    Column("key_hash", CHAR(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("last_used_at", UTCDateTime, nullable=True),
    CheckConstraint("length(name) > 0", name="name"),
    CheckConstraint(sql_in("role", [str(r) for r in Role]), name="role"),
    CheckConstraint("length(created_by) > 0", name="created_by"),
)
"""API keys: name, role and the SHA-256 of the key, never the key itself.

A revoked key keeps its row (and its name) so that audit entries naming it stay
unambiguous (see :mod:`credit_engine.auth`)."""


# ----------------------------------------------- console (issue 13, rev 0005)
# Sign-in to the supervisor console (credit_engine.console): a password for an
# API key's name (a console account) and server-side sessions. The audit log's
# actor index serves the console's audit page (filter by actor, newest first).
console_accounts = Table(
    "console_accounts",
    metadata,
    Column(
        "key_id",
        Integer,
        ForeignKey("api_keys.key_id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("password_hash", String(255), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
    Column("set_by", String(200), nullable=False),
    CheckConstraint("length(password_hash) > 0", name="password_hash"),
)
"""A console password for an API key's holder (scrypt hash, never the password).

Signing in with the key's name and this password opens a console session with
the key's role; revoking the key ends both."""

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("session_hash", CHAR(64), primary_key=True),
    Column(
        "key_id",
        Integer,
        ForeignKey("api_keys.key_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("role", String(32), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime, nullable=True),
    Column("end_reason", String(32), nullable=True),
    Column("client", String(64), nullable=True),
    CheckConstraint(sql_in("role", [str(r) for r in Role]), name="role"),
    CheckConstraint("expires_at > created_at", name="expiry"),
)
"""Console sessions: the SHA-256 of the cookie's random id (never the id), the key
and role signed in, the CSRF token of its forms, absolute expiry, last activity
(idle expiry) and when and why it ended (sign-out, key revoked, expired)."""

Index(None, audit_log.c.actor, audit_log.c.seq)


# ------------------------------------------- end console (issue 13, rev 0005)

# ------------------------- console indexes (issue 13, rev 0007_console_indexes)
# The console's enterprise list pages a run's decisions in USCC order under
# filters (tier, deciding layer, green channel): the first index holds the
# filter columns in USCC order (filters checked in the index, no row read for
# skipped rows); the second serves tier and/or layer filters directly.
Index(
    None,
    decisions.c.run_id,
    decisions.c.uscc,
    decisions.c.tier,
    decisions.c.decided_by,
    decisions.c.green_channel,
)
Index(
    None, decisions.c.run_id, decisions.c.tier, decisions.c.decided_by, decisions.c.uscc
)


# ------------------------------------------- end console indexes (rev 0007)
# ======================================================== early warnings
# Issue 12, revision 0003_warnings. Kept in one block to ease merges.
class WarningStatus(StrEnum):
    """Where an early warning is in its lifecycle: new → acknowledged → closed.

    A supervisor acknowledges a new warning (it is being looked at) and closes
    it with a note (what was found); a new warning may also be closed at once
    (dismissed, with a note). A closed warning never reopens: the same signal
    firing on a later evaluation date opens a new warning.
    """

    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"

    @classmethod
    def values(cls) -> tuple[str, ...]:
        """Return the status codes in lifecycle order."""
        return tuple(s.value for s in cls)


warnings_table = Table(
    "warnings",
    metadata,
    Column("warning_id", Integer, primary_key=True, autoincrement=True),
    Column("uscc", String(18), nullable=False),
    Column("signal", String(16), nullable=False),
    Column("signals_version", Integer, nullable=False),
    Column("first_as_of", Date, nullable=False),
    Column("last_as_of", Date, nullable=False),
    Column("times_seen", Integer, nullable=False),
    Column("priority", Float, nullable=False),
    Column("tier", String(1), nullable=True),
    Column("grade", String(4), nullable=True),
    Column("pd", Float, nullable=True),
    Column("evidence", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(128), nullable=True),
    Column("acknowledge_note", Text, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("closed_by", String(128), nullable=True),
    Column("close_note", Text, nullable=True),
    Index(None, "uscc", "signal"),
    Index(None, "status", "priority"),
    Index(None, "signal"),
    Index(None, "last_as_of"),
    CheckConstraint(sql_in("status", WarningStatus.values()), name="status"),
    CheckConstraint(f"tier IS NULL OR {sql_in('tier', Tier.values())}", name="tier"),
    CheckConstraint("length(uscc) > 0 AND length(signal) > 0", name="keys"),
    CheckConstraint("last_as_of >= first_as_of", name="seen"),
    CheckConstraint("times_seen >= 1", name="times_seen"),
    CheckConstraint(
        "status <> 'acknowledged' OR "
        "(acknowledged_at IS NOT NULL AND length(acknowledged_by) > 0)",
        name="acknowledged",
    ),
    CheckConstraint(
        "(status = 'closed' AND closed_at IS NOT NULL AND length(closed_by) > 0 "
        "AND length(close_note) > 0) OR (status <> 'closed' AND closed_at IS NULL)",
        name="closed",
    ),
)
"""Early warnings: one row per enterprise and signal while it is worked on.

The signal fired at ``first_as_of`` (evaluation date) and again up to
``last_as_of`` (``times_seen`` evaluation dates); ``evidence`` and ``priority``
are those of the latest evaluation date, ``tier``, ``grade`` and ``pd`` the
enterprise's stored rating then (null without one). Each date the signal fired
is a row of ``warning_occurrences``. The lifecycle columns say who
acknowledged and closed it, when and why; the CHECK constraints keep them
consistent with ``status`` (a closed warning always has its note)."""

warning_occurrences = Table(
    "warning_occurrences",
    metadata,
    Column(
        "warning_id",
        Integer,
        ForeignKey("warnings.warning_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("as_of", Date, primary_key=True),
    Column("priority", Float, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "as_of"),
)
"""Every evaluation date a warning's signal fired, with that date's evidence and
priority (re-evaluating a date replaces its row)."""
# ==================================================== end early warnings
