"""Console: sign-in accounts and sessions, the auditor role, the audit actor index.

Issue 13 (the supervisor console):

* ``console_accounts``: an optional console password per API key (scrypt hash);
* ``console_sessions``: server-side console sessions (hashed id, key, role, CSRF
  token, absolute and idle expiry, end);
* ``api_keys.role`` also allows ``auditor`` (its CHECK constraint is replaced);
* ``ix_audit_log_actor_seq``: the console's audit page filters by actor.

Downgrading drops the two tables and their rows, the index, and restores the
four-role CHECK constraint (refused by the database while an ``auditor`` key
exists: revoke is not enough, such rows must be deleted first).

Revision ID: 0005
Revises: 0002_freshness
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.naming import conv

revision: str = "0005"
down_revision: str | None = "0002_freshness"
branch_labels: str | None = None
depends_on: str | None = None

_OLD_ROLES = "'supervisor', 'inspection_system', 'data_scientist', 'admin'"
_NEW_ROLES = "'supervisor', 'inspection_system', 'data_scientist', 'admin', 'auditor'"


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _api_keys(roles: str) -> sa.Table:
    """``api_keys`` as revision 0001 made it, with the given role CHECK.

    SQLite cannot alter a CHECK constraint: batch mode copies the table, and
    reflection does not carry CHECK constraints over, so the copy is spelt out.
    """
    return sa.Table(
        "api_keys",
        sa.MetaData(),
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
        sa.CheckConstraint(f"role IN ({roles})", name=conv("ck_api_keys_role")),
        sa.CheckConstraint(
            "length(created_by) > 0", name=conv("ck_api_keys_created_by")
        ),
        sa.UniqueConstraint("name", name=conv("uq_api_keys_name")),
        sa.UniqueConstraint("key_hash", name=conv("uq_api_keys_key_hash")),
    )


def _replace_role_check(old: str, new: str) -> None:
    with op.batch_alter_table(
        "api_keys", copy_from=_api_keys(old), recreate="auto"
    ) as batch:
        batch.drop_constraint(conv("ck_api_keys_role"), type_="check")
        batch.create_check_constraint(conv("ck_api_keys_role"), f"role IN ({new})")


def upgrade() -> None:
    """Create the console tables, allow the auditor role, index the actor."""
    _replace_role_check(_OLD_ROLES, _NEW_ROLES)
    op.create_table(
        "console_accounts",
        sa.Column("key_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("set_at", _instant(), nullable=False),
        sa.Column("set_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=conv("pk_console_accounts")),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.key_id"],
            name=conv("fk_console_accounts_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            "length(password_hash) > 0",
            name=conv("ck_console_accounts_password_hash"),
        ),
    )
    op.create_table(
        "console_sessions",
        sa.Column("session_hash", sa.CHAR(64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("expires_at", _instant(), nullable=False),
        sa.Column("last_seen_at", _instant(), nullable=False),
        sa.Column("revoked_at", _instant(), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("client", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("session_hash", name=conv("pk_console_sessions")),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.key_id"],
            name=conv("fk_console_sessions_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint(
            f"role IN ({_NEW_ROLES})", name=conv("ck_console_sessions_role")
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=conv("ck_console_sessions_expiry")
        ),
    )
    op.create_index(conv("ix_console_sessions_key_id"), "console_sessions", ["key_id"])
    op.create_index(conv("ix_audit_log_actor_seq"), "audit_log", ["actor", "seq"])


def downgrade() -> None:
    """Drop the console tables and the index; restore the four-role CHECK."""
    op.drop_index(conv("ix_audit_log_actor_seq"), table_name="audit_log")
    op.drop_index(conv("ix_console_sessions_key_id"), table_name="console_sessions")
    op.drop_table("console_sessions")
    op.drop_table("console_accounts")
    _replace_role_check(_NEW_ROLES, _OLD_ROLES)
