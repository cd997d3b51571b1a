"""Hardening: the audit head records whether the chain covers the business tables.

``audit_head.coverage_started`` is true once every change to ``overrides``,
``api_keys``, ``rating_runs`` and ``decisions`` is recorded in the audit log
with a digest of the rows (:mod:`credit_engine.audit`). A store upgraded to
this revision has rows written before coverage existed: the column is false
until the engine's first write records them in a ``coverage_baseline`` entry
and sets it.

Revision ID: 0006_hardening
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006_hardening"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``audit_head.coverage_started`` (false for the rows already there)."""
    op.add_column(
        "audit_head",
        sa.Column(
            "coverage_started",
            sa.Boolean(),
            nullable=False,
            server_default=sa.false(),
        ),
    )


def downgrade() -> None:
    """Drop ``audit_head.coverage_started``."""
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("coverage_started")
