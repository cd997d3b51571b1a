"""Cookies, CSRF checks, the sign-in throttle and form parsing of the console.

* The session cookie holds a random id (the store keeps its hash): ``HttpOnly;
  SameSite=Strict; Path=/console``, ``Secure`` when served over https (or when
  ``CREDIT_ENGINE_CONSOLE_COOKIE_SECURE`` says so), ``Max-Age`` the session's
  absolute lifetime.
* Every form carries the session's CSRF token (synchronizer token); a state-
  changing request must also come from the console's own origin
  (``Sec-Fetch-Site`` and ``Origin``, when the browser sends them). The
  sign-in form, before any session, uses a double-submit token: a random value
  in a short-lived cookie and in the form.
* Failed sign-ins are counted per name and per client address in this process;
  past ``console_login_max_failures`` in ``console_login_window_minutes``,
  sign-in is refused with 429 until the window has passed.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request, Response

from credit_engine.config import Settings
from credit_engine.exceptions import (
    CsrfRefusedError,
    DataContractError,
    TooManyAttemptsError,
)

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "PRESESSION_COOKIE",
    "SESSION_COOKIE",
    "LoginThrottle",
    "check_csrf",
    "check_origin",
    "cookie_secure",
    "new_presession_token",
    "read_form",
    "safe_next",
    "set_cookie",
]

SESSION_COOKIE = "ce_console_session"
PRESESSION_COOKIE = "ce_console_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
COOKIE_PATH = "/console"
_MAX_FORM_BYTES = 64 * 1024
_SAME_SITE = {"same-origin", "none"}


def cookie_secure(request: Request, settings: Settings) -> bool:
    """Whether the console's cookies get ``Secure`` for this request."""
    if settings.console_cookie_secure is not None:
        return settings.console_cookie_secure
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int,
    http_only: bool = True,
) -> None:
    """Set a console cookie: ``SameSite=Strict; Path=/console`` (and ``Secure``)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        secure=cookie_secure(request, settings),
        httponly=http_only,
        samesite="strict",
    )


def new_presession_token() -> str:
    """Return a random token for the sign-in form's double submit."""
    return secrets.token_urlsafe(24)


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that a browser says came from elsewhere.

    Raises
    ------
    CsrfRefusedError
        If ``Sec-Fetch-Site`` is ``cross-site`` or ``same-site``, or ``Origin``
        names another origin than the console's.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in _SAME_SITE:
        raise CsrfRefusedError(
            f"The form was sent from another site (Sec-Fetch-Site: {site}); the "
            "console only accepts its own forms. Reload the page and try again."
        )
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        own = f"{request.url.scheme}://{request.url.netloc}"
        if origin.rstrip("/") != own:
            raise CsrfRefusedError(
                f"The form was sent from {origin}, not from the console at {own}; "
                "reload the console page and try again."
            )


def check_csrf(request: Request, expected: str, form: dict[str, str]) -> None:
    """Check the origin and the synchronizer token (form field or header).

    Raises
    ------
    CsrfRefusedError
        If the origin is foreign or the token is missing or wrong.
    """
    check_origin(request)
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefusedError(
            "The form's security token is missing or out of date (the page may "
            "have been open from an earlier session). Reload the page and send "
            "the form again."
        )


async def read_form(request: Request) -> dict[str, str]:
    """Parse a URL-encoded form body (the console's forms), first value per field.

    Raises
    ------
    DataContractError
        If the body is not a URL-encoded form or exceeds 64 KiB.
    """
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        got = kind or "no content type"
        raise DataContractError(
            f"Expected a form (application/x-www-form-urlencoded), got {got}; send "
            "the console's own form."
        )
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        raise DataContractError(
            f"The form is {len(body):,} bytes; at most {_MAX_FORM_BYTES:,} are taken."
        )
    form: dict[str, str] = {}
    for key, value in parse_qsl(body.decode("utf-8", errors="replace"), True):
        form.setdefault(key, value)
    return form


def safe_next(target: str | None, default: str = "/console/") -> str:
    """Return ``target`` if it is a console path on this site, else ``default``.

    Examples
    --------
    >>> safe_next("/console/enterprises?q=1"), safe_next("//evil.example/console")
    ('/console/enterprises?q=1', '/console/')
    >>> safe_next("https://evil.example/console/")
    '/console/'
    """
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console"):
        return default
    if target.startswith("//") or "\\" in target:
        return default
    return target


class LoginThrottle:
    """Failed sign-ins per name and per client address, in this process.

    Parameters
    ----------
    max_failures : int
        Failures allowed in the window (per name and per address).
    window_seconds : float
        Length of the sliding window.
    clock : callable, default=time.monotonic
        Seconds (inject a fake one in tests).

    Examples
    --------
    >>> now = [0.0]
    >>> t = LoginThrottle(2, 60, clock=lambda: now[0])
    >>> t.failed("li", "10.0.0.1"); t.failed("li", "10.0.0.1")
    >>> t.check("li", "10.0.0.2")
    Traceback (most recent call last):
    ...
    credit_engine.exceptions.TooManyAttemptsError: Too many failed sign-ins for this name or from this address; try again in 60 seconds.
    >>> now[0] = 61.0
    >>> t.check("li", "10.0.0.2")
    """  # noqa: E501

    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> collections.deque[float]:
        queue = self._failures.setdefault(key, collections.deque())
        while queue and now - queue[0] >= self.window:
            queue.popleft()
        return queue

    def check(self, name: str, client: str) -> None:
        """Raise :class:`TooManyAttemptsError` while either counter is full."""
        now = self.clock()
        with self._lock:
            waits = [
                self.window - (now - queue[0])
                for queue in (
                    self._recent(f"n:{name.lower()}", now),
                    self._recent(f"c:{client}", now),
                )
                if len(queue) >= self.max_failures
            ]
        if waits:
            raise TooManyAttemptsError(
                "Too many failed sign-ins for this name or from this address; try "
                f"again in {int(max(waits)) + 1 if max(waits) % 1 else int(max(waits))}"
                " seconds."
            )

    def failed(self, name: str, client: str) -> None:
        """Count one failed sign-in for the name and for the address."""
        now = self.clock()
        with self._lock:
            for key in (f"n:{name.lower()}", f"c:{client}"):
                self._recent(key, now).append(now)
            if len(self._failures) > 10_000:  # forget idle keys; bounded memory
                for key in [k for k, q in self._failures.items() if not q]:
                    del self._failures[key]

    def succeeded(self, name: str) -> None:
        """Forget the name's failures after a successful sign-in."""
        with self._lock:
            self._failures.pop(f"n:{name.lower()}", None)
