"""Baseline: the operational store as release 0.1.0 created it.

Rating runs, decisions and overrides; the audit log and its head; the API keys.
Every name is spelt out (no naming convention) and the allowed values of the
CHECK constraints are literal: this revision is frozen and must never change,
whatever later becomes of :mod:`credit_engine.store._schema` or the
vocabulary. A store created by release 0.1.0 (no ``alembic_version`` table) is
compared with :func:`baseline_metadata` and stamped at this revision.

Downgrading drops the six tables and everything in them.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.naming import conv

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_TIERS = "'A', 'B', 'C', 'D'"
_DECIDED_BY = "'STATUTORY', 'OVERRIDE', 'POLICY', 'MODEL'"
_ROLES = "'supervisor', 'inspection_system', 'data_scientist', 'admin'"


def _big_id() -> sa.types.TypeEngine[int]:
    # SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _tables() -> dict[str, list[sa.schema.SchemaItem]]:
    """Columns, constraints and indexes of each table, new objects on each call.

    In creation order (referenced tables first); within a table, constraints in
    the order release 0.1.0 emitted them. Names are final (``conv``): the
    naming convention of the target metadata must not prefix them again.
    """
    tables: dict[str, list[sa.schema.SchemaItem]] = {}
    tables["api_keys"] = [
        sa.Column("key_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("key_prefix", sa.String(16), nullable=False),
        sa.Column("key_hash", sa.CHAR(64), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("revoked_at", _instant(), nullable=True),
        sa.Column("revoked_by", sa.String(200), nullable=True),
        sa.Column("last_used_at", _instant(), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=conv("pk_api_keys")),
        sa.CheckConstraint("length(name) > 0", name=conv("ck_api_keys_name")),
        sa.CheckConstraint(f"role IN ({_ROLES})", name=conv("ck_api_keys_role")),
        sa.CheckConstraint(
            "length(created_by) > 0", name=conv("ck_api_keys_created_by")
        ),
        sa.UniqueConstraint("name", name=conv("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=conv("uq_api_keys_key_hash")),
    ]
    tables["audit_head"] = [
        sa.Column("head_id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("head_id", name=conv("pk_audit_head")),
        sa.CheckConstraint("head_id = 1", name=conv("ck_audit_head_single_row")),
        sa.CheckConstraint("seq >= 0", name=conv("ck_audit_head_seq")),
    ]
    tables["audit_log"] = [
        sa.Column("seq", _big_id(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.CHAR(64), nullable=False),
        sa.Column("entry_hash", sa.CHAR(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=conv("pk_audit_log")),
        sa.CheckConstraint("seq >= 1", name=conv("ck_audit_log_seq")),
        sa.CheckConstraint("length(kind) > 0", name=conv("ck_audit_log_kind")),
        sa.CheckConstraint("length(actor) > 0", name=conv("ck_audit_log_actor")),
        sa.Index(conv("ix_audit_log_kind_seq"), "kind", "seq"),
        sa.Index(conv("ix_audit_log_subject_seq"), "subject", "seq"),
    ]
    tables["overrides"] = [
        sa.Column("override_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("tier", sa.String(1), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("revoked_at", _instant(), nullable=True),
        sa.Column("revoked_by", sa.String(128), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("override_id", name=conv("pk_overrides")),
        sa.CheckConstraint(f"tier IN ({_TIERS})", name=conv("ck_overrides_tier")),
        sa.CheckConstraint("length(reason) > 0", name=conv("ck_overrides_reason")),
        sa.CheckConstraint("length(actor) > 0", name=conv("ck_overrides_actor")),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from",
            name=conv("ck_overrides_interval"),
        ),
        sa.Index(conv("ix_overrides_uscc"), "uscc"),
    ]
    tables["rating_runs"] = [
        sa.Column("run_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("started_at", _instant(), nullable=False),
        sa.Column("finished_at", _instant(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("rule_sets", sa.JSON(), nullable=False),
        sa.Column("lake_state", sa.String(200), nullable=False),
        sa.Column("n_rated", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=conv("pk_rating_runs")),
        sa.CheckConstraint("n_rated >= 0", name=conv("ck_rating_runs_n_rated")),
        sa.CheckConstraint(
            "finished_at >= started_at",
            name=conv("ck_rating_runs_finished_after_start"),
        ),
        sa.Index(conv("ix_rating_runs_as_of"), "as_of"),
    ]
    tables["decisions"] = [
        sa.Column("decision_id", _big_id(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("tier", sa.String(1), nullable=False),
        sa.Column("grade", sa.String(4), nullable=False),
        sa.Column("pd", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("in_default", sa.Boolean(), nullable=False),
        sa.Column("green_channel", sa.Boolean(), nullable=False),
        sa.Column("decided_by", sa.String(16), nullable=False),
        sa.Column("statutory_ceiling", sa.String(1), nullable=True),
        sa.Column("model_tier", sa.String(1), nullable=False),
        sa.Column("inspection_rate_factor", sa.Float(), nullable=False),
        sa.Column("joint_punishment", sa.Boolean(), nullable=False),
        sa.Column("joint_incentive", sa.Boolean(), nullable=False),
        sa.Column("measures", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("override_id", sa.Integer(), nullable=True),
        sa.Column("model_name", sa.String(200), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("policy_name", sa.String(200), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("rule_sets", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("decision_id", name=conv("pk_decisions")),
        sa.UniqueConstraint("run_id", "uscc", name=conv("uq_decisions_run_id_uscc")),
        sa.CheckConstraint(f"tier IN ({_TIERS})", name=conv("ck_decisions_tier")),
        sa.CheckConstraint(
            f"model_tier IN ({_TIERS})", name=conv("ck_decisions_model_tier")
        ),
        sa.CheckConstraint(
            f"statutory_ceiling IS NULL OR statutory_ceiling IN ({_TIERS})",
            name=conv("ck_decisions_statutory_ceiling"),
        ),
        sa.CheckConstraint(
            f"decided_by IN ({_DECIDED_BY})", name=conv("ck_decisions_decided_by")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["rating_runs.run_id"],
            name=conv("fk_decisions_run_id_rating_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["override_id"],
            ["overrides.override_id"],
            name=conv("fk_decisions_override_id_overrides"),
        ),
        sa.Index(conv("ix_decisions_as_of_uscc"), "as_of", "uscc"),
        sa.Index(conv("ix_decisions_uscc_as_of"), "uscc", "as_of"),
    ]
    return tables


def baseline_metadata() -> sa.MetaData:
    """Return the six tables exactly as release 0.1.0 declared them.

    Returns
    -------
    sqlalchemy.MetaData
        ``api_keys``, ``audit_head``, ``audit_log``, ``overrides``,
        ``rating_runs`` and ``decisions`` with their constraints and indexes.
    """
    metadata = sa.MetaData()
    for name, items in _tables().items():
        sa.Table(name, metadata, *items)
    return metadata


def upgrade() -> None:
    """Create the six tables and their indexes."""
    for name, items in _tables().items():
        op.create_table(name, *items)


def downgrade() -> None:
    """Drop the six tables (and every row in them)."""
    for name in reversed(_tables()):
        op.drop_table(name)
