"""Per-key rate and concurrency limits, configured per role; 429 with Retry-After.

Each API key has a token bucket (``rate`` decisions per second, up to ``burst``
saved up) and a count of requests in flight (at most ``concurrency``), and of
*heavy* requests in flight (batches and dates other than the serving date, at
most ``heavy``). A request costs one token; a batch costs one token per code.
Limits come from the key's role (:class:`RoleLimits`, ``Settings.api_limits``):
one client can never take more than its share, whatever it sends.

Everything here runs on the event loop (no locks, no I/O): the state of a key
is a few numbers in a dict. Limits are per process: with several server
processes each enforces its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from credit_engine.auth import ApiKeyInfo, Role
from credit_engine.config import RoleLimits, Settings
from credit_engine.exceptions import RateLimitedError

__all__ = ["DEFAULT_LIMITS", "KeyLimits", "RoleLimits", "Slot"]


DEFAULT_LIMITS: dict[str, RoleLimits] = Settings.model_fields["api_limits"].get_default(
    call_default_factory=True
)
"""Defaults per role (``Settings.api_limits`` overrides any of them)."""


@dataclass
class _KeyState:
    tokens: float
    stamp: float
    in_flight: int = 0
    heavy: int = 0


@dataclass
class Slot:
    """A request admitted; :meth:`release` it when the request ends (idempotent)."""

    _release: Callable[[], None] | None = field(default=None, repr=False)

    def release(self) -> None:
        """Give the key's concurrency slot back."""
        if self._release is not None:
            release, self._release = self._release, None
            release()


class KeyLimits:
    """The limits of every key, enforced in memory.

    Parameters
    ----------
    limits : mapping of str to RoleLimits
        Per role; a role missing here gets :data:`DEFAULT_LIMITS`' entry.
    clock : callable, default=time.monotonic
        Seconds (inject a fake one in tests).

    Examples
    --------
    >>> import datetime as dt
    >>> key = ApiKeyInfo(1, "gw", Role.INSPECTION_SYSTEM, "ce_abcde",
    ...                  dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "admin")
    >>> limits = KeyLimits({"inspection_system": RoleLimits(
    ...     rate=1, burst=2, concurrency=5, heavy=1)}, clock=lambda: 0.0)
    >>> limits.admit(key).release(); limits.admit(key).release()
    >>> limits.admit(key)
    Traceback (most recent call last):
    ...
    credit_engine.exceptions.RateLimitedError: API key 'gw' (role inspection_system) may send 1 decisions per second (bursts of 2); retry in 1 s.
    """  # noqa: E501

    def __init__(
        self,
        limits: Mapping[str, RoleLimits] | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {**DEFAULT_LIMITS, **dict(limits or {})}
        self.clock = clock
        self._keys: dict[int, _KeyState] = {}
        self.refused: dict[str, int] = {}

    def of(self, role: Role | str) -> RoleLimits:
        """Limits of a role."""
        return self.limits[str(role)]

    def _state(self, key: ApiKeyInfo, limits: RoleLimits) -> _KeyState:
        now = self.clock()
        state = self._keys.get(key.key_id)
        if state is None:
            state = self._keys[key.key_id] = _KeyState(float(limits.burst), now)
        else:
            state.tokens = min(
                float(limits.burst), state.tokens + (now - state.stamp) * limits.rate
            )
            state.stamp = now
        return state

    def _refuse(self, key: ApiKeyInfo, message: str, retry: float) -> RateLimitedError:
        role = str(key.role)
        self.refused[role] = self.refused.get(role, 0) + 1
        seconds = max(1, math.ceil(retry))
        return RateLimitedError(
            f"{message}; retry in {seconds} s.", retry_after=seconds
        )

    def admit(self, key: ApiKeyInfo, *, cost: int = 1, heavy: bool = False) -> Slot:
        """Admit one request of ``key`` costing ``cost`` tokens, or refuse it.

        Raises
        ------
        RateLimitedError
            If the key is out of tokens, has ``concurrency`` requests (or
            ``heavy`` heavy ones) in flight, or ``cost`` exceeds its burst.
        """
        limits = self.of(key.role)
        state = self._state(key, limits)
        if state.in_flight >= limits.concurrency:
            raise self._refuse(
                key,
                f"API key {key.name!r} (role {key.role}) has {state.in_flight} "
                "requests in flight, its limit",
                1,
            )
        self._take(key, limits, state, cost, heavy)
        state.in_flight += 1

        def release() -> None:
            state.in_flight -= 1
            state.heavy -= heavy

        return Slot(release)

    def charge(self, key: ApiKeyInfo, cost: int, *, heavy: bool = False) -> Slot:
        """Take ``cost`` more tokens for an admitted request (a batch's codes).

        Also counts it as heavy when ``heavy``; release the slot returned when
        the request ends.

        Raises
        ------
        RateLimitedError
            As :meth:`admit`.
        """
        limits = self.of(key.role)
        state = self._state(key, limits)
        self._take(key, limits, state, cost, heavy)

        def release() -> None:
            state.heavy -= heavy

        return Slot(release)

    def _take(
        self,
        key: ApiKeyInfo,
        limits: RoleLimits,
        state: _KeyState,
        cost: int,
        heavy: bool,
    ) -> None:
        who = f"API key {key.name!r} (role {key.role})"
        if cost > limits.burst:
            raise self._refuse(
                key,
                f"{who} may ask for at most {limits.burst} decisions at once, this "
                f"request asks for {cost}: split it",
                1,
            )
        if heavy and state.heavy >= limits.heavy:
            raise self._refuse(
                key,
                f"{who} has {state.heavy} batch or past-date requests in flight "
                f"(at most {limits.heavy})",
                1,
            )
        if state.tokens < cost:
            raise self._refuse(
                key,
                f"{who} may send {limits.rate:g} decisions per second (bursts of "
                f"{limits.burst})",
                (cost - state.tokens) / limits.rate,
            )
        state.tokens -= cost
        state.heavy += heavy
