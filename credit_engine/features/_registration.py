"""Registration attributes in force at a date (SAMR): district, industry, status.

The one reader of an enterprise's registration spell at a rating date, through
the point-in-time rule (:mod:`credit_engine.point_in_time`): the console's
directory shows these attributes, the monitor segments its early outcomes by
industry with them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from credit_engine.data import SourceContract
from credit_engine.features._sources import Sources
from credit_engine.point_in_time import Cutoff, in_force, known

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["REGISTRATION_TABLE", "registration_at"]

REGISTRATION_TABLE = "samr_registration"
"""The source table of registration spells."""


def registration_at(
    sources: Sources,
    contracts: Mapping[str, SourceContract],
    as_of: dt.date,
    attributes: Sequence[str],
    *,
    connection: Any = None,
) -> pd.DataFrame:
    """Return the registration spell in force at ``as_of`` of every known enterprise.

    Parameters
    ----------
    sources : Sources
        Where the lake's tables are read.
    contracts : mapping of str to SourceContract
        The source contracts (``samr_registration`` is read).
    as_of : datetime.date
        Rating date: only records known by its end count.
    attributes : sequence of str
        Columns of ``samr_registration`` to return (``district_code``,
        ``industry_code``, ``status``, ``name``...).
    connection : duckdb.DuckDBPyConnection, optional
        A connection the caller already set up (UTC, tables registered); a
        private one is opened and closed otherwise.

    Returns
    -------
    pandas.DataFrame
        ``uscc`` and ``attributes``, one row per enterprise with a spell in
        force (enterprises whose registration is not known are absent).
    """
    import duckdb

    reg = contracts[REGISTRATION_TABLE]
    cutoff = Cutoff.end_of(as_of)
    names = list(attributes)
    con: Any = connection if connection is not None else duckdb.connect()
    try:
        if connection is None:
            con.execute("SET TimeZone = 'UTC'")
            sources.register(con, [reg.name])
        known_reg = known(reg, cutoff, [*names, "effective_from", "effective_to"])
        frame: pd.DataFrame = con.execute(
            f"WITH k AS ({known_reg}) "
            f"SELECT uscc, {', '.join(names)} "
            f"FROM ({in_force(reg, 'k', cutoff, names)})"
        ).df()
        return frame
    finally:
        if connection is None:
            con.close()
