"""API keys and roles: who may call what, and which fields each role may see."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request

from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.decisioning import Disclosure
from credit_engine.exceptions import AuthenticationError, PermissionDeniedError

__all__ = ["CLEARANCE", "require"]

CLEARANCE: dict[Role, Disclosure] = {
    Role.INSPECTION_SYSTEM: Disclosure.SHARED,
    Role.SUPERVISOR: Disclosure.INTERNAL,
    Role.DATA_SCIENTIST: Disclosure.INTERNAL,
    Role.ADMIN: Disclosure.INTERNAL,
    Role.AUDITOR: Disclosure.INTERNAL,
}
"""Disclosure level each role is cleared for (fields above it are withheld)."""


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


def require(*roles: Role) -> Callable[[Request], Awaitable[ApiKeyInfo]]:
    """Dependency: an API key of one of ``roles`` (401 without, 403 wrong role)."""
    allowed = set(roles)

    async def dependency(request: Request) -> ApiKeyInfo:
        key = _key_from(request)
        if not key:
            raise AuthenticationError(
                "No API key: send 'Authorization: Bearer <key>' or 'X-API-Key'. "
                "An admin creates keys with `credit-engine keys create`."
            )
        services: Any = request.app.state.services
        info: ApiKeyInfo = services.keys.authenticate(key)
        if info.role not in allowed:
            raise PermissionDeniedError(
                f"This endpoint needs the role {' or '.join(sorted(allowed))}; "
                f"the key {info.name!r} has the role {info.role}."
            )
        request.state.principal = info
        return info

    return dependency
