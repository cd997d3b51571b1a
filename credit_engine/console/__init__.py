"""The supervisor console: the engine in a browser, under ``/console``.

Served by the same process as the API (``credit-engine serve``), sharing its
roles, disclosure rules and audit log. Server-rendered pages (Jinja2) with a
little JavaScript of its own, htmx for partial updates and ECharts for charts,
both installed from the npm registry at setup (``make setup``) and served from
local files. Chinese by default, English with ``?lang=en``.

Pages: the zone overview, enterprise search and profile (with the override
form), the early-warning queue, models, and the audit log; each role sees only
what it may (:data:`PAGES`, and every decision field through
:meth:`credit_engine.decisioning.Policy.disclose`). People sign in with an API
key or a console account (``credit-engine keys create ... --password``);
sessions are server-side (:class:`credit_engine.auth.SessionStore`), every form
carries a CSRF token, and every enterprise page viewed is in the audit log
(查询留痕). See ``docs/console.md``.
"""

from __future__ import annotations

from credit_engine.console._context import CONSOLE_ROLES, PAGES, ConsoleState, Viewer
from credit_engine.console._directory import Directory, DirectoryCache, build_directory
from credit_engine.console._i18n import LANGUAGES, Catalogue
from credit_engine.console._mount import REQUIRED_ASSETS, build_console, mount_console
from credit_engine.console._seams import freshness, latest_monitoring
from credit_engine.console._texts import EnterpriseTexts
from credit_engine.console._warnings import StoreWarnings, WarningsSource
from credit_engine.console._zone import RunSummary, ZoneReader

__all__ = [
    "CONSOLE_ROLES",
    "LANGUAGES",
    "PAGES",
    "REQUIRED_ASSETS",
    "Catalogue",
    "ConsoleState",
    "Directory",
    "DirectoryCache",
    "EnterpriseTexts",
    "RunSummary",
    "StoreWarnings",
    "Viewer",
    "WarningsSource",
    "ZoneReader",
    "build_console",
    "build_directory",
    "freshness",
    "latest_monitoring",
    "mount_console",
]
