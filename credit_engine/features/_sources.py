"""Where the feature engine reads source records from: the lake, frames, a database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from credit_engine.arrow_tables import table_from_frame
from credit_engine.config import Settings
from credit_engine.data import Lake, SourceContract
from credit_engine.point_in_time import sql_literal

__all__ = [
    "FrameSources",
    "LakeSources",
    "Sources",
    "empty_relation_sql",
    "lake_relation_sql",
    "spark_ddl",
]


class Sources(Protocol):
    """Something that can expose source tables to a DuckDB connection."""

    @property
    def contracts(self) -> Mapping[str, SourceContract]:
        """Contracts of the tables, by name (their keys, kinds and versioning)."""

    def register(self, con: Any, tables: Iterable[str]) -> None:
        """Make each of ``tables`` queryable by its name on ``con``."""

    def lineage(self) -> str:
        """Return an identifier of the data state read (for snapshot lineage)."""


def _type_sql(typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        return "TIMESTAMP WITH TIME ZONE"
    return {
        pa.string(): "VARCHAR",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }[typ]


def empty_relation_sql(contract: SourceContract) -> str:
    """Return a SELECT of no rows with the contract's columns and types."""
    cols = ", ".join(
        f"CAST(NULL AS {_type_sql(c.type.arrow_type())}) AS {c.name}"
        for c in contract.columns
    )
    return f"SELECT {cols} WHERE false"


_SPARK_TYPES = {
    pa.string(): "STRING",
    pa.int64(): "BIGINT",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
}


def _spark_type(typ: pa.DataType) -> str:
    if pa.types.is_timestamp(typ):
        # With the session in UTC (credit_engine.engines), Spark's TIMESTAMP
        # holds the same instants as DuckDB's TIMESTAMP WITH TIME ZONE.
        return "TIMESTAMP"
    return _SPARK_TYPES[typ]


def spark_ddl(contract: SourceContract) -> str:
    """Return the Spark schema (DDL) of a contract's columns.

    Examples
    --------
    >>> from credit_engine.config import Settings
    >>> from credit_engine.data import load_contracts
    >>> ddl = spark_ddl(load_contracts(Settings().sources_dir)["customs_tax_bill"])
    >>> ddl.split(", ")[:2]
    ['uscc STRING', 'source_record_id STRING']
    """
    return ", ".join(
        f"{c.name} {_spark_type(c.type.arrow_type())}" for c in contract.columns
    )


def lake_relation_sql(contract: SourceContract, files: Sequence[Path]) -> str:
    """Return a SELECT of the contract's columns over committed lake files.

    Parameters
    ----------
    contract : SourceContract
        Contract of the table.
    files : sequence of pathlib.Path
        Its committed Parquet files (at least one).

    Returns
    -------
    str
        Plain ``read_parquet`` when every file has every contract column; else
        read by column name (``union_by_name``), with columns no file has (an
        extension added after the files were written) as typed nulls.
    """
    listed = ", ".join(sql_literal(str(f)) for f in files)
    names = [tuple(pq.read_schema(f).names) for f in files]
    present = set().union(*map(set, names))
    wanted = contract.column_names
    if all(set(wanted) <= set(n) for n in names):
        return f"SELECT {', '.join(wanted)} FROM read_parquet([{listed}])"
    cols = ", ".join(
        c.name
        if c.name in present
        else f"CAST(NULL AS {_type_sql(c.type.arrow_type())}) AS {c.name}"
        for c in contract.columns
    )
    return f"SELECT {cols} FROM read_parquet([{listed}], union_by_name = true)"


def _frame_table(data: Any, contract: SourceContract) -> pa.Table:
    """Return an in-memory table as Arrow with the contract's columns and types."""
    table = data if isinstance(data, pa.Table) else table_from_frame(data)
    for spec in contract.columns:
        if spec.extension and spec.name not in table.column_names:
            # A frame of the simulator's layout: extension columns unknown.
            nulls = pa.nulls(table.num_rows, spec.type.arrow_type())
            table = table.append_column(spec.name, nulls)
    return table.select(contract.column_names).cast(contract.arrow_schema())


class LakeSources:
    """The committed files of the lake, one DuckDB view per table.

    Parameters
    ----------
    lake : Lake
        The lake to read (only committed batches are visible).
    contracts : mapping of str to SourceContract
        Contracts of the tables.
    """

    def __init__(self, lake: Lake, contracts: Mapping[str, SourceContract]) -> None:
        self.lake = lake
        self.contracts = contracts
        # Per table: the Spark frame last made of it, the session it belongs
        # to and the files it reads (see register_spark).
        self._spark_frames: dict[str, tuple[Any, tuple[str, ...], Any]] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, contracts: Mapping[str, SourceContract]
    ) -> LakeSources:
        """Return the committed lake of an engine home (``settings.lake_dir``)."""
        return cls(Lake(settings.lake_dir, settings.quarantine_dir), contracts)

    def register(self, con: Any, tables: Iterable[str]) -> None:
        """Create a view per table over its committed Parquet files.

        Files written before a contract gained extension columns lack them: the
        files are read by column name and the absent columns are null.
        """
        for name in tables:
            contract = self.contracts[name]
            files = self.lake.table_files(name)
            if files:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS "
                    f"{lake_relation_sql(contract, files)}"
                )
            else:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS "
                    f"{empty_relation_sql(contract)}"
                )

    def register_spark(self, spark: Any, tables: Iterable[str]) -> None:
        """Create a Spark temporary view per table over its committed Parquet files.

        Spark reads the files itself (on the executors); an empty table is an
        empty frame of the contract's schema. As on DuckDB (:func:`lake_relation_sql`),
        files written before a contract gained extension columns are read by
        column name (``mergeSchema``) and columns no file has are typed nulls.

        The files are listed anew on every call; a table whose files have not
        changed since this object last registered it in ``spark`` gets the
        same frame again, without Spark reading the files' schemas again (a
        feature snapshot registers its tables three times: spine, record
        counts, features).
        """
        for name in tables:
            files = tuple(str(f) for f in self.lake.table_files(name))
            made = self._spark_frames.get(name)
            if made is not None and made[0] is spark and made[1] == files:
                frame = made[2]
            else:
                frame = self._spark_frame(spark, name, files)
                self._spark_frames[name] = (spark, files, frame)
            frame.createOrReplaceTempView(name)

    def _spark_frame(self, spark: Any, name: str, files: tuple[str, ...]) -> Any:
        """Return a Spark frame of a table's files, cast to its contract."""
        contract = self.contracts[name]
        if not files:
            return spark.createDataFrame([], spark_ddl(contract))
        names = [set(pq.read_schema(f).names) for f in files]
        present = set().union(*names)
        wanted = set(contract.column_names)
        reader = spark.read
        if not all(wanted <= n for n in names):
            reader = reader.option("mergeSchema", "true")
        return reader.parquet(*files).selectExpr(
            *(
                f"CAST({c.name if c.name in present else 'NULL'} "
                f"AS {_spark_type(c.type.arrow_type())}) AS {c.name}"
                for c in contract.columns
            )
        )

    def lineage(self) -> str:
        """Return the lake's state hash (its committed batches)."""
        return self.lake.state_hash()


class FrameSources:
    """In-memory tables (Arrow or pandas), cast to their contracts' types.

    Used by tests and notebooks; the engine treats them exactly like the lake.
    """

    def __init__(
        self, tables: Mapping[str, Any], contracts: Mapping[str, SourceContract]
    ) -> None:
        self.tables = tables
        self.contracts = contracts

    def register(self, con: Any, tables: Iterable[str]) -> None:
        """Register each table (empty if not given) under its contract name."""
        for name in tables:
            contract = self.contracts[name]
            data = self.tables.get(name)
            if data is None:
                con.execute(
                    f"CREATE OR REPLACE TEMP VIEW {name} AS "
                    f"{empty_relation_sql(contract)}"
                )
                continue
            con.register(f"_frame_{name}", _frame_table(data, contract))
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM _frame_{name}"
            )

    def register_spark(self, spark: Any, tables: Iterable[str]) -> None:
        """Create a Spark temporary view per table, from Arrow (no pandas path)."""
        for name in tables:
            contract = self.contracts[name]
            data = self.tables.get(name)
            if data is None:
                frame = spark.createDataFrame([], spark_ddl(contract))
            else:
                frame = spark.createDataFrame(
                    _frame_table(data, contract), spark_ddl(contract)
                )
            frame.createOrReplaceTempView(name)

    def lineage(self) -> str:
        """Return a marker: frames have no lake state."""
        return "in-memory frames"
