"""Complete the OpenAPI document FastAPI generates: security, problem responses.

FastAPI documents what the routes declare. The service answers more than that
on every operation: a malformed request (400), a method the path does not take
(405, with ``Allow``), a key over its limits (429, with ``Retry-After``), a
store or model that is unavailable (503, with ``Retry-After``). This module
adds those, declares the two ways to send a key (``bearerAuth``, ``apiKey``)
and marks every operation that needs one, and files every error body as
``application/problem+json``. New routers get all of it without doing
anything.
"""

from __future__ import annotations

from typing import Any

__all__ = ["complete_openapi"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_JSON = "application/problem+json"
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds after which the request may succeed",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_ALLOW = {
    "Allow": {
        "description": "Methods the path takes",
        "schema": {"type": "string"},
    }
}
_STANDARD: dict[str, tuple[str, dict[str, Any] | None]] = {
    "400": ("Malformed request (unreadable body or headers)", None),
    "405": ("Method not allowed on this path (see Allow)", _ALLOW),
    "503": (
        "Service unavailable: no model loaded, the store cannot take the audit "
        "entries, or too busy (see Retry-After)",
        _RETRY_AFTER,
    ),
}
_AUTHENTICATED: dict[str, tuple[str, dict[str, Any] | None]] = {
    "429": (
        "The key is over its role's rate or concurrency limit (see Retry-After)",
        _RETRY_AFTER,
    ),
}
_NO_503 = {"/healthz"}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key from `credit-engine keys create`: "
        "`Authorization: Bearer ce_…`",
    },
    "apiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The same API key in the X-API-Key header",
    },
}


def _problem_response(description: str, headers: dict[str, Any] | None) -> Any:
    out: dict[str, Any] = {
        "description": description,
        "content": {_PROBLEM_JSON: {"schema": dict(_PROBLEM_REF)}},
    }
    if headers:
        out["headers"] = headers
    return out


def complete_openapi(document: dict[str, Any]) -> dict[str, Any]:
    """Add security and the standard problem responses to every operation.

    Parameters
    ----------
    document : dict
        FastAPI's document (changed in place and returned).

    Returns
    -------
    dict
    """
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for response in responses.values():
                content = response.get("content", {})
                body = content.get("application/json")
                if body is not None and body.get("schema") == _PROBLEM_REF:
                    content[_PROBLEM_JSON] = content.pop("application/json")
            authenticated = "401" in responses
            extra = dict(_STANDARD)
            if authenticated:
                extra.update(_AUTHENTICATED)
                operation["security"] = [{"bearerAuth": []}, {"apiKey": []}]
            if path in _NO_503:
                extra.pop("503")
            for status, (description, headers) in extra.items():
                if status not in responses:
                    responses[status] = _problem_response(description, headers)
                elif headers:
                    responses[status].setdefault("headers", headers)
            operation["responses"] = dict(
                sorted(responses.items(), key=lambda item: item[0])
            )
    return document
