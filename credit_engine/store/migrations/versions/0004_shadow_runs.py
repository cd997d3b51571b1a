"""Shadow runs: a ``role`` on every rating run, ``served`` or ``shadow``.

A shadow run records what another model version (a challenger) would have
decided on the same inputs; it is never served. Every existing run was served,
so the column is added with the default ``served`` (existing rows take it), a
CHECK constraint on the two values and an index on ``(role, as_of)`` for the
"latest served run of a date" queries.

SQLite adds the column with its (named) column CHECK in one ``ALTER TABLE``:
rebuilding ``rating_runs`` the batch way would drop the parent of
``decisions``, and with foreign keys on, SQLite cascades that drop into the
decisions. Downgrading drops the index and the column (every shadow run's
role with it: they then read as served runs, so delete them first).

Revision ID: 0004_shadow_runs
Revises: 0001
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.sql.naming import conv

revision: str = "0004_shadow_runs"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

_CHECK = "role IN ('served', 'shadow')"
_CHECK_NAME = "ck_rating_runs_role"
_INDEX_NAME = "ix_rating_runs_role_as_of"


def upgrade() -> None:
    """Add ``rating_runs.role`` (existing runs: ``served``), its CHECK and index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE rating_runs ADD COLUMN role VARCHAR(8) DEFAULT 'served' "
            f"NOT NULL CONSTRAINT {_CHECK_NAME} CHECK ({_CHECK})"
        )
    else:
        op.add_column(
            "rating_runs",
            sa.Column("role", sa.String(8), nullable=False, server_default="served"),
        )
        op.create_check_constraint(conv(_CHECK_NAME), "rating_runs", _CHECK)
    op.create_index(conv(_INDEX_NAME), "rating_runs", ["role", "as_of"])


def downgrade() -> None:
    """Drop the index and the column (shadow runs then read as served)."""
    op.drop_index(conv(_INDEX_NAME), table_name="rating_runs")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE rating_runs DROP COLUMN role")
    else:
        op.drop_constraint(conv(_CHECK_NAME), "rating_runs", type_="check")
        op.drop_column("rating_runs", "role")
