"""The console's UI strings in Chinese and English, read from ``messages.yaml``.

Chinese is the default; ``?lang=en`` (or ``zh``) on any page switches and is
remembered in a cookie. Only the console's own words live in the catalogue:
texts about enterprises (tiers, measures, reasons, statutory facts) come from
the engine's policy, rule sets and reason catalogue, which carry both languages.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import yaml

from credit_engine.exceptions import ConfigurationError

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "LANG_COOKIE", "Catalogue", "pick_language"]

LANGUAGES = ("zh", "en")
"""Languages of the console; the first is the default."""

DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "ce_console_lang"


def pick_language(query: str | None, cookie: str | None) -> str:
    """Return the language asked for in the query, else the cookie's, else zh.

    Examples
    --------
    >>> pick_language("en", "zh"), pick_language(None, "en"), pick_language("fr", None)
    ('en', 'en', 'zh')
    """
    for value in (query, cookie):
        if value in LANGUAGES:
            return str(value)
    return DEFAULT_LANGUAGE


class Catalogue:
    """UI strings by key, each in every language of :data:`LANGUAGES`.

    Parameters
    ----------
    messages : dict of str to dict of str to str
        ``{key: {"zh": ..., "en": ...}}``; texts may hold ``{name}`` fields.

    Raises
    ------
    ConfigurationError
        If an entry lacks a language (every key and language is listed).

    Examples
    --------
    >>> c = Catalogue({"hello": {"zh": "你好，{name}", "en": "Hello, {name}"}})
    >>> c.text("hello", "en", name="Li"), c.text("hello", "zh", name="李")
    ('Hello, Li', '你好，李')
    """

    def __init__(self, messages: dict[str, dict[str, str]]) -> None:
        missing = [
            f"{key}.{lang}"
            for key, entry in messages.items()
            for lang in LANGUAGES
            if not isinstance(entry, dict) or not isinstance(entry.get(lang), str)
        ]
        if missing:
            raise ConfigurationError(
                f"The console's message catalogue lacks texts {missing[:5]} "
                f"({len(missing)} in all); give every key a zh and an en text."
            )
        self.messages = messages

    @classmethod
    @functools.cache
    def load(cls) -> Catalogue:
        """Read the catalogue shipped with the package (cached)."""
        raw = (
            resources.files("credit_engine.console")
            .joinpath("messages.yaml")
            .read_text(encoding="utf-8")
        )
        data: Any = yaml.safe_load(raw)
        if not isinstance(data, dict):
            raise ConfigurationError(
                "credit_engine/console/messages.yaml must map keys to {zh, en}."
            )
        return cls(data)

    def text(self, key: str, lang: str, **fields: Any) -> str:
        """Return the text of ``key`` in ``lang``, with ``fields`` filled in.

        Raises
        ------
        ConfigurationError
            If the key is unknown (a template names a string the catalogue
            lacks: add it to ``messages.yaml``).
        """
        entry = self.messages.get(key)
        if entry is None:
            raise ConfigurationError(
                f"The console's message catalogue has no key {key!r}; add it with "
                "zh and en texts to credit_engine/console/messages.yaml."
            )
        text = entry[lang if lang in LANGUAGES else DEFAULT_LANGUAGE]
        return text.format(**fields) if fields else text
