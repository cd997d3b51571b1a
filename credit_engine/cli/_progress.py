"""Progress of the long steps on the terminal: Rich bars, spinners and logs.

:class:`RichProgress` implements :class:`credit_engine.pipeline.PipelineProgress`
for every command that runs a pipeline step (and for ``demo``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from credit_engine.cli._app import console, err_console

if TYPE_CHECKING:
    from credit_engine.data import ProgressCallback

__all__ = ["RichProgress"]


def _bars() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )


class _IngestBars:
    """One bar per table of a batch (the ``ProgressCallback`` of ``ingest_batch``)."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[str, TaskID] = {}

    def start(self, table: str, total_rows: int | None) -> None:
        self._tasks[table] = self._progress.add_task(
            f"ingest {table}", total=total_rows
        )

    def advance(self, table: str, rows: int) -> None:
        self._progress.advance(self._tasks[table], rows)

    def done(self, table: str) -> None:
        task = self._tasks[table]
        self._progress.update(task, completed=self._progress.tasks[task].total)


class RichProgress:
    """Bars on stderr for simulation, ingestion and features; spinners for the rest."""

    @contextlib.contextmanager
    def simulation(self, total: int) -> Iterator[Callable[[int, int], None]]:
        """Show one bar of enterprises simulated."""
        with _bars() as progress:
            task = progress.add_task("simulate", total=total)
            yield lambda done, _total: progress.update(task, completed=done)

    @contextlib.contextmanager
    def ingestion(self) -> Iterator[ProgressCallback | None]:
        """Show one bar of rows per table."""
        with _bars() as progress:
            yield _IngestBars(progress)

    @contextlib.contextmanager
    def features(self, feature_set: str, steps: int) -> Iterator[Callable[[], None]]:
        """Show one bar of the steps of a feature build."""
        with _bars() as progress:
            task = progress.add_task(f"features {feature_set}", total=steps)
            yield lambda: progress.advance(task)

    @contextlib.contextmanager
    def training(self, name: str) -> Iterator[Callable[[str], None]]:
        """Show the current step of a training on a status line; log each step."""
        with console.status(f"[bold]{name}[/]: starting") as status:

            def step(text: str) -> None:
                status.update(f"[bold]{name}[/]: {text}")
                err_console.log(f"{name}: {text}")

            yield step

    @contextlib.contextmanager
    def rating(self) -> Iterator[Callable[[str], None]]:
        """Show the current step of a rating on a transient spinner."""
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("loading policy, rules and champion", total=None)
            yield lambda step: bar.update(task, description=f"rating: {step}")
