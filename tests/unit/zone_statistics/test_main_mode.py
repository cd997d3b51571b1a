"""The main supervision mode: largest value in the 365 days up to the rating date."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from credit_engine.zone_statistics import LakeQueries, periods_between
from tests.unit.zone_statistics.conftest import declaration, frame_sources

AS_OF = dt.date(2026, 3, 31)
X, Y, Z = "91350203MA0000001X", "91350203MA0000002Y", "91350203MA0000003Z"


def test_main_mode_window_knowledge_and_ties(zone_contracts, reference):
    sources = frame_sources(
        zone_contracts,
        {
            "customs_declaration": [
                # Out of the window (cutoff 2026-04-01 minus 365 days = 2025-04-01).
                declaration(X, "1", "2025-03-31 12:00", "9610", "E", 1000),
                declaration(X, "2", "2025-04-01 00:00", "9710", "E", 60),
                # Declared on the rating date but learned two days later.
                declaration(X, "3", "2026-03-31 10:00", "0110", "E", 500, "2026-04-02"),
                declaration(Y, "4", "2025-10-01", "9810", "E", 50),
                declaration(Y, "5", "2025-11-01", "9610", "E", 20),
                declaration(Y, "6", "2025-12-01", "9610", "E", 30),  # tie: 50 = 50
                declaration(Z, "7", "2026-01-01", "4561", "I", 10),
            ]
        },
    )
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    sources.register(con, ["customs_declaration"])
    lake = LakeQueries(
        zone_contracts, periods_between(AS_OF, AS_OF), "month", AS_OF, reference
    )
    rated = pd.DataFrame({"uscc": [X, Y, Z, "nobody"], "as_of": [AS_OF] * 4})
    modes = lake.main_modes(con, rated).sort_values("uscc")
    assert dict(zip(modes["uscc"], modes["main_mode"], strict=True)) == {
        X: "9710",
        Y: "9610",  # the smaller code wins a tie
        Z: "other",  # not a reported mode
    }
