"""JSON columns written from text the caller already encoded.

The store's JSON columns are serialised by SQLAlchemy with the engine's
``json_serializer``. :class:`EncodedJSON` is a ``dict`` that carries its own
JSON text (the audit log's canonical JSON of a payload, which it hashes
anyway): :func:`json_serializer` writes that text instead of encoding the
mapping again; a :class:`JSONText` is such a text alone (its mapping is
decoded only when somebody reads it). Any other value is encoded with
:func:`json.dumps`, as SQLAlchemy does by default. Reading is unchanged (the
text decodes to the same mapping).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["EncodedJSON", "JSONText", "json_serializer"]


class EncodedJSON(dict[str, Any]):
    """A mapping with its JSON text, written as is into JSON columns.

    Parameters
    ----------
    value : Mapping
        The data; ``json.loads(text)`` must equal it (the caller's promise:
        the text is what gets stored).
    text : str
        Its JSON text.

    Examples
    --------
    >>> encoded = EncodedJSON({"a": 1}, '{"a":1}')
    >>> encoded == {"a": 1}, json_serializer(encoded)
    (True, '{"a":1}')
    """

    __slots__ = ("json_text",)

    def __init__(self, value: Mapping[str, Any], text: str) -> None:
        super().__init__(value)
        self.json_text = text

    def __reduce__(self) -> tuple[Any, ...]:
        return (EncodedJSON, (dict(self), self.json_text))


class JSONText(str):
    """The JSON text of a document, written as is into JSON columns.

    Not a JSON string value: ``json_serializer(JSONText('{"a":1}'))`` is
    ``'{"a":1}'``, where a plain ``str`` would be encoded as a JSON string.
    The caller promises the text is valid JSON.

    Examples
    --------
    >>> json_serializer(JSONText("[1]")), json_serializer("[1]")
    ('[1]', '"[1]"')
    """

    __slots__ = ()


def json_serializer(value: Any) -> str:
    """Serialise a JSON column's value: pre-encoded text as it is, or dumps.

    An :class:`EncodedJSON`'s own text, a :class:`JSONText` itself, anything
    else through :func:`json.dumps`.
    """
    kind = type(value)
    if kind is EncodedJSON:
        return str(value.json_text)
    if kind is JSONText:
        return str.__str__(value)
    return json.dumps(value)
