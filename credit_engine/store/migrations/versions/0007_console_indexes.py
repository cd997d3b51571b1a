"""Console indexes: the enterprise list's filtered pages of a run's decisions.

Issue 13 (the supervisor console, 100,000 enterprises): the list pages one
run's decisions in USCC order, filtered by tier, deciding layer and green
channel. With only ``UNIQUE (run_id, uscc)`` the database reads every row of
the run it skips to check the filters (70 ms for a far page of a filtered
100,000-enterprise run on SQLite).

* ``ix_decisions_run_id_uscc_tier_decided_by_green_channel``: the run's
  decisions in USCC order with the filter columns, so filters are checked in
  the index and only the rows shown are read;
* ``ix_decisions_run_id_tier_decided_by_uscc``: a tier (and layer) filter
  reaches its rows directly, already in USCC order.

Downgrading drops the two indexes (no data changes).

Revision ID: 0007_console_indexes
Revises: 0006_hardening
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op
from sqlalchemy.sql.naming import conv

revision: str = "0007_console_indexes"
down_revision: str | None = "0006_hardening"
branch_labels: str | None = None
depends_on: str | None = None

_PAGE = "ix_decisions_run_id_uscc_tier_decided_by_green_channel"
_TIER_LAYER = "ix_decisions_run_id_tier_decided_by_uscc"


def upgrade() -> None:
    """Create the two indexes of the console's enterprise list."""
    op.create_index(
        conv(_PAGE),
        "decisions",
        ["run_id", "uscc", "tier", "decided_by", "green_channel"],
    )
    op.create_index(
        conv(_TIER_LAYER), "decisions", ["run_id", "tier", "decided_by", "uscc"]
    )


def downgrade() -> None:
    """Drop the two indexes."""
    op.drop_index(conv(_TIER_LAYER), table_name="decisions")
    op.drop_index(conv(_PAGE), table_name="decisions")
