"""What every console page shares: its state, the signed-in viewer, page access.

The console reads through the API service's own objects (``app.state.services``
of :func:`credit_engine.api.create_app`): the operational store, the scoring
service (the policy and champion served), the key store and the audit log. It
adds its sessions, accounts, message catalogue and caches.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Request

from credit_engine.api._security import CLEARANCE
from credit_engine.api._serving import Services
from credit_engine.auth import ConsoleAccounts, ConsoleSession, Role, SessionStore
from credit_engine.console._directory import DirectoryCache
from credit_engine.console._i18n import LANG_COOKIE, Catalogue, pick_language
from credit_engine.console._security import SESSION_COOKIE, LoginThrottle
from credit_engine.console._texts import EnterpriseTexts
from credit_engine.console._warnings import WarningsSource
from credit_engine.console._zone import ZoneReader
from credit_engine.console._zone_prepare import OverviewPreparer
from credit_engine.decisioning import Disclosure, Policy, ReasonCatalogue, load_policy
from credit_engine.exceptions import PermissionDeniedError, SessionExpiredError
from credit_engine.rules import RuleBook

__all__ = [
    "CONSOLE_ROLES",
    "PAGES",
    "ConsoleState",
    "Viewer",
    "console_state",
    "language",
    "require_viewer",
    "serving_date_of",
]

CONSOLE_ROLES = frozenset(
    {Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR, Role.DATA_SCIENTIST}
)
"""Roles that may sign in; inspection systems use the API only."""

_READ_ZONE = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.AUDITOR})
PAGES: dict[str, frozenset[Role]] = {
    "overview": CONSOLE_ROLES,
    "enterprises": _READ_ZONE,
    "override": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "warnings": _READ_ZONE,
    "warnings_act": frozenset({Role.SUPERVISOR, Role.ADMIN}),
    "models": CONSOLE_ROLES,
    "audit": frozenset({Role.ADMIN, Role.AUDITOR}),
}
"""Which roles may open each page (or act on it): the same split as the API's
routes, with the audit log for admins and auditors only."""


def language(request: Request) -> str:
    """Return the page's language: ``?lang=``, else the language cookie, else zh."""
    return pick_language(
        request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)
    )


@dataclass
class ConsoleState:
    """Everything the console's pages use, built once at mount."""

    services: Services
    sessions: SessionStore
    accounts: ConsoleAccounts
    catalogue: Catalogue
    throttle: LoginThrottle
    zone: ZoneReader
    directory: DirectoryCache
    assets_dir: Path
    warnings: WarningsSource | None = None
    preparer: OverviewPreparer | None = None
    """Prepares the zone overview's figures in the background (set at mount)."""
    _texts: tuple[int, EnterpriseTexts] | None = field(default=None, repr=False)

    @property
    def settings(self) -> Any:
        """The engine settings."""
        return self.services.settings

    def engine_parts(self) -> tuple[Policy, RuleBook, ReasonCatalogue]:
        """Return the policy, rule sets and reason catalogue served (or loaded)."""
        scoring = self.services.scoring
        if scoring._state is not None:  # noqa: SLF001 - read without raising
            engine = scoring._state.engine  # noqa: SLF001
            return engine.policy, engine.rulebook, engine.catalogue
        definitions = self.settings.definitions_dir
        return (
            load_policy(definitions, "zone"),
            RuleBook.load(definitions),
            ReasonCatalogue.load(definitions),
        )

    def texts(self) -> EnterpriseTexts:
        """Enterprise-facing texts of the policy and rule sets served (cached)."""
        policy, rulebook, catalogue = self.engine_parts()
        marker = id(policy)
        if self._texts is None or self._texts[0] != marker:
            self._texts = (marker, EnterpriseTexts(policy, rulebook, catalogue))
        return self._texts[1]

    def serving_date(self) -> dt.date:
        """Return the date the service serves (today when no model is loaded)."""
        return serving_date_of(self.services)


def serving_date_of(services: Services) -> dt.date:
    """Return the date ``services`` serve (today when no model is loaded)."""
    scoring = services.scoring
    if scoring._state is not None:  # noqa: SLF001 - read without raising
        return scoring._state.as_of  # noqa: SLF001
    return scoring.fixed_as_of or dt.datetime.now(dt.UTC).date()


def console_state(request: Request) -> ConsoleState:
    """Return the console's state (set at mount)."""
    found: ConsoleState = request.app.state.console
    return found


@dataclass(frozen=True)
class Viewer:
    """The person signed in for this request, and what they may see."""

    session: ConsoleSession
    token: str
    lang: str

    @property
    def name(self) -> str:
        """The key's name (the actor of what they do)."""
        return self.session.name

    @property
    def role(self) -> Role:
        """The key's role."""
        return self.session.role

    @property
    def clearance(self) -> Disclosure:
        """The disclosure level of the role (as for the API)."""
        return CLEARANCE[self.role]

    @property
    def csrf(self) -> str:
        """The session's CSRF token."""
        return self.session.csrf_token

    def may(self, page: str) -> bool:
        """Whether the role may open (or act on) ``page``."""
        return self.role in PAGES[page]


def require_viewer(request: Request, page: str) -> Viewer:
    """Return the signed-in viewer allowed on ``page`` (checks the session).

    Raises
    ------
    SessionExpiredError
        Not signed in, or the session ended (expired, signed out, key revoked).
    PermissionDeniedError
        The role may not open the page.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise SessionExpiredError("Sign in to open the console.")
    state = console_state(request)
    session = state.sessions.check(token)
    viewer = Viewer(session, token, language(request))
    request.state.viewer = viewer
    if not viewer.may(page):
        allowed = sorted(str(r) for r in PAGES[page])
        raise PermissionDeniedError(
            f"This page needs the role {' or '.join(allowed)}; you are signed in as "
            f"{viewer.name!r} with the role {viewer.role}."
        )
    return viewer
