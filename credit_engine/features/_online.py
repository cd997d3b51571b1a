"""Online path: one enterprise's features from the same definitions and SQL.

The lake is copied into a DuckDB database file, every table sorted by ``uscc``,
so that DuckDB's zone maps let a query for one enterprise read only the row
groups holding it. :meth:`OnlineFeatureStore.features` runs exactly the batch
SQL (:func:`compile_feature_sql`) with a one-row spine and an enterprise filter;
a parity test keeps the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from credit_engine.data import Lake, SourceContract
from credit_engine.features._engine import build_feature_frame
from credit_engine.features._registry import Definitions
from credit_engine.features._sources import LakeSources

__all__ = ["OnlineFeatureStore"]

_META = "_online_store_meta"


class _DatabaseSources:
    """Source tables already present in the online store's database."""

    def __init__(
        self, lake_state: str, contracts: Mapping[str, SourceContract]
    ) -> None:
        self._lake_state = lake_state
        self.contracts = contracts

    def register(self, con: Any, tables: Iterable[str]) -> None:
        """Nothing to do: the tables live in the database."""

    def lineage(self) -> str:
        """Return the lake state the store was built from."""
        return self._lake_state


class OnlineFeatureStore:
    """Compute features for one enterprise at a time, for the scoring API.

    Parameters
    ----------
    path : pathlib.Path
        DuckDB database built by :meth:`build`.
    definitions : Definitions
        Feature definitions (the same as the batch path's).
    """

    def __init__(self, path: Path, definitions: Definitions) -> None:
        import duckdb

        self.path = Path(path)
        self.definitions = definitions
        self._con = duckdb.connect(str(self.path), read_only=True)
        self._con.execute("SET TimeZone = 'UTC'")
        row = self._con.execute(f"SELECT lake_state FROM {_META}").fetchone()
        self.lake_state = str(row[0]) if row else ""

    @classmethod
    def build(
        cls, path: Path, lake: Lake, definitions: Definitions
    ) -> OnlineFeatureStore:
        """Copy the lake's committed tables into a new store at ``path``.

        The store is written to a temporary file and moved into place, so a
        reader never sees a half-built store.
        """
        import duckdb

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".building")
        tmp.unlink(missing_ok=True)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            sources = LakeSources(lake, definitions.contracts)
            sources.register(con, definitions.contracts)
            for name in definitions.contracts:
                con.execute(
                    f"CREATE TABLE t_{name} AS SELECT * FROM {name} ORDER BY uscc"
                )
                con.execute(f"DROP VIEW {name}")
                con.execute(f"ALTER TABLE t_{name} RENAME TO {name}")
            con.execute(
                f"CREATE TABLE {_META} AS SELECT ? AS lake_state", [sources.lineage()]
            )
        finally:
            con.close()
        tmp.replace(path)
        return cls(path, definitions)

    def features(
        self, uscc: str, as_of: dt.date, feature_set: str
    ) -> dict[str, float | None]:
        """Features of ``uscc`` as known at the end of ``as_of``.

        Returns
        -------
        dict of str to float or None
            One entry per feature of the set; ``None`` where unknown.
        """
        frame = self.frame([uscc], as_of, feature_set)
        row = frame.iloc[0]
        return {
            c: (None if pd.isna(row[c]) else float(row[c]))
            for c in frame.columns
            if c not in ("uscc", "as_of")
        }

    def frame(self, usccs: list[str], as_of: dt.date, feature_set: str) -> pd.DataFrame:
        """Features of a few enterprises at one ``as_of`` (the online query)."""
        spine = pd.DataFrame({"uscc": usccs, "as_of": [as_of] * len(usccs)})
        cursor = self._con.cursor()
        try:
            return build_feature_frame(
                spine,
                feature_set,
                definitions=self.definitions,
                sources=_DatabaseSources(self.lake_state, self.definitions.contracts),
                usccs=usccs,
                con=cursor,
            )
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the database."""
        self._con.close()
