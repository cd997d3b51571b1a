"""API keys and roles: who may call what, which fields each role may see, how much.

:func:`require` is the one dependency a route needs: it authenticates the key
(from memory; from the store in a worker thread on a cache miss, never on the
event loop), checks the role, and admits the request under the key's limits
(:mod:`credit_engine.api._limits`: 429 with ``Retry-After`` beyond them). The
request's concurrency slot is given back when it ends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.decisioning import Disclosure
from credit_engine.exceptions import AuthenticationError, PermissionDeniedError

__all__ = ["CLEARANCE", "SLOT_STATE", "principal_stamp", "release_slot", "require"]

SLOT_STATE = "credit_engine.limit_slot"
"""Key of a request's limit slot in its scope's ``state``."""

CLEARANCE: dict[Role, Disclosure] = {
    Role.INSPECTION_SYSTEM: Disclosure.SHARED,
    Role.SUPERVISOR: Disclosure.INTERNAL,
    Role.DATA_SCIENTIST: Disclosure.INTERNAL,
    Role.ADMIN: Disclosure.INTERNAL,
    Role.AUDITOR: Disclosure.INTERNAL,
}
"""Disclosure level each role is cleared for (fields above it are withheld)."""

_TOUCH_EVERY = dt.timedelta(hours=1)


def _key_from(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        raise AuthenticationError(
            "The Authorization header must be 'Bearer <API key>'."
        )
    key = request.headers.get("x-api-key")
    return key.strip() if key else None


def principal_stamp(principal: ApiKeyInfo) -> dict[str, Any]:
    """Who made a request, for its audit entries: key name, id and role."""
    return {
        "key": principal.name,
        "key_id": principal.key_id,
        "role": str(principal.role),
    }


async def _authenticate(services: Any, key: str) -> ApiKeyInfo:
    cached: ApiKeyInfo | None = services.keys.cached(key)
    if cached is not None:
        return cached
    info: ApiKeyInfo = await run_in_threadpool(services.keys.authenticate, key)
    last = info.last_used_at
    if last is None or dt.datetime.now(dt.UTC) - last > _TOUCH_EVERY:
        services.touch_key(info)  # informational, through the audit writer
    return info


def require(
    *roles: Role, heavy: bool = False
) -> Callable[[Request], Awaitable[ApiKeyInfo]]:
    """Dependency: an API key of one of ``roles``, admitted under its limits.

    Parameters
    ----------
    *roles : Role
        Roles allowed (an admin is not implied: list it).
    heavy : bool, default=False
        The route's work always runs in the heavy pool (batches): count it
        against the key's heavy limit.

    The request's concurrency slot is kept in its scope and given back by
    :func:`release_slot` when the request ends (the app's metrics middleware
    calls it).

    Raises
    ------
    AuthenticationError
        401: no key, a malformed, unknown or revoked one.
    PermissionDeniedError
        403: a role not in ``roles``.
    RateLimitedError
        429 with ``Retry-After``: the key is over its rate or concurrency.
    """
    allowed = set(roles)

    async def dependency(request: Request) -> ApiKeyInfo:
        key = _key_from(request)
        if not key:
            raise AuthenticationError(
                "No API key: send 'Authorization: Bearer <key>' or 'X-API-Key'. "
                "An admin creates keys with `credit-engine keys create`."
            )
        services: Any = request.app.state.services
        info = await _authenticate(services, key)
        if info.role not in allowed:
            raise PermissionDeniedError(
                f"This endpoint needs the role {' or '.join(sorted(allowed))}; "
                f"the key {info.name!r} has the role {info.role}."
            )
        slot = services.limits.admit(info, heavy=heavy)
        request.state.principal = info
        # Given back when the request ends, by the app's outermost middleware
        # (release_slot): cheaper than a generator dependency's exit stack.
        request.scope.setdefault("state", {})[SLOT_STATE] = slot
        return info

    return dependency


def release_slot(scope: MutableMapping[str, Any]) -> None:
    """Give back the limit slot a request of ``scope`` was admitted with, if any."""
    state = scope.get("state")
    if state:
        slot = state.pop(SLOT_STATE, None)
        if slot is not None:
            slot.release()
