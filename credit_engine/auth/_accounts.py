"""Console accounts: an optional password for an API key's holder (scrypt hashes).

A person who holds an API key can sign in to the supervisor console with the
key itself, or with the key's name and a password set by an administrator
(``credit-engine keys create ... --password`` or ``keys password NAME``). The
password is stored only as a scrypt hash (:func:`hashlib.scrypt`, standard
library; RFC 7914 parameters N=2**15, r=8, p=1, a random 16-byte salt), in
``console_accounts`` keyed by the API key: revoking the key ends the account.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import delete, select

from credit_engine.audit import AuditLog
from credit_engine.auth._keys import ApiKeyInfo, KeyStore
from credit_engine.exceptions import AuthenticationError, InvalidKeyRequestError
from credit_engine.store import OperationalStore, api_keys, console_accounts
from credit_engine.store._engine import translate_errors

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ConsoleAccounts",
    "hash_password",
    "verify_password",
]

MIN_PASSWORD_LENGTH = 12
"""Shortest console password accepted (a passphrase is better)."""

_SCHEME = "scrypt"
_N, _R, _P = 2**15, 8, 1
_MAXMEM = 64 * 1024 * 1024
_SALT_BYTES = 16
_DKLEN = 32


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str, *, n: int = _N, salt: bytes | None = None) -> str:
    """Return the stored form of ``password``: ``scrypt$N$r$p$salt$hash``.

    Parameters
    ----------
    password : str
        The password (UTF-8 encoded before hashing).
    n : int, default=32768
        scrypt's CPU/memory cost (a power of two).
    salt : bytes, optional
        16 random bytes (default: fresh from :mod:`secrets`).

    Returns
    -------
    str

    Examples
    --------
    >>> stored = hash_password("correct horse battery", n=2**10)
    >>> stored.startswith("scrypt$1024$8$1$"), verify_password("correct horse battery", stored)
    (True, True)
    """  # noqa: E501
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=_R,
        p=_P,
        maxmem=_MAXMEM,
        dklen=_DKLEN,
    )
    return f"{_SCHEME}${n}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time comparison).

    A malformed ``stored`` value never matches.
    """
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        expected = _unb64(digest)
        found = hashlib.scrypt(
            password.encode("utf-8"),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(found, expected)


# Checked against when the name is unknown, so that a wrong name costs as long
# as a wrong password (no probing for names by timing).
_DUMMY = hash_password(secrets.token_urlsafe(16), n=_N, salt=b"\0" * _SALT_BYTES)


class ConsoleAccounts:
    """Console passwords of API-key holders, in the operational store.

    Parameters
    ----------
    store : OperationalStore
        Where the keys and accounts live.
    keys : KeyStore, optional
        The API keys (default: a key store on ``store``).
    audit : AuditLog, optional
        Where a password change is logged (default: the keys' audit log).

    Examples
    --------
    >>> from credit_engine.store import OperationalStore
    >>> store = OperationalStore("sqlite://")
    >>> keys = KeyStore(store)
    >>> _ = keys.create("officer.li", "supervisor", created_by="admin")
    >>> accounts = ConsoleAccounts(store, keys=keys)
    >>> _ = accounts.set_password("officer.li", "a long passphrase", by="admin")
    >>> accounts.authenticate("officer.li", "a long passphrase").role
    <Role.SUPERVISOR: 'supervisor'>
    """

    def __init__(
        self,
        store: OperationalStore,
        *,
        keys: KeyStore | None = None,
        audit: AuditLog | None = None,
    ) -> None:
        self.store = store
        self.keys = keys if keys is not None else KeyStore(store)
        self.audit = audit if audit is not None else self.keys.audit

    def set_password(
        self, name_or_id: str | int, password: str, *, by: str
    ) -> ApiKeyInfo:
        """Set (or replace) the console password of an active key's holder.

        Parameters
        ----------
        name_or_id : str or int
            The API key's name or id.
        password : str
            At least :data:`MIN_PASSWORD_LENGTH` characters.
        by : str
            Who sets it (logged as ``console_password_set``; never the password).

        Returns
        -------
        ApiKeyInfo
            The key the account belongs to.

        Raises
        ------
        ApiKeyNotFoundError
            If no key has that name or id.
        InvalidKeyRequestError
            If the key is revoked, the password too short or ``by`` empty.
        """
        problems = []
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
            problems.append(
                f"the password must have at least {MIN_PASSWORD_LENGTH} characters, "
                f"got {len(password) if isinstance(password, str) else 0}"
            )
        if not isinstance(by, str) or not by.strip():
            problems.append(f"by must be a non-empty string, got {by!r}")
        info = self.keys.get(name_or_id)
        if info.revoked_at is not None:
            problems.append(
                f"the key {info.name!r} was revoked at {info.revoked_at.isoformat()}; "
                "create a new key for the person"
            )
        if problems:
            raise InvalidKeyRequestError(
                f"Cannot set the console password of {name_or_id!r}: "
                + "; ".join(problems)
                + "."
            )
        stored = hash_password(password)
        now = dt.datetime.now(dt.UTC)
        with self.audit.transaction() as tx:
            conn = tx.connection
            conn.execute(
                delete(console_accounts).where(console_accounts.c.key_id == info.key_id)
            )
            conn.execute(
                console_accounts.insert(),
                {
                    "key_id": info.key_id,
                    "password_hash": stored,
                    "set_at": now,
                    "set_by": by.strip(),
                },
            )
            tx.append(
                "console_password_set",
                by.strip(),
                {"key_id": info.key_id, "name": info.name, "role": str(info.role)},
                subject=info.name,
                recorded_at=now,
            )
        return info

    def has_password(self, key_id: int) -> bool:
        """Whether the key's holder has a console password."""
        with (
            translate_errors(self.store.engine, "read console accounts"),
            self.store.engine.connect() as conn,
        ):
            found = conn.execute(
                select(console_accounts.c.key_id).where(
                    console_accounts.c.key_id == key_id
                )
            ).first()
        return found is not None

    def authenticate(self, name: str, password: str) -> ApiKeyInfo:
        """Return the active key whose holder signs in with ``name`` and ``password``.

        Raises
        ------
        AuthenticationError
            For an unknown name, a key without a console password, a wrong
            password or a revoked key; the message does not say which of the
            first three it was.
        """
        stmt = (
            select(
                api_keys.c.key_id,
                api_keys.c.revoked_at,
                console_accounts.c.password_hash,
            )
            .join(console_accounts, console_accounts.c.key_id == api_keys.c.key_id)
            .where(api_keys.c.name == name)
        )
        with (
            translate_errors(self.store.engine, "check a console password"),
            self.store.engine.connect() as conn,
        ):
            row = conn.execute(stmt).first()
        stored = str(row.password_hash) if row is not None else _DUMMY
        matches = verify_password(password, stored)
        if row is None or not matches:
            raise AuthenticationError(
                "The name or password is not right (or no console password was set "
                "for that name: an administrator sets one with `credit-engine keys "
                "password NAME`)."
            )
        if row.revoked_at is not None:
            raise AuthenticationError(
                f"The API key of {name!r} was revoked at "
                f"{row.revoked_at.isoformat()}; ask an administrator for a new one."
            )
        return self.keys.get(int(row.key_id))
