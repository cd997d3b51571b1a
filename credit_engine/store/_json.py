"""JSON columns written from text the caller already encoded.

The store's JSON columns are serialised by SQLAlchemy with the engine's
``json_serializer``. :class:`EncodedJSON` is a ``dict`` that carries its own
JSON text (the audit log's canonical JSON of a payload, which it hashes
anyway): :func:`json_serializer` writes that text instead of encoding the
mapping again. Any other value is encoded with :func:`json.dumps`, as
SQLAlchemy does by default. Reading is unchanged (the text decodes to the
same mapping).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["EncodedJSON", "json_serializer"]


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


def json_serializer(value: Any) -> str:
    """Serialise a JSON column's value: an :class:`EncodedJSON`'s own text, or dumps."""
    if type(value) is EncodedJSON:
        return value.json_text
    return json.dumps(value)
