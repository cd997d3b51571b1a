"""Comparisons of the DuckDB and Spark engines, shared by tests and benchmarks.

Used by the Spark parity tests (``tests/integration/test_spark_*.py``, on the
120-enterprise CI zone) and by ``benchmarks/bench_spark_parity.py`` (the same
comparisons on a zone of 1,000+ enterprises, figures in docs/benchmarks.md):

- :func:`bad_batch`: a batch of deliberately bad rows built from a zone's own
  records (every quarantine reason, duplicates and key conflicts);
- :func:`report_tables`, :func:`lake_rows`, :func:`lake_schema`: what an
  ingestion report and a lake listing hold, comparable across engines;
  :func:`assert_same_lakes`: two homes' lakes, quarantines and duplicates;
- :func:`natural_log_features`, :func:`assert_same_cells`: the feature
  snapshot's cell-by-cell standard (exact, 4 ulps for cells through ``ln``);
- :func:`frame_differences`: the same standard as a list of named differences
  (table, column, rows), for a report rather than an assertion;
- :func:`home_with_champion`: a lake copied into a home, the risk model
  trained on it and promoted (the rating comparisons need a champion).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from credit_engine.config import Settings
from credit_engine.data import IngestReport, Lake
from credit_engine.features import (
    Definitions,
    LakeSources,
    build_feature_frame,
    enterprise_spine,
    load_definitions,
    write_snapshot,
)
from credit_engine.registry import promote
from credit_engine.training import default_snapshot_path, load_model_spec, train_spec
from credit_engine.vocabulary import sql_literal

TRAIN_DATES = [dt.date(2025, m, 28 if m == 2 else 30 if m in (4, 6, 9) else 31)
               for m in range(2, 10)]  # fmt: skip
RISK_MODEL = "credit_engine.zone_risk_pd"
BAD_TABLES = ("samr_registration", "vat_invoice")


def bad_batch(zone_dir: Path, out: Path) -> dict[str, int]:
    """Write a batch of bad rows built from the zone's own records.

    Returns
    -------
    dict of str to int
        Rows written per table.
    """
    out.mkdir(parents=True)
    counts: dict[str, int] = {}
    # vat_invoice as CSV (every cell text): wrong types, invalid USCC, duplicates
    # of the lake, duplicates within the batch, key conflicts with the lake.
    vat = pq.read_table(zone_dir / "vat_invoice.parquet").slice(0, 40).to_pandas()
    text = vat.astype(object).where(vat.notna(), None)
    for column in text.columns:
        text[column] = [None if v is None else str(v) for v in text[column]]
    rows = [text.iloc[[i]] for i in range(len(text))]
    changed = []
    for i, original in enumerate(rows[:12]):
        row = original.copy()
        if i < 3:  # text in a number column
            row["amount_cny"] = "twelve"
        elif i < 5:  # an impossible date / a time that is no time
            row["event_ts"] = "2025-02-30T10:00:00"
        elif i < 7:  # an invalid USCC (wrong check character)
            code = row["uscc"].iloc[0]
            row["uscc"] = code[:-1] + ("0" if code[-1] != "0" else "1")
        elif i < 10:  # same key, other content: key conflict with the lake
            row["amount_cny"] = str(float(row["amount_cny"].iloc[0]) + 1.0)
        else:  # a new record sent twice within the batch: one is a duplicate
            row["source_record_id"] = f"NEW{i:06d}"
            changed.append(row.copy())
        changed.append(row)
    # rows 12..39 unchanged: duplicates of the lake.
    batch = pd.concat([*changed, *rows[12:]], ignore_index=True)
    # two new rows with one key but different content: a key conflict in the batch
    a = rows[12].copy()
    a["source_record_id"] = "CONFLICT1"
    b = a.copy()
    b["amount_cny"] = "1.5"
    batch = pd.concat([batch, a, b], ignore_index=True)
    table = pa.Table.from_pandas(batch, preserve_index=False)
    pacsv.write_csv(table, out / "vat_invoice.csv")
    counts["vat_invoice"] = table.num_rows
    # samr_registration as Parquet: typed values, some invalid USCCs and codes.
    samr = pq.read_table(zone_dir / "samr_registration.parquet").slice(0, 30)
    frame = samr.to_pandas()
    frame.loc[0:2, "uscc"] = "91350200MA2XXXXXX9"  # bad characters
    frame.loc[3:4, "uscc"] = None  # missing required
    frame["source_record_id"] = [
        f"B{i}" if i < 10 else v for i, v in enumerate(frame["source_record_id"])
    ]
    pq.write_table(
        pa.Table.from_pandas(frame, schema=samr.schema, preserve_index=False),
        out / "samr_registration.parquet",
    )
    counts["samr_registration"] = len(frame)
    return counts


def report_tables(report: IngestReport) -> dict[str, object]:
    """Each table's report (counts, rows per reason, samples), by table name."""
    return {
        name: {**table.to_json_dict(), "samples": table.samples}
        for name, table in report.tables.items()
    }


def lake_rows(
    con: duckdb.DuckDBPyConnection, files: list[Path], columns: str = "*"
) -> pd.DataFrame:
    """The rows of a lake listing's files, in a total order (every column)."""
    if not files:
        return pd.DataFrame()
    listed = ", ".join(sql_literal(str(f)) for f in files)
    # DuckDB orders by every column, lists (_reasons) included.
    sql = f"SELECT {columns} FROM read_parquet([{listed}]) ORDER BY ALL"
    return con.execute(sql).fetchdf()


def assert_same_lakes(duck: Settings, spark: Settings) -> tuple[list[str], int]:
    """Assert two homes' lakes hold the same rows; return the tables and rows.

    Every committed table's lake, quarantine and duplicate listings are
    compared: the same schema, the same rows (order-insensitive, every column,
    fingerprints included).
    """
    a = Lake(duck.lake_dir, duck.quarantine_dir)
    b = Lake(spark.lake_dir, spark.quarantine_dir)
    tables = sorted({t for m in a.committed_batches() for t in m.tables})
    assert tables == sorted({t for m in b.committed_batches() for t in m.tables})
    con = duckdb.connect()
    compared = 0
    for table in tables:
        for listing in ("table_files", "quarantine_files", "duplicate_files"):
            left_files = getattr(a, listing)(table)
            right_files = getattr(b, listing)(table)
            assert lake_schema(left_files) == lake_schema(right_files), (table, listing)
            left, right = lake_rows(con, left_files), lake_rows(con, right_files)
            pd.testing.assert_frame_equal(left, right, check_exact=True)
            compared += len(left)
    return tables, compared


def lake_schema(files: list[Path]) -> list[tuple[str, pa.DataType]]:
    """Column names and types of a listing's files.

    Not the Parquet nullability flags: DuckDB marks a column REQUIRED when it
    knows it has no nulls, the Arrow writer of the Spark tasks never does;
    readers of the lake (DuckDB, Spark) see the same columns either way.
    """
    schemas = {tuple((f.name, f.type) for f in pq.read_schema(path)) for path in files}
    assert len(schemas) <= 1, schemas
    return list(schemas.pop()) if schemas else []


def natural_log_features(defs: Definitions, feature_set: str) -> set[str]:
    """Outputs computed through ln (directly or from an input that is).

    The JVM's and the C library's logarithms may differ in the last bit of a
    double: these cells are compared to 4 ulps; every other cell exactly.
    """
    resolved = defs.resolve(feature_set)
    by_name = {r.name: r for r in resolved.needed}

    def uses_ln(name: str) -> bool:
        spec = by_name[name].spec
        if spec.transform in ("entropy", "log1p") or "ln(" in (spec.expr or ""):
            return True
        return any(
            uses_ln(x.replace(":", "__")) for x in spec.inputs if isinstance(x, str)
        )

    return {r.name for r in resolved.outputs if uses_ln(r.name)}


MAX_ULPS = 4
"""Cells computed through ``ln`` may differ by this many units in the last place."""


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.spacing(np.abs(np.where(np.isnan(a), 1, a)))


def assert_same_cells(duck: pd.DataFrame, spark: pd.DataFrame, ln: set[str]) -> None:
    """Assert two snapshots are equal cell by cell (``ln`` cells to 4 ulps)."""
    assert list(duck.columns) == list(spark.columns)
    assert duck.dtypes.to_dict() == spark.dtypes.to_dict()
    duck, spark = duck.reset_index(drop=True), spark.reset_index(drop=True)
    pd.testing.assert_frame_equal(
        duck.drop(columns=sorted(ln)), spark.drop(columns=sorted(ln)), check_exact=True
    )
    for name in sorted(ln):
        a, b = duck[name].to_numpy(float), spark[name].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), name
        assert np.nanmax(_ulps(a, b), initial=0) <= MAX_ULPS, name


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Cell-wise exact equality, missing equal to missing."""
    left, right = a.astype(object).to_numpy(), b.astype(object).to_numpy()
    out = np.empty(len(left), dtype=bool)
    for i, (x, y) in enumerate(zip(left, right, strict=True)):
        x_na = x is None or (np.ndim(x) == 0 and bool(pd.isna(x)))
        y_na = y is None or (np.ndim(y) == 0 and bool(pd.isna(y)))
        if x_na or y_na:
            out[i] = x_na and y_na
        else:
            equal = x == y
            out[i] = bool(np.all(equal)) if np.ndim(equal) else bool(equal)
    return out


def _equal_columns(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns are equal cell for cell (missing equal to missing)."""
    try:
        return bool(a.equals(b))
    except (TypeError, ValueError):  # cells pandas cannot compare as a whole
        return False


def frame_differences(
    name: str,
    duck: pd.DataFrame,
    spark: pd.DataFrame,
    *,
    keys: Sequence[str] = (),
    ln: set[str] | frozenset[str] = frozenset(),
    shown: int = 5,
) -> list[str]:
    """Name every difference between two frames, or return an empty list.

    The standard of :func:`assert_same_cells` (exact; ``ln`` cells to
    4 ulps), as text: the columns, dtypes and row counts that differ, then
    each column whose cells differ with its count and the first ``shown``
    rows (by ``keys``, or by position), DuckDB's value then Spark's.
    """
    out: list[str] = []
    if list(duck.columns) != list(spark.columns):
        only_d = sorted(set(duck.columns) - set(spark.columns))
        only_s = sorted(set(spark.columns) - set(duck.columns))
        out.append(
            f"{name}: columns differ (only DuckDB {only_d}, only Spark {only_s})"
        )
        return out
    dtypes = {
        c: (str(duck[c].dtype), str(spark[c].dtype))
        for c in duck.columns
        if duck[c].dtype != spark[c].dtype
    }
    if dtypes:
        out.append(f"{name}: dtypes differ (DuckDB, Spark): {dtypes}")
    if len(duck) != len(spark):
        out.append(f"{name}: {len(duck)} rows on DuckDB, {len(spark)} on Spark")
        return out
    duck, spark = duck.reset_index(drop=True), spark.reset_index(drop=True)
    for column in duck.columns:
        a, b = duck[column], spark[column]
        if column not in ln and _equal_columns(a, b):
            continue  # the fast path; the cell-by-cell loop only finds the rows
        if column in ln:
            x, y = a.to_numpy(float), b.to_numpy(float)
            with np.errstate(invalid="ignore"):
                bad = (np.isnan(x) != np.isnan(y)) | (
                    np.nan_to_num(_ulps(x, y), nan=0.0) > MAX_ULPS
                )
        else:
            bad = ~_same(a, b)
        if bad.any():
            rows = np.flatnonzero(bad)[:shown]
            where = [
                ", ".join(str(duck.at[r, k]) for k in keys) if keys else f"row {r}"
                for r in rows
            ]
            pairs = "; ".join(
                f"[{w}] {a.iloc[r]!r} vs {b.iloc[r]!r}"
                for w, r in zip(where, rows, strict=True)
            )
            out.append(f"{name}.{column}: {int(bad.sum())} cells differ: {pairs}")
    return out


def home_with_champion(
    source: Settings, home: Path, *, min_child_samples: int, **settings: object
) -> Settings:
    """Copy a lake into ``home``, train the risk model on it and promote it.

    ``settings`` are further :class:`~credit_engine.config.Settings` fields of
    the new home (e.g. its Spark configuration).
    """
    made = Settings(home=home, **settings)  # type: ignore[arg-type]
    shutil.copytree(source.lake_dir, made.lake_dir)
    shutil.copytree(source.quarantine_dir, made.quarantine_dir)
    definitions = load_definitions(made.definitions_dir)
    sources = LakeSources.from_settings(made, definitions.contracts)
    resolved = definitions.resolve("credit_v1")
    spine = enterprise_spine(sources, definitions, TRAIN_DATES)
    frame = build_feature_frame(
        spine, resolved, definitions=definitions, sources=sources
    )
    path = default_snapshot_path(made, "credit_v1")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_snapshot(frame, path, resolved=resolved, sources=sources, as_of=TRAIN_DATES)
    spec = load_model_spec(made.definitions_dir / "models", "risk_gbm")
    params = {**spec.params, "min_child_samples": min_child_samples}
    train_spec(spec.model_copy(update={"params": params}), made, actor="tester")
    # Small zones make thin grades; the gates are tested elsewhere.
    promote(made, RISK_MODEL, force=True, reason="integration tests", actor="tester")
    return made
