"""The zone's enterprise directory: name, district, industry, main trade mode.

Read from the lake at one date through the point-in-time rule
(:mod:`credit_engine.point_in_time`): the registration spell in force (SAMR)
and the customs declarations of the last 365 days. Built once per lake state
and date, in memory (about 100 bytes an enterprise), for the console's name
search and its breakdowns by district and trade mode; the store holds none of
these attributes.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from credit_engine.config import Settings
from credit_engine.features import (
    REGISTRATION_TABLE,
    LakeSources,
    load_definitions,
    registration_at,
)
from credit_engine.point_in_time import Cutoff, known

__all__ = ["Directory", "DirectoryCache", "build_directory"]

_LOG = logging.getLogger("credit_engine.console")
COLUMNS = ("name", "district", "industry", "status", "trade_mode")
NO_TRADE = "none"


@dataclass(frozen=True)
class Directory:
    """Enterprises known at a date, indexed by USCC.

    Attributes
    ----------
    frame : pandas.DataFrame
        Index ``uscc``; columns ``name``, ``district``, ``industry``,
        ``status``, ``trade_mode`` (the most declared mode in 365 days, or
        ``none``).
    key : str
        Lake state and date it was built from (cache key of breakdowns).
    """

    frame: pd.DataFrame
    key: str

    def get(self, uscc: str) -> dict[str, str] | None:
        """Return the attributes of one enterprise, or ``None``."""
        if uscc not in self.frame.index:
            return None
        row = self.frame.loc[uscc]
        return {c: str(row[c]) for c in COLUMNS}

    def names(self, usccs: list[str]) -> dict[str, str]:
        """Names of the given enterprises that are known."""
        found = self.frame.reindex(usccs)["name"].dropna()
        return {str(k): str(v) for k, v in found.items()}

    def search(self, text: str, limit: int = 1000) -> list[str]:
        """USCCs whose name contains ``text`` or whose code starts with it."""
        needle = text.strip()
        if not needle:
            return []
        names = self.frame["name"].astype(str)
        hit = names.str.contains(needle, case=False, regex=False) | (
            self.frame.index.str.startswith(needle.upper())
        )
        return sorted(self.frame.index[hit].tolist())[:limit]


def build_directory(settings: Settings, as_of: dt.date) -> Directory:
    """Read the directory from the engine home's lake at ``as_of``."""
    import duckdb

    definitions = load_definitions(settings.definitions_dir)
    contracts = definitions.contracts
    sources = LakeSources.from_settings(settings, contracts)
    cutoff = Cutoff.end_of(as_of)
    reg = contracts[REGISTRATION_TABLE]
    decl = contracts["customs_declaration"]
    attributes = ["name", "district_code", "industry_code", "status"]
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        sources.register(con, [reg.name, decl.name])
        frame = registration_at(sources, contracts, as_of, attributes, connection=con)
        modes = con.execute(
            f"SELECT uscc, trade_mode, count(*) AS n FROM "
            f"({known(decl, cutoff, ['trade_mode'], window_days=365)}) "
            "GROUP BY uscc, trade_mode"
        ).df()
    finally:
        con.close()
    main = (
        modes.sort_values(["uscc", "n", "trade_mode"], ascending=[True, False, True])
        .drop_duplicates("uscc")
        .set_index("uscc")["trade_mode"]
    )
    out = pd.DataFrame(
        {
            "name": frame["name"].astype(str).to_numpy(),
            "district": frame["district_code"].astype(str).to_numpy(),
            "industry": frame["industry_code"].astype(str).to_numpy(),
            "status": frame["status"].astype(str).to_numpy(),
        },
        index=pd.Index(frame["uscc"].astype(str), name="uscc"),
    )
    out["trade_mode"] = main.reindex(out.index).fillna(NO_TRADE).astype(str).to_numpy()
    return Directory(out.sort_index(), f"{sources.lineage()}@{as_of.isoformat()}")


class DirectoryCache:
    """Builds the directory once per lake state and date; thread-safe.

    Parameters
    ----------
    settings : Settings
        The engine home.
    as_of : callable
        Returns the date to read the lake at (the serving date).
    builder : callable, optional
        ``builder(settings, as_of) -> Directory`` (tests and benchmarks inject
        their own).
    """

    def __init__(
        self,
        settings: Settings,
        as_of: Callable[[], dt.date],
        builder: Callable[[Settings, dt.date], Directory] = build_directory,
    ) -> None:
        self.settings = settings
        self.as_of = as_of
        self.builder = builder
        self._directory: Directory | None = None
        self._built_for: tuple[str, dt.date] | None = None
        self._lock = threading.Lock()
        self.error: str | None = None

    def _lake_state(self) -> str:
        commits = self.settings.lake_dir / "_commits"
        if not commits.is_dir():
            return "no-lake"
        return ",".join(sorted(p.name for p in commits.glob("*.json")))

    def peek(self) -> Directory | None:
        """Return the directory if it is built for the current lake and date.

        Never builds and never waits for a build in progress (pages call it;
        :meth:`get` builds, in the background). Reads without the lock: ``get``
        sets the directory before the marker it was built for.
        """
        wanted = (self._lake_state(), self.as_of())
        if self._built_for != wanted:
            return None
        return self._directory

    def get(self) -> Directory | None:
        """Return the directory (rebuilt if the lake or date changed), or ``None``."""
        wanted = (self._lake_state(), self.as_of())
        with self._lock:
            if self._built_for == wanted:
                return self._directory
            try:
                self._directory = self.builder(self.settings, wanted[1])
                self.error = None
            except Exception as exc:  # noqa: BLE001 - the console works without it
                _LOG.warning("enterprise directory unavailable: %s", exc)
                self._directory, self.error = None, f"{type(exc).__name__}: {exc}"
            self._built_for = wanted
            return self._directory
