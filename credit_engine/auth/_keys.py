"""API keys: creation, hashed storage, authentication with a short cache, revocation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import Connection, Row, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from credit_engine.audit import AuditKind, AuditLog, covers, row_coverage
from credit_engine.auth._schema import Role, api_keys
from credit_engine.exceptions import (
    ApiKeyNotFoundError,
    AuthenticationError,
    InvalidKeyRequestError,
    PermissionDeniedError,
)
from credit_engine.store import OperationalStore, console_sessions
from credit_engine.store._engine import translate_errors

__all__ = [
    "KEY_PREFIX",
    "ApiKeyInfo",
    "KeyStore",
    "hash_key",
    "new_key",
    "require_role",
]

KEY_PREFIX = "ce_"
"""Every key starts with this, so a leaked key is recognisable (secret scanners)."""

_KEY = re.compile(r"^ce_[A-Za-z0-9_-]{43}$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._@-]{0,63}$")
_SHOWN = 8  # characters of a key kept for listings: "ce_" + 5 random ones
_CACHE_MAX = 10_000


def new_key() -> str:
    """Return a fresh API key: ``ce_`` + 32 random bytes, URL-safe base64 (43 chars).

    Examples
    --------
    >>> key = new_key()
    >>> key.startswith("ce_"), len(key)
    (True, 46)
    """
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest stored for ``key``.

    A plain hash is enough here: a key carries 256 random bits, so unlike a
    password it cannot be guessed from its hash by trying likely values, and a
    slow key-derivation function would only add latency to every request.

    Examples
    --------
    >>> hash_key("ce_" + "A" * 43)[:16]
    'f5afba5bd1271154'
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _role(value: object) -> Role | None:
    return Role(value) if isinstance(value, str) and value in set(Role) else None


def _roles_text() -> str:
    return ", ".join(str(r) for r in Role)


@dataclass(frozen=True)
class ApiKeyInfo:
    """What is known about an API key (never the key, nor its hash).

    Attributes
    ----------
    key_id : int
        Stable id.
    name : str
        Unique name (who or what uses it, e.g. ``customs-gateway``).
    role : Role
        What it may do.
    key_prefix : str
        First 8 characters of the key, to recognise it in listings.
    created_at : datetime.datetime
        When it was created (aware UTC).
    created_by : str
        Who created it.
    revoked_at : datetime.datetime or None
        When it was revoked.
    revoked_by : str or None
        Who revoked it.
    last_used_at : datetime.datetime or None
        Last authentication seen (updated at most every ``touch_interval``).
    """

    key_id: int
    name: str
    role: Role
    key_prefix: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None = None
    revoked_by: str | None = None
    last_used_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """Whether the key has not been revoked."""
        return self.revoked_at is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (instants as ISO 8601)."""

        def iso(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "key_id": self.key_id,
            "name": self.name,
            "role": str(self.role),
            "key_prefix": self.key_prefix,
            "created_at": iso(self.created_at),
            "created_by": self.created_by,
            "revoked_at": iso(self.revoked_at),
            "revoked_by": self.revoked_by,
            "last_used_at": iso(self.last_used_at),
        }


_INFO_COLUMNS = [c for c in api_keys.c if c.name != "key_hash"]


def _info(row: Row[Any]) -> ApiKeyInfo:
    return ApiKeyInfo(
        key_id=int(row.key_id),
        name=row.name,
        role=Role(row.role),
        key_prefix=row.key_prefix,
        created_at=row.created_at,
        created_by=row.created_by,
        revoked_at=row.revoked_at,
        revoked_by=row.revoked_by,
        last_used_at=row.last_used_at,
    )


def require_role(key: ApiKeyInfo, *allowed: Role | str) -> None:
    """Raise unless ``key`` holds one of the ``allowed`` roles.

    Parameters
    ----------
    key : ApiKeyInfo
        The authenticated key.
    *allowed : Role or str
        Roles that may act (an admin is not allowed implicitly: list it).

    Raises
    ------
    PermissionDeniedError
        Naming the roles needed and the role held.

    Examples
    --------
    >>> info = ApiKeyInfo(1, "ds-team", Role.DATA_SCIENTIST, "ce_Ab3dE",
    ...                   dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "admin")
    >>> require_role(info, Role.DATA_SCIENTIST, Role.ADMIN)
    >>> require_role(info, Role.SUPERVISOR)
    Traceback (most recent call last):
    ...
    credit_engine.exceptions.PermissionDeniedError: This action needs role supervisor; the API key 'ds-team' has role data_scientist.
    """  # noqa: E501
    wanted = [str(Role(r)) for r in allowed]
    if str(key.role) in wanted:
        return
    needed = " or ".join(wanted) if wanted else "(none allowed)"
    raise PermissionDeniedError(
        f"This action needs role {needed}; the API key {key.name!r} has role "
        f"{key.role}."
    )


class KeyStore:
    """API keys in the operational store, stored as SHA-256 hashes with a role.

    A key is ``ce_`` followed by 32 random bytes (``secrets.token_urlsafe``);
    the plaintext exists only in the return value of :meth:`create`. Keys are
    looked up by their hash, so checking one costs one indexed query (or none:
    see the cache). Creations and revocations are appended to the audit log in
    the same transaction as the change (kinds ``key_created`` and
    ``key_revoked``; the payload never holds the key or its hash).

    The cache: a valid key is remembered in this process for ``cache_ttl``
    seconds (keyed by its hash, in a :class:`cachetools.TTLCache` of at most
    10,000 keys), so a hot API path makes no database round trip per request.
    A revocation through this object takes effect immediately here; in other
    processes it takes effect within ``cache_ttl`` seconds. Unknown and
    revoked keys are never cached.

    Parameters
    ----------
    store : OperationalStore
        Where the keys live; its schema is brought up to date
        (:meth:`OperationalStore.create_schema`, idempotent).
    audit : AuditLog, optional
        Where key events are logged (default: the store's audit log).
    cache_ttl : float, default=5.0
        Seconds a successful authentication is reused; 0 disables the cache.
    clock : callable, default=time.monotonic
        Seconds for the cache (inject a fake one in tests).
    touch_interval : float or None, default=3600.0
        Write ``last_used_at`` on a cache miss when the stored value is older
        than this many seconds; ``None`` never writes it (no write on the
        request path at all).

    Examples
    --------
    >>> from credit_engine.store import OperationalStore, console_sessions
    >>> keys = KeyStore(OperationalStore("sqlite://"))
    >>> info, key = keys.create("customs-gateway", "inspection_system",
    ...                         created_by="admin")
    >>> keys.authenticate(key).role
    <Role.INSPECTION_SYSTEM: 'inspection_system'>
    >>> keys.revoke("customs-gateway", by="admin").active
    False
    >>> keys.authenticate(key)
    Traceback (most recent call last):
    ...
    credit_engine.exceptions.AuthenticationError: The API key was revoked at ...
    """

    def __init__(
        self,
        store: OperationalStore,
        *,
        audit: AuditLog | None = None,
        cache_ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        touch_interval: float | None = 3600.0,
    ) -> None:
        self.store = store
        self.audit = audit if audit is not None else AuditLog(store)
        self.cache_ttl = float(cache_ttl)
        self.clock = clock
        self.touch_interval = touch_interval
        # Valid keys only, by hash; TTLCache is not thread-safe: every access
        # holds the lock.
        self._cache: TTLCache[str, ApiKeyInfo] | None = (
            TTLCache(maxsize=_CACHE_MAX, ttl=self.cache_ttl, timer=clock)
            if self.cache_ttl > 0
            else None
        )
        self._cache_lock = threading.Lock()
        store.create_schema()

    def __repr__(self) -> str:
        return f"KeyStore({self.store!r})"

    # ---------------------------------------------------------------- writes
    def create(
        self, name: str, role: Role | str, *, created_by: str
    ) -> tuple[ApiKeyInfo, str]:
        """Create a key; return its description and the key itself.

        Parameters
        ----------
        name : str
            Unique name: a letter, then letters, digits, ``.``, ``_``, ``@`` or
            ``-`` (at most 64). Names of revoked keys stay taken.
        role : Role or str
            ``supervisor``, ``inspection_system``, ``data_scientist``,
            ``admin`` or ``auditor``.
        created_by : str
            Who creates it (recorded and logged).

        Returns
        -------
        tuple of (ApiKeyInfo, str)
            The key's description and the plaintext key: the only time it
            exists. Hand it over; it cannot be shown again.

        Raises
        ------
        InvalidKeyRequestError
            If the name is malformed or taken, the role unknown (the message
            lists the roles) or ``created_by`` empty.
        """
        problems: list[str] = []
        if not isinstance(name, str) or not _NAME.match(name):
            problems.append(
                f"name must start with a letter and hold only letters, digits, "
                f"'.', '_', '@' or '-' (at most 64), got {name!r}"
            )
        chosen = _role(role)
        if chosen is None:
            problems.append(f"unknown role {role!r}; roles are {_roles_text()}")
        if not isinstance(created_by, str) or not created_by.strip():
            problems.append(
                f"created_by must be a non-empty string, got {created_by!r}"
            )
        if problems:
            raise InvalidKeyRequestError(
                "Cannot create the API key: " + "; ".join(problems) + "."
            )
        assert chosen is not None
        key = new_key()
        info = ApiKeyInfo(
            key_id=0,  # given by the database below
            name=name,
            role=chosen,
            key_prefix=key[:_SHOWN],
            created_at=dt.datetime.now(dt.UTC),
            created_by=created_by.strip(),
        )
        row = {
            "name": name,
            "role": str(chosen),
            "key_prefix": info.key_prefix,
            "key_hash": hash_key(key),
            "created_at": info.created_at,
            "created_by": info.created_by,
        }
        with self.audit.transaction() as tx:
            conn = tx.connection
            taken = self._find(conn, name)
            if taken is not None:
                raise InvalidKeyRequestError(_taken(taken))
            try:
                result = conn.execute(api_keys.insert(), row)
            except IntegrityError as exc:  # pragma: no cover - written outside
                raise InvalidKeyRequestError(
                    f"Cannot create the API key {name!r}: the name is taken."
                ) from exc
            key_id = result.inserted_primary_key
            assert key_id is not None
            info = dataclasses.replace(info, key_id=int(key_id[0]))
            tx.append(
                AuditKind.KEY_CREATED,
                info.created_by,
                {"key_id": info.key_id, "name": name, "role": str(chosen),
                 "key_prefix": info.key_prefix,
                 # The digest covers the stored hash too (a swapped hash, or a
                 # role raised in the table, is found by `audit verify`).
                 "covers": covers([row_coverage(conn, "api_keys", info.key_id)])},
                subject=name,
                recorded_at=info.created_at,
            )  # fmt: skip
        return info, key

    def revoke(self, name_or_id: str | int, *, by: str) -> ApiKeyInfo:
        """Revoke a key; its row stays (with who revoked it and when).

        Parameters
        ----------
        name_or_id : str or int
            The key's name, or its ``key_id``.
        by : str
            Who revokes it (recorded and logged).

        Returns
        -------
        ApiKeyInfo
            The revoked key.

        Raises
        ------
        ApiKeyNotFoundError
            If no key has that name or id.
        InvalidKeyRequestError
            If it was already revoked or ``by`` is empty.
        """
        if not isinstance(by, str) or not by.strip():
            raise InvalidKeyRequestError(
                f"Cannot revoke API key {name_or_id!r}: by must be a non-empty "
                f"string, got {by!r}."
            )
        now = dt.datetime.now(dt.UTC)
        with self.audit.transaction() as tx:
            conn = tx.connection
            found = self._find(conn, name_or_id)
            if found is None:
                raise ApiKeyNotFoundError(
                    f"No API key named or numbered {name_or_id!r}; list them with "
                    "`credit-engine keys list`."
                )
            if found.revoked_at is not None:
                raise InvalidKeyRequestError(
                    f"API key {found.name!r} was already revoked at "
                    f"{found.revoked_at.isoformat()} by {found.revoked_by}."
                )
            conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == found.key_id)
                .values(revoked_at=now, revoked_by=by.strip())
            )
            # Console sessions of the key end with it (they are also refused
            # at their next request by the session check).
            conn.execute(
                update(console_sessions)
                .where(
                    console_sessions.c.key_id == found.key_id,
                    console_sessions.c.revoked_at.is_(None),
                )
                .values(revoked_at=now, end_reason="key_revoked")
            )
            tx.append(
                AuditKind.KEY_REVOKED,
                by.strip(),
                {"key_id": found.key_id, "name": found.name, "role": found.role,
                 "covers": covers([row_coverage(conn, "api_keys", found.key_id)])},
                subject=found.name,
                recorded_at=now,
            )  # fmt: skip
            key_hash = found.key_hash
        if self._cache is not None:
            with self._cache_lock:
                self._cache.pop(key_hash, None)
        return dataclasses.replace(_info(found), revoked_at=now, revoked_by=by.strip())

    # ----------------------------------------------------------------- reads
    def cached(self, key: str) -> ApiKeyInfo | None:
        """Return the key's description if this process authenticated it lately.

        No database access: the API calls this on the event loop and goes to
        :meth:`authenticate` (in a worker thread) only on a miss.

        Raises
        ------
        AuthenticationError
            If the key is malformed.
        """
        if not isinstance(key, str) or not _KEY.match(key):
            raise AuthenticationError(
                "The API key is malformed: expected 'ce_' followed by 43 URL-safe "
                "characters, as `credit-engine keys create` printed it."
            )
        if self._cache is None:
            return None
        digest = hash_key(key)
        with self._cache_lock:
            return self._cache.get(digest)

    def authenticate(self, key: str) -> ApiKeyInfo:
        """Return the active key matching ``key``.

        Parameters
        ----------
        key : str
            The key as sent by the client.

        Returns
        -------
        ApiKeyInfo

        Raises
        ------
        AuthenticationError
            If the key is malformed, unknown or revoked (the message never
            repeats the key).
        """
        if not isinstance(key, str) or not _KEY.match(key):
            raise AuthenticationError(
                "The API key is malformed: expected 'ce_' followed by 43 URL-safe "
                "characters, as `credit-engine keys create` printed it."
            )
        digest = hash_key(key)
        if self._cache is not None:
            with self._cache_lock:
                cached = self._cache.get(digest)
            if cached is not None:
                return cached
        with (
            translate_errors(self.store.engine, "check an API key"),
            self.store.engine.connect() as conn,
        ):
            row = conn.execute(
                select(api_keys).where(api_keys.c.key_hash == digest)
            ).first()
        if row is None or not hmac.compare_digest(str(row.key_hash), digest):
            raise AuthenticationError(
                "The API key is not valid (no such key); ask an administrator for "
                "one (`credit-engine keys create`)."
            )
        if row.revoked_at is not None:
            raise AuthenticationError(
                f"The API key was revoked at {row.revoked_at.isoformat()}; ask an "
                "administrator for a new one."
            )
        info = _info(row)
        self._touch(info)
        if self._cache is not None:
            with self._cache_lock:
                # A full cache drops expired entries first, then the least
                # recently used one.
                self._cache[digest] = info
        return info

    def get(self, name_or_id: str | int) -> ApiKeyInfo:
        """Return one key by name or ``key_id``.

        Raises
        ------
        ApiKeyNotFoundError
            If no key has that name or id.
        """
        with (
            translate_errors(self.store.engine, "read API keys"),
            self.store.engine.connect() as conn,
        ):
            found = self._find(conn, name_or_id)
        if found is None:
            raise ApiKeyNotFoundError(
                f"No API key named or numbered {name_or_id!r}; list them with "
                "`credit-engine keys list`."
            )
        return _info(found)

    def list(self, *, include_revoked: bool = True) -> list[ApiKeyInfo]:
        """Return the keys, oldest first (never their hashes).

        Parameters
        ----------
        include_revoked : bool, default=True
            Also the revoked keys.

        Returns
        -------
        list of ApiKeyInfo
        """
        stmt = select(*_INFO_COLUMNS).order_by(api_keys.c.key_id)
        if not include_revoked:
            stmt = stmt.where(api_keys.c.revoked_at.is_(None))
        with (
            translate_errors(self.store.engine, "list API keys"),
            self.store.engine.connect() as conn,
        ):
            return [_info(row) for row in conn.execute(stmt)]

    def clear_cache(self) -> None:
        """Forget every cached authentication (the next ones hit the database)."""
        if self._cache is not None:
            with self._cache_lock:
                self._cache.clear()

    # --------------------------------------------------------------- helpers
    @staticmethod
    def _find(conn: Connection, name_or_id: str | int) -> Row[Any] | None:
        column = api_keys.c.name
        value: str | int = name_or_id
        if isinstance(name_or_id, int) and not isinstance(name_or_id, bool):
            column = api_keys.c.key_id
        elif isinstance(name_or_id, str) and name_or_id.isdigit():
            # Names start with a letter, so digits can only be an id.
            column, value = api_keys.c.key_id, int(name_or_id)
        elif not isinstance(name_or_id, str):
            return None
        return conn.execute(select(api_keys).where(column == value)).first()

    def _touch(self, info: ApiKeyInfo) -> None:
        if self.touch_interval is None:
            return
        now = dt.datetime.now(dt.UTC)
        last = info.last_used_at
        if last is not None and (now - last).total_seconds() < self.touch_interval:
            return
        try:
            with self.store.engine.begin() as conn:
                conn.execute(
                    update(api_keys)
                    .where(api_keys.c.key_id == info.key_id)
                    .values(last_used_at=now)
                )
        except SQLAlchemyError:
            # Informational only: a busy database must not refuse a valid key.
            pass


def _taken(row: Row[Any]) -> str:
    state = (
        f"revoked at {row.revoked_at.isoformat()}; names of revoked keys stay "
        "taken so that audit entries naming them stay unambiguous"
        if row.revoked_at is not None
        else "active"
    )
    return (
        f"Cannot create the API key {row.name!r}: that name is taken (key "
        f"{row.key_id}, role {row.role}, created by {row.created_by}, {state}). "
        "Choose another name."
    )
