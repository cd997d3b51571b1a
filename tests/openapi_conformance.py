"""Check API responses against the committed OpenAPI document (``api/openapi.json``).

:class:`OpenApiConformance` finds the operation a response answers (path
template and method), then checks that its status is documented, that its media
type is documented for that status, and that a JSON body validates against the
documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses, with ``$ref`` to
``#/components/schemas`` resolved and formats such as ``date`` checked).

Attach it to any httpx client (a FastAPI ``TestClient`` included) with
:meth:`OpenApiConformance.attach`: every response is then checked as it
arrives, and a response the document does not describe fails the request with an
``AssertionError`` that names the operation, the status and what differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

OPENAPI = Path(__file__).resolve().parents[1] / "api" / "openapi.json"
"""The committed OpenAPI document of the API."""

_JSON = re.compile(r"^application/(.+\+)?json$")


class OpenApiConformance:
    """Response checks against an OpenAPI 3.1 document.

    Parameters
    ----------
    document : mapping
        The OpenAPI document (default: ``api/openapi.json``).
    """

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        self.document = dict(
            document
            if document is not None
            else json.loads(OPENAPI.read_text(encoding="utf-8"))
        )
        self.components = self.document.get("components", {})
        # Literal paths first, so that /v1/scores:batch never reads as a template.
        self._paths = sorted(
            (
                (template, _template_regex(template), operations)
                for template, operations in self.document.get("paths", {}).items()
            ),
            key=lambda t: "{" in t[0],
        )
        self.checked = 0

    def operation(self, method: str, path: str) -> tuple[str, Mapping[str, Any]] | None:
        """Return ``(path template, operation)`` of a request; None if undocumented."""
        for template, regex, operations in self._paths:
            if regex.fullmatch(path) and method.lower() in operations:
                return template, operations[method.lower()]
        return None

    def check(self, response: httpx.Response) -> None:
        """Check one response (its body must have been read).

        Raises
        ------
        AssertionError
            If the status or media type is not documented for the operation, or
            the JSON body does not validate against the documented schema.
        """
        request = response.request
        found = self.operation(request.method, request.url.path)
        if found is None:
            return  # not an operation of the API (say /v1/nothing -> 404)
        template, operation = found
        where = f"{request.method} {template}"
        status = str(response.status_code)
        responses = operation.get("responses", {})
        documented = (
            responses.get(status)
            or responses.get(f"{status[0]}XX")
            or responses.get("default")
        )
        if documented is None:
            raise AssertionError(
                f"{where} answered {status}, which api/openapi.json does not "
                f"document (it documents {sorted(responses)}). Add the status to "
                "the route's responses= and regenerate the document with "
                "`credit-engine openapi --out api/openapi.json`. Body: "
                f"{response.text[:300]}"
            )
        media = response.headers.get("content-type", "").split(";")[0].strip()
        content = documented.get("content", {})
        if media not in content:
            raise AssertionError(
                f"{where} answered {status} as {media or 'no content type'}; "
                f"api/openapi.json documents {sorted(content) or 'no body'} for "
                "that status."
            )
        schema = content[media].get("schema")
        if schema and _JSON.match(media):
            self._validate(where, status, schema, response.json())
        self.checked += 1

    def _validate(
        self, where: str, status: str, schema: Mapping[str, Any], body: Any
    ) -> None:
        # The document's components ride along so that "#/components/..." resolves.
        root = {**schema, "components": self.components}
        validator = Draft202012Validator(
            root, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        error = best_match(validator.iter_errors(body))
        if error is not None:
            at = "/".join(str(p) for p in error.absolute_path) or "(the body)"
            raise AssertionError(
                f"{where} answered {status} with a body that does not match "
                f"api/openapi.json at {at}: {error.message}"
            )

    def hook(self, response: httpx.Response) -> None:
        """httpx response event hook: read the body, then :meth:`check` it."""
        response.read()
        self.check(response)

    def attach(self, client: httpx.Client) -> httpx.Client:
        """Check every response ``client`` receives from now on; return it."""
        hooks = dict(client.event_hooks)
        hooks["response"] = [*hooks.get("response", []), self.hook]
        client.event_hooks = hooks
        return client


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    )
