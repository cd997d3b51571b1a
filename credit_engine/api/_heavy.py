"""A bounded pool for heavy work, beside the serving path.

Decisions on the serving date take well under a millisecond and are made on the
event loop. A batch of 1,000 codes, or any date other than the serving date
(features and facts read from the lake), takes tenths of a second to seconds:
that work runs here, in a fixed number of worker threads with a bounded queue,
so that however many batches arrive, single scores keep their latency. When
the queue is full, a request is refused at once with 503 and ``Retry-After``
(and each key is also limited to a few heavy requests in flight:
:mod:`credit_engine.api._limits`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from credit_engine.exceptions import ServiceUnavailableError

__all__ = ["HeavyPool"]

P = ParamSpec("P")
T = TypeVar("T")


class HeavyPool:
    """Worker threads for batches and past dates, with a bounded queue.

    Parameters
    ----------
    workers : int, default=1
        Threads working at once.
    max_waiting : int, default=16
        Jobs that may wait for a thread; beyond, :meth:`run` refuses (503).
    retry_after : float, default=2.0
        Seconds suggested to refused clients.
    """

    def __init__(
        self, *, workers: int = 1, max_waiting: int = 16, retry_after: float = 2.0
    ) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self.retry_after = retry_after
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="heavy"
        )
        self._in_system = 0  # touched on the event loop only

    @property
    def busy(self) -> int:
        """Jobs running or waiting."""
        return self._in_system

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` in the pool and wait for it.

        Raises
        ------
        ServiceUnavailableError
            If ``workers + max_waiting`` jobs are in the pool already.
        """
        if self._in_system >= self.workers + self.max_waiting:
            raise ServiceUnavailableError(
                f"The service is busy with {self._in_system} batch or past-date "
                f"requests (at most {self.workers + self.max_waiting} at once); "
                f"retry after {self.retry_after:g} s.",
                retry_after=self.retry_after,
            )
        self._in_system += 1
        try:
            future = self._executor.submit(fn, *args, **kwargs)
            return await asyncio.wrap_future(future)
        finally:
            self._in_system -= 1

    def close(self) -> None:
        """Stop accepting work; running jobs finish, waiting ones are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)
