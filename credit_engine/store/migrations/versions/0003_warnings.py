"""Early warnings: the warnings and their occurrences (issue 12).

``warnings`` holds one row per enterprise and signal while a supervisor works
on it (status new → acknowledged → closed, who and when, the closing note);
``warning_occurrences`` one row per evaluation date the signal fired, with
that date's evidence and priority. Names are spelt out and the allowed values
of the CHECK constraints are literal: this revision is frozen.

Downgrading drops both tables and every warning in them.

Revision ID: 0003_warnings
Revises: 0004_shadow_runs
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.naming import conv

revision: str = "0003_warnings"
down_revision: str | None = "0004_shadow_runs"
branch_labels: str | None = None
depends_on: str | None = None

_STATUSES = "'new', 'acknowledged', 'closed'"
_TIERS = "'A', 'B', 'C', 'D'"


def _instant() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _tables() -> dict[str, list[sa.schema.SchemaItem]]:
    """Columns, constraints and indexes of each table, new objects on each call."""
    tables: dict[str, list[sa.schema.SchemaItem]] = {}
    tables["warnings"] = [
        sa.Column("warning_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(18), nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("signals_version", sa.Integer(), nullable=False),
        sa.Column("first_as_of", sa.Date(), nullable=False),
        sa.Column("last_as_of", sa.Date(), nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("tier", sa.String(1), nullable=True),
        sa.Column("grade", sa.String(4), nullable=True),
        sa.Column("pd", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _instant(), nullable=False),
        sa.Column("updated_at", _instant(), nullable=False),
        sa.Column("acknowledged_at", _instant(), nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("acknowledge_note", sa.Text(), nullable=True),
        sa.Column("closed_at", _instant(), nullable=True),
        sa.Column("closed_by", sa.String(128), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("warning_id", name=conv("pk_warnings")),
        sa.CheckConstraint(f"status IN ({_STATUSES})", name=conv("ck_warnings_status")),
        sa.CheckConstraint(
            f"tier IS NULL OR tier IN ({_TIERS})", name=conv("ck_warnings_tier")
        ),
        sa.CheckConstraint(
            "length(uscc) > 0 AND length(signal) > 0", name=conv("ck_warnings_keys")
        ),
        sa.CheckConstraint("last_as_of >= first_as_of", name=conv("ck_warnings_seen")),
        sa.CheckConstraint("times_seen >= 1", name=conv("ck_warnings_times_seen")),
        sa.CheckConstraint(
            "status <> 'acknowledged' OR "
            "(acknowledged_at IS NOT NULL AND length(acknowledged_by) > 0)",
            name=conv("ck_warnings_acknowledged"),
        ),
        sa.CheckConstraint(
            "(status = 'closed' AND closed_at IS NOT NULL AND length(closed_by) > 0 "
            "AND length(close_note) > 0) OR (status <> 'closed' AND closed_at IS NULL)",
            name=conv("ck_warnings_closed"),
        ),
        sa.Index(conv("ix_warnings_uscc_signal"), "uscc", "signal"),
        sa.Index(conv("ix_warnings_status_priority"), "status", "priority"),
        sa.Index(conv("ix_warnings_signal"), "signal"),
        sa.Index(conv("ix_warnings_last_as_of"), "last_as_of"),
    ]
    tables["warning_occurrences"] = [
        sa.Column("warning_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("recorded_at", _instant(), nullable=False),
        sa.PrimaryKeyConstraint(
            "warning_id", "as_of", name=conv("pk_warning_occurrences")
        ),
        sa.ForeignKeyConstraint(
            ["warning_id"],
            ["warnings.warning_id"],
            name=conv("fk_warning_occurrences_warning_id_warnings"),
            ondelete="CASCADE",
        ),
        sa.Index(conv("ix_warning_occurrences_as_of"), "as_of"),
    ]
    return tables


def upgrade() -> None:
    """Create the two tables and their indexes."""
    for name, items in _tables().items():
        op.create_table(name, *items)


def downgrade() -> None:
    """Drop the two tables (and every warning in them)."""
    for name in reversed(_tables()):
        op.drop_table(name)
