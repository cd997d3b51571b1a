"""Data freshness: the stale sources each decision rests on.

Adds ``decisions.stale_sources``, a JSON list of the required source tables
that were beyond their allowed lag at the rating date (``{table, department,
watermark, age_days, allowed_lag_days}`` each; see
:mod:`credit_engine.freshness`). Nullable: decisions stored before this
revision were rated before freshness was checked and read as an empty list.

Downgrading drops the column and the marks in it.

Revision ID: 0002_freshness
Revises: 0003_warnings
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002_freshness"
down_revision: str | None = "0003_warnings"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the nullable JSON column ``decisions.stale_sources``."""
    op.add_column("decisions", sa.Column("stale_sources", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop ``decisions.stale_sources``."""
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("stale_sources")
