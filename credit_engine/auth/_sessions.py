"""Server-side console sessions: opened at sign-in, checked on every request.

The browser holds only a random session id (32 bytes, URL-safe base64) in an
HttpOnly cookie; the store keeps its SHA-256, the key and role signed in, the
CSRF token of the session's forms, when it started, when it expires
(absolute lifetime), when it was last seen (idle expiry) and when and why it
ended. A session ends when its holder signs out, when it expires, or when its
API key is revoked (checked on every request by joining the key).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from credit_engine.auth._keys import ApiKeyInfo
from credit_engine.auth._schema import Role
from credit_engine.exceptions import SessionExpiredError
from credit_engine.store import OperationalStore, api_keys, console_sessions
from credit_engine.store._engine import translate_errors

__all__ = ["ConsoleSession", "EndReason", "SessionStore", "session_hash"]


class EndReason:
    """Why a console session ended (``console_sessions.end_reason``)."""

    SIGNED_OUT = "signed_out"
    EXPIRED = "expired"
    IDLE = "idle"
    KEY_REVOKED = "key_revoked"


def session_hash(token: str) -> str:
    """Return the SHA-256 hex digest stored for a session id."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class ConsoleSession:
    """A live console session (never its id).

    Attributes
    ----------
    session_hash : str
        SHA-256 of the session id.
    key_id : int
        The API key signed in.
    name : str
        The key's name (recorded as the actor of every action).
    role : Role
        The key's role.
    csrf_token : str
        Token every form of the session carries.
    created_at, expires_at, last_seen_at : datetime.datetime
        Start, absolute end and last activity (aware UTC).
    """

    session_hash: str
    key_id: int
    name: str
    role: Role
    csrf_token: str
    created_at: dt.datetime
    expires_at: dt.datetime
    last_seen_at: dt.datetime


class SessionStore:
    """Open, check and end console sessions in the operational store.

    Parameters
    ----------
    store : OperationalStore
        Where sessions live (table ``console_sessions``).
    idle : datetime.timedelta, default=30 minutes
        A session not used for this long ends.
    lifetime : datetime.timedelta, default=8 hours
        A session ends this long after sign-in, however active.
    touch_every : datetime.timedelta, default=30 seconds
        ``last_seen_at`` is written at most this often (one write per page
        view would be wasted); idle expiry is exact to this much.
    clock : callable, optional
        Returns the current aware UTC instant (inject a fake one in tests).

    Examples
    --------
    >>> from credit_engine.auth import KeyStore
    >>> store = OperationalStore("sqlite://")
    >>> info, _ = KeyStore(store).create("officer.li", "supervisor", created_by="admin")
    >>> sessions = SessionStore(store)
    >>> token, opened = sessions.open(info, client="127.0.0.1")
    >>> sessions.check(token).name
    'officer.li'
    >>> sessions.end(token)
    >>> sessions.check(token)
    Traceback (most recent call last):
    ...
    credit_engine.exceptions.SessionExpiredError: The console session was signed out; sign in again.
    """  # noqa: E501

    def __init__(
        self,
        store: OperationalStore,
        *,
        idle: dt.timedelta = dt.timedelta(minutes=30),
        lifetime: dt.timedelta = dt.timedelta(hours=8),
        touch_every: dt.timedelta = dt.timedelta(seconds=30),
        clock: Callable[[], dt.datetime] = _now,
    ) -> None:
        self.store = store
        self.idle = idle
        self.lifetime = lifetime
        self.touch_every = touch_every
        self.clock = clock

    def open(
        self, key: ApiKeyInfo, *, client: str | None = None
    ) -> tuple[str, ConsoleSession]:
        """Open a session for an authenticated key; return its id and the session.

        The id is returned once, for the cookie; only its hash is stored.
        """
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = ConsoleSession(
            session_hash=session_hash(token),
            key_id=key.key_id,
            name=key.name,
            role=Role(key.role),
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + self.lifetime,
            last_seen_at=now,
        )
        with (
            translate_errors(self.store.engine, "open a console session"),
            self.store.engine.begin() as conn,
        ):
            conn.execute(
                console_sessions.insert(),
                {
                    "session_hash": session.session_hash,
                    "key_id": key.key_id,
                    "role": str(session.role),
                    "csrf_token": session.csrf_token,
                    "created_at": now,
                    "expires_at": session.expires_at,
                    "last_seen_at": now,
                    "client": (client or "")[:64] or None,
                },
            )
        return token, session

    def check(self, token: str) -> ConsoleSession:
        """Return the live session of ``token``, or raise why it is not live.

        Raises
        ------
        SessionExpiredError
            If there is no such session, or it was ended, expired (absolute or
            idle) or its key was revoked; an ended session is marked with the
            reason.
        """
        digest = session_hash(token)
        s = console_sessions.c
        stmt = (
            select(
                s.session_hash,
                s.key_id,
                s.role,
                s.csrf_token,
                s.created_at,
                s.expires_at,
                s.last_seen_at,
                s.revoked_at,
                s.end_reason,
                api_keys.c.name,
                api_keys.c.revoked_at.label("key_revoked_at"),
            )
            .join(api_keys, api_keys.c.key_id == s.key_id)
            .where(s.session_hash == digest)
        )
        with (
            translate_errors(self.store.engine, "check a console session"),
            self.store.engine.connect() as conn,
        ):
            row = conn.execute(stmt).first()
        if row is None:
            raise SessionExpiredError(
                "There is no such console session (it may have been removed); "
                "sign in again."
            )
        if row.revoked_at is not None:
            raise SessionExpiredError(
                _ENDED.get(
                    str(row.end_reason),
                    f"The console session ended ({row.end_reason}); sign in again.",
                )
            )
        now = self.clock()
        reason = _end_reason(row, now, self.idle)
        if reason is not None:
            self._end(digest, reason, now)
            raise SessionExpiredError(_ENDED[reason])
        if now - row.last_seen_at >= self.touch_every:
            with (
                translate_errors(self.store.engine, "touch a console session"),
                self.store.engine.begin() as conn,
            ):
                conn.execute(
                    update(console_sessions)
                    .where(s.session_hash == digest)
                    .values(last_seen_at=now)
                )
        return ConsoleSession(
            session_hash=digest,
            key_id=int(row.key_id),
            name=str(row.name),
            role=Role(row.role),
            csrf_token=str(row.csrf_token),
            created_at=row.created_at,
            expires_at=row.expires_at,
            last_seen_at=now,
        )

    def end(self, token: str, reason: str = EndReason.SIGNED_OUT) -> None:
        """End the session of ``token`` (sign-out); nothing if already ended."""
        self._end(session_hash(token), reason, self.clock())

    def end_for_key(self, key_id: int, reason: str = EndReason.KEY_REVOKED) -> int:
        """End every live session of a key; return how many were live."""
        s = console_sessions.c
        with (
            translate_errors(self.store.engine, "end console sessions"),
            self.store.engine.begin() as conn,
        ):
            result = conn.execute(
                update(console_sessions)
                .where(s.key_id == key_id, s.revoked_at.is_(None))
                .values(revoked_at=self.clock(), end_reason=reason)
            )
        return int(result.rowcount or 0)

    def _end(self, digest: str, reason: str, now: dt.datetime) -> None:
        s = console_sessions.c
        with (
            translate_errors(self.store.engine, "end a console session"),
            self.store.engine.begin() as conn,
        ):
            conn.execute(
                update(console_sessions)
                .where(s.session_hash == digest, s.revoked_at.is_(None))
                .values(revoked_at=now, end_reason=reason)
            )


_ENDED = {
    EndReason.SIGNED_OUT: "The console session was signed out; sign in again.",
    EndReason.KEY_REVOKED: "The API key of this console session was revoked, so the "
    "session ended; ask an administrator for a new key.",
    EndReason.EXPIRED: "The console session reached its maximum length and ended; "
    "sign in again.",
    EndReason.IDLE: "The console session ended after a period without activity; "
    "sign in again.",
}


def _end_reason(row: Any, now: dt.datetime, idle: dt.timedelta) -> str | None:
    if row.key_revoked_at is not None:
        return EndReason.KEY_REVOKED
    if now >= row.expires_at:
        return EndReason.EXPIRED
    if now - row.last_seen_at >= idle:
        return EndReason.IDLE
    return None
