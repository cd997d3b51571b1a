"""How the steps of the main job report progress: a protocol, and silence.

The library prints nothing. A caller that wants to show progress (the CLI, with
Rich) passes an object with these five methods; each returns a context manager
that is entered for the duration of the work and yields the callback the work
reports to.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from credit_engine.data import ProgressCallback

__all__ = ["PipelineProgress", "SilentProgress"]


class PipelineProgress(Protocol):
    """Display hooks of the pipeline's steps (all context managers).

    Examples
    --------
    >>> with SilentProgress().simulation(10) as update:
    ...     update(5, 10)
    """

    def simulation(
        self, total: int
    ) -> AbstractContextManager[Callable[[int, int], None]]:
        """Show ``total`` enterprises simulated; yield ``update(done, total)``."""
        ...

    def ingestion(self) -> AbstractContextManager[ProgressCallback | None]:
        """Show an ingestion; yield the callback ``ingest_batch`` reports to."""
        ...

    def features(
        self, feature_set: str, steps: int
    ) -> AbstractContextManager[Callable[[], None]]:
        """Show ``feature_set`` built in ``steps`` steps; yield ``advance()``."""
        ...

    def training(self, name: str) -> AbstractContextManager[Callable[[str], None]]:
        """Show the training of model spec ``name``; yield ``step(text)``."""
        ...

    def rating(self) -> AbstractContextManager[Callable[[str], None]]:
        """Show a rating engine loading and rating; yield ``step(text)``."""
        ...


def _ignore(*_args: object) -> None:
    """Accept any progress report and do nothing."""


class SilentProgress:
    """The default :class:`PipelineProgress`: reports go nowhere."""

    @contextlib.contextmanager
    def simulation(self, total: int) -> Iterator[Callable[[int, int], None]]:
        """Yield a callback that ignores ``(done, total)``."""
        yield _ignore

    @contextlib.contextmanager
    def ingestion(self) -> Iterator[ProgressCallback | None]:
        """Yield ``None``: ``ingest_batch`` then reports nothing."""
        yield None

    @contextlib.contextmanager
    def features(self, feature_set: str, steps: int) -> Iterator[Callable[[], None]]:
        """Yield a callback that ignores each step."""
        yield _ignore

    @contextlib.contextmanager
    def training(self, name: str) -> Iterator[Callable[[str], None]]:
        """Yield a callback that ignores each step's text."""
        yield _ignore

    @contextlib.contextmanager
    def rating(self) -> Iterator[Callable[[str], None]]:
        """Yield a callback that ignores each step's text."""
        yield _ignore
