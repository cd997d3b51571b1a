"""The ``api_keys`` table, declared on the operational store's metadata."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import CHAR, CheckConstraint, Column, Integer, String, Table

from credit_engine.store import UTCDateTime, metadata

__all__ = ["Role", "api_keys"]


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


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


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
    CheckConstraint(_in("role", [str(r) for r in Role]), name="role"),
    CheckConstraint("length(created_by) > 0", name="created_by"),
)
"""API keys: name, role and the SHA-256 of the key, never the key itself.

A revoked key keeps its row (and its name) so that audit entries naming it stay
unambiguous."""
