"""API keys stored hashed, with roles; console accounts and sessions.

A key is ``ce_`` + 32 random bytes (URL-safe base64); the store keeps its
SHA-256 and its first 8 characters only. :class:`KeyStore` creates, lists,
revokes and authenticates keys (with a short in-process cache); every creation
and revocation is appended to the audit log (:mod:`credit_engine.audit`).
People sign in to the supervisor console (:mod:`credit_engine.console`) with a
key, or with its name and a password (:class:`ConsoleAccounts`, scrypt hashes);
:class:`SessionStore` keeps their server-side sessions, which end with the key.
The ``api_keys`` table and the roles are declared with every other table of the
operational store in :mod:`credit_engine.store` and created by its migrations.

Examples
--------
>>> from credit_engine.store import OperationalStore
>>> keys = KeyStore(OperationalStore("sqlite://"))
>>> info, key = keys.create("zone-supervisors", Role.SUPERVISOR, created_by="admin")
>>> require_role(keys.authenticate(key), Role.SUPERVISOR, Role.ADMIN)
>>> [k.name for k in keys.list()]
['zone-supervisors']
"""

from __future__ import annotations

from credit_engine.auth._accounts import (
    MIN_PASSWORD_LENGTH,
    ConsoleAccounts,
    hash_password,
    verify_password,
)
from credit_engine.auth._keys import (
    KEY_PREFIX,
    ApiKeyInfo,
    KeyStore,
    hash_key,
    new_key,
    require_role,
)
from credit_engine.auth._schema import Role, api_keys
from credit_engine.auth._sessions import (
    ConsoleSession,
    EndReason,
    SessionStore,
    session_hash,
)
from credit_engine.exceptions import (
    ApiKeyNotFoundError,
    AuthenticationError,
    InvalidKeyRequestError,
    PermissionDeniedError,
)

__all__ = [
    "KEY_PREFIX",
    "MIN_PASSWORD_LENGTH",
    "ApiKeyInfo",
    "ApiKeyNotFoundError",
    "AuthenticationError",
    "ConsoleAccounts",
    "ConsoleSession",
    "EndReason",
    "InvalidKeyRequestError",
    "KeyStore",
    "PermissionDeniedError",
    "Role",
    "SessionStore",
    "api_keys",
    "hash_key",
    "hash_password",
    "new_key",
    "require_role",
    "session_hash",
    "verify_password",
]
