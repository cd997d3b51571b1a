"""Which engine a step runs on: the command's ``--engine``, else the settings."""

from __future__ import annotations

from credit_engine.exceptions import ConfigurationError
from credit_engine.vocabulary import Engine

__all__ = ["resolve_engine"]


def resolve_engine(chosen: Engine | str | None, default: Engine | str) -> Engine:
    """Return the engine to run on: ``chosen`` if given, else ``default``.

    Raises
    ------
    ConfigurationError
        If the name is not an engine (the message lists the engines).
    """
    name = default if chosen is None else chosen
    try:
        return Engine(str(name).lower())
    except ValueError:
        raise ConfigurationError(
            f"Unknown engine {str(name)!r}; expected one of "
            f"{', '.join(Engine.values())}."
        ) from None
