"""The ``api_keys`` table and the roles, declared with the store's schema.

Both live in :mod:`credit_engine.store` (the roles are the allowed values of
the table's ``role`` CHECK constraint); this package re-exports them.
"""

from __future__ import annotations

from credit_engine.store import Role, api_keys

__all__ = ["Role", "api_keys"]
